package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

const testKey = "dir/big.bin"

// writeFile writes size pseudo-random bytes (from seed) to a new file.
func writeFile(t testing.TB, size int, seed int64) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.New(rand.NewSource(seed)).Read(data)
	path := filepath.Join(t.TempDir(), "src.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// sparseFile creates a file of size zero bytes without writing them.
func sparseFile(t testing.TB, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sparse.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func input(path string, partSize int64) Input {
	return Input{Bucket: "b", Key: testKey, Path: path, PartSize: partSize}
}

// checkObject asserts that the fake holds exactly data under testKey with the
// ETag FileETag predicts, and no open upload is left.
func checkObject(t *testing.T, f *fakeOBS, out Output, path string, data []byte) {
	t.Helper()
	o := f.object(testKey)
	if o == nil {
		t.Fatal("no object stored")
	}
	if data != nil && !bytes.Equal(o.data, data) {
		t.Fatalf("stored %d bytes differ from the file's %d bytes", len(o.data), len(data))
	}
	want, err := FileETag(path, out.Layout)
	if err != nil {
		t.Fatal(err)
	}
	if o.etag != want || out.ETag != want {
		t.Fatalf("ETag: stored %s, output %s, FileETag %s", o.etag, out.ETag, want)
	}
	if ids := f.uploadIDs(testKey); len(ids) != 0 {
		t.Fatalf("open uploads left: %v", ids)
	}
}

func TestUploadSizes(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		partSize  int64
		singlePut bool
		parts     int
	}{
		{"empty", 0, 0, true, 1},
		{"one byte", 1, 0, true, 1},
		{"100 KiB minus one", MinPartSize - 1, MinPartSize, true, 1},
		{"exactly one part", MinPartSize, MinPartSize, false, 1},
		{"one part and one byte", MinPartSize + 1, MinPartSize, false, 2},
		{"several parts", 7*MinPartSize + 333, MinPartSize, false, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			path, data := writeFile(t, tt.size, int64(tt.size))
			var events []Progress
			in := input(path, tt.partSize)
			in.Concurrency = 3
			in.OnProgress = func(p Progress) { events = append(events, p) }
			out, rec, err := Upload(context.Background(), f, in)
			if err != nil || rec != nil {
				t.Fatalf("Upload: %v (record %+v)", err, rec)
			}
			if out.Layout.SinglePut != tt.singlePut || out.Layout.Parts != tt.parts {
				t.Fatalf("layout %+v, want single PUT %v with %d parts", out.Layout, tt.singlePut, tt.parts)
			}
			if tt.singlePut != (f.callCount("PutObject") == 1) || tt.singlePut != (f.callCount("Initiate") == 0) {
				t.Fatalf("calls %v", f.calls)
			}
			if out.BytesSent != int64(tt.size) || out.PartsSent != tt.parts || out.PartsReused != 0 {
				t.Fatalf("sent %d bytes in %d parts, reused %d", out.BytesSent, out.PartsSent, out.PartsReused)
			}
			if len(events) != tt.parts {
				t.Fatalf("%d progress events, want %d", len(events), tt.parts)
			}
			last := events[len(events)-1]
			if last.BytesDone != int64(tt.size) || last.PartsDone != tt.parts || last.BytesTotal != int64(tt.size) || last.PartsTotal != tt.parts {
				t.Fatalf("last progress %+v", last)
			}
			for i := 1; i < len(events); i++ {
				if events[i].BytesDone < events[i-1].BytesDone {
					t.Fatalf("progress went backwards: %+v", events)
				}
			}
			checkObject(t, f, out, path, data)
		})
	}
}

