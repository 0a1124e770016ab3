package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
)

const (
	testAccessKey = "TESTAK0123456789"
	testSecretKey = "test-secret-key-that-must-never-leak"
	testBucket    = "tf-test"
	testDomain    = "obs.local"
)

func TestMain(m *testing.M) {
	// Keep the fingerprint→hash cache of the tests out of the user's cache.
	cache, err := os.MkdirTemp("", "obs-provider-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	code := m.Run()
	os.RemoveAll(cache)
	os.Exit(code)
}

// testServer is the local OBS-compatible server for one test.
type testServer struct {
	*obslocal.Server
	t *testing.T
}

// startServer starts the local OBS server and routes the provider's
// connections to it, so the provider signs with the native OBS signature over
// virtual-hosted addressing (http://tf-test.obs.local:PORT/key).
func startServer(t *testing.T) *testServer {
	t.Helper()
	srv, err := obslocal.Start(obslocal.Config{
		Credentials: []obslocal.Credential{{AccessKey: testAccessKey, SecretKey: testSecretKey}},
		Buckets:     []string{testBucket},
		Domain:      testDomain,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &testServer{Server: srv, t: t}
}

// providerFactories serve a provider whose connections all go to s.
func (s *testServer) providerFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	addr := s.Addr()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return map[string]func() (tfprotov6.ProviderServer, error){
		"obs": providerserver.NewProtocol6WithError(New("test", WithDialContext(dial))()),
	}
}

func (s *testServer) port() string {
	_, p, _ := net.SplitHostPort(s.Addr())
	return p
}

// providerConfig is the provider block for the local server.
func (s *testServer) providerConfig() string {
	return fmt.Sprintf(`
provider "obs" {
  endpoint    = "http://%s:%s"
  region      = "local-1"
  access_key  = %q
  secret_key  = %q
  max_retries = 1
}
`, testDomain, s.port(), testAccessKey, testSecretKey)
}

// objectSHA256 returns the hex SHA-256 of the stored object ("" if missing).
func (s *testServer) objectSHA256(key string) string {
	sum, _, err := s.ObjectSHA256(testBucket, key)
	if err != nil {
		return ""
	}
	return sum
}

func (s *testServer) openUploads() []obslocal.UploadInfo { return s.OpenUploads(testBucket) }

func (s *testServer) partBytes() int64 {
	return s.Stats().Ops[obslocal.OpUploadPart].BodyBytes
}

func testProviderFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"obs": providerserver.NewProtocol6WithError(New("test")()),
	}
}

// writeSource writes n pseudo-random bytes (seeded) to dir/name and returns
// the path and the content's hex SHA-256.
func writeSource(t *testing.T, dir, name string, n int, seed byte) (string, string) {
	t.Helper()
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return p, hex.EncodeToString(sum[:])
}

func hcl(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }
