package s3compat

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// s3Client is a minimal SigV4 client, independent of the OBS SDK, so that
// what the suite checks on the server is what versitygw really stores and
// returns, not what the SDK maps it to.
type s3Client struct {
	endpoint string // http://host:port
	region   string
	ak, sk   string
	http     *http.Client
}

// do sends a request for bucket/key (key may be "") with the given query
// and headers, signed with SigV4 by the test kit, and returns the response
// with its body read.
func (c *s3Client) do(t *testing.T, method, bucket, key string, query url.Values, hdr map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	p := "/" + bucket
	if key != "" {
		p += "/" + key
	}
	u := c.endpoint + acctest.URIEncode(p, true)
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	acctest.SignV4(req, c.ak, c.sk, c.region, hex.EncodeToString(sum[:]), time.Now())
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, p, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, p, err)
	}
	return resp, b
}
