package upload

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

const srcKey = "builds/123/app.bin"

// copyInput copies the fake's srcKey, as it is now, to testKey. The fake
// keeps no versions, so the copy names none, as in a bucket without
// versioning.
func copyInput(t *testing.T, f *fakeOBS, partSize int64) Input {
	t.Helper()
	o := f.object(srcKey)
	if o == nil {
		t.Fatal("no source object")
	}
	return Input{Bucket: "b", Key: testKey, PartSize: partSize, Copy: &CopySource{
		ObjectVersion: ObjectVersion{Bucket: "b", Key: srcKey, ETag: o.etag}, Size: o.size,
	}}
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// partsETag is the multipart ETag of data cut into parts of partSize.
func partsETag(data []byte, partSize int) string {
	var etags []string
	for off := 0; off < len(data); off += partSize {
		sum := md5.Sum(data[off:min(off+partSize, len(data))])
		etags = append(etags, hex.EncodeToString(sum[:]))
	}
	etag, _ := multipartETag(etags)
	return etag
}

// checkCopied asserts that testKey holds exactly data, that nothing went
// through the client and that no upload is left open.
func checkCopied(t *testing.T, f *fakeOBS, out Output, data []byte) {
	t.Helper()
	o := f.object(testKey)
	if o == nil || !bytes.Equal(o.data, data) || o.etag != out.ETag {
		t.Fatalf("copy holds %v, want %d bytes with ETag %s", o, len(data), out.ETag)
	}
	if f.bytesRead() != 0 || f.callCount("UploadPart") != 0 || f.callCount("PutObject") != 0 {
		t.Fatalf("object data went through the client: %d body bytes, calls %v", f.bytesRead(), f.calls)
	}
	if ids := f.uploadIDs(testKey); len(ids) != 0 {
		t.Fatalf("open uploads left: %v", ids)
	}
}

// checkIfMatch asserts that every copy request carried the source's ETag.
func checkIfMatch(t *testing.T, f *fakeOBS, etag string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.copySources) == 0 {
		t.Fatal("no copy request")
	}
	for _, s := range f.copySources {
		if s.IfMatch != etag || s.Key != srcKey {
			t.Fatalf("copy request with source %+v, want if-match %s", s, etag)
		}
	}
}

// A source of several parts is copied part by part, server-side, each part
// under if-match on the source's ETag; the object's ETag is verified
// against the parts'.
func TestCopyMultipart(t *testing.T) {
	f := newFake()
	data := randomBytes(10*MinPartSize+5000, 1)
	etag := f.putObjectData(srcKey, data)
	in := copyInput(t, f, MinPartSize)
	in.Concurrency = 3
	var reports []Progress
	in.OnProgress = func(p Progress) { reports = append(reports, p) }
	out, rec, err := Copy(context.Background(), f, in)
	if err != nil || rec != nil {
		t.Fatalf("Copy: %v (record %+v)", err, rec)
	}
	checkCopied(t, f, out, data)
	checkIfMatch(t, f, etag)
	if out.ETag != partsETag(data, MinPartSize) || out.Layout.Parts != 11 || out.Layout.SinglePut {
		t.Fatalf("output %+v, want ETag %s of 11 parts", out, partsETag(data, MinPartSize))
	}
	if n := f.callCount("UploadPartCopy"); n != 11 || f.callCount("CopyObject") != 0 || f.copiedBytes != int64(len(data)) {
		t.Fatalf("%d part copies of %d bytes, calls %v", n, f.copiedBytes, f.calls)
	}
	if out.PartsSent != 11 || out.BytesSent != int64(len(data)) || out.PartsReused != 0 {
		t.Fatalf("output counts %+v", out)
	}
	if last := reports[len(reports)-1]; len(reports) != 11 || last.BytesDone != int64(len(data)) || last.PartsDone != 11 {
		t.Fatalf("%d progress reports, last %+v", len(reports), last)
	}
}

