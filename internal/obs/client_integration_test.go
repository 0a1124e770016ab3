package obs_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

const (
	itToken  = "integration-sts-token"
	itRegion = "cn-north-4"
)

// itServer makes the local server take the standard credential as a
// temporary one (every request must carry the token) and check the region
// of SigV4 scopes.
var itServer = []obslocaltest.Option{obslocaltest.WithSecurityToken(itToken), obslocaltest.WithRegion(itRegion)}

type itMode struct {
	sig       obs.Signature
	hostStyle bool
}

func (m itMode) String() string { return fmt.Sprintf("%s/hostStyle=%v", m.sig, m.hostStyle) }

// OBS signing needs a host name: the SDK signs V2 for path style and IP
// endpoints. bkt.obs.local is routed to the server by DialContext.
var itModes = []itMode{
	{obs.SignatureOBS, true},
	{obs.SignatureV2, false},
	{obs.SignatureV4, false},
	{obs.SignatureV4, true},
}

// localClient is a client of the server in mode m, signing with secret.
// Path style addresses the server by its IP address, without the dialer.
func localClient(t *testing.T, s *obslocal.Server, cfg obs.Config, m itMode, secret string) obs.Client {
	t.Helper()
	cfg.SecretKey = secret
	cfg.Signature = m.sig
	cfg.MaxConns = 4
	if !m.hostStyle {
		cfg.Endpoint, cfg.PathStyle, cfg.DialContext = s.URL(), true, nil
	}
	c, err := obs.New(cfg)
	if err != nil {
		t.Fatalf("obs.New: %v", err)
	}
	return c
}

