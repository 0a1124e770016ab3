package obslocal_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// copyResult is CopyObjectResult and CopyPartResult.
type copyResult struct {
	XMLName      xml.Name
	LastModified string
	ETag         string
}

// copyOK sends a copy request and returns its parsed result, failing the
// test unless it is 200 with an ETag in the body.
func (c *rawClient) copyOK(q rawReq, root string) copyResult {
	c.t.Helper()
	resp, body := c.do(q)
	var res copyResult
	if resp.StatusCode != 200 || xml.Unmarshal(body, &res) != nil || res.XMLName.Local != root || res.ETag == "" {
		c.t.Fatalf("%s %s: %d %s", q.method, q.path, resp.StatusCode, body)
	}
	if _, err := time.Parse(obslocal.XMLTime, res.LastModified); err != nil {
		c.t.Fatalf("%s LastModified %q: %v", root, res.LastModified, err)
	}
	return res
}

// putRaw stores an object with a raw PUT and returns its ETag (quoted).
func (c *rawClient) putRaw(key string, data []byte, hdr map[string]string) string {
	c.t.Helper()
	resp, body := c.do(rawReq{method: "PUT", path: "/" + obslocaltest.Bucket + "/" + escKey(key), body: strings.NewReader(string(data)), size: int64(len(data)), hdr: hdr})
	if resp.StatusCode != 200 {
		c.t.Fatalf("PUT %s: %d %s", key, resp.StatusCode, body)
	}
	return resp.Header.Get("ETag")
}

