package upload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// Tests against the local OBS server over real HTTP, through the real
// obs.Client (signing, retries, error typing).

// newLocalClient starts the local server and returns it with a client of it.
func newLocalClient(t *testing.T) (*obslocal.Server, obs.Client) {
	t.Helper()
	s, cfg := obslocaltest.Start(t)
	cfg.MaxConns = 8
	c, err := obs.New(cfg)
	if err != nil {
		t.Fatalf("obs.New: %v", err)
	}
	return s, c
}

func lsInput(path string, partSize int64) Input {
	return Input{Bucket: obslocaltest.Bucket, Key: testKey, Path: path, PartSize: partSize, Concurrency: 4}
}

// checkServerObject asserts the server holds exactly data, with the ETag
// FileETag predicts and (for multipart) our upload ID, and no open upload.
func checkServerObject(t *testing.T, s *obslocal.Server, out Output, path string, data []byte) {
	t.Helper()
	sum, info, err := s.ObjectSHA256(obslocaltest.Bucket, testKey)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if sum != hex.EncodeToString(want[:]) || info.Size != int64(len(data)) {
		t.Fatalf("stored object (%d bytes) differs from the file (%d bytes)", info.Size, len(data))
	}
	etag, err := FileETag(path, out.Layout)
	if err != nil {
		t.Fatal(err)
	}
	if normETag(info.ETag) != etag || out.ETag != etag {
		t.Fatalf("ETag: stored %s, output %s, FileETag %s", info.ETag, out.ETag, etag)
	}
	if info.UploadID != out.UploadID {
		t.Fatalf("object assembled by %q, output says %q", info.UploadID, out.UploadID)
	}
	if ups := s.OpenUploads(obslocaltest.Bucket); len(ups) != 0 {
		t.Fatalf("open uploads left: %+v", ups)
	}
}

func TestLocalServerHappyPath(t *testing.T) {
	s, c := newLocalClient(t)
	for _, tt := range []struct {
		name     string
		size     int
		partSize int64
	}{
		{"empty", 0, 0},
		{"one byte", 1, 0},
		{"100 KiB minus one", MinPartSize - 1, MinPartSize},
		{"exactly one part", MinPartSize, MinPartSize},
		{"eleven parts", 10*MinPartSize + 77, MinPartSize},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, data := writeFile(t, tt.size, int64(tt.size)+100)
			out, rec, err := Upload(context.Background(), c, lsInput(path, tt.partSize))
			if err != nil || rec != nil {
				t.Fatalf("Upload: %v", err)
			}
			checkServerObject(t, s, out, path, data)
		})
	}
}

func TestLocalServerPartFaults(t *testing.T) {
	s, c := newLocalClient(t)
	path, data := writeFile(t, 6*MinPartSize, 200)
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 2, Times: 2, Status: 503, Code: "ServiceUnavailable"})
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 4, Reset: true, ResetAfterBytes: MinPartSize / 2})
	out, _, err := Upload(context.Background(), c, lsInput(path, MinPartSize))
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats().Ops[obslocal.OpUploadPart]
	// 6 parts + 2 failed attempts of part 2 (bodies read and discarded) + half of part 4.
	if want := int64(8*MinPartSize + MinPartSize/2); st.BodyBytes != want {
		t.Fatalf("server received %d body bytes, want %d", st.BodyBytes, want)
	}
	checkServerObject(t, s, out, path, data)
}

// lsCancelHalfway cancels an upload once half its parts are done.
func lsCancelHalfway(t *testing.T, c obs.Client, in Input) (*Record, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	in.OnProgress = func(p Progress) {
		if cancelled.IsZero() && p.PartsDone >= p.PartsTotal/2 {
			cancelled = time.Now()
			cancel()
		}
	}
	_, rec, err := Upload(ctx, c, in)
	if !errors.Is(err, context.Canceled) || rec == nil {
		t.Fatalf("error %v, record %v", err, rec)
	}
	return rec, time.Since(cancelled)
}