// TestUploadForcesPartGrowth uploads 10001 × MinPartSize bytes with the minimum
// part size: the planner grows the part size and the engine says so.
func TestUploadForcesPartGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GB of hashing")
	}
	f := newFake()
	f.trustMD5 = true
	path := sparseFile(t, (MaxParts+1)*MinPartSize)
	in := input(path, MinPartSize)
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Layout.Grown || out.Layout.Parts > MaxParts || out.Layout.PartSize <= MinPartSize {
		t.Fatalf("layout %+v", out.Layout)
	}
	if len(out.Notices) != 1 || !strings.Contains(out.Notices[0], "part size grown from 100 KiB to 1 MiB") {
		t.Fatalf("notices %q", out.Notices)
	}
	if got := f.bytesRead(); got != (MaxParts+1)*MinPartSize {
		t.Fatalf("server read %d bytes", got)
	}
	checkObject(t, f, out, path, nil)
}

func TestUpload1GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB of hashing")
	}
	f := newFake()
	f.trustMD5 = true
	path := sparseFile(t, 1<<30)
	start := time.Now()
	out, _, err := Upload(context.Background(), f, input(path, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1 GiB in %d parts of %d bytes: %s", out.Layout.Parts, out.Layout.PartSize, time.Since(start))
	if out.Layout.Parts != 114 || f.bytesRead() != 1<<30 {
		t.Fatalf("layout %+v, server read %d", out.Layout, f.bytesRead())
	}
	checkObject(t, f, out, path, nil)
}

func TestPartFailsTwiceThenSucceeds(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 4*MinPartSize, 1)
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		if in.PartNumber == 2 && attempt <= 2 {
			return obsErr("UploadPart", in.Key, http.StatusServiceUnavailable, "ServiceUnavailable")
		}
		return nil
	}
	out, _, err := Upload(context.Background(), f, input(path, MinPartSize))
	if err != nil {
		t.Fatal(err)
	}
	if f.partAttempts[2] != 3 || f.partAttempts[1] != 1 {
		t.Fatalf("attempts %v", f.partAttempts)
	}
	checkObject(t, f, out, path, data)
}

func TestConnectionResetMidPart(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 3*MinPartSize+10, 2)
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		if in.PartNumber == 3 && attempt == 1 {
			return &resetAfter{N: MinPartSize / 2}
		}
		return nil
	}
	out, _, err := Upload(context.Background(), f, input(path, MinPartSize))
	if err != nil {
		t.Fatal(err)
	}
	// The retry sent the whole part again, from its start.
	if f.partAttempts[3] != 2 || f.partBytes[3] != MinPartSize/2+MinPartSize {
		t.Fatalf("part 3: %d attempts, %d bytes", f.partAttempts[3], f.partBytes[3])
	}
	checkObject(t, f, out, path, data)
}

func TestPartErrorNamesUploadAndPart(t *testing.T) {
	f := newFake()
	path, _ := writeFile(t, 4*MinPartSize, 3)
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		if in.PartNumber == 3 {
			return obsErr("UploadPart", in.Key, http.StatusForbidden, "AccessDenied")
		}
		return nil
	}
	in := input(path, MinPartSize)
	in.Concurrency = 1
	out, rec, err := Upload(context.Background(), f, in)
	var pe *PartError
	if !errors.As(err, &pe) || pe.PartNumber != 3 || pe.UploadID != out.UploadID || out.UploadID == "" {
		t.Fatalf("error %v (%#v), upload %q", err, pe, out.UploadID)
	}
	if !strings.Contains(err.Error(), out.UploadID) || !strings.Contains(err.Error(), "part 3") {
		t.Fatalf("error %q does not name the upload and part", err)
	}
	if oe, ok := obs.AsError(err); !ok || oe.Code != "AccessDenied" {
		t.Fatalf("error does not unwrap to the obs error: %v", err)
	}
	if f.partAttempts[3] != 1 {
		t.Fatalf("a 403 was retried: %v", f.partAttempts)
	}
	if rec == nil || rec.UploadID != out.UploadID || len(rec.Parts) != 2 || rec.Parts[0].Number != 1 || rec.Parts[1].Number != 2 {
		t.Fatalf("record %+v", rec)
	}
	if f.callCount("Abort") != 0 || f.callCount("Complete") != 0 || len(f.uploadIDs(testKey)) != 1 {
		t.Fatalf("calls %v", f.calls)
	}
}

