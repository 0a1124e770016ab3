package obslocal_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// rawClient sends requests signed by the test kit (OBS signature or SigV4,
// path style) so a test controls every header.
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
		acctest.SignV4(req, c.ak, c.sk, "r1", q.v4Payload, time.Now())
		return req
	}
	acctest.OBSSignature.Sign(req, c.ak, c.sk, "")
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
