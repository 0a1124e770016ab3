package obs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// TestIsCertificateError: certificate verification failures are recognised
// however they are wrapped, and are not retryable; other transport errors
// are not certificate errors.
func TestIsCertificateError(t *testing.T) {
	wrap := func(err error) error {
		// As the client returns it: *Error around the SDK's *url.Error.
		return &obs.Error{Op: "HeadObject", Bucket: "b", Key: "k", Err: &url.Error{Op: "Head", URL: "https://b.example/k", Err: err}}
	}
	certErrs := map[string]error{
		"unknown authority": &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
		"hostname mismatch": &tls.CertificateVerificationError{Err: x509.HostnameError{Host: "b.example"}},
		"expired":           &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}},
		"bare x509 error":   x509.UnknownAuthorityError{},
		"no system roots":   fmt.Errorf("verifying: %w", x509.SystemRootsError{}),
	}
	for name, err := range certErrs {
		if !obs.IsCertificateError(err) || !obs.IsCertificateError(wrap(err)) {
			t.Errorf("%s: not a certificate error", name)
		}
		if obs.IsRetryable(wrap(err)) {
			t.Errorf("%s: retryable", name)
		}
	}
	others := map[string]error{
		"nil":             nil,
		"reset":           syscall.ECONNRESET,
		"eof":             io.ErrUnexpectedEOF,
		"not TLS":         tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"},
		"handshake alert": tls.AlertError(40),
		"canceled":        context.Canceled,
	}
	for name, err := range others {
		if obs.IsCertificateError(err) || obs.IsCertificateError(wrap(err)) {
			t.Errorf("%s: a certificate error", name)
		}
	}
	if !obs.IsRetryable(wrap(syscall.ECONNRESET)) {
		t.Error("a connection reset is no longer retryable")
	}
}

// countingDial counts the connections a client opens.
func countingDial(n *atomic.Int32, to string) func(context.Context, string, string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		if to != "" {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
}

// TestCertificateErrorNotRetried: against a TLS server whose CA the client
// does not trust, a request is attempted once — one connection, one
// handshake, no HTTP request — and fails with a certificate error, although
// retries are allowed.
func TestCertificateErrorNotRetried(t *testing.T) {
	var hellos, handled, dials atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handled.Add(1) }))
	srv.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		hellos.Add(1)
		return nil, nil
	}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
	srv.StartTLS()
	defer srv.Close()

	c, err := obs.New(obs.Config{
		Endpoint: srv.URL, AccessKey: "AK", SecretKey: "SK", PathStyle: true,
		MaxRetries: 5, RetryBaseDelay: time.Millisecond, RetryMaxDelay: 10 * time.Millisecond,
		DialContext: countingDial(&dials, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.HeadObject(context.Background(), obs.HeadInput{Bucket: "b", Key: "k"})
	took := time.Since(start)
	if !obs.IsCertificateError(err) {
		t.Fatalf("err = %v, want a certificate error", err)
	}
	if h, d, r := hellos.Load(), dials.Load(), handled.Load(); h != 1 || d != 1 || r != 0 {
		t.Fatalf("%d handshakes, %d connections, %d requests handled; want 1, 1, 0 (%v)", h, d, r, took)
	}
	t.Logf("failed in %v: %v", took, err)
}

// TestCertificateErrorsAgainstObslocal: with obslocal's CA trusted the
// client works over HTTPS with virtual-hosted OBS signing; a host name the
// certificate does not cover fails once with a certificate error.
func TestCertificateErrorsAgainstObslocal(t *testing.T) {
	s, _ := obslocaltest.Start(t, obslocaltest.WithSelfSignedTLS())
	_, port, _ := net.SplitHostPort(s.Addr())
	client := func(host string, dials *atomic.Int32) obs.Client {
		t.Helper()
		c, err := obs.New(obs.Config{
			Endpoint: "https://" + host + ":" + port, AccessKey: obslocaltest.AccessKey, SecretKey: obslocaltest.SecretKey,
			CACertPEM:  s.SelfSignedCert().CAPEM,
			MaxRetries: 5, RetryBaseDelay: time.Millisecond, RetryMaxDelay: 10 * time.Millisecond,
			DialContext: countingDial(dials, s.Addr()),
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	var okDials, badDials atomic.Int32
	if _, err := client("obs.local", &okDials).ListParts(ctx, obs.ListPartsInput{Bucket: obslocaltest.Bucket, Key: "k", UploadID: "none"}); !obs.IsNoSuchUpload(err) {
		t.Fatalf("with the CA trusted: %v, want NoSuchUpload from the server", err)
	}
	_, err := client("obs.other", &badDials).ListParts(ctx, obs.ListPartsInput{Bucket: obslocaltest.Bucket, Key: "k", UploadID: "none"})
	var host x509.HostnameError
	if !obs.IsCertificateError(err) || !errors.As(err, &host) {
		t.Fatalf("host not in the certificate: %v, want x509.HostnameError", err)
	}
	if n := badDials.Load(); n != 1 {
		t.Fatalf("%d connections for a certificate error, want 1", n)
	}
}