// hdrs makes a header set of name, value pairs.
func hdrs(kv ...string) map[string]string {
	h := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// copyHdr is a header set with the copy source and more name, value pairs.
func copyHdr(source string, kv ...string) map[string]string {
	return hdrs(append([]string{"x-obs-copy-source", source}, kv...)...)
}

func copyObjectReq(key string, hdr map[string]string) rawReq {
	return rawReq{method: "PUT", path: "/" + obslocaltest.Bucket + "/" + escKey(key), hdr: hdr}
}

func copyPartReq(key, id string, n int, hdr map[string]string) rawReq {
	return rawReq{method: "PUT", path: fmt.Sprintf("/%s/%s?partNumber=%d&uploadId=%s", obslocaltest.Bucket, escKey(key), n, id), hdr: hdr}
}

// headerValue looks a header up by name in any case: obslocal.ObjectInfo.Headers
// holds the x-obs- names as the server writes them, not canonicalized.
func headerValue(h http.Header, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestCopyObject: a whole-object copy keeps the source's metadata and tags
// under directive COPY (the default) and takes the request's under
// REPLACE, applies the request's ACL either way, stores the same bytes with
// their MD5 as ETag, and receives no body.
func TestCopyObject(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	data := partBody(1, 300_000)
	srcKey := "dir/source a+b.bin"
	c.putRaw(srcKey, data, map[string]string{"Content-Type": "text/plain", "x-obs-meta-Owner": "team-a", "x-obs-tagging": "env=prod"})
	source := obslocaltest.Bucket + "/" + url.QueryEscape(srcKey) // as the SDK sends it
	s.ResetStats()

	res := c.copyOK(copyObjectReq("copy1", copyHdr(source, "x-obs-acl", "public-read", "x-obs-meta-ignored", "yes", "Content-Type", "image/png")), "CopyObjectResult")
	if res.ETag != `"`+md5Hex(data)+`"` {
		t.Fatalf("ETag %s, want the MD5 of the bytes %s", res.ETag, md5Hex(data))
	}
	sum, info, err := s.ObjectSHA256(obslocaltest.Bucket, "copy1")
	if err != nil || sum != sha256Hex(data) || info.ETag != res.ETag || info.UploadID != "" {
		t.Fatalf("copied object: %s %+v %v", sum, info, err)
	}
	for h, want := range map[string]string{"Content-Type": "text/plain", "x-obs-meta-owner": "team-a", "x-obs-acl": "public-read",
		"x-obs-tagging": "env=prod", "x-obs-meta-ignored": ""} {
		if got := headerValue(info.Headers, h); got != want {
			t.Errorf("COPY directive: %s = %q, want %q", h, got, want)
		}
	}
	st := s.Stats().Ops[obslocal.OpCopyObject]
	if st.Requests != 1 || st.Errors != 0 || st.BodyBytes != 0 || st.CopiedBytes != int64(len(data)) || s.Stats().Ops[obslocal.OpPutObject].Requests != 0 {
		t.Fatalf("stats %+v", s.Stats().Ops)
	}

	// REPLACE: the request's metadata and tags, nothing of the source's.
	c.copyOK(copyObjectReq("copy2", copyHdr("/"+source, "x-obs-metadata-directive", "REPLACE", "x-obs-tagging-directive", "REPLACE",
		"Content-Type", "image/png", "x-obs-meta-Color", "blue", "x-obs-tagging", "team=b")), "CopyObjectResult")
	_, info, _ = s.ObjectSHA256(obslocaltest.Bucket, "copy2")
	for h, want := range map[string]string{"Content-Type": "image/png", "x-obs-meta-color": "blue", "x-obs-meta-owner": "",
		"x-obs-tagging": "team=b", "x-obs-acl": ""} {
		if got := headerValue(info.Headers, h); got != want {
			t.Errorf("REPLACE directive: %s = %q, want %q", h, got, want)
		}
	}
	// A space may also come as %20, and the version of an unversioned object is "null".
	c.copyOK(copyObjectReq("copy3", copyHdr(obslocaltest.Bucket+"/dir/source%20a%2Bb.bin?versionId=null")), "CopyObjectResult")
	if sum, _, _ := s.ObjectSHA256(obslocaltest.Bucket, "copy3"); sum != sha256Hex(data) {
		t.Fatal("copy by %20-encoded key differs")
	}

	// Onto itself: only with REPLACE (or a changed storage class…).
	self := copyObjectReq(srcKey, copyHdr(source))
	c.expectErr(self, 400, "InvalidRequest")
	self.hdr["x-obs-metadata-directive"] = "REPLACE"
	self.hdr["x-obs-meta-owner"] = "team-b"
	c.copyOK(self, "CopyObjectResult")
	if _, info, _ := s.ObjectSHA256(obslocaltest.Bucket, srcKey); info.Metadata["owner"] != "team-b" {
		t.Fatalf("self-copy with REPLACE: %+v", info.Metadata)
	}
}

// TestCopyErrors covers the documented errors of CopyObject and
// UploadPartCopy; none of them stores anything.
func TestCopyErrors(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	data := partBody(2, 1000)
	etag := c.putRaw("src", data, nil)
	source := obslocaltest.Bucket + "/src"
	id := c.initiate(obslocaltest.Bucket, "mp", nil)
	both := func(hdr map[string]string, status int, code string) {
		t.Helper()
		c.expectErr(copyObjectReq("dst", hdr), status, code)
		c.expectErr(copyPartReq("mp", id, 1, hdr), status, code)
	}
	both(copyHdr(obslocaltest.Bucket+"/missing"), 404, "NoSuchKey")
	both(copyHdr("no-such-bucket/src"), 404, "NoSuchBucket")
	both(copyHdr(obslocaltest.Bucket), 400, "InvalidArgument")
	both(copyHdr(obslocaltest.Bucket+"/"), 400, "InvalidArgument")
	both(copyHdr(obslocaltest.Bucket+"/%zz"), 400, "InvalidArgument")
	both(copyHdr(source+"?versionId=v1"), 404, "NoSuchVersion")
	// Conditions on the source: 412 when one does not hold.
	both(copyHdr(source, "x-obs-copy-source-if-match", `"0123"`), 412, "PreconditionFailed")
	both(copyHdr(source, "x-obs-copy-source-if-none-match", etag), 412, "PreconditionFailed")
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	both(copyHdr(source, "x-obs-copy-source-if-unmodified-since", past), 412, "PreconditionFailed")
	both(copyHdr(source, "x-obs-copy-source-if-modified-since", time.Now().UTC().Format(http.TimeFormat)), 412, "PreconditionFailed")
	// Conditions that hold, and a date in the future, which takes no effect.
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, h := range []map[string]string{
		copyHdr(source, "x-obs-copy-source-if-match", etag, "x-obs-copy-source-if-unmodified-since", future),
		copyHdr(source, "x-obs-copy-source-if-match", "*"),
		copyHdr(source, "x-obs-copy-source-if-none-match", `"0123", "4567"`, "x-obs-copy-source-if-modified-since", past),
		copyHdr(source, "x-obs-copy-source-if-modified-since", future),
	} {
		c.copyOK(copyObjectReq("ok", h), "CopyObjectResult")
		c.copyOK(copyPartReq("mp", id, 2, h), "CopyPartResult")
	}
	// A copy carries no body.
	withBody := copyObjectReq("dst", copyHdr(source))
	withBody.body, withBody.size = strings.NewReader("x"), 1
	c.expectErr(withBody, 400, "MaxMessageLengthExceeded")
	withBody = copyPartReq("mp", id, 1, copyHdr(source))
	withBody.body, withBody.size = strings.NewReader("x"), 1
	c.expectErr(withBody, 400, "MaxMessageLengthExceeded")

	c.expectErr(copyObjectReq("dst", copyHdr(source, "x-obs-metadata-directive", "MERGE")), 400, "InvalidArgument")
	c.expectErr(copyObjectReq("dst", copyHdr(source, "x-obs-tagging-directive", "copy")), 400, "InvalidArgument")
	c.expectErr(copyPartReq("mp", "NOPE", 1, copyHdr(source)), 404, "NoSuchUpload")
	for _, n := range []int{0, 10001} {
		c.expectErr(copyPartReq("mp", id, n, copyHdr(source)), 400, "InvalidArgument")
	}
	for _, r := range []string{"bytes=5", "bytes=a-9", "bytes=9-3", "bytes=-5", "bytes=+1-5", "items=0-1", "bytes=0-"} {
		c.expectErr(copyPartReq("mp", id, 1, copyHdr(source, "x-obs-copy-source-range", r)), 400, "InvalidArgument")
	}
	for _, r := range []string{"bytes=0-1000", "bytes=1000-1000"} {
		c.expectErr(copyPartReq("mp", id, 1, copyHdr(source, "x-obs-copy-source-range", r)), 416, "InvalidRange")
	}
	if _, _, err := s.ObjectSHA256(obslocaltest.Bucket, "dst"); err == nil {
		t.Fatal("a failed copy stored the object")
	}
	if ups := s.OpenUploads(obslocaltest.Bucket); len(ups) != 1 || ups[0].Parts != 1 {
		t.Fatalf("a failed part copy stored a part: %+v", ups)
	}
	if st := s.Stats().Ops; st[obslocal.OpCopyObject].CopiedBytes != 4000 || st[obslocal.OpUploadPartCopy].CopiedBytes != 4000 {
		t.Fatalf("failed copies copied bytes: %+v", st)
	}
}

// TestCopySignature: the copy-source headers are signed like every other
// x-obs-/x-amz- header; the S3-compatible modes use x-amz-copy-source.
func TestCopySignature(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	c.putRaw("a", []byte("aaa"), nil)
	c.putRaw("b", []byte("bbb"), nil)
	for _, h := range []string{"x-obs-copy-source", "x-obs-copy-source-range"} {
		req := c.build(copyPartReq("mp", c.initiate(obslocaltest.Bucket, "mp", nil), 1, copyHdr(obslocaltest.Bucket+"/a", "x-obs-copy-source-range", "bytes=0-1")))
		req.Header.Set(h, req.Header.Get(h)+"0") // a/b or a range changed after signing
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("%s changed after signing: %d", h, resp.StatusCode)
		}
	}
	// SigV4: x-amz-copy-source.
	v4 := rawReq{method: "PUT", path: "/" + obslocaltest.Bucket + "/c", hdr: map[string]string{"x-amz-copy-source": obslocaltest.Bucket + "/b"}, v4Payload: obslocal.UnsignedPayload}
	c.copyOK(v4, "CopyObjectResult")
	if sum, _, _ := s.ObjectSHA256(obslocaltest.Bucket, "c"); sum != sha256Hex([]byte("bbb")) {
		t.Fatal("SigV4 copy stored different bytes")
	}
	id := c.initiate(obslocaltest.Bucket, "v4", nil)
	v4 = rawReq{method: "PUT", path: "/" + obslocaltest.Bucket + "/v4?partNumber=1&uploadId=" + id, v4Payload: obslocal.UnsignedPayload,
		hdr: map[string]string{"x-amz-copy-source": obslocaltest.Bucket + "/a", "x-amz-copy-source-range": "bytes=1-2"}}
	if res := c.copyOK(v4, "CopyPartResult"); res.ETag != `"`+md5Hex([]byte("aa"))+`"` {
		t.Fatalf("SigV4 part copy ETag %s", res.ETag)
	}
	// With the OBS signature only x-obs- headers count: x-amz-copy-source
	// makes no copy.
	c.putRaw("d", nil, map[string]string{"x-amz-copy-source": obslocaltest.Bucket + "/a"})
	if _, info, _ := s.ObjectSHA256(obslocaltest.Bucket, "d"); info.Size != 0 || s.Stats().Ops[obslocal.OpCopyObject].Requests != 1 {
		t.Fatalf("x-amz-copy-source under the OBS signature: %+v", info)
	}
}

// TestUploadPartCopy: parts copied from byte ranges (the last of one byte)
// and a part copied from a whole object assemble into an object of those
// bytes, each part's ETag the MD5 of its bytes; no body is received.
func TestUploadPartCopy(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	data := partBody(3, 2*minPart+1)
	whole := partBody(5, minPart)
	srcETag := c.putRaw("src", data, nil)
	c.putRaw("whole", whole, nil)
	id := c.initiate(obslocaltest.Bucket, "dst", map[string]string{"x-obs-meta-kind": "copy"})
	s.ResetStats()
	cond := func(kv ...string) map[string]string {
		return copyHdr(obslocaltest.Bucket+"/src", append([]string{"x-obs-copy-source-if-match", srcETag}, kv...)...)
	}
	etags := map[int]string{}
	var want [][]byte
	for n, r := range map[int][2]int{1: {0, minPart - 1}, 3: {2 * minPart, 2 * minPart}} {
		res := c.copyOK(copyPartReq("dst", id, n, cond("x-obs-copy-source-range", fmt.Sprintf("bytes=%d-%d", r[0], r[1]))), "CopyPartResult")
		if chunk := data[r[0] : r[1]+1]; res.ETag != `"`+md5Hex(chunk)+`"` {
			t.Fatalf("part %d ETag %s, want %s", n, res.ETag, md5Hex(chunk))
		}
		etags[n] = res.ETag
	}
	// Without a range the whole source is the part.
	etags[2] = c.copyOK(copyPartReq("dst", id, 2, copyHdr(obslocaltest.Bucket+"/whole")), "CopyPartResult").ETag
	want = [][]byte{data[:minPart], whole, data[2*minPart:]}
	_, body := c.do(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "/dst?uploadId=" + id})
	var lp struct {
		Part []struct {
			PartNumber int
			ETag       string
			Size       int64
		}
	}
	if err := xml.Unmarshal(body, &lp); err != nil || len(lp.Part) != 3 || lp.Part[2].Size != 1 || lp.Part[1].ETag != `"`+md5Hex(whole)+`"` {
		t.Fatalf("ListParts: %s", body)
	}
	resp, body := c.complete(obslocaltest.Bucket, "dst", id, completeXML(etags, []int{1, 2, 3}))
	var cr struct{ ETag string }
	if resp.StatusCode != 200 || xml.Unmarshal(body, &cr) != nil || cr.ETag != multipartETag(want) {
		t.Fatalf("complete: %d %s, want ETag %s", resp.StatusCode, body, multipartETag(want))
	}
	sum, info, err := s.ObjectSHA256(obslocaltest.Bucket, "dst")
	if err != nil || sum != sha256Hex(append(append(append([]byte{}, want[0]...), want[1]...), want[2]...)) || info.UploadID != id || info.Metadata["kind"] != "copy" {
		t.Fatalf("assembled object: %s %+v %v", sum, info, err)
	}
	st := s.Stats()
	pc := st.Ops[obslocal.OpUploadPartCopy]
	if pc.Requests != 3 || pc.Errors != 0 || pc.BodyBytes != 0 || pc.CopiedBytes != int64(2*minPart+1) ||
		st.Ops[obslocal.OpUploadPart].Requests != 0 || st.ConcurrentParts != 0 || st.PeakConcurrentParts < 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestUploadPartCopySourceReplaced: a part copied with the source's ETag as
// precondition fails once the source is replaced, and succeeds with the
// new ETag.
func TestUploadPartCopySourceReplaced(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	old := c.putRaw("src", partBody(1, 500), nil)
	id := c.initiate(obslocaltest.Bucket, "dst", nil)
	part := func(n int, ifMatch string) rawReq {
		return copyPartReq("dst", id, n, copyHdr(obslocaltest.Bucket+"/src", "x-obs-copy-source-if-match", ifMatch, "x-obs-copy-source-range", "bytes=0-99"))
	}
	c.copyOK(part(1, old), "CopyPartResult")
	replaced := c.putRaw("src", partBody(2, 500), nil)
	c.expectErr(part(2, old), 412, "PreconditionFailed")
	c.copyOK(part(2, strings.Trim(replaced, `"`)), "CopyPartResult") // quotes are optional
	if ups := s.OpenUploads(obslocaltest.Bucket); ups[0].Parts != 2 {
		t.Fatalf("parts %+v", ups)
	}
}

// TestCopyFaults: faults match CopyObject and UploadPartCopy by Op (and part
// number), and are counted as errors of those operations only.
func TestCopyFaults(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	c.putRaw("src", partBody(1, 1000), nil)
	id := c.initiate(obslocaltest.Bucket, "dst", nil)
	s.ResetStats()
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPartCopy, PartNumber: 2, Status: 503, Code: "SlowDown"})
	s.Inject(obslocal.Fault{Op: obslocal.OpCopyObject, Status: 500, Code: "InternalError"})
	src := copyHdr(obslocaltest.Bucket + "/src")
	c.copyOK(copyPartReq("dst", id, 1, src), "CopyPartResult")
	c.expectErr(copyPartReq("dst", id, 2, src), 503, "SlowDown")
	c.copyOK(copyPartReq("dst", id, 2, src), "CopyPartResult")
	c.expectErr(copyObjectReq("obj", src), 500, "InternalError")
	c.copyOK(copyObjectReq("obj", src), "CopyObjectResult")
	st := s.Stats().Ops
	if st[obslocal.OpUploadPartCopy].Requests != 3 || st[obslocal.OpUploadPartCopy].Errors != 1 || st[obslocal.OpCopyObject].Requests != 2 ||
		st[obslocal.OpCopyObject].Errors != 1 || st[obslocal.OpUploadPart].Requests != 0 || st[obslocal.OpPutObject].Requests != 0 {
		t.Fatalf("stats %+v", st)
	}
	// DropResponse: the copy happens, the client hears nothing.
	s.Inject(obslocal.Fault{Op: obslocal.OpCopyObject, DropResponse: true})
	if resp, err := c.hc.Do(c.build(copyObjectReq("dropped", src))); err == nil {
		resp.Body.Close()
		t.Fatal("DropResponse answered")
	}
	if _, _, err := s.ObjectSHA256(obslocaltest.Bucket, "dropped"); err != nil {
		t.Fatalf("DropResponse did not copy: %v", err)
	}
}