func TestLocalServerMultipartUpload(t *testing.T) {
	const partSize = 100*1024 + 17
	data := make([]byte, 2*partSize+999)
	for i := range data {
		data[i] = byte(i*7 + i/1000)
	}
	wantSHA := sha256.Sum256(data)
	for _, m := range itModes {
		t.Run(m.String(), func(t *testing.T) {
			s, cfg := obslocaltest.Start(t, itServer...)
			c := localClient(t, s, cfg, m, obslocaltest.SecretKey)
			ctx := context.Background()
			key := "dir/big object.iso"

			id, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: obslocaltest.Bucket, Key: key, Options: obs.ObjectOptions{
				ContentType: "application/x-iso9660-image",
				Metadata:    map[string]string{"owner": "team-a"},
			}})
			if err != nil {
				t.Fatalf("Initiate: %v", err)
			}
			// The server misbehaves: part 2 is throttled once, part 3's
			// connection is reset mid-body once. Our retries absorb both.
			s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 2, Status: 503, Code: "SlowDown"})
			s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 3, Reset: true, ResetAfterBytes: 500})

			var parts []obs.Part
			for n := 1; n <= 3; n++ {
				off := int64(n-1) * partSize
				size := int64(partSize)
				if n == 3 {
					size = int64(len(data)) - off
				}
				sum := md5.Sum(data[off : off+size])
				etag, err := c.UploadPart(ctx, obs.UploadPartInput{Bucket: obslocaltest.Bucket, Key: key, UploadID: id, PartNumber: n,
					Body: bytes.NewReader(data), Offset: off, Size: size, ContentMD5: sum[:]})
				if err != nil {
					t.Fatalf("UploadPart %d: %v", n, err)
				}
				if etag != hex.EncodeToString(sum[:]) {
					t.Errorf("part %d ETag %q, want %x", n, etag, sum)
				}
				parts = append(parts, obs.Part{Number: n, ETag: etag})
			}

			listed, err := c.ListParts(ctx, obs.ListPartsInput{Bucket: obslocaltest.Bucket, Key: key, UploadID: id, PageSize: 2})
			if err != nil {
				t.Fatalf("ListParts: %v", err)
			}
			if len(listed) != 3 || listed[0].Size != partSize || listed[2].ETag != parts[2].ETag {
				t.Fatalf("ListParts = %+v", listed)
			}
			uploads, err := c.ListUploads(ctx, obslocaltest.Bucket, key)
			if err != nil || len(uploads) != 1 || uploads[0].UploadID != id {
				t.Fatalf("ListUploads = %+v, %v", uploads, err)
			}

			out, err := c.CompleteMultipartUpload(ctx, obs.CompleteInput{Bucket: obslocaltest.Bucket, Key: key, UploadID: id, Parts: parts})
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if !strings.HasSuffix(out.ETag, "-3") || strings.Contains(out.ETag, `"`) {
				t.Errorf("Complete ETag %q", out.ETag)
			}
			gotSHA, _, err := s.ObjectSHA256(obslocaltest.Bucket, key)
			if err != nil || gotSHA != hex.EncodeToString(wantSHA[:]) {
				t.Errorf("stored object sha256 %s (%v), want %x", gotSHA, err, wantSHA)
			}

			info, err := c.HeadObject(ctx, obs.HeadInput{Bucket: obslocaltest.Bucket, Key: key})
			if err != nil {
				t.Fatalf("Head: %v", err)
			}
			if info.Size != int64(len(data)) || info.ETag != out.ETag || info.UploadID != id ||
				info.ContentType != "application/x-iso9660-image" || info.Metadata["owner"] != "team-a" {
				t.Errorf("Head = %+v", info)
			}

			// A second upload, aborted: gone from the listing, then NoSuchUpload.
			id2, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: obslocaltest.Bucket, Key: key})
			if err != nil {
				t.Fatalf("Initiate 2: %v", err)
			}
			if err := c.AbortMultipartUpload(ctx, obslocaltest.Bucket, key, id2); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			if uploads, err := c.ListUploads(ctx, obslocaltest.Bucket, key); err != nil || len(uploads) != 0 {
				t.Errorf("ListUploads after abort = %+v, %v", uploads, err)
			}
			if _, err := c.ListParts(ctx, obs.ListPartsInput{Bucket: obslocaltest.Bucket, Key: key, UploadID: id2}); !obs.IsNoSuchUpload(err) {
				t.Errorf("ListParts after abort: %v, want NoSuchUpload", err)
			}

			// Single PUT, then delete.
			small := []byte("small object")
			sum := md5.Sum(small)
			put, err := c.PutObject(ctx, obs.PutObjectInput{Bucket: obslocaltest.Bucket, Key: "small.txt", Body: bytes.NewReader(small),
				Size: int64(len(small)), ContentMD5: sum[:]})
			if err != nil || put.ETag != hex.EncodeToString(sum[:]) {
				t.Fatalf("PutObject = %+v, %v", put, err)
			}
			if err := c.DeleteObject(ctx, obslocaltest.Bucket, "small.txt"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := c.HeadObject(ctx, obs.HeadInput{Bucket: obslocaltest.Bucket, Key: "small.txt"}); !obs.IsNotFound(err) {
				t.Errorf("Head after delete: %v, want not found", err)
			}
		})
	}
}

func TestLocalServerWrongSecret(t *testing.T) {
	for _, m := range itModes {
		t.Run(m.String(), func(t *testing.T) {
			s, cfg := obslocaltest.Start(t, itServer...)
			const wrong = "not-the-secret-000000"
			c := localClient(t, s, cfg, m, wrong)
			_, err := c.InitiateMultipartUpload(context.Background(), obs.InitiateInput{Bucket: obslocaltest.Bucket, Key: "k"})
			if !obs.IsCode(err, "SignatureDoesNotMatch") {
				t.Fatalf("err = %v, want SignatureDoesNotMatch", err)
			}
			if e, _ := obs.AsError(err); e.StatusCode != 403 || e.RequestID == "" {
				t.Errorf("err = %#v, want 403 with a request ID", e)
			}
			if obs.IsRetryable(err) {
				t.Error("SignatureDoesNotMatch is retryable")
			}
			if msg := err.Error(); strings.Contains(msg, wrong) || strings.Contains(msg, itToken) {
				t.Errorf("message %q contains a secret", msg)
			}
		})
	}
}
