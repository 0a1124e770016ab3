package upload

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// Regression tests for what the engine soak found.

// TestCompleteUnconfirmedKeepsRecord: Complete took effect but its response
// was lost, and HEAD could not tell whether the object was assembled from
// the upload. The run fails and returns its record, so that the next run
// finds the object assembled from it and sends nothing (it used to drop
// the record, and the next run sent the whole file again).
func TestCompleteUnconfirmedKeepsRecord(t *testing.T) {
	s, c := soakServer(t)
	path, data := writeFile(t, 3*MinPartSize+7, 700)
	in := Input{Bucket: obslocaltest.Bucket, Key: testKey, Path: path, PartSize: MinPartSize, Concurrency: 4}
	s.Inject(obslocal.Fault{Op: obslocal.OpCompleteMultipartUpload, DropResponse: true})
	s.Inject(obslocal.Fault{Op: obslocal.OpHeadObject, Times: -1, Status: 503, Code: "ServiceUnavailable"})
	_, rec, err := Upload(context.Background(), c, in)
	if err == nil || rec == nil {
		t.Fatalf("error %v, record %v: want an error and the record of the upload whose completion is unconfirmed", err, rec)
	}
	s.ClearFaults()
	s.ResetStats()
	in.Record, in.Discover = rec, true
	out, rec, err := Upload(context.Background(), c, in)
	if err != nil || rec != nil {
		t.Fatalf("second run: %v (record %v)", err, rec)
	}
	st := s.Stats().Ops
	if sent, started := st[obslocal.OpUploadPart].BodyBytes, st[obslocal.OpInitiateMultipartUpload].Requests; sent != 0 || started != 0 {
		t.Fatalf("second run sent %d part bytes and initiated %d upload(s); the object was already complete", sent, started)
	}
	checkServerObject(t, s, out, path, data)
}

// TestEngineSoakRegressions replays soak seeds that once failed.
// Seed 2228 (without -race): a run cancelled while its Complete took effect,
// its record then lost; the next run sends the whole file again, which the
// soak now expects (the engine cannot tell that the object is what the run
// would write: its options may differ).
func TestEngineSoakRegressions(t *testing.T) {
	dir := t.TempDir()
	for _, seed := range []int64{2228} {
		rep := newSoakReport(seed)
		if vs := runSoakIteration(t, dir, drawIteration(seed), rep); len(vs) > 0 {
			t.Errorf("seed %d: %s\nreplay: %s", seed, strings.Join(vs, "\n  "), soakReplay(seed))
		}
	}
}

// TestPartOfShrunkFileStops: the file shrinks after a part was hashed and
// before it is sent, so the part's body ends early. The run stops at once
// with ErrSourceChanged (found by the soak, seed 100973: such a part was
// sent 12 times — 3 attempts of the engine, 4 tries each in the OBS layer —
// and the run failed with the transport's error).
func TestPartOfShrunkFileStops(t *testing.T) {
	s, c := soakServer(t)
	path, _ := writeFile(t, 2*MinPartSize, 900)
	in := Input{Bucket: obslocaltest.Bucket, Key: testKey, Path: path, PartSize: MinPartSize, Concurrency: 1}
	// A first run leaves part 1 on the server, and not part 2.
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 2, Status: 403, Code: "AccessDenied"})
	_, rec, err := Upload(context.Background(), c, in)
	if err == nil || rec == nil || len(rec.Parts) != 1 {
		t.Fatalf("first run: %v, record %+v; want part 1 only", err, rec)
	}
	orig := hashPart
	t.Cleanup(func() { hashPart = orig })
	hashPart = func(r io.ReaderAt, off, size int64) (md5Sum, error) {
		sum, err := orig(r, off, size)
		if err == nil && off == MinPartSize {
			err = os.Truncate(path, MinPartSize+MinPartSize/2)
		}
		return sum, err
	}
	s.ResetStats()
	in.Record = rec
	_, _, err = Upload(context.Background(), c, in)
	if !errors.Is(err, ErrSourceChanged) {
		t.Fatalf("error %v, want ErrSourceChanged", err)
	}
	// Once at most: the request may be cut before the server counts it.
	if n := s.Stats().Ops[obslocal.OpUploadPart].Requests; n > 1 {
		t.Fatalf("the part whose file shrank was sent %d times, want once", n)
	}
}
