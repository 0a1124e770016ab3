package provider

import (
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
}

// newTestServer starts the local OBS server. The provider reaches it by
// virtual-hosted addressing (http://tf-test.obs.local:PORT/key) through the
// server's loopback dialer, so it signs with the native OBS signature.
func newTestServer(t *testing.T) *testServer {
	srv, client := obslocaltest.Start(t)
	return &testServer{Server: srv, client: client}
}

// providerFactories serve a provider of the test's own whose connections
// all go to s.
func (s *testServer) providerFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return acctest.ProviderFactories(New("test", WithDialContext(s.client.DialContext))())
}

// providerConfig is the provider block for the local server, with extra
// arguments.
func (s *testServer) providerConfig(extra ...acctest.Arg) string {
	return acctest.ProviderBlock(append([]acctest.Arg{
		acctest.Attr("endpoint", s.client.Endpoint),
		acctest.Attr("region", "local-1"),
		acctest.Attr("access_key", s.client.AccessKey),
		acctest.Attr("secret_key", s.client.SecretKey),
		acctest.Attr("max_retries", 1),
	}, extra...)...)
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