func TestPartDeadlineExpiredIsRetried(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 2*MinPartSize, 4)
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		if in.PartNumber == 1 && attempt == 1 {
			<-ctx.Done() // hang until the per-part deadline
			return &obs.Error{Op: "UploadPart", Err: ctx.Err()}
		}
		return nil
	}
	in := input(path, MinPartSize)
	in.PartTimeout = func(int64) time.Duration { return 100 * time.Millisecond }
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if f.partAttempts[1] != 2 {
		t.Fatalf("attempts %v", f.partAttempts)
	}
	checkObject(t, f, out, path, data)
}

// cancelAfter runs an upload and cancels it once n parts were stored.
func cancelAfter(t *testing.T, f *fakeOBS, in Input, n int32) (Output, *Record, time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stored atomic.Int32
	var cancelledAt atomic.Int64
	f.afterPart = func(int) {
		if stored.Add(1) == n {
			cancelledAt.Store(time.Now().UnixNano())
			cancel()
		}
	}
	out, rec, err := Upload(ctx, f, in)
	f.afterPart = nil
	if cancelledAt.Load() == 0 {
		t.Fatalf("upload finished before %d parts: %v", n, err)
	}
	return out, rec, time.Since(time.Unix(0, cancelledAt.Load())), err
}

// checkRecordExact asserts that rec lists exactly the parts the server holds.
func checkRecordExact(t *testing.T, f *fakeOBS, rec *Record) {
	t.Helper()
	if rec == nil {
		t.Fatal("no record")
	}
	server, err := f.ListParts(context.Background(), obs.ListPartsInput{Bucket: "b", Key: testKey, UploadID: rec.UploadID})
	if err != nil {
		t.Fatal(err)
	}
	if len(server) != len(rec.Parts) {
		t.Fatalf("record has %d parts, server %d", len(rec.Parts), len(server))
	}
	for i, p := range server {
		r := rec.Parts[i]
		if r.Number != p.Number || r.Size != p.Size || r.ETag != p.ETag {
			t.Fatalf("record part %+v, server %+v", r, p)
		}
	}
}

func TestCancelThenResume(t *testing.T) {
	const parts = 24
	f := newFake()
	path, data := writeFile(t, parts*MinPartSize-5, 5)
	in := input(path, MinPartSize)
	in.Concurrency = 4
	out, rec, took, err := cancelAfter(t, f, in, parts/2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if took > 2*time.Second {
		t.Fatalf("returned %s after cancellation", took)
	}
	if !strings.Contains(err.Error(), out.UploadID) {
		t.Fatalf("error %q does not name the upload", err)
	}
	checkRecordExact(t, f, rec)
	if f.callCount("Abort") != 0 || f.callCount("Complete") != 0 {
		t.Fatalf("calls %v", f.calls)
	}
	fp, _ := StatFingerprint(path)
	if rec.PartSize != MinPartSize || rec.Size != parts*MinPartSize-5 || rec.Source != fp {
		t.Fatalf("record %+v", rec)
	}
	missing := rec.Size
	for _, p := range rec.Parts {
		missing -= p.Size
	}

	f.resetCounters()
	in.Record = rec
	out2, rec2, err := Upload(context.Background(), f, in)
	if err != nil || rec2 != nil {
		t.Fatalf("resume: %v", err)
	}
	if !out2.Resumed || out2.Discovered || out2.UploadID != rec.UploadID || out2.PartsReused != len(rec.Parts) {
		t.Fatalf("resume output %+v", out2)
	}
	sent := f.bytesRead()
	if limit := missing + int64(in.Concurrency)*MinPartSize; sent > limit {
		t.Fatalf("resume sent %d bytes, limit %d (missing %d)", sent, limit, missing)
	}
	if sent != missing || out2.BytesSent != missing {
		t.Fatalf("resume sent %d bytes (reported %d), missing %d", sent, out2.BytesSent, missing)
	}
	checkObject(t, f, out2, path, data)
}

func TestCancelReturnsPromptlyWithHungPart(t *testing.T) {
	f := newFake()
	path, _ := writeFile(t, 6*MinPartSize, 6)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hung := make(chan struct{})
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		if in.PartNumber == 2 {
			close(hung)
			<-release // ignores ctx, like a stuck connection
			return errors.New("released")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-hung; cancel() }()
	in := input(path, MinPartSize)
	in.Concurrency = 1
	start := time.Now()
	_, rec, err := Upload(ctx, f, in)
	<-hung
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("returned after %s", took)
	}
	if !errors.Is(err, context.Canceled) || rec == nil || len(rec.Parts) != 1 || rec.Parts[0].Number != 1 {
		t.Fatalf("error %v, record %+v", err, rec)
	}
}

