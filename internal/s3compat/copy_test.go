package s3compat

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// TestS3Compat_copy runs the obs client's server-side copies against
// versitygw with SigV4 (x-amz- headers): HeadObject of the source, a
// CopyObject that keeps its metadata and one that replaces it, and a
// multipart copy in UploadPartCopy ranges (the last of one byte) under the
// source's ETag, each copy without a request body; a stale ETag fails with
// PreconditionFailed. The source key has a space and a plus sign, which the
// copy-source header carries URL-encoded.
func TestS3Compat_copy(t *testing.T) {
	g := startGateway(t)
	c, err := obs.New(obs.Config{Endpoint: "http://" + g.proxy.addr(), Region: gwRegion, AccessKey: gwAccessKey, SecretKey: gwSecretKey,
		Signature: obs.SignatureV4, PathStyle: true, MaxRetries: 1, RetryBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srcKey := "builds/123/app a+b.bin"
	srcPath, _ := acctest.WriteSource(t, t.TempDir(), "src", 2*testPartSize+1, 9)
	data, err := os.ReadFile(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := g.direct.do(t, "PUT", gwBucket, srcKey, nil, map[string]string{"Content-Type": "application/x-test",
		"x-amz-meta-tf-source-sha256": sha256Hex(data)}, data)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT source: %s %s", resp.Status, body)
	}

	src, err := c.HeadObject(ctx, obs.HeadInput{Bucket: gwBucket, Key: srcKey})
	if err != nil || src.Size != int64(len(data)) || src.ETag == "" || src.Metadata["tf-source-sha256"] != sha256Hex(data) {
		t.Fatalf("HeadObject = %+v, %v", src, err)
	}
	source := obs.CopySource{Bucket: gwBucket, Key: srcKey, IfMatch: src.ETag}

	out, err := c.CopyObject(ctx, obs.CopyObjectInput{Bucket: gwBucket, Key: "releases/kept.bin", Source: source})
	if err != nil || out.ETag == "" {
		t.Fatalf("CopyObject = %+v, %v", out, err)
	}
	kept, err := c.HeadObject(ctx, obs.HeadInput{Bucket: gwBucket, Key: "releases/kept.bin"})
	if err != nil || kept.ContentType != "application/x-test" || kept.Metadata["tf-source-sha256"] != sha256Hex(data) || kept.ETag != out.ETag {
		t.Fatalf("HeadObject of the copy = %+v, %v", kept, err)
	}
	if _, err := c.CopyObject(ctx, obs.CopyObjectInput{Bucket: gwBucket, Key: "releases/replaced.bin", Source: source, ReplaceMetadata: true,
		Options: obs.ObjectOptions{ContentType: "text/plain", Metadata: map[string]string{"owner": "release"}}}); err != nil {
		t.Fatalf("CopyObject REPLACE: %v", err)
	}
	h := g.head(t, "releases/replaced.bin")
	if h.Get("Content-Type") != "text/plain" || h.Get("X-Amz-Meta-Owner") != "release" || h.Get("X-Amz-Meta-Tf-Source-Sha256") != "" {
		t.Fatalf("replaced copy headers %v", h)
	}

	g.proxy.reset()
	id, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: gwBucket, Key: "releases/parts.bin"})
	if err != nil {
		t.Fatal(err)
	}
	var parts []obs.Part
	for n, r := range [][2]int64{{0, testPartSize}, {testPartSize, testPartSize}, {2 * testPartSize, 1}} {
		etag, err := c.UploadPartCopy(ctx, obs.UploadPartCopyInput{Bucket: gwBucket, Key: "releases/parts.bin", UploadID: id,
			PartNumber: n + 1, Source: source, Offset: r[0], Size: r[1]})
		if err != nil {
			t.Fatalf("UploadPartCopy %d: %v", n+1, err)
		}
		sum := md5.Sum(data[r[0] : r[0]+r[1]])
		if etag != hex.EncodeToString(sum[:]) {
			t.Fatalf("part %d ETag %s, want the MD5 of its bytes %x", n+1, etag, sum)
		}
		parts = append(parts, obs.Part{Number: n + 1, ETag: etag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, obs.CompleteInput{Bucket: gwBucket, Key: "releases/parts.bin", UploadID: id, Parts: parts}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	for _, k := range []string{"releases/kept.bin", "releases/replaced.bin", "releases/parts.bin"} {
		if got, status := g.object(t, k); status != http.StatusOK || !bytes.Equal(got, data) {
			t.Fatalf("GET %s: HTTP %d, %d bytes, want the source's %d", k, status, len(got), len(data))
		}
	}
	copies := 0
	for _, r := range g.proxy.seen() {
		if r.Header.Get("X-Amz-Copy-Source") == "" {
			continue
		}
		copies++
		if r.BodyBytes != 0 || r.Header.Get("X-Amz-Copy-Source-If-Match") != `"`+src.ETag+`"` || r.Header.Get("X-Amz-Copy-Source-Range") == "" ||
			r.Header.Get("X-Obs-Copy-Source") != "" {
			t.Errorf("UploadPartCopy request: %d body bytes, headers %v", r.BodyBytes, r.Header)
		}
	}
	if copies != 3 {
		t.Fatalf("the proxy saw %d UploadPartCopy requests, want 3", copies)
	}

	// The source changes: a copy under its old ETag fails, unretried.
	if resp, body := g.direct.do(t, "PUT", gwBucket, srcKey, nil, nil, []byte("replaced")); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %s %s", resp.Status, body)
	}
	id2, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: gwBucket, Key: "releases/stale.bin"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPartCopy(ctx, obs.UploadPartCopyInput{Bucket: gwBucket, Key: "releases/stale.bin", UploadID: id2, PartNumber: 1, Source: source, Size: 1})
	if !obs.IsPreconditionFailed(err) || obs.IsRetryable(err) {
		t.Fatalf("UploadPartCopy of a replaced source: %v, want PreconditionFailed", err)
	}
	if _, err := c.CopyObject(ctx, obs.CopyObjectInput{Bucket: gwBucket, Key: "releases/stale2.bin", Source: source}); !obs.IsPreconditionFailed(err) {
		t.Fatalf("CopyObject of a replaced source: %v, want PreconditionFailed", err)
	}
	if err := c.AbortMultipartUpload(ctx, gwBucket, "releases/stale.bin", id2); err != nil {
		t.Fatal(err)
	}
}
