package obslocal_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// TestAuthErrors covers every authentication failure over raw HTTP.
func TestAuthErrors(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	get := rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "/k?uploads"}
	c.expectErr(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/k?uploads", noAuth: true}, 403, "AccessDenied")

	unknown := newRaw(t, s)
	unknown.ak = "NOPE"
	unknown.expectErr(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/k?uploads"}, 403, "InvalidAccessKeyId")

	bad := newRaw(t, s)
	bad.sk = "wrong"
	bad.expectErr(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/k?uploads"}, 403, "SignatureDoesNotMatch")
	bad.expectErr(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/k?uploads", v4Payload: obslocal.UnsignedPayload}, 403, "SignatureDoesNotMatch")

	// The sub-resource is signed: a signature for ?uploads is not valid for another upload ID.
	req := c.build(rawReq{method: "DELETE", path: "/" + obslocaltest.Bucket + "/k?uploadId=AAA"})
	req.URL.RawQuery = "uploadId=BBB"
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("tampered uploadId: %d", resp.StatusCode)
	}
	// Unsigned parameters (paging) may change without re-signing.
	req = c.build(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads&max-uploads=5"})
	req.URL.RawQuery = "uploads&max-uploads=7"
	if resp, err = c.hc.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("unsigned param changed: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	// x-obs-date replaces Date; skew beyond 15 minutes is refused either way.
	old := time.Now().Add(-16 * time.Minute).UTC().Format(http.TimeFormat)
	c.expectErr(rawReq{method: "GET", path: get.path, hdr: map[string]string{"Date": old}}, 403, "RequestTimeTooSkewed")
	c.expectErr(rawReq{method: "GET", path: get.path, hdr: map[string]string{"x-obs-date": old}}, 403, "RequestTimeTooSkewed")
	if resp, _ := c.do(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads", hdr: map[string]string{"x-obs-date": time.Now().Add(-14 * time.Minute).UTC().Format(http.TimeFormat)}}); resp.StatusCode != 200 {
		t.Fatalf("14 min skew: %d", resp.StatusCode)
	}
	s.SetClockOffset(20 * time.Minute)
	c.expectErr(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads"}, 403, "RequestTimeTooSkewed")
	c.expectErr(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads", v4Payload: obslocal.UnsignedPayload}, 403, "RequestTimeTooSkewed")
	s.SetClockOffset(0)

	// SigV4 with a signed payload hash: a matching body passes, a different body fails.
	body := partBody(9, 1000)
	sum := sha256.Sum256(body)
	id := c.initiate(obslocaltest.Bucket, "v4", nil)
	q := rawReq{method: "PUT", path: "/" + obslocaltest.Bucket + "/v4?partNumber=1&uploadId=" + id, body: strings.NewReader(string(body)), size: 1000, v4Payload: hex.EncodeToString(sum[:])}
	if resp, b := c.do(q); resp.StatusCode != 200 {
		t.Fatalf("v4 signed payload: %d %s", resp.StatusCode, b)
	}
	body[0] ^= 1
	q.body = strings.NewReader(string(body))
	c.expectErr(q, 400, "XAmzContentSHA256Mismatch")

	// Security tokens: required, and must match (more in TestSecurityTokenRotation).
	s2, _ := obslocaltest.Start(t, obslocaltest.WithSecurityToken("T1"))
	c2 := newRaw(t, s2)
	c2.expectErrMessage(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads"}, 403, "InvalidAccessKeyId", msgUnknownKey)
	c2.token = "T2"
	c2.expectErrMessage(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads"}, 403, "InvalidAccessKeyId", msgBadToken)
	c2.token = "T1"
	if resp, b := c2.do(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads"}); resp.StatusCode != 200 {
		t.Fatalf("with token: %d %s", resp.StatusCode, b)
	}
	// A token sent with a permanent key is not the token issued with it.
	c.token = "T1"
	c.expectErrMessage(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads"}, 403, "InvalidAccessKeyId", msgBadToken)
}

// TestOperationErrors covers every documented error code of the operations.
func TestOperationErrors(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	b := "/" + obslocaltest.Bucket
	c.expectErr(rawReq{method: "POST", path: "/no-such-bucket/k?uploads"}, 404, "NoSuchBucket")
	c.expectErr(rawReq{method: "GET", path: b + "/missing"}, 404, "NoSuchKey")
	if resp, body := c.do(rawReq{method: "HEAD", path: b + "/missing"}); resp.StatusCode != 404 || len(body) != 0 {
		t.Fatalf("HEAD missing: %d %q", resp.StatusCode, body)
	}
	c.expectErr(rawReq{method: "PUT", path: b + "/k?partNumber=1&uploadId=NOPE", body: strings.NewReader("x"), size: 1}, 404, "NoSuchUpload")
	c.expectErr(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/" + strings.Repeat("k", 1025) + "?uploads"}, 400, "KeyTooLongError")
	if id := c.initiate(obslocaltest.Bucket, strings.Repeat("k", 1024), nil); id == "" {
		t.Fatal("1024-byte key refused")
	}
	big := map[string]string{"x-obs-meta-a": strings.Repeat("v", 8*1024)}
	c.expectErr(rawReq{method: "POST", path: b + "/k?uploads", hdr: big}, 400, "MetadataTooLarge")
	c.expectErr(rawReq{method: "PUT", path: b + "/k", body: strings.NewReader("x"), size: 1, hdr: big}, 400, "MetadataTooLarge")
	okMeta := map[string]string{"x-obs-meta-a": strings.Repeat("v", 8*1024-1)}
	if resp, body := c.do(rawReq{method: "POST", path: b + "/k?uploads", hdr: okMeta}); resp.StatusCode != 200 {
		t.Fatalf("8 KB metadata: %d %s", resp.StatusCode, body)
	}
	// Single PUT: Content-MD5 checked, size limited to 5 GB.
	c.expectErr(rawReq{method: "PUT", path: b + "/k", body: strings.NewReader("abc"), size: 3, hdr: map[string]string{"Content-MD5": md5b64([]byte("abd"))}}, 400, "BadDigest")
	resp, body := c.do(rawReq{method: "PUT", path: b + "/k", body: strings.NewReader("abc"), size: 3, hdr: map[string]string{"Content-MD5": md5b64([]byte("abc"))}})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"`+md5Hex([]byte("abc"))+`"` {
		t.Fatalf("PUT: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	c.expectErr(rawReq{method: "PUT", path: b + "/huge", body: io.LimitReader(zeroReader{}, 5<<30+1), size: 5<<30 + 1}, 400, "EntityTooLarge")
	if resp, _ := c.do(rawReq{method: "DELETE", path: b + "/k"}); resp.StatusCode != 204 {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	if resp, _ := c.do(rawReq{method: "DELETE", path: b + "/k"}); resp.StatusCode != 204 {
		t.Fatalf("DELETE missing: %d", resp.StatusCode)
	}

	// Multipart.
	id := c.initiate(obslocaltest.Bucket, "mp", nil)
	p1, p2, p3 := partBody(1, minPart), partBody(2, minPart-1), partBody(3, 10)
	for _, n := range []string{"0", "10001", "x"} {
		c.expectErr(rawReq{method: "PUT", path: fmt.Sprintf("%s/mp?partNumber=%s&uploadId=%s", b, n, id), body: strings.NewReader("x"), size: 1}, 400, "InvalidArgument")
	}
	c.expectErr(rawReq{method: "PUT", path: b + "/mp?partNumber=1&uploadId=" + id, body: strings.NewReader(string(p1)), size: int64(len(p1)),
		hdr: map[string]string{"Content-MD5": md5b64(p2)}}, 400, "BadDigest")
	e1 := c.putPart(obslocaltest.Bucket, "mp", id, 1, p2, nil) // overwritten below
	e1b := c.putPart(obslocaltest.Bucket, "mp", id, 1, p1, map[string]string{"Content-MD5": md5b64(p1)})
	if e1 == e1b || e1b != `"`+md5Hex(p1)+`"` {
		t.Fatalf("re-upload did not overwrite: %s %s", e1, e1b)
	}
	e2 := c.putPart(obslocaltest.Bucket, "mp", id, 2, p2, nil)
	e3 := c.putPart(obslocaltest.Bucket, "mp", id, 3, p3, nil)
	c.putPart(obslocaltest.Bucket, "mp", id, 4, p3, nil) // uploaded, never listed: discarded
	etags := map[int]string{1: e1b, 2: e2, 3: e3}
	complete := func(x string, status int, code string) {
		t.Helper()
		c.expectErr(rawReq{method: "POST", path: b + "/mp?uploadId=" + id, body: strings.NewReader(x), size: int64(len(x))}, status, code)
	}
	complete("<CompleteMultipartUpload><Part>", 400, "MalformedXML")
	complete(completeXML(etags, []int{2, 1}), 400, "InvalidPartOrder")
	complete(completeXML(etags, []int{1, 1}), 400, "InvalidPartOrder")
	complete(completeXML(map[int]string{1: e1b, 5: e2}, []int{1, 5}), 400, "InvalidPart")
	complete(completeXML(map[int]string{1: e2}, []int{1}), 400, "InvalidPart")
	complete(completeXML(etags, []int{1, 2, 3}), 400, "EntityTooSmall") // part 2 is 1 byte short
	// Parts 1 and 3: part 1 is exactly the minimum, the last may be small.
	resp, body = c.complete(obslocaltest.Bucket, "mp", id, completeXML(etags, []int{1, 3}))
	var cr struct{ ETag string }
	_ = xml.Unmarshal(body, &cr)
	if resp.StatusCode != 200 || cr.ETag != multipartETag([][]byte{p1, p3}) {
		t.Fatalf("complete: %d %s", resp.StatusCode, body)
	}
	sum, info, err := s.ObjectSHA256(obslocaltest.Bucket, "mp")
	want := sha256.Sum256(append(append([]byte{}, p1...), p3...))
	if err != nil || sum != hex.EncodeToString(want[:]) || info.Size != int64(len(p1)+len(p3)) {
		t.Fatalf("assembled object: %v %+v", err, info)
	}
	complete(completeXML(etags, []int{1, 3}), 404, "NoSuchUpload")

	// Abort → 204, then NoSuchUpload for every call on the ID.
	id2 := c.initiate(obslocaltest.Bucket, "ab", nil)
	if resp, _ := c.do(rawReq{method: "DELETE", path: b + "/ab?uploadId=" + id2}); resp.StatusCode != 204 {
		t.Fatalf("abort: %d", resp.StatusCode)
	}
	c.expectErr(rawReq{method: "DELETE", path: b + "/ab?uploadId=" + id2}, 404, "NoSuchUpload")
	c.expectErr(rawReq{method: "GET", path: b + "/ab?uploadId=" + id2}, 404, "NoSuchUpload")
	c.expectErr(rawReq{method: "PUT", path: b + "/ab?partNumber=1&uploadId=" + id2, body: strings.NewReader("x"), size: 1}, 404, "NoSuchUpload")
	// An upload ID is bound to its key.
	id3 := c.initiate(obslocaltest.Bucket, "k1", nil)
	c.expectErr(rawReq{method: "GET", path: b + "/k2?uploadId=" + id3}, 404, "NoSuchUpload")
}

// TestInitiateAttributes: the headers recorded at Initiate come back on HEAD
// of the completed object, and SSE-C must be repeated on every part.
func TestInitiateAttributes(t *testing.T) {
	s, _ := obslocaltest.Start(t, obslocaltest.WithSelfSignedTLS()) // SSE-C needs HTTPS
	c := newRaw(t, s)
	key := make([]byte, 32)
	keyB64 := base64.StdEncoding.EncodeToString(key)
	ks := md5.Sum(key)
	keyMD5 := base64.StdEncoding.EncodeToString(ks[:])
	ssec := map[string]string{"x-obs-server-side-encryption-customer-algorithm": "AES256",
		"x-obs-server-side-encryption-customer-key": keyB64, "x-obs-server-side-encryption-customer-key-MD5": keyMD5}
	hdr := map[string]string{"Content-Type": "text/plain", "Content-Encoding": "gzip", "x-obs-acl": "public-read",
		"x-obs-grant-read": "ID=dom1", "x-obs-storage-class": "COLD", "x-obs-meta-Color": "blue", "x-obs-expires": "3",
		"x-obs-tagging": "a=1&b=2", "x-obs-website-redirect-location": "/x.html", "x-obs-object-lock-mode": "COMPLIANCE",
		"x-obs-object-lock-retain-until-date": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	for k, v := range ssec {
		hdr[k] = v
	}
	id := c.initiate(obslocaltest.Bucket, "obj", hdr)
	p := partBody(1, 100)
	c.expectErr(rawReq{method: "PUT", path: "/" + obslocaltest.Bucket + "/obj?partNumber=1&uploadId=" + id, body: strings.NewReader(string(p)), size: 100}, 400, "InvalidRequest")
	other := map[string]string{}
	for k, v := range ssec {
		other[k] = v
	}
	k2 := make([]byte, 32)
	k2[0] = 1
	ks2 := md5.Sum(k2)
	other["x-obs-server-side-encryption-customer-key"] = base64.StdEncoding.EncodeToString(k2)
	other["x-obs-server-side-encryption-customer-key-MD5"] = base64.StdEncoding.EncodeToString(ks2[:])
	c.expectErr(rawReq{method: "PUT", path: "/" + obslocaltest.Bucket + "/obj?partNumber=1&uploadId=" + id, body: strings.NewReader(string(p)), size: 100, hdr: other}, 403, "AccessDenied")
	etag := c.putPart(obslocaltest.Bucket, "obj", id, 1, p, ssec)
	if etag == `"`+md5Hex(p)+`"` {
		t.Fatal("SSE part ETag must not be the content MD5")
	}
	if resp, body := c.complete(obslocaltest.Bucket, "obj", id, completeXML(map[int]string{1: etag}, []int{1})); resp.StatusCode != 200 {
		t.Fatalf("complete: %d %s", resp.StatusCode, body)
	}
	c.expectErr(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "/obj"}, 400, "InvalidRequest") // SSE-C key needed
	resp, _ := c.do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket + "/obj", hdr: ssec})
	if resp.StatusCode != 200 {
		t.Fatalf("HEAD: %d", resp.StatusCode)
	}
	want := map[string]string{"Content-Type": "text/plain", "Content-Encoding": "gzip", "x-obs-acl": "public-read",
		"x-obs-grant-read": "ID=dom1", "x-obs-storage-class": "COLD", "x-obs-meta-color": "blue", "x-obs-expires": "3",
		"x-obs-tagging": "a=1&b=2", "x-obs-website-redirect-location": "/x.html", "x-obs-object-lock-mode": "COMPLIANCE",
		"x-obs-server-side-encryption-customer-algorithm": "AES256", "x-obs-server-side-encryption-customer-key-md5": keyMD5,
		"x-obs-uploadId": id, "x-obs-object-lock-retain-until-date": hdr["x-obs-object-lock-retain-until-date"]}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("HEAD %s = %q, want %q", k, got, v)
		}
	}
	if resp.Header.Get("x-obs-server-side-encryption-customer-key") != "" {
		t.Error("HEAD must never return the SSE-C key")
	}
	// Invalid values are refused at Initiate.
	for h, v := range map[string]string{"x-obs-storage-class": "SHINY", "x-obs-acl": "everyone", "x-obs-expires": "-1", "x-obs-object-lock-mode": "GOVERNANCE"} {
		resp, body := c.do(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/bad?uploads", hdr: map[string]string{h: v}})
		if resp.StatusCode != 400 {
			t.Errorf("%s: %s accepted: %d %s", h, v, resp.StatusCode, body)
		}
	}
}

type listPartsXML struct {
	IsTruncated          bool
	NextPartNumberMarker int
	MaxParts             int
	Part                 []struct{ PartNumber int }
}

// TestListPartsPaging: max-parts=7 over 64 parts returns each part once.
func TestListPartsPaging(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "p", nil)
	for n := 64; n >= 1; n-- { // out of order on purpose
		c.putPart(obslocaltest.Bucket, "p", id, n, []byte{byte(n)}, nil)
	}
	seen := map[int]int{}
	marker, pages := 0, 0
	for {
		resp, body := c.do(rawReq{method: "GET", path: fmt.Sprintf("/%s/p?uploadId=%s&max-parts=7&part-number-marker=%d", obslocaltest.Bucket, id, marker)})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var r listPartsXML
		if err := xml.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		pages++
		if len(r.Part) > 7 || r.MaxParts != 7 {
			t.Fatalf("page of %d parts, MaxParts %d", len(r.Part), r.MaxParts)
		}
		prev := marker
		for _, p := range r.Part {
			if p.PartNumber <= prev {
				t.Fatalf("not ascending after marker %d: %d", marker, p.PartNumber)
			}
			prev = p.PartNumber
			seen[p.PartNumber]++
		}
		if !r.IsTruncated {
			break
		}
		marker = r.NextPartNumberMarker
	}
	if pages != 10 || len(seen) != 64 {
		t.Fatalf("pages %d, distinct parts %d", pages, len(seen))
	}
	for n, k := range seen {
		if k != 1 {
			t.Fatalf("part %d seen %d times", n, k)
		}
	}
	// max-parts above 1000 is capped; garbage is refused.
	_, body := c.do(rawReq{method: "GET", path: fmt.Sprintf("/%s/p?uploadId=%s&max-parts=5000", obslocaltest.Bucket, id)})
	var r listPartsXML
	_ = xml.Unmarshal(body, &r)
	if r.MaxParts != 1000 || len(r.Part) != 64 {
		t.Fatalf("max-parts=5000: %d %d", r.MaxParts, len(r.Part))
	}
	c.expectErr(rawReq{method: "GET", path: fmt.Sprintf("/%s/p?uploadId=%s&max-parts=-1", obslocaltest.Bucket, id)}, 400, "InvalidArgument")
}

// TestListUploadsPaging: pages of max-uploads return every upload once,
// including several uploads of one key split across pages.
func TestListUploadsPaging(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	want := map[string]bool{}
	for i := 0; i < 10; i++ {
		for j := 0; j < 3; j++ {
			want[c.initiate(obslocaltest.Bucket, fmt.Sprintf("dir/k%02d", i), nil)] = true
		}
	}
	c.initiate(obslocaltest.Bucket, "other", nil)
	seen := map[string]int{}
	km, um := "", ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		q := url.Values{"prefix": {"dir/"}, "max-uploads": {"4"}, "key-marker": {km}, "upload-id-marker": {um}}
		resp, body := c.do(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads&" + q.Encode()})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var r struct {
			IsTruncated        bool
			NextKeyMarker      string
			NextUploadIDMarker string `xml:"NextUploadIdMarker"`
			Upload             []struct {
				Key      string
				UploadID string `xml:"UploadId"`
			}
		}
		if err := xml.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Upload) > 4 {
			t.Fatalf("page of %d", len(r.Upload))
		}
		for _, u := range r.Upload {
			seen[u.UploadID]++
		}
		if !r.IsTruncated {
			break
		}
		km, um = r.NextKeyMarker, r.NextUploadIDMarker
	}
	if len(seen) != len(want) {
		t.Fatalf("saw %d uploads, want %d", len(seen), len(want))
	}
	for id, n := range seen {
		if !want[id] || n != 1 {
			t.Fatalf("upload %s seen %d times (wanted: %v)", id, n, want[id])
		}
	}
}

// TestRestartPersistence: uploads and parts survive a restart on the same DataDir.
func TestRestartPersistence(t *testing.T) {
	dir := t.TempDir()
	s, _ := obslocaltest.Start(t, obslocaltest.WithDataDir(dir))
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "resume/me", map[string]string{"x-obs-meta-a": "1"})
	p1, p2 := partBody(1, minPart), partBody(2, 77)
	e1 := c.putPart(obslocaltest.Bucket, "resume/me", id, 1, p1, nil)
	e2 := c.putPart(obslocaltest.Bucket, "resume/me", id, 2, p2, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, _ := obslocaltest.Start(t, obslocaltest.WithDataDir(dir))
	if ups := s2.OpenUploads(obslocaltest.Bucket); len(ups) != 1 || ups[0].UploadID != id || ups[0].Parts != 2 {
		t.Fatalf("after restart: %+v", ups)
	}
	c2 := newRaw(t, s2)
	_, body := c2.do(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "/resume/me?uploadId=" + id})
	var r listPartsXML
	if err := xml.Unmarshal(body, &r); err != nil || len(r.Part) != 2 {
		t.Fatalf("ListParts after restart: %s", body)
	}
	if resp, body := c2.complete(obslocaltest.Bucket, "resume/me", id, completeXML(map[int]string{1: e1, 2: e2}, []int{1, 2})); resp.StatusCode != 200 {
		t.Fatalf("complete after restart: %d %s", resp.StatusCode, body)
	}
	_, info, err := s2.ObjectSHA256(obslocaltest.Bucket, "resume/me")
	if err != nil || info.Size != int64(len(p1)+len(p2)) || info.Metadata["a"] != "1" {
		t.Fatalf("%+v %v", info, err)
	}
	s2.Close()
	s3, _ := obslocaltest.Start(t, obslocaltest.WithDataDir(dir))
	if _, info, err := s3.ObjectSHA256(obslocaltest.Bucket, "resume/me"); err != nil || info.UploadID != id {
		t.Fatalf("object after second restart: %+v %v", info, err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestSigV4QueryOrder: the server canonicalises a SigV4 query sorted by
// parameter name, then value, as the signer does: "max" sorts before
// "max-uploads", although "max-uploads=…" sorts before "max=…" as a whole.
func TestSigV4QueryOrder(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	q := rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "?uploads&max-uploads=5&max=1", v4Payload: obslocal.UnsignedPayload}
	if resp, b := c.do(q); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
