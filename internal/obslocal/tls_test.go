package obslocal_test

import (
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// TestSelfSignedTLS: a server started with SelfSignedTLS speaks HTTPS with a
// certificate that verifies against its CA for the loopback address and for
// virtual-hosted names, and not without the CA or for other names.
func TestSelfSignedTLS(t *testing.T) {
	s, _ := obslocaltest.Start(t, obslocaltest.WithSelfSignedTLS())
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
	c := newRaw(t, s)
	_, port, _ := net.SplitHostPort(s.Addr())
	for _, url := range []string{s.URL() + "/" + obslocaltest.Bucket, "https://localhost:" + port + "/" + obslocaltest.Bucket, "https://" + obslocaltest.Bucket + ".obs.local:" + port + "/"} {
		req, err := http.NewRequest("HEAD", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		vhostBucket := ""
		if strings.Contains(url, ".obs.local") {
			vhostBucket = obslocaltest.Bucket
		}
		acctest.OBSSignature.Sign(req, obslocaltest.AccessKey, obslocaltest.SecretKey, vhostBucket)
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil {
			t.Fatalf("%s: %d, TLS %v", url, resp.StatusCode, resp.TLS != nil)
		}
	}

	// Without the CA: an unknown authority.
	plain := &http.Client{Transport: &http.Transport{}}
	_, err := plain.Get(s.URL() + "/__obslocal/stats")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("without the CA: %v, want x509.UnknownAuthorityError", err)
	}
	// A name the certificate does not cover (two labels under the domain).
	_, err = c.hc.Get("https://a.b.obs.local:" + port + "/")
	var host x509.HostnameError
	if !errors.As(err, &host) {
		t.Fatalf("a.b.obs.local: %v, want x509.HostnameError", err)
	}
	// The admin endpoint is served over HTTPS too.
	resp, err := c.hc.Get(s.URL() + "/__obslocal/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("admin over HTTPS: %d", resp.StatusCode)
	}
}

// TestConfigTLS: Config.TLS serves a caller's certificate; it excludes
// SelfSignedTLS.
func TestConfigTLS(t *testing.T) {
	cert, err := obslocal.NewSelfSignedCert([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := obslocaltest.Start(t, obslocaltest.WithTLS(cert.ServerTLS()))
	if s.SelfSignedCert() != nil {
		t.Fatal("SelfSignedCert set without SelfSignedTLS")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.CertPool()}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(s.URL() + "/__obslocal/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.Proto != "HTTP/1.1" {
		t.Fatalf("%d %s TLS %v", resp.StatusCode, resp.Proto, resp.TLS != nil)
	}
	if _, err := obslocal.Start(obslocal.Config{TLS: cert.ServerTLS(), SelfSignedTLS: true}); err == nil {
		t.Fatal("TLS with SelfSignedTLS accepted")
	}
}

// TestSelfSignedCertFiles: WriteFiles writes a CA, a certificate and a key
// that load as a pair and verify for every host name asked for.
func TestSelfSignedCertFiles(t *testing.T) {
	cert, err := obslocal.NewSelfSignedCert(obslocal.SelfSignedHosts("obs.example"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tls")
	if err := cert.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	if err := cert.WriteFiles(dir); err != nil { // replacing is fine
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, obslocal.CertFile), filepath.Join(dir, obslocal.KeyFile)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, obslocal.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, obslocal.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	certPEM, _ := os.ReadFile(filepath.Join(dir, obslocal.CertFile))
	block, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost", "obs.example", "bucket.obs.example"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"a.b.obs.example", "obs.other", "10.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err == nil {
			t.Errorf("%s verified", name)
		}
	}
}

// TestSSECNeedsHTTPS: over plain HTTP every request with SSE-C headers is
// refused with 400 InvalidRequest and nothing is stored, in the OBS and S3
// header prefixes; over HTTPS the same requests succeed.
func TestSSECNeedsHTTPS(t *testing.T) {
	key := make([]byte, 32)
	sum := md5.Sum(key)
	ssec := func(p string) map[string]string {
		return map[string]string{p + "server-side-encryption-customer-algorithm": "AES256",
			p + "server-side-encryption-customer-key":     base64.StdEncoding.EncodeToString(key),
			p + "server-side-encryption-customer-key-MD5": base64.StdEncoding.EncodeToString(sum[:])}
	}
	const want = "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."
	plain, _ := obslocaltest.Start(t)
	c := newRaw(t, plain)
	b := "/" + obslocaltest.Bucket
	for _, v4 := range []string{"", obslocal.UnsignedPayload} {
		p := "x-obs-"
		if v4 != "" {
			p = "x-amz-"
		}
		c.expectErrMessage(rawReq{method: "POST", path: b + "/k?uploads", hdr: ssec(p), v4Payload: v4}, 400, "InvalidRequest", want)
		c.expectErrMessage(rawReq{method: "PUT", path: b + "/k", body: strings.NewReader("abc"), size: 3, hdr: ssec(p), v4Payload: v4}, 400, "InvalidRequest", want)
		if resp, _ := c.do(rawReq{method: "HEAD", path: b + "/k", hdr: ssec(p), v4Payload: v4}); resp.StatusCode != 400 {
			t.Fatalf("SSE-C HEAD over HTTP: %d", resp.StatusCode)
		}
		// One SSE-C header is enough.
		one := map[string]string{p + "server-side-encryption-customer-key": base64.StdEncoding.EncodeToString(key)}
		c.expectErrMessage(rawReq{method: "POST", path: b + "/k?uploads", hdr: one, v4Payload: v4}, 400, "InvalidRequest", want)
	}
	id := c.initiate(obslocaltest.Bucket, "k", nil)
	c.expectErrMessage(rawReq{method: "PUT", path: b + "/k?partNumber=1&uploadId=" + id, body: strings.NewReader("abc"), size: 3, hdr: ssec("x-obs-")}, 400, "InvalidRequest", want)
	if ups := plain.OpenUploads(obslocaltest.Bucket); len(ups) != 1 || ups[0].Parts != 0 {
		t.Fatalf("uploads after refused SSE-C requests: %+v", ups)
	}
	if _, _, err := plain.ObjectSHA256(obslocaltest.Bucket, "k"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an SSE-C PUT over HTTP stored the object: %v", err)
	}

	secure, _ := obslocaltest.Start(t, obslocaltest.WithSelfSignedTLS())
	cs := newRaw(t, secure)
	if resp, body := cs.do(rawReq{method: "PUT", path: b + "/k", body: strings.NewReader("abc"), size: 3, hdr: ssec("x-obs-")}); resp.StatusCode != 200 {
		t.Fatalf("SSE-C PUT over HTTPS: %d %s", resp.StatusCode, body)
	}
	if id := cs.initiate(obslocaltest.Bucket, "k", ssec("x-obs-")); id == "" {
		t.Fatal("SSE-C initiate over HTTPS")
	}
}