// A source that fits one part (at most the part size) is copied with one
// CopyObject whose metadata and tags are the options; one byte more is a
// multipart copy.
func TestCopySingleRequest(t *testing.T) {
	for _, tc := range []struct {
		name         string
		size         int
		single       bool
		partRequests int
	}{
		{"empty", 0, true, 0},
		{"smaller than a part", MinPartSize - 1, true, 0},
		{"exactly one part", MinPartSize, true, 0},
		{"one byte more", MinPartSize + 1, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			data := randomBytes(tc.size, 2)
			etag := f.putObjectData(srcKey, data)
			in := copyInput(t, f, MinPartSize)
			in.Options = obs.ObjectOptions{ContentType: "text/plain", Metadata: map[string]string{"tf-source-sha256": "abc"}, Tags: map[string]string{"t": "1"}}
			out, _, err := Copy(context.Background(), f, in)
			if err != nil {
				t.Fatal(err)
			}
			checkCopied(t, f, out, data)
			checkIfMatch(t, f, etag)
			if out.Layout.SinglePut != tc.single || f.callCount("UploadPartCopy") != tc.partRequests {
				t.Fatalf("layout %+v, calls %v", out.Layout, f.calls)
			}
			if !tc.single {
				return
			}
			if f.callCount("CopyObject") != 1 || out.ETag != etag {
				t.Fatalf("calls %v, ETag %s want the source's %s", f.calls, out.ETag, etag)
			}
			ci := f.copyInputs[0]
			if !ci.ReplaceMetadata || !ci.ReplaceTags || ci.Options.ContentType != "text/plain" || ci.Options.Tags["t"] != "1" {
				t.Fatalf("CopyObject input %+v", ci)
			}
		})
	}
}

// Objects over 5 GiB are never sent to CopyObject: they are copied in parts
// of the layout. A source assembled from parts of the same size gives the
// copy its own ETag; a source of 1 TiB with the default part size is copied
// in grown parts within 10000.
func TestCopyOver5GiB(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name               string
		size, srcPart      int64
		partSize           int64
		parts              int
		grown, sourceETags bool
	}{
		{"5 GiB + 1 MiB in parts of 1 GiB, as the source", 5*gib + 1<<20 + 3, gib, gib, 6, false, true},
		{"5 GiB + 1 MiB in parts of 5 GiB", 5*gib + 1<<20 + 3, gib, MaxPartSize, 2, false, false},
		{"1 TiB with the default part size", 1 << 40, 0, 0, 9987, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			etag := f.putSynthetic(srcKey, tc.size, tc.srcPart, "src")
			in := copyInput(t, f, tc.partSize)
			in.Concurrency = 16
			out, _, err := Copy(context.Background(), f, in)
			if err != nil {
				t.Fatal(err)
			}
			if f.callCount("CopyObject") != 0 || f.callCount("UploadPartCopy") != tc.parts || out.Layout.Parts != tc.parts || out.Layout.Grown != tc.grown {
				t.Fatalf("layout %+v, calls %v", out.Layout, f.calls)
			}
			if f.copiedBytes != tc.size || f.bytesRead() != 0 || f.object(testKey).size != tc.size {
				t.Fatalf("copied %d of %d bytes, %d through the client", f.copiedBytes, tc.size, f.bytesRead())
			}
			if (out.ETag == etag) != tc.sourceETags {
				t.Fatalf("copy ETag %s, source %s", out.ETag, etag)
			}
			if tc.grown && (len(out.Notices) == 0 || !strings.Contains(out.Notices[0], "part size grown")) {
				t.Fatalf("notices %q", out.Notices)
			}
		})
	}
}