func TestDiscoveryAfterRecordLost(t *testing.T) {
	const parts = 16
	f := newFake()
	path, data := writeFile(t, parts*MinPartSize, 7)
	in := input(path, MinPartSize)
	_, rec, _, err := cancelAfter(t, f, in, parts/2)
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	checkRecordExact(t, f, rec)
	f.resetCounters()
	in.Discover = true // and no record: a failed Create or a killed process
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Discovered || !out.Resumed || out.UploadID != rec.UploadID || out.PartsReused != len(rec.Parts) {
		t.Fatalf("output %+v", out)
	}
	if want := int64(parts-len(rec.Parts)) * MinPartSize; f.bytesRead() != want {
		t.Fatalf("sent %d bytes, want %d", f.bytesRead(), want)
	}
	if f.callCount("Initiate") != 0 {
		t.Fatal("a new upload was initiated")
	}
	checkObject(t, f, out, path, data)
}

func TestDiscoveryLeavesForeignUploadsUntouched(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 4*MinPartSize, 8)
	_, other := writeFile(t, 4*MinPartSize, 9)
	ctx := context.Background()
	// Ours, oldest: parts 1 and 3 of our bytes.
	ours, _ := f.InitiateMultipartUpload(ctx, obs.InitiateInput{Key: testKey})
	f.putPart(ours, 1, data[:MinPartSize])
	f.putPart(ours, 3, data[2*MinPartSize:3*MinPartSize])
	// Foreign, newer: right sizes, other bytes; one with a wrong size; one empty.
	foreign, _ := f.InitiateMultipartUpload(ctx, obs.InitiateInput{Key: testKey})
	f.putPart(foreign, 1, data[:MinPartSize]) // even a matching first part...
	f.putPart(foreign, 2, other[MinPartSize:2*MinPartSize])
	wrongSize, _ := f.InitiateMultipartUpload(ctx, obs.InitiateInput{Key: testKey})
	f.putPart(wrongSize, 1, data[:MinPartSize+1])
	empty, _ := f.InitiateMultipartUpload(ctx, obs.InitiateInput{Key: testKey})
	before := map[string][]obs.Part{}
	for _, id := range []string{foreign, wrongSize, empty} {
		before[id], _ = f.ListParts(ctx, obs.ListPartsInput{Key: testKey, UploadID: id})
	}

	in := input(path, MinPartSize)
	in.Discover = true
	out, _, err := Upload(ctx, f, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Discovered || out.UploadID != ours || out.PartsReused != 2 || out.PartsSent != 2 {
		t.Fatalf("output %+v", out)
	}
	if f.partAttempts[1] != 0 || f.partAttempts[3] != 0 {
		t.Fatalf("proven parts were re-sent: %v", f.partAttempts)
	}
	o := f.object(testKey)
	if !bytes.Equal(o.data, data) {
		t.Fatal("object bytes differ")
	}
	for id, parts := range before {
		now, err := f.ListParts(ctx, obs.ListPartsInput{Key: testKey, UploadID: id})
		if err != nil || !slices.Equal(now, parts) {
			t.Fatalf("foreign upload %s changed: %v %+v → %+v", id, err, parts, now)
		}
	}
	if f.callCount("Abort") != 0 {
		t.Fatal("an upload was aborted")
	}
}