// TestCopySSEC: over HTTPS, an SSE-C source is copied with its key in the
// copy-source SSE-C headers into an SSE-C destination with another key;
// a missing or wrong source key is refused. Over HTTP the copy-source
// SSE-C headers alone make a request be refused.
func TestCopySSEC(t *testing.T) {
	key := func(b byte) (string, string) {
		k := make([]byte, 32)
		k[0] = b
		sum := md5.Sum(k)
		return base64.StdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(sum[:])
	}
	k1, m1 := key(1)
	k2, m2 := key(2)
	ssec := func(p, k, m string) []string {
		return []string{p + "server-side-encryption-customer-algorithm", "AES256", p + "server-side-encryption-customer-key", k, p + "server-side-encryption-customer-key-MD5", m}
	}
	s, _ := obslocaltest.Start(t, obslocaltest.WithSelfSignedTLS())
	c := newRaw(t, s)
	data := partBody(4, 2000)
	c.putRaw("enc", data, hdrs(ssec("x-obs-", k1, m1)...))
	c.putRaw("plain", data, nil)
	src := obslocaltest.Bucket + "/enc"
	both := append(ssec("x-obs-copy-source-", k1, m1), ssec("x-obs-", k2, m2)...)

	res := c.copyOK(copyObjectReq("dst", copyHdr(src, both...)), "CopyObjectResult")
	if res.ETag == `"`+md5Hex(data)+`"` {
		t.Fatal("the ETag of an SSE-C copy must not be the MD5 of its bytes")
	}
	c.expectErr(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket + "/dst", hdr: hdrs(ssec("x-obs-", k1, m1)...)}, 403, "")
	if resp, _ := c.do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket + "/dst", hdr: hdrs(ssec("x-obs-", k2, m2)...)}); resp.StatusCode != 200 {
		t.Fatalf("HEAD with the destination key: %d", resp.StatusCode)
	}
	if sum, _, _ := s.ObjectSHA256(obslocaltest.Bucket, "dst"); sum != sha256Hex(data) {
		t.Fatal("SSE-C copy stored different bytes")
	}
	c.expectErr(copyObjectReq("dst2", copyHdr(src)), 400, "InvalidRequest")
	c.expectErr(copyObjectReq("dst2", copyHdr(src, ssec("x-obs-copy-source-", k2, m2)...)), 403, "AccessDenied")
	c.expectErr(copyObjectReq("dst2", copyHdr(obslocaltest.Bucket+"/plain", ssec("x-obs-copy-source-", k1, m1)...)), 400, "InvalidRequest")

	// Into an SSE-C upload: the destination key on every part, as for UploadPart.
	id := c.initiate(obslocaltest.Bucket, "mp", hdrs(ssec("x-obs-", k2, m2)...))
	c.expectErr(copyPartReq("mp", id, 1, copyHdr(src, ssec("x-obs-copy-source-", k1, m1)...)), 400, "InvalidRequest")
	part := c.copyOK(copyPartReq("mp", id, 1, copyHdr(src, append(both, "x-obs-copy-source-range", "bytes=0-999")...)), "CopyPartResult")
	if part.ETag == `"`+md5Hex(data[:1000])+`"` {
		t.Fatal("the ETag of a part of an SSE-C upload must not be the MD5 of its bytes")
	}

	plain, _ := obslocaltest.Start(t)
	cp := newRaw(t, plain)
	cp.putRaw("src", data, nil)
	cp.expectErrMessage(copyObjectReq("dst", copyHdr(obslocaltest.Bucket+"/src", ssec("x-obs-copy-source-", k1, m1)...)), 400, "InvalidRequest",
		"Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
}

