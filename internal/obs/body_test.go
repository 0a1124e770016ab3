package obs_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// TestShortBodyNotRetried: a body that ends before its size (a file that
// shrank) fails with ErrShortBody after one try: sending it again cannot
// succeed.
func TestShortBodyNotRetried(t *testing.T) {
	s, cfg := obslocaltest.Start(t, itServer...)
	c := localClient(t, s, cfg, itModes[0], obslocaltest.SecretKey)
	ctx := context.Background()
	id, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: obslocaltest.Bucket, Key: "short"})
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.NewReader(make([]byte, 150*1024))
	s.ResetStats()
	_, err = c.UploadPart(ctx, obs.UploadPartInput{Bucket: obslocaltest.Bucket, Key: "short", UploadID: id, PartNumber: 1,
		Body: body, Offset: 100 * 1024, Size: 100 * 1024})
	if !errors.Is(err, obs.ErrShortBody) || obs.IsRetryable(err) {
		t.Fatalf("error %v: want ErrShortBody, not retryable", err)
	}
	if n := s.Stats().Ops[obslocal.OpUploadPart].Requests; n > 1 {
		t.Fatalf("sent %d times, want once", n)
	}
	_, err = c.PutObject(ctx, obs.PutObjectInput{Bucket: obslocaltest.Bucket, Key: "short-put", Body: bytes.NewReader(make([]byte, 10)), Size: 20})
	if !errors.Is(err, obs.ErrShortBody) {
		t.Fatalf("PutObject: %v, want ErrShortBody", err)
	}
}