func TestDiscoveryRejectsForeignUpload(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 3*MinPartSize, 10)
	_, other := writeFile(t, 3*MinPartSize, 11)
	ctx := context.Background()
	foreign, _ := f.InitiateMultipartUpload(ctx, obs.InitiateInput{Key: testKey})
	f.putPart(foreign, 1, other[:MinPartSize])
	f.putPart(foreign, 2, other[MinPartSize:2*MinPartSize])
	before, _ := f.ListParts(ctx, obs.ListPartsInput{Key: testKey, UploadID: foreign})
	in := input(path, MinPartSize)
	in.Discover = true
	out, _, err := Upload(ctx, f, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Discovered || out.Resumed || out.UploadID == foreign || out.PartsSent != 3 {
		t.Fatalf("output %+v", out)
	}
	checkObject := f.object(testKey)
	if !bytes.Equal(checkObject.data, data) {
		t.Fatal("object bytes differ")
	}
	now, err := f.ListParts(ctx, obs.ListPartsInput{Key: testKey, UploadID: foreign})
	if err != nil || !slices.Equal(now, before) {
		t.Fatalf("foreign upload changed: %v", err)
	}
}

func TestResumeNoSuchUpload(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 8*MinPartSize, 12)
	in := input(path, MinPartSize)
	_, rec, _, _ := cancelAfter(t, f, in, 4)
	if err := Abort(context.Background(), f, "b", testKey, rec.UploadID); err != nil { // or a lifecycle rule
		t.Fatal(err)
	}
	f.resetCounters()
	in.Record = rec
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Restarted || out.Resumed || out.UploadID == rec.UploadID || out.PartsSent != 8 {
		t.Fatalf("output %+v", out)
	}
	if len(out.Notices) != 1 || !strings.Contains(out.Notices[0], rec.UploadID+" no longer exists") {
		t.Fatalf("notices %q", out.Notices)
	}
	checkObject(t, f, out, path, data)
}

func TestResumeReconcilesWithServer(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 6*MinPartSize, 13)
	_, other := writeFile(t, 6*MinPartSize, 14)
	ctx := context.Background()
	id, _ := f.InitiateMultipartUpload(ctx, obs.InitiateInput{Key: testKey})
	part := func(b []byte, n int) []byte { return b[(n-1)*MinPartSize : n*MinPartSize] }
	for _, n := range []int{1, 2, 3, 4} {
		f.putPart(id, n, part(data, n))
	}
	f.putPart(id, 5, part(other, 5)) // unrecorded, not ours → re-sent
	server, _ := f.ListParts(ctx, obs.ListPartsInput{Key: testKey, UploadID: id})
	fp, _ := StatFingerprint(path)
	rec := &Record{UploadID: id, PartSize: MinPartSize, Size: 6 * MinPartSize, Source: fp, Parts: []CompletedPart{
		{Number: 1, Size: MinPartSize, ETag: server[0].ETag},         // kept
		{Number: 2, Size: MinPartSize, ETag: "0123456789abcdef"},     // recorded ETag differs → re-sent
		{Number: 6, Size: MinPartSize, ETag: "recorded-but-missing"}, // → re-sent
	}} // parts 3 and 4: present, unrecorded, our bytes → accepted
	in := input(path, MinPartSize)
	in.Record = rec
	out, _, err := Upload(ctx, f, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Resumed || out.UploadID != id || out.PartsReused != 3 || out.PartsSent != 3 {
		t.Fatalf("output %+v", out)
	}
	for n, want := range map[int]int{1: 0, 2: 1, 3: 0, 4: 0, 5: 1, 6: 1} {
		if f.partAttempts[n] != want {
			t.Fatalf("part %d sent %d times, want %d (%v)", n, f.partAttempts[n], want, f.partAttempts)
		}
	}
	checkObject(t, f, out, path, data)
}

