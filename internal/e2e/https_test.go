package e2e

import (
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// httpsDomain is the virtual-host domain of the HTTPS cases. Names under
// .test never resolve (RFC 2606), so reaching BUCKET.httpsDomain proves the
// connection went through the proxy.
const httpsDomain = "obs.e2e.test"

// trust is how the provider block makes the provider trust the server's
// self-signed certificate.
type trust int

const (
	trustCAFile   trust = iota // ca_file = the server's CA
	trustInsecure              // insecure = true
	trustNothing               // neither: verification must fail
)

// tlsSetup is what an HTTPS env adds to a plain one.
type tlsSetup struct {
	caFile string
	proxy  *connectProxy
	trust  trust
}

// newHTTPSEnv starts the local server with HTTPS (a certificate for
// *.httpsDomain signed by a CA made for the test) and a CONNECT proxy in
// front of it, and configures terraform the way users run it by default:
// endpoint https://httpsDomain:PORT, virtual-hosted addressing, the OBS
// signature, ca_file, and HTTPS_PROXY (NO_PROXY empty).
func newHTTPSEnv(t *testing.T, opts ...obslocaltest.Option) *env {
	t.Helper()
	e := newEnv(t, append(opts, obslocaltest.WithSelfSignedTLS(), obslocaltest.WithDomain(httpsDomain))...)
	dir := filepath.Join(t.TempDir(), "tls")
	if err := e.srv.SelfSignedCert().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	e.tls = &tlsSetup{caFile: filepath.Join(dir, obslocal.CAFile), proxy: startConnectProxy(t, httpsDomain, e.srv.Addr())}
	// Go reads the upper-case names first, then the lower-case ones; an
	// empty value falls through, so both are set.
	e.tfEnv = append(e.tfEnv, "HTTPS_PROXY="+e.tls.proxy.URL(), "https_proxy="+e.tls.proxy.URL(),
		"NO_PROXY=", "no_proxy=", "HTTP_PROXY=", "http_proxy=")
	return e
}

// connection is the provider block's endpoint and addressing settings:
// path style over plain HTTP to the server's address, or the default
// (virtual-hosted) over HTTPS to its domain with the test's trust setting.
func (e *env) connection() []acctest.Arg {
	if e.tls == nil {
		return []acctest.Arg{acctest.Attr("endpoint", e.srv.URL()), acctest.Attr("path_style", true)}
	}
	args := []acctest.Arg{acctest.Attr("endpoint", "https://"+net.JoinHostPort(httpsDomain, e.port()))}
	switch e.tls.trust {
	case trustCAFile:
		args = append(args, acctest.Attr("ca_file", e.tls.caFile))
	case trustInsecure:
		args = append(args, acctest.Attr("insecure", true))
	}
	return args
}

func (e *env) port() string {
	_, p, _ := net.SplitHostPort(e.srv.Addr())
	return p
}

// bucketHost is the virtual-hosted Host of the test bucket.
func (e *env) bucketHost() string { return net.JoinHostPort(testBucket+"."+httpsDomain, e.port()) }

// expectProductionPath fails the test unless every request the server
// counted since the last reset arrived virtual-hosted (Host BUCKET.domain)
// and signed with the OBS signature, and every tunnel the proxy opened was
// CONNECT BUCKET.domain:PORT. It returns what it saw, for the row.
func (e *env) expectProductionPath() string {
	e.t.Helper()
	st, total := e.srv.Stats(), e.totalRequests()
	host := e.bucketHost()
	if total == 0 {
		e.t.Fatal("the server received no request: nothing to check")
	}
	if st.Hosts[host] != total || len(st.Hosts) != 1 {
		e.t.Fatalf("requests by Host: %v; want all %d virtual-hosted as %s", st.Hosts, total, host)
	}
	if st.Signatures["OBS"] != total || len(st.Signatures) != 1 {
		e.t.Fatalf("requests by signature scheme: %v; want all %d signed \"OBS AK:signature\"", st.Signatures, total)
	}
	connects := e.tls.proxy.Connects()
	if len(connects) == 0 {
		e.t.Fatal("the proxy opened no tunnel: the provider did not use HTTPS_PROXY")
	}
	for _, c := range connects {
		if c != host {
			e.t.Fatalf("the proxy saw CONNECT %s; want only CONNECT %s (all: %v)", c, host, connects)
		}
	}
	if r := e.tls.proxy.Refused(); len(r) > 0 {
		e.t.Fatalf("the proxy refused %v", r)
	}
	shown := testBucket + "." + httpsDomain + ":PORT" // the port changes from run to run
	return fmt.Sprintf("%d request(s), all with Host %s and an OBS signature; %d CONNECT %s tunnel(s) through the proxy",
		total, shown, len(connects), shown)
}

// The default configuration — HTTPS with a private CA, virtual-hosted
// addressing, the OBS signature, through a proxy — survives an interrupted
// create and resumes like plain HTTP does.
func TestHTTPSDefaultConfiguration(t *testing.T) {
	t.Parallel()
	row := record(t, "default configuration: https:// endpoint with ca_file, virtual-hosted, OBS signature, via HTTPS_PROXY; SIGINT mid-upload",
		"every request tunnels through the proxy (CONNECT BUCKET.domain:PORT), is addressed virtual-hosted and signed with the OBS signature; "+
			"the next apply resumes sending only the missing parts (+ at most one part per worker); empty plan; destroy removes the object")
	e := newHTTPSEnv(t)
	key := "https/sigint.bin"
	p, sum := startSlowUpload(e, key, 4)
	p.signal(t, syscall.SIGINT, false)
	r := p.wait(t)
	if r.exitCode == 0 {
		t.Fatalf("interrupted apply exited 0: %s", r)
	}
	expectOutput(t, r, `The upload was interrupted`, `Run terraform apply again to resume`)
	row.observe("interrupted apply: %s", e.expectProductionPath())
	resumeAndCheck(e, key, sum, row, `Resuming upload \S+: \d+ of 16 parts already uploaded`)
	if r := e.run("destroy", "-auto-approve", "-input=false", "-no-color"); r.exitCode != 0 {
		t.Fatalf("destroy failed: %s", r)
	}
	e.expectNoObject(key)
	e.expectNoOpenUploads()
	row.observe("resume, plan and destroy: %s", e.expectProductionPath())
}

// insecure = true without ca_file skips verification of the server's
// certificate.
func TestHTTPSInsecure(t *testing.T) {
	t.Parallel()
	row := record(t, "https:// endpoint with insecure = true and no ca_file",
		"the upload succeeds without verifying the certificate; empty plan")
	e := newHTTPSEnv(t)
	e.tls.trust = trustInsecure
	key := "https/insecure.bin"
	src, sum := e.writeSource("data.bin", faultSize, 21)
	e.writeConfig(e.providerBlock() + objectBlock("o", key, src, faultPartSize, 4))
	e.apply()
	e.expectObject(key, sum)
	e.expectEmptyPlan()
	row.observe("%s", e.expectProductionPath())
}

// A certificate the provider cannot verify is a configuration error: one
// diagnostic that names both fixes, no retries.
func TestHTTPSUntrustedCertificate(t *testing.T) {
	t.Parallel()
	const concurrency = 4
	row := record(t, "https:// endpoint whose certificate is signed by an unknown CA (neither ca_file nor insecure)",
		"the apply fails within seconds with one diagnostic naming the certificate problem, ca_file and insecure; "+
			"no retries (at most one TLS handshake per worker)")
	e := newHTTPSEnv(t)
	e.tls.trust = trustNothing
	src, _ := e.writeSource("data.bin", faultSize, 22)
	e.writeConfig(e.providerBlock() + objectBlock("o", "https/untrusted.bin", src, faultPartSize, concurrency))
	r := e.applyFails()
	tunnels := len(e.tls.proxy.Connects())
	row.observe("exit %d after %.1f s, %d error diagnostic(s), %d TLS handshake(s) through the proxy, %d request(s) reached the server",
		r.exitCode, r.elapsed.Seconds(), errorCount(r.output), tunnels, e.totalRequests())
	if r.exitCode != 1 {
		t.Fatalf("exit %d, want 1: %s", r.exitCode, r)
	}
	expectOutput(t, r, `x509: certificate signed by unknown authority`, `TLS certificate could not be verified`, `ca_file`, `insecure = true`)
	if n := errorCount(r.output); n != 1 {
		t.Fatalf("%d error diagnostics, want 1: %s", n, r)
	}
	if tunnels == 0 || tunnels > concurrency {
		t.Fatalf("%d TLS handshakes, want between 1 and %d (one per worker): the certificate error was retried", tunnels, concurrency)
	}
	if n := e.totalRequests(); n != 0 {
		t.Fatalf("%d requests reached the server through an unverified connection", n)
	}
	if r.elapsed > 15*time.Second {
		t.Fatalf("the apply took %s to report a certificate error, want seconds", r.elapsed)
	}
	e.expectNoOpenUploads()
}

// Temporary credentials: the token goes with every request; when it expires
// mid-upload the apply stops, keeps its progress, and the next apply with
// the new token resumes.
func TestSecurityTokenExpiresMidUpload(t *testing.T) {
	t.Parallel()
	const (
		token1 = "e2e-sts-token-one-0123456789"
		token2 = "e2e-sts-token-two-9876543210"
	)
	row := record(t, "temporary credentials (security_token) expire mid-upload; the next apply has a new token",
		"every request carries the token; the apply stops with the expired-token hint and \"Progress is kept\"; "+
			"the next apply resumes and sends only the missing parts (+ at most one part per worker)")
	e := newHTTPSEnv(t, obslocaltest.WithSecurityToken(token1))
	e.tfEnv = append(e.tfEnv, "HW_SECURITY_TOKEN="+token1)
	key := "https/sts.bin"
	p, sum := startSlowUpload(e, key, 4)
	if err := e.srv.SetSecurityToken(obslocaltest.AccessKey, token2); err != nil {
		t.Fatal(err)
	}
	r := p.wait(t)
	if r.exitCode == 0 {
		t.Fatalf("the apply succeeded with an expired token: %s", r)
	}
	expectOutput(t, r, `403 InvalidAccessKeyId: The security token is invalid\.`, `security_token \(HW_SECURITY_TOKEN\)`,
		`Progress is kept: upload \S+ has \d+ part\(s\)`)
	if n := errorCount(r.output); n != 1 {
		t.Fatalf("%d error diagnostics, want 1: %s", n, r)
	}
	st := e.srv.Stats()
	refused := st.Ops[obslocal.OpUploadPart].Errors
	row.observe("expired after %d of %d parts: exit %d, %d refused part request(s)", e.openParts(), slowParts, r.exitCode, refused)
	if total := e.totalRequests(); st.WithSecurityToken != total {
		t.Fatalf("%d of %d requests carried the security token", st.WithSecurityToken, total)
	}
	if refused == 0 {
		t.Fatalf("no part request was refused: the token did not expire mid-upload: %s", r)
	}
	e.tfEnv = append(e.tfEnv, "HW_SECURITY_TOKEN="+token2) // the last value wins
	resumeAndCheck(e, key, sum, row, `(?i)resuming upload \S+`)
	st = e.srv.Stats()
	if total := e.totalRequests(); st.WithSecurityToken != total || st.Ops[obslocal.OpUploadPart].Errors != 0 {
		t.Fatalf("resumed apply: %d of %d requests carried the token, %d part errors", st.WithSecurityToken, total,
			st.Ops[obslocal.OpUploadPart].Errors)
	}
	row.observe("%s", e.expectProductionPath())
}

// SSE-C sends the customer key in a header, so OBS refuses it over plain
// HTTP; the provider refuses it at plan, before the key leaves the machine.
func TestSSECNeedsHTTPS(t *testing.T) {
	t.Parallel()
	row := record(t, "sse_c_key with an http:// endpoint",
		"plan fails with one error on sse_c_key that asks for an https:// endpoint; nothing is sent")
	e := newEnv(t)
	src, _ := e.writeSource("data.bin", faultSize, 23)
	e.writeConfig(e.providerBlock() + objectBlock("o", "secrets/plain-http.bin", src, faultPartSize, 2,
		acctest.Attr("sse_c_key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")))
	r := e.run("plan", "-input=false", "-no-color")
	row.observe("plan exit %d, %d error diagnostic(s), %d request(s) to the server", r.exitCode, errorCount(r.output), e.totalRequests())
	if r.exitCode == 0 {
		t.Fatalf("plan accepted sse_c_key over http://: %s", r)
	}
	expectOutput(t, r, `SSE-C needs HTTPS`, `with obs_object_multipart\.o`, `sse_c_key`, `https://`)
	if n := errorCount(r.output); n != 1 {
		t.Fatalf("%d error diagnostics, want 1: %s", n, r)
	}
	if n := e.requests(obslocal.OpInitiateMultipartUpload) + e.requests(obslocal.OpPutObject) + e.requests(obslocal.OpUploadPart); n != 0 {
		t.Fatalf("%d upload request(s) were sent", n)
	}
}
