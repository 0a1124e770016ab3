package upload

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// wantSums computes with crypto/md5 what SumFile must return for data.
func wantSums(t *testing.T, data []byte, fp Fingerprint, partSize int64) FileSums {
	t.Helper()
	out := FileSums{SHA256: sha256.Sum256(data)}
	l, err := PlanParts(int64(len(data)), partSize)
	if err != nil {
		return out
	}
	out.Parts = &PartSums{Source: fp}
	if !l.SinglePut {
		out.Parts.PartSize = l.PartSize
	}
	for n := 1; n <= l.Parts; n++ {
		off, size := l.Part(n)
		s := md5.Sum(data[off : off+size])
		out.Parts.Sums = append(out.Parts.Sums, s[:]...)
	}
	return out
}

func TestSumFile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int
		partSize int64
	}{
		{"empty", 0, MinPartSize},
		{"single PUT", 3*sumChunk + 17, 5 * sumChunk},
		{"one byte short of two parts", 2*MinPartSize - 1, MinPartSize},
		{"many parts, uneven last", 40*MinPartSize + 12345, MinPartSize},
		{"more parts than lanes, chunk-sized", 3 * hashLanes * sumChunk, sumChunk},
		{"part size out of range: SHA-256 only", 1000, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, data := writeFile(t, tc.size, int64(tc.size))
			fp, err := StatFingerprint(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := SumFile(context.Background(), f, fp, tc.partSize)
			if err != nil {
				t.Fatal(err)
			}
			want := wantSums(t, data, fp, tc.partSize)
			if got.SHA256 != want.SHA256 {
				t.Fatalf("SHA-256 %x, want %x", got.SHA256, want.SHA256)
			}
			if (got.Parts == nil) != (want.Parts == nil) {
				t.Fatalf("part sums %v, want %v", got.Parts != nil, want.Parts != nil)
			}
			if want.Parts != nil && (got.Parts.Source != want.Parts.Source || got.Parts.PartSize != want.Parts.PartSize ||
				!bytes.Equal(got.Parts.Sums, want.Parts.Sums)) {
				t.Fatalf("part sums differ: got part size %d, %d bytes of sums; want %d, %d", got.Parts.PartSize, len(got.Parts.Sums),
					want.Parts.PartSize, len(want.Parts.Sums))
			}
			if l, err := PlanParts(fp.Size, tc.partSize); err == nil && !got.Parts.fits(fp, l) {
				t.Fatalf("the sums do not fit the layout they were computed for: %+v", l)
			}
		})
	}
}