// A source replaced in the middle of a copy fails the next part's if-match:
// the copy stops with ErrSourceObjectChanged and is never completed, and its
// record names the version it was copying.
func TestCopySourceChangedMidCopy(t *testing.T) {
	f := newFake()
	data := randomBytes(6*MinPartSize, 3)
	etag := f.putObjectData(srcKey, data)
	in := copyInput(t, f, MinPartSize)
	in.Concurrency = 1
	f.afterPart = func(n int) {
		if n == 2 {
			f.putObjectData(srcKey, randomBytes(6*MinPartSize, 4))
		}
	}
	_, rec, err := Copy(context.Background(), f, in)
	if !errors.Is(err, ErrSourceObjectChanged) || !obs.IsPreconditionFailed(err) {
		t.Fatalf("error %v, want ErrSourceObjectChanged", err)
	}
	var pe *PartError
	if !errors.As(err, &pe) || pe.PartNumber != 3 {
		t.Fatalf("error %v does not name part 3", err)
	}
	if f.callCount("Complete") != 0 || f.object(testKey) != nil || f.partAttempts[3] != 1 {
		t.Fatalf("calls %v, part attempts %v", f.calls, f.partAttempts)
	}
	checkRecordExact(t, f, rec)
	if rec.Copy == nil || rec.Copy.ETag != etag || rec.Copy.Key != srcKey || len(rec.Parts) != 2 {
		t.Fatalf("record %+v", rec)
	}
}

// failPartCopy makes every copy of part n fail with a permanent error.
func failPartCopy(f *fakeOBS, n int) {
	f.partHook = func(_ context.Context, in obs.UploadPartInput, _ int) error {
		if in.PartNumber == n {
			return obsErr("UploadPartCopy", in.Key, http.StatusForbidden, "AccessDenied")
		}
		return nil
	}
}

// A failed copy resumes from its record, or from a record of the upload
// alone (as the provider journals it when the upload is initiated): the
// parts on the server are kept, only the missing ones are copied.
func TestCopyResume(t *testing.T) {
	for _, tc := range []struct {
		name  string
		strip bool // resume from the upload's journal entry: no parts recorded
	}{{"from the record", false}, {"from the journaled upload", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			data := randomBytes(9*MinPartSize+7, 5)
			f.putObjectData(srcKey, data)
			in := copyInput(t, f, MinPartSize)
			in.Concurrency = 1
			var initiated []Record
			in.Initiated = func(r Record) { initiated = append(initiated, r) }
			failPartCopy(f, 5)
			_, rec, err := Copy(context.Background(), f, in)
			if err == nil || rec == nil || len(rec.Parts) != 4 {
				t.Fatalf("error %v, record %+v", err, rec)
			}
			if len(initiated) != 1 || initiated[0].UploadID != rec.UploadID || initiated[0].Copy == nil ||
				*initiated[0].Copy != in.Copy.ObjectVersion || initiated[0].PartSize != MinPartSize || len(initiated[0].Parts) != 0 {
				t.Fatalf("Initiated got %+v, record %+v", initiated, rec)
			}
			if tc.strip {
				rec = &initiated[0]
			}
			f.partHook = nil
			f.resetCounters()
			in.Record = rec
			out, _, err := Copy(context.Background(), f, in)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Resumed || out.UploadID != rec.UploadID || out.PartsReused != 4 || out.PartsSent != 6 || len(initiated) != 1 {
				t.Fatalf("output %+v", out)
			}
			if n := f.callCount("UploadPartCopy"); n != 6 || f.copiedBytes != int64(len(data))-4*MinPartSize {
				t.Fatalf("resume made %d part copies (%d bytes)", n, f.copiedBytes)
			}
			checkCopied(t, f, out, data)
		})
	}
}