func TestResumeWithChangedLayoutAbandonsRecord(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 4*MinPartSize, 15)
	in := input(path, MinPartSize)
	_, rec, _, _ := cancelAfter(t, f, in, 2)
	in.Record = rec
	in.PartSize = 2 * MinPartSize
	in.Discover = true
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Abandoned != rec.UploadID || out.Resumed || out.UploadID == rec.UploadID {
		t.Fatalf("output %+v", out)
	}
	if len(out.Notices) != 1 || !strings.Contains(out.Notices[0], rec.UploadID) {
		t.Fatalf("notices %q", out.Notices)
	}
	if ids := f.uploadIDs(testKey); !slices.Equal(ids, []string{rec.UploadID}) {
		t.Fatalf("open uploads %v: the abandoned one must be left for the caller", ids)
	}
	if o := f.object(testKey); !bytes.Equal(o.data, data) {
		t.Fatal("object bytes differ")
	}
}

func TestSourceModifiedMidUpload(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(t *testing.T, path string)
	}{
		{"bytes and mtime", func(t *testing.T, path string) {
			fh, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = fh.WriteAt([]byte("new bytes"), 5*MinPartSize+3)
			_ = fh.Close()
			// File timestamps tick coarsely: make the change visible.
			later := time.Now().Add(time.Hour)
			_ = os.Chtimes(path, later, later)
		}},
		{"appended", func(t *testing.T, path string) {
			fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = fh.Write([]byte("more"))
			_ = fh.Close()
		}},
		{"replaced", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			tmp := path + ".tmp"
			_ = os.WriteFile(tmp, b, 0o600)
			_ = os.Rename(tmp, path)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			path, _ := writeFile(t, 8*MinPartSize, 16)
			f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
				if in.PartNumber == 3 && attempt == 1 {
					tt.modify(t, path)
				}
				return nil
			}
			in := input(path, MinPartSize)
			in.Concurrency = 1
			_, rec, err := Upload(context.Background(), f, in)
			if !errors.Is(err, ErrSourceChanged) {
				t.Fatalf("error %v, want ErrSourceChanged", err)
			}
			if f.callCount("Complete") != 0 || f.object(testKey) != nil {
				t.Fatal("completed an upload whose source changed")
			}
			checkRecordExact(t, f, rec)
		})
	}
}

// TestSourceBytesChangedBetweenHashAndSend changes a part's bytes after the
// engine hashed them: the server answers BadDigest, the engine re-hashes, sees
// different bytes and fails.
func TestSourceBytesChangedBetweenHashAndSend(t *testing.T) {
	f := newFake()
	path, _ := writeFile(t, 4*MinPartSize, 17)
	info, _ := os.Stat(path)
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		if in.PartNumber == 2 && attempt == 1 {
			fh, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, _ = fh.WriteAt([]byte("X"), MinPartSize+10)
			_ = fh.Close()
			_ = os.Chtimes(path, info.ModTime(), info.ModTime()) // hide it from mtime
		}
		return nil
	}
	in := input(path, MinPartSize)
	in.Concurrency = 1
	_, _, err := Upload(context.Background(), f, in)
	var pe *PartError
	if !errors.Is(err, ErrSourceChanged) || !errors.As(err, &pe) || pe.PartNumber != 2 || !obs.IsCode(err, "BadDigest") {
		t.Fatalf("error %v", err)
	}
	if f.callCount("Complete") != 0 || f.partAttempts[2] != 1 {
		t.Fatalf("calls %v, attempts %v", f.calls, f.partAttempts)
	}
}

