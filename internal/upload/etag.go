package upload

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"

	md5simd "github.com/minio/md5-simd"
)

type md5Sum = [md5.Size]byte

// copyBufs holds the read buffers used for hashing so that hashing a part
// allocates nothing that grows with the part size.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// hashPart computes the MD5 of a part's byte range before it is sent; a
// variable so that tests can observe when parts are hashed.
var hashPart = hashRangeSIMD

// md5Server hashes the parts of every upload in the process: parts hashed at
// the same time share its 16 SIMD lanes (one pass with AVX-512, two with
// AVX2), at a fraction of the CPU of hashing them one by one. Without AVX2
// it is crypto/md5.
var md5Server = sync.OnceValue(md5simd.NewServer)

// hashRangeSIMD is hashRange on md5Server.
func hashRangeSIMD(r io.ReaderAt, off, size int64) (md5Sum, error) {
	h := md5Server().NewHash()
	defer h.Close()
	return sumRange(h, r, off, size)
}

// hashRange streams size bytes of r from off through MD5.
func hashRange(r io.ReaderAt, off, size int64) (md5Sum, error) {
	return sumRange(md5.New(), r, off, size)
}

// sumRange streams size bytes of r from off through h, an MD5.
func sumRange(h hash.Hash, r io.ReaderAt, off, size int64) (md5Sum, error) {
	var sum md5Sum
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	n, err := io.CopyBuffer(h, io.NewSectionReader(r, off, size), *bp)
	if err != nil {
		return sum, err
	}
	if n != size {
		return sum, fmt.Errorf("read %d of %d bytes at offset %d: %w", n, size, off, io.ErrUnexpectedEOF)
	}
	h.Sum(sum[:0])
	return sum, nil
}

// normETag strips quotes and lower-cases an ETag for comparison.
func normETag(s string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(s), `"`))
}

// etagIsMD5 reports whether etag (any quoting or case) is the hex of sum.
func etagIsMD5(etag string, sum md5Sum) bool {
	return normETag(etag) == hex.EncodeToString(sum[:])
}

// multipartETag returns the ETag OBS reports for an object assembled from
// parts with these hex-MD5 ETags: hex(MD5(concat(binary MD5s)))-N. ok is false
// when an ETag is not a hex MD5 (server-side encryption).
func multipartETag(etags []string) (etag string, ok bool) {
	h := md5.New()
	for _, e := range etags {
		b, err := hex.DecodeString(normETag(e))
		if err != nil || len(b) != md5.Size {
			return "", false
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(etags)), true
}

// FileETag computes the ETag OBS reports for the file at path uploaded with
// layout l: the hex MD5 of the file for a single PUT, MD5-of-MD5s-N for a
// multipart upload (without server-side encryption).
func FileETag(path string, l Layout) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if fi.Size() != l.Size {
		return "", fmt.Errorf("%s has %d bytes, the layout %d", path, fi.Size(), l.Size)
	}
	if l.SinglePut {
		sum, err := hashRange(f, 0, l.Size)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", path, err)
		}
		return hex.EncodeToString(sum[:]), nil
	}
	if l.Parts < 1 {
		return "", fmt.Errorf("layout has no parts")
	}
	etags := make([]string, l.Parts)
	for n := 1; n <= l.Parts; n++ {
		off, size := l.Part(n)
		sum, err := hashRange(f, off, size)
		if err != nil {
			return "", fmt.Errorf("reading %s part %d: %w", path, n, err)
		}
		etags[n-1] = hex.EncodeToString(sum[:])
	}
	etag, _ := multipartETag(etags)
	return etag, nil
}

// MultipartETagParts returns N of a multipart ETag "md5-N", or 0.
func MultipartETagParts(etag string) int {
	i := strings.LastIndexByte(etag, '-')
	if i < 0 {
		return 0
	}
	var n int
	if _, err := fmt.Sscanf(etag[i+1:], "%d", &n); err != nil {
		return 0
	}
	return n
}

// PartSizeRange returns the part sizes, from lo to hi, with which PlanParts
// cuts an object of size bytes into n parts without growing the part size:
// for n ≥ 2 the sizes p with ceil(size/p) = n (size/n ≤ p < size/(n-1)), for
// n = 1 only p = size, and for n = 0 (a single PUT) every p > size; always
// within [MinPartSize, MaxPartSize]. ok is false when no part size gives n
// parts. The part sizes that grow to the same layout (ConsistentPartSize)
// lie below lo.
func PartSizeRange(size int64, n int) (lo, hi int64, ok bool) {
	switch {
	case size < 0 || n < 0 || n > MaxParts:
		return 0, 0, false
	case n == 0:
		lo, hi = size+1, MaxPartSize
	case n == 1:
		lo, hi = size, size
	default:
		lo, hi = ceilDiv(size, int64(n)), (size-1)/int64(n-1)
	}
	lo, hi = max(lo, MinPartSize), min(hi, MaxPartSize)
	return lo, hi, lo <= hi
}

// ConsistentPartSize reports whether PlanParts with the requested part size
// p cuts an object of size bytes into n parts (n = 0: a single PUT), the
// count of a multipart ETag "md5-n".
func ConsistentPartSize(size int64, n int, p int64) bool {
	l, err := PlanParts(size, p)
	if err != nil {
		return false
	}
	if l.SinglePut {
		return n == 0
	}
	return l.Parts == n
}

// InferPartSize picks the part size an object of size bytes uploaded in n
// parts (n = 0: a single PUT) most likely had, among those PartSizeRange and
// ConsistentPartSize allow: the default if it fits; else, among multiples of
// 1 MiB, the one with the most factors of two (8, 16, 64 MiB before their
// neighbours; for a single PUT the next such size above the object); else
// the smallest multiple of 100 KiB, then of 1 KiB; else the
// smallest size that fits. With no consistent size (parts of unequal sizes)
// it returns the default.
func InferPartSize(size int64, n int) int64 {
	if ConsistentPartSize(size, n, DefaultPartSize) {
		return DefaultPartSize
	}
	lo, hi, ok := PartSizeRange(size, n)
	if !ok {
		return DefaultPartSize
	}
	if n == 0 {
		hi = min(hi, 2*lo-1) // a single PUT: the next round size above the object
	}
	if p, ok := roundestMultiple(lo, hi, 1<<20); ok {
		return p
	}
	for _, unit := range []int64{100 * 1024, 1024} {
		if p := ceilDiv(lo, unit) * unit; p <= hi {
			return p
		}
	}
	return lo
}

// roundestMultiple returns the multiple of unit in [lo, hi] whose quotient
// has the most factors of two (it is unique), if there is a multiple.
func roundestMultiple(lo, hi, unit int64) (int64, bool) {
	first, last := ceilDiv(lo, unit), hi/unit
	if first > last {
		return 0, false
	}
	// The largest power of two dividing some q in [first, last] is the
	// highest bit in which first-1 and last differ.
	step := int64(1) << (bits.Len64(uint64((first-1)^last)) - 1)
	return last / step * step * unit, true
}
