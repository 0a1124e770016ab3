package obs_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestLocalServerCopy: in every signing mode, HeadObject gives what a copy
// needs (size, ETag, metadata with tf-source-sha256), CopyObject keeps or
// replaces metadata and tags, UploadPartCopy copies ranges (the last of
// one byte) that assemble into the source's bytes, retries absorb a 503
// and a failure reported in a 200 body, a stale IfMatch is
// PreconditionFailed, and no copy sends a body.
func TestLocalServerCopy(t *testing.T) {
	const partSize = 100 * 1024
	data := make([]byte, 2*partSize+1)
	for i := range data {
		data[i] = byte(i*13 + i/777)
	}
	for _, m := range itModes {
		t.Run(m.String(), func(t *testing.T) {
			s, cfg := obslocaltest.Start(t, itServer...)
			c := localClient(t, s, cfg, m, obslocaltest.SecretKey)
			ctx := context.Background()
			srcKey := "builds/123/app a+b.tar"
			if _, err := c.PutObject(ctx, obs.PutObjectInput{Bucket: obslocaltest.Bucket, Key: srcKey, Body: bytes.NewReader(data), Size: int64(len(data)),
				Options: obs.ObjectOptions{ContentType: "application/x-tar", Metadata: map[string]string{"tf-source-sha256": sha256Hex(data)},
					Tags: map[string]string{"stage": "build"}}}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			src, err := c.HeadObject(ctx, obs.HeadInput{Bucket: obslocaltest.Bucket, Key: srcKey})
			if err != nil || src.Size != int64(len(data)) || src.ETag != md5Hex(data) || src.Metadata["tf-source-sha256"] != sha256Hex(data) {
				t.Fatalf("HeadObject source = %+v, %v", src, err)
			}
			if _, err := c.HeadObject(ctx, obs.HeadInput{Bucket: obslocaltest.Bucket, Key: srcKey, VersionID: "null"}); err != nil {
				t.Fatalf("HeadObject version null: %v", err)
			}
			if _, err := c.HeadObject(ctx, obs.HeadInput{Bucket: obslocaltest.Bucket, Key: srcKey, VersionID: "v9"}); !obs.IsNotFound(err) {
				t.Fatalf("HeadObject of a missing version: %v, want not found", err)
			}
			s.ResetStats()
			source := obs.CopySource{Bucket: obslocaltest.Bucket, Key: srcKey, IfMatch: src.ETag}

			// Whole-object copies: metadata and tags kept, then replaced.
			out, err := c.CopyObject(ctx, obs.CopyObjectInput{Bucket: obslocaltest.Bucket, Key: "releases/v1/app.tar", Source: source,
				Options: obs.ObjectOptions{ACL: "public-read"}})
			if err != nil || out.ETag != md5Hex(data) || out.LastModified.IsZero() {
				t.Fatalf("CopyObject = %+v, %v", out, err)
			}
			kept, err := c.HeadObject(ctx, obs.HeadInput{Bucket: obslocaltest.Bucket, Key: "releases/v1/app.tar"})
			if err != nil || kept.ContentType != "application/x-tar" || kept.Metadata["tf-source-sha256"] != sha256Hex(data) || kept.ETag != out.ETag {
				t.Fatalf("HeadObject copy = %+v, %v", kept, err)
			}
			_, info, _ := s.ObjectSHA256(obslocaltest.Bucket, "releases/v1/app.tar")
			if got := header(info, "tagging"); got != "stage=build" {
				t.Errorf("copied tags %q, want the source's", got)
			}
			if _, err := c.CopyObject(ctx, obs.CopyObjectInput{Bucket: obslocaltest.Bucket, Key: "releases/v2/app.tar", Source: source,
				ReplaceMetadata: true, ReplaceTags: true, Options: obs.ObjectOptions{ContentType: "text/plain",
					Metadata: map[string]string{"owner": "release"}, Tags: map[string]string{"stage": "release"}}}); err != nil {
				t.Fatalf("CopyObject REPLACE: %v", err)
			}
			_, info, _ = s.ObjectSHA256(obslocaltest.Bucket, "releases/v2/app.tar")
			if info.Metadata["owner"] != "release" || info.Metadata["tf-source-sha256"] != "" || header(info, "tagging") != "stage=release" ||
				header(info, "Content-Type") != "text/plain" {
				t.Errorf("replaced copy: %+v", info)
			}
			// Options that COPY would silently drop are refused before any request.
			for _, in := range []obs.CopyObjectInput{
				{Options: obs.ObjectOptions{Metadata: map[string]string{"a": "b"}}},
				{Options: obs.ObjectOptions{ContentType: "text/plain"}},
				{Options: obs.ObjectOptions{Tags: map[string]string{"a": "b"}}},
				{Source: obs.CopySource{Bucket: obslocaltest.Bucket}},
			} {
				in.Bucket, in.Key = obslocaltest.Bucket, "refused"
				if in.Source.Bucket == "" {
					in.Source = source
				}
				if _, err := c.CopyObject(ctx, in); err == nil {
					t.Errorf("CopyObject %+v accepted", in)
				}
			}
			if n := s.Stats().Ops[obslocal.OpCopyObject].Requests; n != 2 {
				t.Fatalf("CopyObject requests %d, want 2", n)
			}

			// Multipart copy, with a 503 on part 2 and a failure in a 200 body on part 3.
			id, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: obslocaltest.Bucket, Key: "releases/v3/app.tar"})
			if err != nil {
				t.Fatal(err)
			}
			s.Inject(obslocal.Fault{Op: obslocal.OpUploadPartCopy, PartNumber: 2, Status: 503, Code: "SlowDown"})
			s.Inject(obslocal.Fault{Op: obslocal.OpUploadPartCopy, PartNumber: 3, Status: 200, Code: "InternalError"})
			var parts []obs.Part
			for n, r := range [][2]int64{{0, partSize}, {partSize, partSize}, {2 * partSize, 1}} {
				etag, err := c.UploadPartCopy(ctx, obs.UploadPartCopyInput{Bucket: obslocaltest.Bucket, Key: "releases/v3/app.tar", UploadID: id,
					PartNumber: n + 1, Source: source, Offset: r[0], Size: r[1]})
				if err != nil {
					t.Fatalf("UploadPartCopy %d: %v", n+1, err)
				}
				if want := md5Hex(data[r[0] : r[0]+r[1]]); etag != want {
					t.Fatalf("part %d ETag %s, want %s", n+1, etag, want)
				}
				parts = append(parts, obs.Part{Number: n + 1, ETag: etag})
			}
			if _, err := c.CompleteMultipartUpload(ctx, obs.CompleteInput{Bucket: obslocaltest.Bucket, Key: "releases/v3/app.tar", UploadID: id, Parts: parts}); err != nil {
				t.Fatal(err)
			}
			if sum, _, err := s.ObjectSHA256(obslocaltest.Bucket, "releases/v3/app.tar"); err != nil || sum != sha256Hex(data) {
				t.Fatalf("assembled copy %s %v", sum, err)
			}
			st := s.Stats().Ops
			if pc := st[obslocal.OpUploadPartCopy]; pc.Requests != 5 || pc.BodyBytes != 0 || pc.CopiedBytes != int64(len(data)) ||
				st[obslocal.OpCopyObject].BodyBytes != 0 || st[obslocal.OpUploadPart].Requests != 0 {
				t.Fatalf("stats %+v", st)
			}

			// A replaced source fails the precondition, and is not retried.
			if _, err := c.PutObject(ctx, obs.PutObjectInput{Bucket: obslocaltest.Bucket, Key: srcKey, Body: strings.NewReader("new"), Size: 3}); err != nil {
				t.Fatal(err)
			}
			s.ResetStats()
			_, err = c.UploadPartCopy(ctx, obs.UploadPartCopyInput{Bucket: obslocaltest.Bucket, Key: "releases/v3/app.tar", UploadID: id, PartNumber: 1,
				Source: obs.CopySource{Bucket: obslocaltest.Bucket, Key: srcKey}, Size: 1})
			if !obs.IsNoSuchUpload(err) {
				t.Fatalf("copy into a completed upload: %v, want NoSuchUpload", err)
			}
			id2, _ := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: obslocaltest.Bucket, Key: "k"})
			_, err = c.UploadPartCopy(ctx, obs.UploadPartCopyInput{Bucket: obslocaltest.Bucket, Key: "k", UploadID: id2, PartNumber: 1, Source: source, Size: 1})
			if !obs.IsPreconditionFailed(err) || obs.IsRetryable(err) {
				t.Fatalf("stale IfMatch: %v, want PreconditionFailed, not retryable", err)
			}
			_, err = c.CopyObject(ctx, obs.CopyObjectInput{Bucket: obslocaltest.Bucket, Key: "k2", Source: source})
			if !obs.IsPreconditionFailed(err) {
				t.Fatalf("stale IfMatch on CopyObject: %v", err)
			}
			if n := s.Stats().Ops[obslocal.OpUploadPartCopy].Requests; n != 2 {
				t.Fatalf("UploadPartCopy requests %d, want 2 (4xx are not retried)", n)
			}
			// A missing source is a not-found error.
			_, err = c.UploadPartCopy(ctx, obs.UploadPartCopyInput{Bucket: obslocaltest.Bucket, Key: "k", UploadID: id2, PartNumber: 1,
				Source: obs.CopySource{Bucket: obslocaltest.Bucket, Key: "missing"}, Size: 1})
			if !obs.IsNotFound(err) || !obs.IsCode(err, "NoSuchKey") {
				t.Fatalf("missing source: %v", err)
			}
		})
	}
}

