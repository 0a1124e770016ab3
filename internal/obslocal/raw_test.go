package obslocal_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// rawClient sends hand-signed requests (OBS signature, path style) so a
// test controls every header.
type rawClient struct {
	t      testing.TB
	s      *obslocal.Server
	ak, sk string
	token  string
	hc     *http.Client
}

func newRaw(t testing.TB, s *obslocal.Server) *rawClient {
	return &rawClient{t: t, s: s, ak: obslocaltest.AccessKey, sk: obslocaltest.SecretKey, hc: &http.Client{Transport: loopbackTransport(s)}}
}

type rawReq struct {
	method, path string // path includes the query, already escaped
	body         io.Reader
	size         int64
	hdr          map[string]string
	v4Payload    string // SigV4 with this x-amz-content-sha256; "" → OBS signature
	noAuth       bool
}

func (c *rawClient) build(q rawReq) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(q.method, c.s.URL()+q.path, q.body)
	if err != nil {
		c.t.Fatal(err)
	}
	if q.body != nil {
		req.ContentLength = q.size
	}
	for k, v := range q.hdr {
		req.Header.Set(k, v)
	}
	if c.token != "" && q.v4Payload != "" {
		req.Header.Set("x-amz-security-token", c.token)
	} else if c.token != "" {
		req.Header.Set("x-obs-security-token", c.token)
	}
	if q.noAuth {
		return req
	}
	if q.v4Payload != "" {
		signV4(req, c.ak, c.sk, q.v4Payload)
		return req
	}
	if req.Header.Get("Date") == "" && req.Header.Get("x-obs-date") == "" {
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	signOBS(req, c.ak, c.sk)
	return req
}