func TestLocalServerCancelThenResume(t *testing.T) {
	for _, discover := range []bool{false, true} {
		name := "with record"
		if discover {
			name = "record lost, discovery"
		}
		t.Run(name, func(t *testing.T) {
			s, c := newLocalClient(t)
			path, data := writeFile(t, 32*MinPartSize+5, 300)
			in := lsInput(path, MinPartSize)
			// Slow parts down so that cancellation lands with parts in flight.
			s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, Times: -1, BytesPerSecond: 8 << 20})
			rec, took := lsCancelHalfway(t, c, in)
			if took > 2*time.Second {
				t.Fatalf("returned %s after cancellation", took)
			}
			ups := s.OpenUploads(obslocaltest.Bucket)
			if len(ups) != 1 || ups[0].UploadID != rec.UploadID || ups[0].Parts < len(rec.Parts) {
				t.Fatalf("open uploads %+v, record has %d parts", ups, len(rec.Parts))
			}
			missing := rec.Size
			for _, p := range rec.Parts {
				missing -= p.Size
			}
			s.ClearFaults()
			s.ResetStats()
			if discover {
				in.Discover = true
			} else {
				in.Record = rec
			}
			out, _, err := Upload(context.Background(), c, in)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Resumed || out.Discovered != discover || out.UploadID != rec.UploadID {
				t.Fatalf("output %+v", out)
			}
			sent := s.Stats().Ops[obslocal.OpUploadPart].BodyBytes
			if limit := missing + int64(in.Concurrency)*MinPartSize; sent > limit {
				t.Fatalf("resume sent %d bytes, limit %d (missing %d)", sent, limit, missing)
			}
			t.Logf("record %d/%d parts; resume sent %d bytes of %d missing, reused %d parts", len(rec.Parts), out.Layout.Parts, sent, missing, out.PartsReused)
			checkServerObject(t, s, out, path, data)
		})
	}
}

func TestLocalServerNoSuchUploadOnResume(t *testing.T) {
	s, c := newLocalClient(t)
	path, data := writeFile(t, 8*MinPartSize, 400)
	in := lsInput(path, MinPartSize)
	rec, _ := lsCancelHalfway(t, c, in)
	if err := s.ExpireUpload(obslocaltest.Bucket, testKey, rec.UploadID); err != nil {
		t.Fatal(err)
	}
	in.Record = rec
	out, _, err := Upload(context.Background(), c, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Restarted || out.UploadID == rec.UploadID || len(out.Notices) != 1 || !strings.Contains(out.Notices[0], "no longer exists") {
		t.Fatalf("output %+v", out)
	}
	checkServerObject(t, s, out, path, data)
}

func TestLocalServerCompleteLostResponse(t *testing.T) {
	s, c := newLocalClient(t)
	path, data := writeFile(t, 3*MinPartSize+9, 500)
	s.Inject(obslocal.Fault{Op: obslocal.OpCompleteMultipartUpload, DropResponse: true})
	out, rec, err := Upload(context.Background(), c, lsInput(path, MinPartSize))
	if err != nil || rec != nil {
		t.Fatalf("Upload: %v", err)
	}
	if n := s.Stats().Ops[obslocal.OpHeadObject].Requests; n < 1 {
		t.Fatal("the object was not checked with HEAD after the lost response")
	}
	checkServerObject(t, s, out, path, data)
}

func TestLocalServerSourceModified(t *testing.T) {
	s, c := newLocalClient(t)
	path, _ := writeFile(t, 8*MinPartSize, 600)
	in := lsInput(path, MinPartSize)
	in.Concurrency = 1
	var appendErr error
	in.OnProgress = func(p Progress) {
		if p.PartsDone == 2 {
			appendErr = appendTo(path, "changed")
		}
	}
	_, rec, err := Upload(context.Background(), c, in)
	if appendErr != nil {
		t.Fatal(appendErr)
	}
	if !errors.Is(err, ErrSourceChanged) || rec == nil {
		t.Fatalf("error %v, record %v", err, rec)
	}
	if n := s.Stats().Ops[obslocal.OpCompleteMultipartUpload].Requests; n != 0 {
		t.Fatalf("Complete was sent %d times for a changed source", n)
	}
	if _, _, err := s.ObjectSHA256(obslocaltest.Bucket, testKey); err == nil {
		t.Fatal("an object was stored")
	}
}

func TestLocalServer1GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB over HTTP")
	}
	s, c := newLocalClient(t)
	path := sparseFile(t, 1<<30)
	start := time.Now()
	out, _, err := Upload(context.Background(), c, Input{Bucket: obslocaltest.Bucket, Key: testKey, Path: path, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1 GiB in %d parts: %s", out.Layout.Parts, time.Since(start))
	_, info, err := s.ObjectSHA256(obslocaltest.Bucket, testKey)
	if err != nil {
		t.Fatal(err)
	}
	etag, _ := FileETag(path, out.Layout)
	if info.Size != 1<<30 || normETag(info.ETag) != etag || info.UploadID != out.UploadID {
		t.Fatalf("stored %+v, want ETag %s", info, etag)
	}
	if got := s.Stats().Ops[obslocal.OpUploadPart].BodyBytes; got != 1<<30 {
		t.Fatalf("server received %d part bytes", got)
	}
}