// header returns a response header of a stored object in the OBS prefix
// ("tagging" is x-obs-tagging), or a standard one by its name.
func header(info obslocal.ObjectInfo, name string) string {
	for k, v := range info.Headers {
		if (strings.EqualFold(k, name) || strings.EqualFold(k, "x-obs-"+name)) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// TestLocalServerCopySSEC: over HTTPS, an SSE-C source is copied with its
// key into an SSE-C destination with another key, whole and as a part, in
// the OBS (x-obs-) and SigV4 (x-amz-) header forms; the source key is
// required.
func TestLocalServerCopySSEC(t *testing.T) {
	s, base := obslocaltest.Start(t, obslocaltest.WithSelfSignedTLS())
	key := func(b byte) *obs.SSECustomerKey {
		return &obs.SSECustomerKey{KeyBase64: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))}
	}
	k1, k2 := key(1), key(2)
	data := bytes.Repeat([]byte("sse-c copy "), 20000)
	for _, sig := range []obs.Signature{obs.SignatureOBS, obs.SignatureV4} {
		t.Run(string(sig), func(t *testing.T) {
			cfg := base
			cfg.Signature, cfg.Region = sig, itRegion
			c, err := obs.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := c.PutObject(ctx, obs.PutObjectInput{Bucket: obslocaltest.Bucket, Key: "enc", Body: bytes.NewReader(data), Size: int64(len(data)),
				Options: obs.ObjectOptions{SSEC: k1}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CopyObject(ctx, obs.CopyObjectInput{Bucket: obslocaltest.Bucket, Key: "dst", Source: obs.CopySource{Bucket: obslocaltest.Bucket, Key: "enc"}}); !obs.IsCode(err, "InvalidRequest") {
				t.Fatalf("copy without the source key: %v, want InvalidRequest", err)
			}
			if _, err := c.CopyObject(ctx, obs.CopyObjectInput{Bucket: obslocaltest.Bucket, Key: "dst", Source: obs.CopySource{Bucket: obslocaltest.Bucket, Key: "enc", SSEC: k1},
				Options: obs.ObjectOptions{SSEC: k2}}); err != nil {
				t.Fatalf("CopyObject: %v", err)
			}
			if info, err := c.HeadObject(ctx, obs.HeadInput{Bucket: obslocaltest.Bucket, Key: "dst", SSEC: k2}); err != nil || info.SSE != "AES256" || info.Size != int64(len(data)) {
				t.Fatalf("HEAD copy with its key: %+v %v", info, err)
			}
			id, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: obslocaltest.Bucket, Key: "mp", Options: obs.ObjectOptions{SSEC: k2}})
			if err != nil {
				t.Fatal(err)
			}
			etag, err := c.UploadPartCopy(ctx, obs.UploadPartCopyInput{Bucket: obslocaltest.Bucket, Key: "mp", UploadID: id, PartNumber: 1,
				Source: obs.CopySource{Bucket: obslocaltest.Bucket, Key: "enc", SSEC: k1}, Size: int64(len(data)), SSEC: k2})
			if err != nil {
				t.Fatalf("UploadPartCopy: %v", err)
			}
			if _, err := c.CompleteMultipartUpload(ctx, obs.CompleteInput{Bucket: obslocaltest.Bucket, Key: "mp", UploadID: id, Parts: []obs.Part{{Number: 1, ETag: etag}}}); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"dst", "mp"} {
				if sum, _, err := s.ObjectSHA256(obslocaltest.Bucket, k); err != nil || sum != sha256Hex(data) {
					t.Fatalf("%s: %s %v", k, sum, err)
				}
			}
		})
	}
}