func TestExpectedFingerprintMismatch(t *testing.T) {
	f := newFake()
	path, _ := writeFile(t, 2*MinPartSize, 18)
	fp, _ := StatFingerprint(path)
	fp.ModTimeNs--
	in := input(path, MinPartSize)
	in.Expected = &fp
	_, rec, err := Upload(context.Background(), f, in)
	if !errors.Is(err, ErrSourceChanged) || rec != nil {
		t.Fatalf("error %v, record %v", err, rec)
	}
	if len(f.calls) != 0 {
		t.Fatalf("calls %v", f.calls)
	}
}

func TestCompleteLostResponse(t *testing.T) {
	lost := &obs.Error{Op: "CompleteMultipartUpload", Err: syscall.ECONNRESET}
	for _, tt := range []struct {
		name      string
		fault     func(attempt int) completeFault
		completes int
	}{
		{"response lost", func(a int) completeFault { return completeFault{After: lost} }, 1},
		{"timeout", func(a int) completeFault {
			return completeFault{After: &obs.Error{Op: "CompleteMultipartUpload", Err: context.DeadlineExceeded}}
		}, 1},
		// The obs layer retried after a lost response and got NoSuchUpload.
		{"lost then NoSuchUpload", func(a int) completeFault {
			return completeFault{After: obsErr("CompleteMultipartUpload", testKey, 404, "NoSuchUpload")}
		}, 1},
		{"503 before completing", func(a int) completeFault {
			if a == 1 {
				return completeFault{Before: obsErr("CompleteMultipartUpload", testKey, 503, "ServiceUnavailable")}
			}
			return completeFault{}
		}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.completeHook = tt.fault
			path, data := writeFile(t, 3*MinPartSize, 19)
			out, rec, err := Upload(context.Background(), f, input(path, MinPartSize))
			if err != nil || rec != nil {
				t.Fatalf("Upload: %v", err)
			}
			if got := f.callCount("Complete"); got != tt.completes {
				t.Fatalf("Complete called %d times, want %d", got, tt.completes)
			}
			if f.callCount("Head") < 1 {
				t.Fatal("the object was not checked with HEAD")
			}
			if o := f.object(testKey); out.VersionID != o.version {
				t.Fatalf("version %q, want %q", out.VersionID, o.version)
			}
			checkObject(t, f, out, path, data)
		})
	}
}

func TestCompleteNoSuchUploadForeignObject(t *testing.T) {
	f := newFake()
	f.completeHook = func(int) completeFault {
		return completeFault{Before: obsErr("CompleteMultipartUpload", testKey, 404, "NoSuchUpload")}
	}
	path, _ := writeFile(t, 2*MinPartSize, 20)
	_, rec, err := Upload(context.Background(), f, input(path, MinPartSize))
	if !obs.IsNoSuchUpload(err) || rec != nil {
		t.Fatalf("error %v, record %+v", err, rec)
	}
}

func TestSSEUploadSkipsETagCheckAndDiscovery(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 2*MinPartSize, 21)
	in := input(path, MinPartSize)
	in.Options.SSEKMS = true
	in.Discover = true
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if f.callCount("ListUploads") != 0 || !strings.HasPrefix(out.ETag, "opaque-") {
		t.Fatalf("calls %v, ETag %q", f.calls, out.ETag)
	}
	if o := f.object(testKey); !bytes.Equal(o.data, data) {
		t.Fatal("bytes differ")
	}
}

func TestConcurrencyAndSharedBudget(t *testing.T) {
	f := newFake()
	path, _ := writeFile(t, 12*MinPartSize, 22)
	var mu sync.Mutex
	inflight, peak := 0, 0
	gate := make(chan struct{})
	var once sync.Once
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		mu.Lock()
		inflight++
		peak = max(peak, inflight)
		mu.Unlock()
		once.Do(func() { close(gate) })
		mu.Lock()
		inflight--
		mu.Unlock()
		return nil
	}
	budget := NewBudget(2)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := input(path, MinPartSize)
			in.Key = testKey + string(rune('a'+i))
			in.Concurrency = 4
			in.Budget = budget
			_, _, err := Upload(context.Background(), f, in)
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
	<-gate
	if f.maxInflight > 2 || peak > 2 {
		t.Fatalf("%d parts in flight with a budget of 2", max(f.maxInflight, peak))
	}
}

