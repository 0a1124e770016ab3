package s3compat

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

const (
	gwAccessKey = "S3COMPATAK0123456789"
	gwSecretKey = "s3compat-secret-key-0123456789abcdef"
	gwRegion    = "us-east-1"
	gwBucket    = "tf-s3compat"

	installHint = "versitygw is not installed: run `make versitygw` " +
		"(or `GOBIN=$PWD/.cache/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`)"
)

// gateway is a running versitygw (posix backend in a temporary directory)
// with one bucket, reached through a fault-injecting proxy.
type gateway struct {
	addr  string // versitygw itself
	proxy *faultProxy
	// direct talks to versitygw without the proxy, for checks.
	direct *s3Client
}

// versitygwPath finds the binary on PATH or in the repository's .cache/bin.
func versitygwPath() (string, bool) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, true
	}
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", ".cache", "bin", "versitygw")
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, true
	}
	return "", false
}

// startGateway starts versitygw on a free port, waits until it accepts
// connections, creates the bucket with a signed CreateBucket, and puts the
// proxy in front. Everything is stopped in Cleanup.
func startGateway(t *testing.T) *gateway {
	t.Helper()
	bin, ok := versitygwPath()
	if !ok {
		if os.Getenv("OBS_REQUIRE_VERSITYGW") == "1" {
			t.Fatal(installHint)
		}
		t.Skip(installHint)
	}
	dir := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	var out acctest.SyncBuffer // the server's output, for failure messages
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--access", gwAccessKey, "--secret", gwSecretKey,
		"--region", gwRegion, "--port", addr, "--quiet", "posix", dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting versitygw: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited //nolint:errcheck // killed on purpose: its exit error says only that
	})
	if err := waitListening(addr, exited, 15*time.Second); err != nil {
		t.Fatalf("versitygw did not start: %v\noutput:\n%s", err, out.String())
	}
	g := &gateway{
		addr: addr,
		direct: &s3Client{endpoint: "http://" + addr, region: gwRegion, ak: gwAccessKey, sk: gwSecretKey,
			http: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Minute}},
	}
	if resp, body := g.direct.do(t, "PUT", gwBucket, "", nil, nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("CreateBucket %s: %s\n%s\nversitygw output:\n%s", gwBucket, resp.Status, body, out.String())
	}
	g.proxy = startProxy(t, addr)
	return g
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// waitListening polls until addr accepts a TCP connection, the process
// exits, or the timeout passes.
func waitListening(addr string, exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting connections after %s: %w", addr, timeout, err)
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("versitygw exited: %v", werr)
		case <-tick.C:
		}
	}
}

// providerConfig is the provider block: SigV4, path style, through the proxy.
func (g *gateway) providerConfig() string {
	return g.providerConfigWithSecret(gwSecretKey, 1)
}

// providerConfigWithSecret is the provider block with another secret key
// and max_retries (left out, so the default, when negative).
func (g *gateway) providerConfigWithSecret(secret string, maxRetries int) string {
	args := []acctest.Arg{
		acctest.Attr("endpoint", "http://"+g.proxy.addr()),
		acctest.Attr("region", gwRegion),
		acctest.Attr("access_key", gwAccessKey),
		acctest.Attr("secret_key", secret),
		acctest.Attr("signature", "v4"),
		acctest.Attr("path_style", true),
	}
	if maxRetries >= 0 {
		args = append(args, acctest.Attr("max_retries", maxRetries))
	}
	return acctest.ProviderBlock(args...)
}

// object returns the object's bytes via a signed GET, or nil and the status
// when it is not there.
func (g *gateway) object(t *testing.T, key string) ([]byte, int) {
	t.Helper()
	resp, body := g.direct.do(t, "GET", gwBucket, key, nil, nil, nil)
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode
	}
	return body, resp.StatusCode
}

// head returns the object's response headers via a signed HEAD.
func (g *gateway) head(t *testing.T, key string) http.Header {
	t.Helper()
	resp, _ := g.direct.do(t, "HEAD", gwBucket, key, nil, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD %s: %s", key, resp.Status)
	}
	return resp.Header
}

// openUpload is an entry of ListMultipartUploads.
type openUpload struct {
	Key      string `xml:"Key"`
	UploadID string `xml:"UploadId"`
}

// listUploads lists the bucket's open multipart uploads.
func (g *gateway) listUploads(t *testing.T) []openUpload {
	t.Helper()
	resp, body := g.direct.do(t, "GET", gwBucket, "", url.Values{"uploads": {""}}, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ListMultipartUploads: %s\n%s", resp.Status, body)
	}
	var out struct {
		Uploads []openUpload `xml:"Upload"`
	}
	if err := xml.Unmarshal(body, &out); err != nil {
		t.Fatalf("ListMultipartUploads: %v\n%s", err, body)
	}
	return out.Uploads
}

// uploadedPart is an entry of ListParts.
type uploadedPart struct {
	Number int   `xml:"PartNumber"`
	Size   int64 `xml:"Size"`
}

// listParts lists the parts of an open upload (one page of up to 1000).
func (g *gateway) listParts(t *testing.T, key, uploadID string) []uploadedPart {
	t.Helper()
	resp, body := g.direct.do(t, "GET", gwBucket, key, url.Values{"uploadId": {uploadID}}, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ListParts: %s\n%s", resp.Status, body)
	}
	var out struct {
		Parts []uploadedPart `xml:"Part"`
	}
	if err := xml.Unmarshal(body, &out); err != nil {
		t.Fatalf("ListParts: %v\n%s", err, body)
	}
	return out.Parts
}
