package obslocal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// TestSDKMultipart drives a full multipart upload with the official SDK in
// each signature mode and addressing style.
func TestSDKMultipart(t *testing.T) {
	for _, mode := range []sdkMode{sdkOBS, sdkV2, sdkV4} {
		t.Run(string(mode), func(t *testing.T) {
			s, _ := obslocaltest.Start(t)
			c := sdkClient(t, s, mode, obslocaltest.AccessKey, obslocaltest.SecretKey, "")
			key := "dir/big object+1.bin"
			in := &obs.InitiateMultipartUploadInput{}
			in.Bucket, in.Key = obslocaltest.Bucket, key
			in.ContentType = "application/x-test"
			in.Metadata = map[string]string{"color": "blue"}
			in.StorageClass = obs.StorageClassWarm
			in.ACL = obs.AclPublicRead
			in.WebsiteRedirectLocation = "/other.html"
			init, err := c.InitiateMultipartUpload(in, amzDate())
			if err != nil {
				t.Fatal(err)
			}
			parts := [][]byte{partBody(1, minPart), partBody(2, minPart+5), partBody(3, 1234)}
			var all []byte
			var done []obs.Part
			for i, p := range parts {
				out, err := c.UploadPart(&obs.UploadPartInput{Bucket: obslocaltest.Bucket, Key: key, UploadId: init.UploadId,
					PartNumber: i + 1, Body: bytes.NewReader(p), PartSize: int64(len(p)), ContentMD5: md5b64(p)}, amzDate())
				if err != nil {
					t.Fatalf("part %d: %v", i+1, err)
				}
				sum := md5Hex(p)
				if strings.Trim(out.ETag, `"`) != sum {
					t.Fatalf("part %d ETag %s, want %s", i+1, out.ETag, sum)
				}
				done = append(done, obs.Part{PartNumber: i + 1, ETag: out.ETag})
				all = append(all, p...)
			}
			lp, err := c.ListParts(&obs.ListPartsInput{Bucket: obslocaltest.Bucket, Key: key, UploadId: init.UploadId}, amzDate())
			if err != nil {
				t.Fatal(err)
			}
			if len(lp.Parts) != 3 || lp.Parts[1].Size != minPart+5 || lp.IsTruncated {
				t.Fatalf("ListParts: %+v", lp)
			}
			cout, err := c.CompleteMultipartUpload(&obs.CompleteMultipartUploadInput{Bucket: obslocaltest.Bucket, Key: key,
				UploadId: init.UploadId, Parts: done}, amzDate())
			if err != nil {
				t.Fatal(err)
			}
			if want := multipartETag(parts); cout.ETag != want {
				t.Fatalf("complete ETag %s, want %s", cout.ETag, want)
			}
			meta, err := c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: obslocaltest.Bucket, Key: key}, amzDate())
			if err != nil {
				t.Fatal(err)
			}
			if meta.ContentLength != int64(len(all)) || meta.ETag != cout.ETag || meta.Metadata["color"] != "blue" ||
				meta.ContentType != "application/x-test" || meta.StorageClass != obs.StorageClassWarm || meta.WebsiteRedirectLocation != "/other.html" {
				t.Fatalf("HEAD: %+v", meta)
			}
			// The SDK strips the x-obs-/x-amz- prefix from ResponseHeaders.
			if got := meta.ResponseHeaders["uploadid"]; len(got) != 1 || got[0] != init.UploadId {
				t.Fatalf("HEAD uploadId = %v, want %s (headers %v)", got, init.UploadId, meta.ResponseHeaders)
			}
			get, err := c.GetObject(&obs.GetObjectInput{GetObjectMetadataInput: obs.GetObjectMetadataInput{Bucket: obslocaltest.Bucket, Key: key}}, amzDate())
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(get.Body)
			get.Body.Close()
			if !bytes.Equal(got, all) {
				t.Fatal("GET returned different bytes")
			}
			sum, info, err := s.ObjectSHA256(obslocaltest.Bucket, key)
			want := sha256.Sum256(all)
			if err != nil || sum != hex.EncodeToString(want[:]) || info.UploadID != init.UploadId || info.Metadata["color"] != "blue" {
				t.Fatalf("ObjectSHA256: %s %+v %v", sum, info, err)
			}
			if len(s.OpenUploads(obslocaltest.Bucket)) != 0 {
				t.Fatal("upload still open after Complete")
			}

			// A wrong secret key is refused.
			bad := sdkClient(t, s, mode, obslocaltest.AccessKey, "wrong", "")
			_, err = bad.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: obslocaltest.Bucket, Key: key}, amzDate())
			if oe := obsErr(t, err); oe.StatusCode != http.StatusForbidden {
				t.Fatalf("wrong secret: %+v", oe)
			}
			_, err = bad.InitiateMultipartUpload(in, amzDate())
			if oe := obsErr(t, err); oe.StatusCode != http.StatusForbidden || oe.Code != "SignatureDoesNotMatch" {
				t.Fatalf("wrong secret: %+v", oe)
			}
		})
	}
}