// TestCopyVersionOnReads: the server keeps no versions; HEAD and GET of
// version "null" read the current object, any other version is 404.
func TestCopyVersionOnReads(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	c.putRaw("k", []byte("v"), nil)
	if resp, body := c.do(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "/k?versionId=null"}); resp.StatusCode != 200 || string(body) != "v" {
		t.Fatalf("GET ?versionId=null: %d %q", resp.StatusCode, body)
	}
	c.expectErr(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "/k?versionId=abc"}, 404, "NoSuchVersion")
	if resp, _ := c.do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket + "/k?versionId=abc"}); resp.StatusCode != 404 {
		t.Fatalf("HEAD of another version: %d", resp.StatusCode)
	}
}

// zeroMD5Hex hashes n zero bytes independently of the server.
func zeroMD5Hex(n int64) string {
	h := md5.New()
	_, _ = io.Copy(h, io.LimitReader(zeroReader{}, n))
	return hex.EncodeToString(h.Sum(nil))
}

// TestSparseSourceOver5GiB: a 6 GiB zero-filled source cannot be copied
// whole (EntityTooLarge), nor in a part over 5 GiB, but copies in 24 parts
// of 256 MiB into an object whose ETag is the multipart ETag of those
// zeros, all without the data on disk.
func TestSparseSourceOver5GiB(t *testing.T) {
	const (
		size     = 6 << 30
		partSize = 256 << 20
	)
	dir := t.TempDir()
	s, _ := obslocaltest.Start(t, obslocaltest.WithDataDir(dir))
	c := newRaw(t, s)
	info, err := s.PutSparseObject(obslocal.SparseObject{Bucket: obslocaltest.Bucket, Key: "big.iso", Size: size, PartSize: 1 << 20, Metadata: map[string]string{"Tf-Source-Sha256": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size || !strings.HasSuffix(info.ETag, `-6144"`) || info.UploadID == "" || info.Metadata["tf-source-sha256"] != "x" {
		t.Fatalf("sparse object %+v", info)
	}
	resp, _ := c.do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket + "/big.iso"})
	if resp.Header.Get("Content-Length") != strconv.Itoa(size) || resp.Header.Get("ETag") != info.ETag {
		t.Fatalf("HEAD %v", resp.Header)
	}
	src := copyHdr(obslocaltest.Bucket + "/big.iso")
	c.expectErrMessage(copyObjectReq("whole", src), 400, "EntityTooLarge", "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120.")
	id := c.initiate(obslocaltest.Bucket, "copy.iso", nil)
	c.expectErr(copyPartReq("copy.iso", id, 1, copyHdr(obslocaltest.Bucket+"/big.iso", "x-obs-copy-source-range", fmt.Sprintf("bytes=0-%d", 5<<30))), 400, "EntityTooLarge")

	s.ResetStats()
	etags := map[int]string{}
	var order []int
	for n := 1; n*partSize <= size; n++ {
		r := fmt.Sprintf("bytes=%d-%d", (n-1)*partSize, n*partSize-1)
		etags[n] = c.copyOK(copyPartReq("copy.iso", id, n, copyHdr(obslocaltest.Bucket+"/big.iso", "x-obs-copy-source-range", r)), "CopyPartResult").ETag
		order = append(order, n)
	}
	zero := zeroMD5Hex(partSize)
	if etags[1] != `"`+zero+`"` {
		t.Fatalf("part ETag %s, want the MD5 of 256 MiB of zeros %s", etags[1], zero)
	}
	resp, body := c.complete(obslocaltest.Bucket, "copy.iso", id, completeXML(etags, order))
	h := md5.New()
	raw, _ := hex.DecodeString(zero)
	for range order {
		h.Write(raw)
	}
	want := fmt.Sprintf(`"%x-%d"`, h.Sum(nil), len(order))
	var cr struct{ ETag string }
	if resp.StatusCode != 200 || xml.Unmarshal(body, &cr) != nil || cr.ETag != want {
		t.Fatalf("complete: %d %s, want %s", resp.StatusCode, body, want)
	}
	// A range of the copy reads as zeros.
	resp, body = c.do(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "/copy.iso", hdr: map[string]string{"Range": "bytes=5000000000-5000000009"}})
	if resp.StatusCode != 206 || string(body) != string(make([]byte, 10)) {
		t.Fatalf("ranged GET: %d %q", resp.StatusCode, body)
	}
	st := s.Stats().Ops[obslocal.OpUploadPartCopy]
	if st.Requests != 24 || st.BodyBytes != 0 || st.CopiedBytes != size {
		t.Fatalf("stats %+v", st)
	}
	if used, ok := allocatedBytes(t, dir); ok && used > 64<<20 {
		t.Fatalf("the data dir holds %d bytes on disk for sparse objects", used)
	}
	// Zero-filled objects stay so across a restart.
	s.Close()
	s2, _ := obslocaltest.Start(t, obslocaltest.WithDataDir(dir))
	c2 := newRaw(t, s2)
	id2 := c2.initiate(obslocaltest.Bucket, "again.iso", nil)
	c2.copyOK(copyPartReq("again.iso", id2, 1, copyHdr(obslocaltest.Bucket+"/copy.iso", "x-obs-copy-source-range", fmt.Sprintf("bytes=0-%d", partSize-1))), "CopyPartResult")
	if used, ok := allocatedBytes(t, filepath.Join(dir, "buckets")); ok && used > 64<<20 {
		t.Fatalf("after restart the data dir holds %d bytes on disk", used)
	}
}

