// Package obslocaltest starts the local OBS server for a test and describes
// a client of it: one helper for every suite that runs against obslocal.
package obslocaltest

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
)

// The standard test credential, bucket and virtual-host domain of a server
// started by Start.
const (
	AccessKey = "TESTAK0123456789"
	SecretKey = "test-secret-key-that-must-never-leak"
	Bucket    = "tf-test"
	Domain    = "obs.local"
)

// An Option changes the server's configuration before it starts.
type Option func(*obslocal.Config)

// WithCredentials replaces the standard credential: the server accepts
// these instead. The client configuration Start returns uses the first.
func WithCredentials(creds ...obslocal.Credential) Option {
	return func(c *obslocal.Config) { c.Credentials = creds }
}

// WithSecurityToken makes the standard credential a temporary one: every
// request must carry token.
func WithSecurityToken(token string) Option {
	return WithCredentials(obslocal.Credential{AccessKey: AccessKey, SecretKey: SecretKey, SecurityToken: token})
}

// WithBuckets replaces the standard bucket: these are created instead.
func WithBuckets(buckets ...string) Option {
	return func(c *obslocal.Config) { c.Buckets = buckets }
}

// WithRegion makes the server require region in SigV4 credential scopes.
func WithRegion(region string) Option {
	return func(c *obslocal.Config) { c.Region = region }
}

// WithDomain replaces the standard virtual-host domain.
func WithDomain(domain string) Option {
	return func(c *obslocal.Config) { c.Domain = domain }
}

// WithDataDir keeps the server's data in dir (which outlives the server, so
// that a server started again on dir finds it) instead of a temporary
// directory removed on close.
func WithDataDir(dir string) Option {
	return func(c *obslocal.Config) { c.DataDir = dir }
}

// WithAddr makes the server listen on addr instead of a free loopback port.
func WithAddr(addr string) Option {
	return func(c *obslocal.Config) { c.Addr = addr }
}

// WithSelfSignedTLS makes the server speak HTTPS with a certificate of its
// own CA (obslocal.Config.SelfSignedTLS); the client configuration Start
// returns uses https and trusts that CA.
func WithSelfSignedTLS() Option {
	return func(c *obslocal.Config) { c.SelfSignedTLS = true }
}

// WithTLS makes the server speak HTTPS with cfg (obslocal.Config.TLS). The
// client configuration Start returns trusts only the system roots then.
func WithTLS(cfg *tls.Config) Option {
	return func(c *obslocal.Config) { c.TLS = cfg }
}

// Start starts a local OBS server with the standard credential, bucket and
// domain (as changed by opts) and closes it when the test ends. It returns
// the server and the configuration of a client that reaches it by the
// virtual-hosted name BUCKET.obs.local:PORT, signs with the OBS signature
// and retries after a millisecond or so (not the production backoff).
func Start(t testing.TB, opts ...Option) (*obslocal.Server, obs.Config) {
	t.Helper()
	cfg := obslocal.Config{
		Credentials: []obslocal.Credential{{AccessKey: AccessKey, SecretKey: SecretKey}},
		Buckets:     []string{Bucket},
		Domain:      Domain,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := obslocal.Start(cfg)
	if err != nil {
		t.Fatalf("starting the local OBS server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(srv.Addr())
	scheme := "http"
	if cfg.TLS != nil || cfg.SelfSignedTLS {
		scheme = "https"
	}
	var ca []byte
	if cert := srv.SelfSignedCert(); cert != nil {
		ca = cert.CAPEM
	}
	client := obs.Config{
		Endpoint:       scheme + "://" + cfg.Domain + ":" + port,
		CACertPEM:      ca,
		Region:         cfg.Region,
		Signature:      obs.SignatureOBS,
		MaxRetries:     3,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  5 * time.Millisecond,
		DialContext:    DialContext(srv.Addr()),
	}
	if len(cfg.Credentials) > 0 {
		cr := cfg.Credentials[0]
		client.AccessKey, client.SecretKey, client.SecurityToken = cr.AccessKey, cr.SecretKey, cr.SecurityToken
	}
	return srv, client
}

// DialContext returns a dialer that connects to addr whatever address it is
// asked for, so that virtual-hosted names such as bucket.obs.local:PORT
// reach the local server without DNS.
func DialContext(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
}