// TestSDKSecurityToken: a temporary credential needs its token on every request.
func TestSDKSecurityToken(t *testing.T) {
	s, _ := obslocaltest.Start(t, obslocaltest.WithSecurityToken("tok-123"))
	for _, mode := range []sdkMode{sdkOBS, sdkV2, sdkV4} {
		t.Run(string(mode), func(t *testing.T) {
			in := &obs.InitiateMultipartUploadInput{}
			in.Bucket, in.Key = obslocaltest.Bucket, "k"
			if _, err := sdkClient(t, s, mode, obslocaltest.AccessKey, obslocaltest.SecretKey, "tok-123").InitiateMultipartUpload(in, amzDate()); err != nil {
				t.Fatalf("with token: %v", err)
			}
			for _, tok := range []string{"", "tok-999"} {
				_, err := sdkClient(t, s, mode, obslocaltest.AccessKey, obslocaltest.SecretKey, tok).InitiateMultipartUpload(in, amzDate())
				if oe := obsErr(t, err); oe.StatusCode != http.StatusForbidden || oe.Code != "InvalidAccessKeyId" {
					t.Fatalf("token %q: %+v", tok, oe)
				}
			}
		})
	}
}

// TestSDKCopy copies with the official SDK in each signature mode: a
// CopyObject that keeps the source's metadata, one that replaces it, and a
// multipart copy of two ranges, from a key the SDK URL-encodes (space,
// plus sign, slash); a failed precondition is a 412 ObsError.
func TestSDKCopy(t *testing.T) {
	for _, mode := range []sdkMode{sdkOBS, sdkV2, sdkV4} {
		t.Run(string(mode), func(t *testing.T) {
			s, _ := obslocaltest.Start(t)
			c := sdkClient(t, s, mode, obslocaltest.AccessKey, obslocaltest.SecretKey, "")
			srcKey := "dir/src a+b.bin"
			data := partBody(7, minPart+4321)
			put := &obs.PutObjectInput{}
			put.Bucket, put.Key, put.Body = obslocaltest.Bucket, srcKey, bytes.NewReader(data)
			put.ContentType = "application/x-test"
			put.Metadata = map[string]string{"tf-source-sha256": "abc"}
			pout, err := c.PutObject(put, amzDate())
			if err != nil {
				t.Fatal(err)
			}
			s.ResetStats()

			in := &obs.CopyObjectInput{CopySourceBucket: obslocaltest.Bucket, CopySourceKey: srcKey, CopySourceIfMatch: pout.ETag}
			in.Bucket, in.Key = obslocaltest.Bucket, "copy/kept"
			out, err := c.CopyObject(in, amzDate())
			if err != nil {
				t.Fatal(err)
			}
			if out.ETag != `"`+md5Hex(data)+`"` || out.LastModified.IsZero() {
				t.Fatalf("CopyObject: %+v", out)
			}
			meta, err := c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: obslocaltest.Bucket, Key: "copy/kept"}, amzDate())
			if err != nil || meta.ContentType != "application/x-test" || meta.Metadata["tf-source-sha256"] != "abc" || meta.ContentLength != int64(len(data)) {
				t.Fatalf("HEAD copy: %+v %v", meta, err)
			}
			in.Key, in.MetadataDirective, in.ContentType = "copy/replaced", obs.ReplaceMetadata, "text/plain"
			in.Metadata = map[string]string{"color": "blue"}
			if _, err := c.CopyObject(in, amzDate()); err != nil {
				t.Fatal(err)
			}
			meta, err = c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: obslocaltest.Bucket, Key: "copy/replaced"}, amzDate())
			if err != nil || meta.ContentType != "text/plain" || meta.Metadata["color"] != "blue" || meta.Metadata["tf-source-sha256"] != "" {
				t.Fatalf("HEAD replaced copy: %+v %v", meta, err)
			}
			in.CopySourceIfMatch = `"0123"`
			_, err = c.CopyObject(in, amzDate())
			if oe := obsErr(t, err); oe.StatusCode != http.StatusPreconditionFailed || oe.Code != "PreconditionFailed" {
				t.Fatalf("failed precondition: %+v", oe)
			}

			init := &obs.InitiateMultipartUploadInput{}
			init.Bucket, init.Key = obslocaltest.Bucket, "copy/parts"
			up, err := c.InitiateMultipartUpload(init, amzDate())
			if err != nil {
				t.Fatal(err)
			}
			var parts []obs.Part
			for i, r := range [][2]int64{{0, minPart - 1}, {minPart, int64(len(data)) - 1}} {
				cp, err := c.CopyPart(&obs.CopyPartInput{Bucket: obslocaltest.Bucket, Key: "copy/parts", UploadId: up.UploadId, PartNumber: i + 1,
					CopySourceBucket: obslocaltest.Bucket, CopySourceKey: srcKey, CopySourceRangeStart: r[0], CopySourceRangeEnd: r[1]}, amzDate())
				if err != nil {
					t.Fatalf("CopyPart %d: %v", i+1, err)
				}
				if want := md5Hex(data[r[0] : r[1]+1]); cp.ETag != `"`+want+`"` {
					t.Fatalf("CopyPart %d ETag %s, want %s", i+1, cp.ETag, want)
				}
				parts = append(parts, obs.Part{PartNumber: i + 1, ETag: cp.ETag})
			}
			if _, err := c.CompleteMultipartUpload(&obs.CompleteMultipartUploadInput{Bucket: obslocaltest.Bucket, Key: "copy/parts", UploadId: up.UploadId, Parts: parts}, amzDate()); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"copy/kept", "copy/parts"} {
				if sum, _, err := s.ObjectSHA256(obslocaltest.Bucket, k); err != nil || sum != sha256Hex(data) {
					t.Fatalf("%s: %s %v", k, sum, err)
				}
			}
			st := s.Stats().Ops
			if st[obslocal.OpCopyObject].Requests != 3 || st[obslocal.OpUploadPartCopy].Requests != 2 || st[obslocal.OpCopyObject].BodyBytes != 0 || st[obslocal.OpUploadPartCopy].BodyBytes != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}