func TestAbortUsesDetachedContext(t *testing.T) {
	f := newFake()
	id, _ := f.InitiateMultipartUpload(context.Background(), obs.InitiateInput{Key: testKey})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Abort(ctx, f, "b", testKey, id); err != nil {
		t.Fatalf("Abort with a cancelled context: %v", err)
	}
	err := Abort(ctx, f, "b", testKey, id)
	if !obs.IsNoSuchUpload(err) || !strings.Contains(err.Error(), id) {
		t.Fatalf("second Abort: %v", err)
	}
}

func TestFileETagMatchesServer(t *testing.T) {
	path, data := writeFile(t, 3*MinPartSize+1, 23)
	for _, ps := range []int64{MinPartSize, 4 * MinPartSize} {
		f := newFake()
		out, _, err := Upload(context.Background(), f, input(path, ps))
		if err != nil {
			t.Fatal(err)
		}
		checkObject(t, f, out, path, data)
	}
	l, _ := PlanParts(5, 0)
	if _, err := FileETag(path, l); err == nil {
		t.Fatal("FileETag accepted a layout of another size")
	}
}

func appendTo(path, s string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := fh.WriteString(s); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// TestResumeAfterCompleteAnswerLost: the run was cancelled while Complete's
// answer was on its way; the object was assembled. Resuming its record finds
// the object and sends nothing.
func TestResumeAfterCompleteAnswerLost(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 3*MinPartSize, 24)
	ctx, cancel := context.WithCancel(context.Background())
	f.completeHook = func(int) completeFault {
		cancel()
		return completeFault{After: &obs.Error{Op: "CompleteMultipartUpload", Err: context.Canceled}}
	}
	in := input(path, MinPartSize)
	_, rec, err := Upload(ctx, f, in)
	if !errors.Is(err, context.Canceled) || rec == nil || len(rec.Parts) != 3 {
		t.Fatalf("error %v, record %+v", err, rec)
	}
	f.completeHook = nil
	f.resetCounters()
	in.Record = rec
	out, rec2, err := Upload(context.Background(), f, in)
	if err != nil || rec2 != nil {
		t.Fatal(err)
	}
	if out.Restarted || !out.Resumed || out.UploadID != rec.UploadID || out.BytesSent != 0 || f.callCount("Complete") != 0 || f.callCount("Initiate") != 0 {
		t.Fatalf("output %+v, calls %v", out, f.calls)
	}
	checkObject(t, f, out, path, data)
}

// TestNextPartHashedWhileSending pins the pipeline: with one worker, part 2
// is hashed while part 1 is still on the wire, so the connection does not
// wait for an MD5 between parts.
func TestNextPartHashedWhileSending(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 3*MinPartSize, 23)
	part2Hashed := make(chan struct{})
	var once sync.Once
	orig := hashPart
	t.Cleanup(func() { hashPart = orig })
	hashPart = func(r io.ReaderAt, off, size int64) (md5Sum, error) {
		sum, err := orig(r, off, size)
		if off == MinPartSize {
			once.Do(func() { close(part2Hashed) })
		}
		return sum, err
	}
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		if in.PartNumber != 1 {
			return nil
		}
		select {
		case <-part2Hashed:
			return nil
		case <-time.After(10 * time.Second):
			return errors.New("part 2 was not hashed while part 1 was being sent")
		}
	}
	in := input(path, MinPartSize)
	in.Concurrency = 1
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	checkObject(t, f, out, path, data)
}
