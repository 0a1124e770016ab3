package provider

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// testServer is the local OBS-compatible server of one test, with the
// configuration of a client that reaches it.
type testServer struct {
	*obslocal.Server
	client obs.Config
	caFile string // the CA of a server started with WithSelfSignedTLS, or ""
}

// newTestServer starts the local OBS server, as opts change it. The
// provider reaches it by virtual-hosted addressing
// (http://tf-test.obs.local:PORT/key) through the server's loopback dialer,
// so it signs with the native OBS signature. With
// obslocaltest.WithSelfSignedTLS the endpoint is https:// and the provider
// trusts the server's CA through ca_file (SSE-C needs HTTPS).
func newTestServer(t *testing.T, opts ...obslocaltest.Option) *testServer {
	t.Helper()
	srv, client := obslocaltest.Start(t, opts...)
	s := &testServer{Server: srv, client: client}
	if cert := srv.SelfSignedCert(); cert != nil {
		dir := t.TempDir()
		if err := cert.WriteFiles(dir); err != nil {
			t.Fatalf("writing the local server's CA: %v", err)
		}
		s.caFile = filepath.Join(dir, obslocal.CAFile)
	}
	return s
}

// providerFactories serve a provider of the test's own whose connections
// all go to s.
func (s *testServer) providerFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return acctest.ProviderFactories(New("test", WithDialContext(s.client.DialContext))())
}

// providerConfig is the provider block for the local server, with extra
// arguments.
func (s *testServer) providerConfig(extra ...acctest.Arg) string {
	return acctest.ProviderBlock(append(s.providerArgs(s.client.Endpoint), extra...)...)
}

// providerArgs are the provider block's arguments for the local server at
// endpoint: credential, region, retries and, over HTTPS, its CA.
func (s *testServer) providerArgs(endpoint string) []acctest.Arg {
	args := []acctest.Arg{
		acctest.Attr("endpoint", endpoint),
		acctest.Attr("region", "local-1"),
		acctest.Attr("access_key", s.client.AccessKey),
		acctest.Attr("secret_key", s.client.SecretKey),
		acctest.Attr("max_retries", 1),
	}
	if s.caFile != "" {
		args = append(args, acctest.Attr("ca_file", s.caFile))
	}
	return args
}

// objectSHA256 returns the hex SHA-256 of the stored object ("" if missing).
func (s *testServer) objectSHA256(key string) string {
	sum, _, err := s.ObjectSHA256(obslocaltest.Bucket, key)
	if err != nil {
		return ""
	}
	return sum
}

func (s *testServer) openUploads() []obslocal.UploadInfo { return s.OpenUploads(obslocaltest.Bucket) }

func (s *testServer) partBytes() int64 {
	return s.Stats().Ops[obslocal.OpUploadPart].BodyBytes
}

// obsClient is an OBS client of the local server.
func (s *testServer) obsClient(t *testing.T) obs.Client {
	t.Helper()
	cfg := s.client
	cfg.MaxRetries, cfg.MaxConns = 1, 4
	c, err := obs.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