// A record of a copy from another version of the source is never resumed:
// its parts cannot be checked, so it is abandoned (left for the caller to
// abort) and a new upload copies every part.
func TestCopyRecordOfAnotherVersionAbandoned(t *testing.T) {
	f := newFake()
	f.putObjectData(srcKey, randomBytes(6*MinPartSize, 6))
	in := copyInput(t, f, MinPartSize)
	in.Concurrency = 1
	failPartCopy(f, 4)
	_, rec, err := Copy(context.Background(), f, in)
	if err == nil || rec == nil {
		t.Fatalf("error %v, record %+v", err, rec)
	}
	f.partHook = nil
	data := randomBytes(6*MinPartSize, 7)
	f.putObjectData(srcKey, data)
	f.resetCounters()
	in2 := copyInput(t, f, MinPartSize)
	in2.Record, in2.Discover = rec, true
	out, _, err := Copy(context.Background(), f, in2)
	if err != nil {
		t.Fatal(err)
	}
	if out.Abandoned != rec.UploadID || out.Resumed || out.UploadID == rec.UploadID || f.callCount("UploadPartCopy") != 6 {
		t.Fatalf("output %+v, calls %v", out, f.calls)
	}
	if ids := f.uploadIDs(testKey); len(ids) != 1 || ids[0] != rec.UploadID {
		t.Fatalf("open uploads %v, want the abandoned one left", ids)
	}
	if o := f.object(testKey); o == nil || !bytes.Equal(o.data, data) {
		t.Fatal("the copy does not hold the new version")
	}
}

// With no record (a killed run saved nothing), an open upload is adopted
// only when it provably is a copy of this source: every part there, and
// their multipart ETag the source's own. Partial uploads, and complete ones
// of another layout, are left alone.
func TestCopyDiscovery(t *testing.T) {
	const size = 8*MinPartSize + 100
	for _, tc := range []struct {
		name    string
		srcPart int64 // the source's own part size
		failAt  int   // the part copy that fails in the first run (0: Complete fails)
		adopted bool
	}{
		{"every part, the source's layout", MinPartSize, 0, true},
		{"every part, another layout", 2 * MinPartSize, 0, false},
		{"some parts", MinPartSize, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.putSynthetic(srcKey, size, tc.srcPart, "src")
			in := copyInput(t, f, MinPartSize)
			in.Concurrency = 1
			if tc.failAt > 0 {
				failPartCopy(f, tc.failAt)
			} else {
				f.completeHook = func(int) completeFault {
					return completeFault{Before: obsErr("CompleteMultipartUpload", testKey, http.StatusForbidden, "AccessDenied")}
				}
			}
			_, rec, err := Copy(context.Background(), f, in)
			if err == nil || rec == nil {
				t.Fatalf("error %v, record %+v", err, rec)
			}
			f.partHook, f.completeHook = nil, nil
			f.resetCounters()
			in.Discover = true
			out, _, err := Copy(context.Background(), f, in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Discovered != tc.adopted || (out.UploadID == rec.UploadID) != tc.adopted {
				t.Fatalf("output %+v, first upload %s", out, rec.UploadID)
			}
			want := 0
			if !tc.adopted {
				want = 9
			}
			if n := f.callCount("UploadPartCopy"); n != want {
				t.Fatalf("%d part copies, want %d", n, want)
			}
			left := f.uploadIDs(testKey)
			if tc.adopted && len(left) != 0 || !tc.adopted && (len(left) != 1 || left[0] != rec.UploadID) {
				t.Fatalf("open uploads %v", left)
			}
			if o := f.object(testKey); o == nil || o.size != size {
				t.Fatalf("object %+v", o)
			}
		})
	}
}

// A copy interrupted by cancellation returns within 2 s with a record of
// exactly the parts the server holds.
func TestCopyCancel(t *testing.T) {
	f := newFake()
	f.putObjectData(srcKey, randomBytes(16*MinPartSize, 8))
	in := copyInput(t, f, MinPartSize)
	in.Concurrency = 4
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stored atomic.Int32
	var at atomic.Int64
	f.afterPart = func(int) {
		if stored.Add(1) == 6 {
			at.Store(time.Now().UnixNano())
			cancel()
		}
	}
	_, rec, err := Copy(ctx, f, in)
	f.afterPart = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if took := time.Since(time.Unix(0, at.Load())); took > 2*time.Second {
		t.Fatalf("returned %s after cancellation", took)
	}
	checkRecordExact(t, f, rec)
	if f.callCount("Complete") != 0 || f.callCount("Abort") != 0 {
		t.Fatalf("calls %v", f.calls)
	}
}

