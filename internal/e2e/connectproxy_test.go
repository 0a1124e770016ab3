package e2e

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// connectProxy is an HTTPS proxy as corporate networks run them: it serves
// only CONNECT and tunnels the TLS stream untouched. It stands in for DNS
// too: a tunnel to the domain or any name under it, on the local server's
// port, goes to the local server; every other target is refused. The
// provider reaches it through HTTPS_PROXY, so virtual-hosted names resolve
// without /etc/hosts and without a hook in the provider binary.
type connectProxy struct {
	t      *testing.T
	ln     net.Listener
	hs     *http.Server
	domain string
	target string // the local server's address, 127.0.0.1:PORT

	mu       sync.Mutex
	connects []string // CONNECT targets, in arrival order
	refused  []string // requests refused (another target or method)
	tunnels  map[net.Conn]struct{}
}

// startConnectProxy starts a proxy on loopback that routes names under
// domain to target; it stops with the test.
func startConnectProxy(t *testing.T, domain, target string) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{t: t, ln: ln, domain: domain, target: target, tunnels: map[net.Conn]struct{}{}}
	p.hs = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.hs.Serve(ln) }()
	t.Cleanup(p.close)
	return p
}

// URL is the proxy's address for HTTPS_PROXY.
func (p *connectProxy) URL() string { return "http://" + p.ln.Addr().String() }

// Connects returns the CONNECT targets seen so far (refused ones excluded).
func (p *connectProxy) Connects() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.connects...)
}

// Refused returns the requests the proxy refused, as "METHOD target".
func (p *connectProxy) Refused() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.refused...)
}

// routes reports whether a CONNECT to hostport goes to the local server.
func (p *connectProxy) routes(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	_, serverPort, _ := net.SplitHostPort(p.target)
	host = strings.ToLower(host)
	return port == serverPort && (host == p.domain || strings.HasSuffix(host, "."+p.domain))
}

func (p *connectProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect || !p.routes(r.Host) {
		p.mu.Lock()
		p.refused = append(p.refused, r.Method+" "+r.Host)
		p.mu.Unlock()
		http.Error(w, "this proxy tunnels only to the local OBS server", http.StatusForbidden)
		return
	}
	upstream, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	client, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		_ = upstream.Close()
		return
	}
	p.mu.Lock()
	p.connects = append(p.connects, r.Host)
	p.tunnels[client], p.tunnels[upstream] = struct{}{}, struct{}{}
	p.mu.Unlock()
	if _, err := client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		p.closeTunnel(client, upstream)
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		// The client may already have sent the TLS hello with CONNECT.
		_, _ = io.Copy(upstream, io.MultiReader(buf.Reader, client))
		closeWrite(upstream)
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(client, upstream)
		closeWrite(client)
	}()
	wg.Wait()
	p.closeTunnel(client, upstream)
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

func (p *connectProxy) closeTunnel(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(p.tunnels, c)
	}
}

// close stops the proxy and cuts every tunnel.
func (p *connectProxy) close() {
	_ = p.hs.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.tunnels {
		_ = c.Close()
	}
}