func (c *rawClient) do(q rawReq) (*http.Response, []byte) {
	c.t.Helper()
	resp, err := c.hc.Do(c.build(q))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// expectErr sends q and checks the OBS error status and code.
func (c *rawClient) expectErr(q rawReq, status int, code string) {
	c.t.Helper()
	c.expectErrMessage(q, status, code, "")
}

// expectErrMessage is expectErr that also checks the message, unless msg is "".
func (c *rawClient) expectErrMessage(q rawReq, status int, code, msg string) {
	c.t.Helper()
	resp, body := c.do(q)
	var e struct {
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}
	_ = xml.Unmarshal(body, &e)
	if resp.StatusCode != status || e.Code != code || (msg != "" && e.Message != msg) {
		c.t.Fatalf("%s %s: got %d %q %q, want %d %s %q\n%s", q.method, q.path, resp.StatusCode, e.Code, e.Message, status, code, msg, body)
	}
	if resp.Header.Get("x-obs-request-id") == "" || resp.Header.Get("x-obs-id-2") == "" ||
		(q.method != "HEAD" && e.RequestID != resp.Header.Get("x-obs-request-id")) {
		c.t.Fatalf("%s %s: missing request id headers %v", q.method, q.path, resp.Header)
	}
}

func signOBS(req *http.Request, ak, sk string) {
	var names []string
	for k := range req.Header {
		if l := strings.ToLower(k); strings.HasPrefix(l, "x-obs-") {
			names = append(names, l)
		}
	}
	sort.Strings(names)
	date := req.Header.Get("Date")
	if req.Header.Get("x-obs-date") != "" {
		date = ""
	}
	sts := req.Method + "\n" + req.Header.Get("Content-MD5") + "\n" + req.Header.Get("Content-Type") + "\n" + date + "\n"
	for _, n := range names {
		sts += n + ":" + strings.Join(req.Header.Values(n), ",") + "\n"
	}
	sts += req.URL.EscapedPath()
	var subs []string
	for k, vs := range req.URL.Query() {
		if obslocal.SignedSubresources[strings.ToLower(k)] {
			if vs[0] == "" {
				subs = append(subs, k)
			} else {
				subs = append(subs, k+"="+vs[0])
			}
		}
	}
	sort.Strings(subs)
	if len(subs) > 0 {
		sts += "?" + strings.Join(subs, "&")
	}
	m := hmac.New(sha1.New, []byte(sk))
	m.Write([]byte(sts))
	req.Header.Set("Authorization", "OBS "+ak+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// signV4 signs req with SigV4 (header form), every header signed.
func signV4(req *http.Request, ak, sk, payload string) {
	now := time.Now().UTC()
	amz := now.Format("20060102T150405Z")
	req.Header.Set("x-amz-date", amz)
	req.Header.Set("x-amz-content-sha256", payload)
	hdrs := map[string]string{"host": req.URL.Host}
	for k, v := range req.Header {
		hdrs[strings.ToLower(k)] = strings.Join(v, ",")
	}
	var names []string
	for k := range hdrs {
		names = append(names, k)
	}
	sort.Strings(names)
	var ch string
	for _, n := range names {
		ch += n + ":" + hdrs[n] + "\n"
	}
	var qs []string
	for k, vs := range req.URL.Query() {
		qs = append(qs, obslocal.AWSEscape(k)+"="+obslocal.AWSEscape(vs[0]))
	}
	sort.Strings(qs)
	cr := strings.Join([]string{req.Method, req.URL.EscapedPath(), strings.Join(qs, "&"), ch, strings.Join(names, ";"), payload}, "\n")
	h := sha256.Sum256([]byte(cr))
	scope := now.Format("20060102") + "/r1/s3/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amz + "\n" + scope + "\n" + hex.EncodeToString(h[:])
	k := obslocal.HMACSHA256([]byte("AWS4"+sk), now.Format("20060102"))
	k = obslocal.HMACSHA256(k, "r1")
	k = obslocal.HMACSHA256(k, "s3")
	k = obslocal.HMACSHA256(k, "aws4_request")
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		ak, scope, strings.Join(names, ";"), hex.EncodeToString(obslocal.HMACSHA256(k, sts))))
}

// initiate starts an upload with the raw client and returns its ID.
func (c *rawClient) initiate(bucket, key string, hdr map[string]string) string {
	c.t.Helper()
	resp, body := c.do(rawReq{method: "POST", path: "/" + bucket + "/" + escKey(key) + "?uploads", hdr: hdr})
	if resp.StatusCode != 200 {
		c.t.Fatalf("initiate: %d %s", resp.StatusCode, body)
	}
	var r struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(body, &r); err != nil {
		c.t.Fatal(err)
	}
	return r.UploadID
}

func escKey(k string) string { return strings.ReplaceAll(url.PathEscape(k), "%2F", "/") }

// putPart uploads a part and returns its ETag (quoted).
func (c *rawClient) putPart(bucket, key, id string, n int, data []byte, hdr map[string]string) string {
	c.t.Helper()
	resp, body := c.do(rawReq{method: "PUT", path: fmt.Sprintf("/%s/%s?partNumber=%d&uploadId=%s", bucket, escKey(key), n, id),
		body: strings.NewReader(string(data)), size: int64(len(data)), hdr: hdr})
	if resp.StatusCode != 200 {
		c.t.Fatalf("part %d: %d %s", n, resp.StatusCode, body)
	}
	return resp.Header.Get("ETag")
}

func completeXML(parts map[int]string, order []int) string {
	var b strings.Builder
	b.WriteString("<CompleteMultipartUpload>")
	for _, n := range order {
		fmt.Fprintf(&b, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, parts[n])
	}
	b.WriteString("</CompleteMultipartUpload>")
	return b.String()
}

func (c *rawClient) complete(bucket, key, id, xmlBody string) (*http.Response, []byte) {
	return c.do(rawReq{method: "POST", path: "/" + bucket + "/" + escKey(key) + "?uploadId=" + id,
		body: strings.NewReader(xmlBody), size: int64(len(xmlBody))})
}
