package upload

import (
	"context"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
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
	in := lsInput(path, MinPartSize)
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