// Passes over several files at once (Terraform plans resources in
// parallel) share the lanes and each gets its own sums.
func TestSumFileConcurrentPasses(t *testing.T) {
	const passes = 4
	var wg sync.WaitGroup
	errs := make(chan error, passes)
	for i := range passes {
		path, data := writeFile(t, 3*hashLanes*MinPartSize+i, int64(100+i))
		fp, err := StatFingerprint(path)
		if err != nil {
			t.Fatal(err)
		}
		want := wantSums(t, data, fp, MinPartSize)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := os.Open(path)
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			got, err := SumFile(context.Background(), f, fp, MinPartSize)
			if err == nil && (got.SHA256 != want.SHA256 || !bytes.Equal(got.Parts.Sums, want.Parts.Sums)) {
				err = errors.New("sums differ from crypto/md5 and crypto/sha256")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// failingReaderAt fails every read that reaches past limit.
type failingReaderAt struct {
	r     io.ReaderAt
	limit int64
}

var errInjected = errors.New("injected read error")

func (f failingReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > f.limit {
		return 0, errInjected
	}
	return f.r.ReadAt(b, off)
}

// A read error anywhere stops the whole pass with that error (and does not
// leave a lane waiting for bytes that never come).
func TestSumFileReadError(t *testing.T) {
	path, _ := writeFile(t, 20*MinPartSize, 3)
	fp, err := StatFingerprint(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = SumFile(context.Background(), failingReaderAt{f, 7 * MinPartSize}, fp, MinPartSize)
	if !errors.Is(err, errInjected) {
		t.Fatalf("want the injected read error, got %v", err)
	}
	// A file shorter than its fingerprint says (truncated since).
	short := fp
	short.Size += 10
	if _, err := SumFile(context.Background(), f, short, MinPartSize); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("want io.ErrUnexpectedEOF for a short file, got %v", err)
	}
}

func TestSumFileCancelled(t *testing.T) {
	path, _ := writeFile(t, 8*MinPartSize, 4)
	fp, err := StatFingerprint(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := SumFile(ctx, f, fp, MinPartSize); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

// plannedSums returns SumFile's part sums for path with partSize.
func plannedSums(t *testing.T, path string, partSize int64) *PartSums {
	t.Helper()
	fp, err := StatFingerprint(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := SumFile(context.Background(), f, fp, partSize)
	if err != nil {
		t.Fatal(err)
	}
	return s.Parts
}

// processReadBytes returns the bytes this process has read through read(2)
// and pread(2) so far (rchar in /proc/self/io), or skips the test where the
// kernel does not report it.
func processReadBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no per-process I/O counters: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no rchar in /proc/self/io")
	return 0
}

// readSlack is what the process may read besides the source during an
// upload (this test's own read of /proc/self/io, the runtime): far less
// than one part.
const readSlack = 64 << 10

// uploadCountingReads runs in to f, checks that the object holds data, and
// returns the output and the bytes the process read meanwhile.
func uploadCountingReads(t *testing.T, f *fakeOBS, in Input, data []byte) (Output, int64) {
	t.Helper()
	before := processReadBytes(t)
	out, _, err := Upload(context.Background(), f, in)
	read := processReadBytes(t) - before
	if err != nil {
		t.Fatal(err)
	}
	checkObject(t, f, out, in.Path, data)
	return out, read
}

// With part MD5s planned for the file, an upload reads each byte of the
// file exactly once (to send it): counted at the process's read system
// calls, through which every read of the engine's file goes. Without them
// it reads each byte twice (hash, then send). The fake checks every part's
// Content-MD5 against the bytes it received.
func TestPlannedMD5sReadEachByteOnce(t *testing.T) {
	for _, tc := range []struct {
		name           string
		size, partSize int64
	}{
		{"multipart", 24*MinPartSize + 999, MinPartSize},
		{"single PUT", 3*MinPartSize + 5, 4 * MinPartSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, data := writeFile(t, int(tc.size), 31)
			sums := plannedSums(t, path, tc.partSize)
			for _, planned := range []bool{true, false} {
				f := newFake()
				in := input(path, tc.partSize)
				if planned {
					in.PartMD5s = sums
				}
				_, read := uploadCountingReads(t, f, in, data)
				t.Logf("planned MD5s %v: read %d bytes of a %d-byte file", planned, read, tc.size)
				switch {
				case planned && (read < tc.size || read > tc.size+readSlack):
					t.Fatalf("with planned MD5s the upload read %d bytes of a %d-byte file; want each byte once", read, tc.size)
				case !planned && read < 2*tc.size:
					t.Fatalf("without planned MD5s the upload read only %d bytes of a %d-byte file; the check above proves nothing", read, tc.size)
				}
			}
		})
	}
}

// A resume proves the parts already on the server ours with the planned
// MD5s instead of reading them again: only the missing parts are read, and
// a part holding other bytes is still found out and re-sent.
func TestPlannedMD5sVerifyPartsOnTheServer(t *testing.T) {
	const parts = 8
	path, data := writeFile(t, parts*MinPartSize+77, 33)
	_, other := writeFile(t, parts*MinPartSize, 34)
	sums := plannedSums(t, path, MinPartSize)
	part := func(b []byte, n int) []byte { return b[(n-1)*MinPartSize : n*MinPartSize] }
	for _, planned := range []bool{true, false} {
		t.Run(fmt.Sprintf("planned=%v", planned), func(t *testing.T) {
			f := newFake()
			id, _ := f.InitiateMultipartUpload(context.Background(), obs.InitiateInput{Key: testKey})
			for n := 1; n <= 4; n++ {
				f.putPart(id, n, part(data, n))
			}
			f.putPart(id, 5, part(other, 5)) // not ours: re-sent
			fp, _ := StatFingerprint(path)
			in := input(path, MinPartSize)
			in.Record = &Record{UploadID: id, PartSize: MinPartSize, Size: int64(len(data)), Source: fp}
			if planned {
				in.PartMD5s = sums
			}
			out, read := uploadCountingReads(t, f, in, data)
			if out.PartsReused != 4 || f.partAttempts[5] != 1 {
				t.Fatalf("reused %d parts, part 5 sent %d times; want 4 reused and the foreign part 5 re-sent", out.PartsReused, f.partAttempts[5])
			}
			missing := int64(len(data)) - 4*MinPartSize
			t.Logf("planned MD5s %v: read %d bytes, %d missing", planned, read, missing)
			switch {
			case planned && (read < missing || read > missing+readSlack):
				t.Fatalf("with planned MD5s the resume read %d bytes; want only the %d missing", read, missing)
			case !planned && read < missing+5*MinPartSize:
				t.Fatalf("without planned MD5s the resume read only %d bytes; the check above proves nothing", read)
			}
		})
	}
}

// Planned MD5s that do not fit the file's fingerprint or the upload's
// layout are ignored: the engine hashes the parts itself and the object is
// right.
func TestPlannedMD5sIgnoredWhenTheyDoNotFit(t *testing.T) {
	const size = 6*MinPartSize + 7
	path, data := writeFile(t, size, 32)
	good := plannedSums(t, path, MinPartSize)
	otherLayout := plannedSums(t, path, 2*MinPartSize)
	otherFile := *good
	otherFile.Source.ModTimeNs++
	// Were they used, these sums would fail the upload (BadDigest).
	otherFile.Sums = make([]byte, len(good.Sums))
	for name, s := range map[string]*PartSums{"other layout": otherLayout, "other fingerprint": &otherFile} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			in := input(path, MinPartSize)
			in.PartMD5s = s
			out, _, err := Upload(context.Background(), f, in)
			if err != nil {
				t.Fatal(err)
			}
			checkObject(t, f, out, path, data)
		})
	}
}

// Planned MD5s that fit the fingerprint but not the bytes (the file was
// rewritten within the fingerprint's resolution) are caught: the server
// rejects the part (BadDigest), the engine re-hashes it and stops with
// ErrSourceChanged instead of completing.
func TestPlannedMD5sOfOtherBytesStopTheUpload(t *testing.T) {
	for _, tc := range []struct {
		name     string
		partSize int64
	}{{"multipart", MinPartSize}, {"single PUT", 8 * MinPartSize}} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := writeFile(t, 4*MinPartSize, 33)
			s := plannedSums(t, path, tc.partSize)
			s.Sums = bytes.Clone(s.Sums)
			s.Sums[0] ^= 0xff // part 1 "was" other bytes
			f := newFake()
			in := input(path, tc.partSize)
			in.PartMD5s = s
			_, _, err := Upload(context.Background(), f, in)
			if !errors.Is(err, ErrSourceChanged) {
				t.Fatalf("want ErrSourceChanged, got %v", err)
			}
			if f.callCount("Complete") != 0 || f.object(testKey) != nil {
				t.Fatal("an object was stored from parts whose MD5s were stale")
			}
		})
	}
}

// When the engine hashes at apply, the first part is hashed alone: no
// other part's hashing starts before its MD5 is known, so its connection
// does not wait for a whole batch of MD5s computed together (parts hashed
// together on md5Server's lanes all finish at about the same time).
func TestFirstPartHashedAlone(t *testing.T) {
	const partSize = 4 << 20 // hashing one part takes milliseconds
	path, data := writeFile(t, 6*partSize, 34)
	part1Hashed := make(chan struct{})
	var early sync.Once
	var overlap bool
	orig := hashPart
	t.Cleanup(func() { hashPart = orig })
	hashPart = func(r io.ReaderAt, off, size int64) (md5Sum, error) {
		if off == 0 {
			defer close(part1Hashed)
			return orig(r, off, size)
		}
		select {
		case <-part1Hashed:
		default:
			early.Do(func() { overlap = true })
		}
		return orig(r, off, size)
	}
	f := newFake()
	out, _, err := Upload(context.Background(), f, input(path, partSize))
	if err != nil {
		t.Fatal(err)
	}
	checkObject(t, f, out, path, data)
	if overlap {
		t.Fatal("another part was hashed together with part 1")
	}
}
