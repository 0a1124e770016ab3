package s3compat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// faultProxy is a TCP proxy in front of versitygw that reads the HTTP
// requests passing through (without changing a byte, so SigV4 signatures
// stay valid), counts them and their body bytes, and can reset the
// connection of chosen requests part-way through their body.
type faultProxy struct {
	ln       net.Listener
	upstream string

	mu       sync.Mutex
	requests []*proxiedRequest
	rules    []resetRule
	errs     []error
	conns    map[net.Conn]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// proxiedRequest is one request seen by the proxy.
type proxiedRequest struct {
	Method string
	Path   string
	Query  url.Values
	// Header holds the request headers (canonical names).
	Header textproto.MIMEHeader
	// BodyBytes is how many body bytes were forwarded to the server.
	BodyBytes int64
	// Reset is true when the proxy cut the request off.
	Reset bool
}

// partNumber returns the part number of an UploadPart request, else 0.
func (r proxiedRequest) partNumber() int {
	if r.Method != "PUT" || r.Query.Get("uploadId") == "" {
		return 0
	}
	n, _ := strconv.Atoi(r.Query.Get("partNumber"))
	return n
}

// resetRule resets the connection of every UploadPart request for
// PartNumber after AfterBytes bytes of its body were forwarded.
type resetRule struct {
	PartNumber int
	AfterBytes int64
}

func startProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		p.close()
		for _, err := range p.errors() {
			t.Errorf("proxy: %v", err)
		}
	})
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// resetPart makes the proxy reset every UploadPart of part n after after
// body bytes, until clearFaults.
func (p *faultProxy) resetPart(n int, after int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, resetRule{PartNumber: n, AfterBytes: after})
}

func (p *faultProxy) clearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// reset forgets the requests seen so far.
func (p *faultProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = nil
}

// seen returns a copy of the requests seen since the last reset.
func (p *faultProxy) seen() []proxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]proxiedRequest, len(p.requests))
	for i, r := range p.requests {
		out[i] = *r
	}
	return out
}

func (p *faultProxy) errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

func (p *faultProxy) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.errs = append(p.errs, err)
	}
}

func (p *faultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *faultProxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *faultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

// handle forwards one client connection. Responses are copied back as they
// are; requests are parsed one by one (keep-alive) so each can be counted
// and, when a rule says so, cut off with a TCP reset.
func (p *faultProxy) handle(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	defer client.Close()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		p.fail(fmt.Errorf("dialing versitygw: %w", err))
		return
	}
	if !p.track(up) {
		return
	}
	defer p.untrack(up)
	defer up.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(client, up)
		client.Close()
	}()
	defer func() { <-done }()

	br := bufio.NewReader(client)
	for {
		head, req, err := readHead(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !isClosed(err) {
				p.fail(err)
			}
			up.Close()
			return
		}
		if _, err := up.Write(head); err != nil {
			return
		}
		limit := int64(-1)
		p.mu.Lock()
		rec := &proxiedRequest{Method: req.Method, Path: req.Path, Query: req.Query, Header: req.Header}
		p.requests = append(p.requests, rec)
		if n := req.partNumber(); n > 0 {
			for _, r := range p.rules {
				if r.PartNumber == n {
					limit = r.AfterBytes
				}
			}
		}
		p.mu.Unlock()

		counted := func(n int64) {
			p.mu.Lock()
			rec.BodyBytes += n
			p.mu.Unlock()
		}
		var cut bool
		switch {
		case req.chunked:
			err = copyChunked(up, br, counted)
		default:
			n := req.contentLength
			if limit >= 0 && limit < n {
				n, cut = limit, true
			}
			var w int64
			w, err = io.CopyN(up, br, n)
			counted(w)
		}
		if err != nil {
			up.Close()
			return
		}
		if cut {
			p.mu.Lock()
			rec.Reset = true
			p.mu.Unlock()
			abort(client)
			abort(up)
			return
		}
	}
}

// abort closes c with a TCP RST (SO_LINGER 0) instead of a FIN.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "connection reset")
}

type parsedRequest struct {
	proxiedRequest
	contentLength int64
	chunked       bool
}

// readHead reads a request line and headers and returns their raw bytes.
func readHead(br *bufio.Reader) ([]byte, parsedRequest, error) {
	var raw []byte
	var pr parsedRequest
	line, err := br.ReadString('\n')
	if err != nil {
		if line == "" {
			return nil, pr, io.EOF
		}
		return nil, pr, err
	}
	raw = append(raw, line...)
	f := strings.Fields(line)
	if len(f) != 3 {
		return nil, pr, fmt.Errorf("malformed request line %q", line)
	}
	u, err := url.ParseRequestURI(f[1])
	if err != nil {
		return nil, pr, fmt.Errorf("request target %q: %w", f[1], err)
	}
	pr.Method, pr.Path, pr.Query = f[0], u.Path, u.Query()
	pr.Header = textproto.MIMEHeader{}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, pr, err
		}
		raw = append(raw, l...)
		if l == "\r\n" || l == "\n" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		pr.Header.Add(name, value)
		switch name {
		case "Content-Length":
			pr.contentLength, err = strconv.ParseInt(value, 10, 64)
			if err != nil {
				return nil, pr, fmt.Errorf("bad Content-Length %q", value)
			}
		case "Transfer-Encoding":
			pr.chunked = strings.EqualFold(value, "chunked")
		}
	}
	return raw, pr, nil
}

// copyChunked forwards a chunked body unchanged, counting its data bytes.
func copyChunked(w io.Writer, br *bufio.Reader, counted func(int64)) error {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
		sizeField, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		size, err := strconv.ParseInt(sizeField, 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			for { // trailers, then the empty line
				l, err := br.ReadString('\n')
				if err != nil {
					return err
				}
				if _, err := io.WriteString(w, l); err != nil {
					return err
				}
				if l == "\r\n" || l == "\n" {
					return nil
				}
			}
		}
		n, err := io.CopyN(w, br, size+2) // data and CRLF
		counted(max(n-2, 0))
		if err != nil {
			return err
		}
	}
}
