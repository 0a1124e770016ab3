package upload

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
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

// InferPartSize guesses the part size of an object of size bytes that was
// uploaded in n parts: the default if it fits, else the smallest round size
// (a multiple of 1 MiB, then of 100 KiB, then of 1 KiB) that gives n parts.
func InferPartSize(size int64, n int) int64 {
	if n <= 0 {
		return DefaultPartSize
	}
	if l, err := PlanParts(size, DefaultPartSize); err == nil && l.Parts == n {
		return DefaultPartSize
	}
	lower := size/int64(n) + 1 // parts of at most size/n bytes would need more than n
	for _, unit := range []int64{1 << 20, 100 * 1024, 1024} {
		p := (lower + unit - 1) / unit * unit
		if (size+p-1)/p == int64(n) {
			return p
		}
	}
	return (size + int64(n) - 1) / int64(n)
}