// TestPutSparseObjectLimits: the hook refuses objects OBS could not hold.
func TestPutSparseObjectLimits(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	for _, so := range []obslocal.SparseObject{
		{Bucket: obslocaltest.Bucket, Key: "a", Size: 5<<30 + 1},                    // a single PUT over 5 GB
		{Bucket: obslocaltest.Bucket, Key: "a", Size: 20 << 20, PartSize: 1 << 10},  // parts below the minimum
		{Bucket: obslocaltest.Bucket, Key: "a", Size: 2 << 30, PartSize: 100 << 10}, // over 10000 parts
		{Bucket: obslocaltest.Bucket, Key: "a", Size: 0, PartSize: 1 << 20},
		{Bucket: obslocaltest.Bucket, Key: "", Size: 1},
		{Bucket: "no-such-bucket", Key: "a", Size: 1},
	} {
		if _, err := s.PutSparseObject(so); err == nil {
			t.Errorf("%+v accepted", so)
		}
	}
	info, err := s.PutSparseObject(obslocal.SparseObject{Bucket: obslocaltest.Bucket, Key: "small", Size: 1000, ContentType: "application/zip"})
	if err != nil || info.ETag != `"`+zeroMD5Hex(1000)+`"` || info.UploadID != "" || headerValue(info.Headers, "Content-Type") != "application/zip" {
		t.Fatalf("%+v %v", info, err)
	}
}

// TestAdminSparseObject: the admin endpoint creates a sparse object and
// answers its ObjectInfo; an object OBS could not hold is refused.
func TestAdminSparseObject(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	post := func(body string) (*http.Response, []byte) {
		resp, err := http.Post(s.URL()+"/__obslocal/sparse-object", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := post(`{"Bucket":"` + obslocaltest.Bucket + `","Key":"big","Size":6442450944,"PartSize":1048576,"Metadata":{"tf-source-sha256":"abc"}}`)
	var info obslocal.ObjectInfo
	if resp.StatusCode != 200 || json.Unmarshal(body, &info) != nil || info.Size != 6<<30 || info.UploadID == "" || info.Metadata["tf-source-sha256"] != "abc" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp, _ := newRaw(t, s).do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket + "/big"}); resp.Header.Get("ETag") != info.ETag {
		t.Fatalf("HEAD %d %v, want ETag %s", resp.StatusCode, resp.Header, info.ETag)
	}
	if resp, body := post(`{"Bucket":"` + obslocaltest.Bucket + `","Key":"big","Size":6442450944}`); resp.StatusCode != 400 {
		t.Fatalf("a single PUT over 5 GB: %d %s", resp.StatusCode, body)
	}
}