// Part copies share the budget with every other transfer, and a transient
// failure is retried.
func TestCopyBudgetAndRetry(t *testing.T) {
	f := newFake()
	data := randomBytes(12*MinPartSize, 9)
	f.putObjectData(srcKey, data)
	var mu sync.Mutex
	inflight, peak := 0, 0
	f.partHook = func(_ context.Context, in obs.UploadPartInput, attempt int) error {
		mu.Lock()
		defer mu.Unlock()
		inflight++
		peak = max(peak, inflight)
		inflight--
		if in.PartNumber == 3 && attempt == 1 {
			return obsErr("UploadPartCopy", in.Key, http.StatusServiceUnavailable, "SlowDown")
		}
		return nil
	}
	budget := NewBudget(2)
	in := copyInput(t, f, MinPartSize)
	in.Concurrency, in.Budget = 8, budget
	out, _, err := Copy(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	checkCopied(t, f, out, data)
	if f.maxInflight > 2 || peak > 2 {
		t.Fatalf("%d part copies in flight with a budget of 2", max(f.maxInflight, peak))
	}
	if f.partAttempts[3] != 2 || f.callCount("UploadPartCopy") != 13 {
		t.Fatalf("part attempts %v", f.partAttempts)
	}
}

// With SSE-KMS on the destination the ETag is not checked against the
// parts, and no open upload can be proven a copy of the source.
func TestCopyEncryptedDestination(t *testing.T) {
	f := newFake()
	f.putObjectData(srcKey, randomBytes(3*MinPartSize, 10))
	in := copyInput(t, f, MinPartSize)
	in.Options.SSEKMS, in.Discover = true, true
	out, _, err := Copy(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if f.callCount("ListUploads") != 0 || out.ETag != "opaque-"+out.UploadID {
		t.Fatalf("output %+v, calls %v", out, f.calls)
	}
}

// Copy and Upload each refuse the other's source.
func TestCopyInputChecked(t *testing.T) {
	f := newFake()
	f.putObjectData(srcKey, []byte("x"))
	in := copyInput(t, f, MinPartSize)
	in.Path = "/etc/hostname"
	if _, _, err := Copy(context.Background(), f, in); err == nil {
		t.Fatal("Copy accepted a path")
	}
	if _, _, err := Upload(context.Background(), f, in); err == nil {
		t.Fatal("Upload accepted a source object")
	}
	in.Path, in.Copy.ETag = "", ""
	if _, _, err := Copy(context.Background(), f, in); err == nil {
		t.Fatal("Copy accepted a source without ETag")
	}
}

// PlanCopyParts plans as PlanParts, except that a source of exactly one
// part is one request too.
func TestPlanCopyParts(t *testing.T) {
	for _, tc := range []struct {
		size, partSize int64
		parts          int
		single         bool
	}{
		{0, MinPartSize, 1, true},
		{MinPartSize - 1, MinPartSize, 1, true},
		{MinPartSize, MinPartSize, 1, true},
		{MinPartSize + 1, MinPartSize, 2, false},
		{MaxPartSize, MaxPartSize, 1, true},
		{MaxPartSize + 1, MaxPartSize, 2, false},
	} {
		l, err := PlanCopyParts(tc.size, tc.partSize)
		want, werr := PlanParts(tc.size, tc.partSize)
		if err != nil || werr != nil || l.Parts != tc.parts || l.SinglePut != tc.single || l.PartSize != want.PartSize || l.Parts != want.Parts {
			t.Errorf("PlanCopyParts(%d, %d) = %+v, %v; want %d parts, single %v (PlanParts %+v)", tc.size, tc.partSize, l, err, tc.parts, tc.single, want)
		}
	}
	if _, err := PlanCopyParts(1, MinPartSize-1); err == nil {
		t.Error("a part size below the minimum was accepted")
	}
}
