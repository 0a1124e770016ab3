package obslocal

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"
)

// serve starts serving s.ln with a new http.Server, over TLS when the
// server has a TLS configuration.
func (s *Server) serve() {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	if s.cfg.Logf != nil {
		// TLS handshake failures (a client that does not trust the CA) land here.
		hs.ErrorLog = log.New(logfWriter(s.cfg.Logf), "obslocal: ", 0)
	}
	s.hs = hs
	ln := s.ln
	if s.tlsConf != nil {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	go func() { _ = hs.Serve(ln) }()
}

// enter admits a request to the handlers, holding the gate for reading until
// the caller releases it. A request that reached a server Restart has since
// replaced is turned away: it belongs to the process that died.
func (s *Server) enter(r *http.Request) bool {
	s.gate.RLock()
	if hs, _ := r.Context().Value(http.ServerContextKey).(*http.Server); hs != nil && hs != s.hs {
		s.gate.RUnlock()
		return false
	}
	return true
}

// Restart stops the server as a crash of its process would and starts it
// again on the same address and data directory. The listener and every
// connection are closed, so requests in flight see their connection reset
// and new ones are refused until the server is back. The handlers already
// running are let finish (an operation either took effect before the crash
// or did not; none is left half done), then everything the server knows is
// reloaded from the data directory, as a new process would, and it listens
// again. Faults and counters belong to the test and are kept.
//
// Restart must not run at the same time as Close, Shutdown or another
// Restart, nor as the methods that read the store out of band
// (ObjectSHA256, OpenUploads, ExpireUpload, PutObjectData, …); requests may
// arrive at any time.
func (s *Server) Restart() error {
	select {
	case <-s.done:
		return errors.New("obslocal: restart of a closed server")
	default:
	}
	if err := s.hs.Close(); err != nil {
		return fmt.Errorf("obslocal: stopping: %w", err)
	}
	// The listener too: Serve may not have taken it over yet.
	_ = s.ln.Close()
	s.gate.Lock()
	defer s.gate.Unlock()
	st, err := openStore(s.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("obslocal: reopening data dir: %w", err)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("obslocal: listening again: %w", err)
	}
	s.st, s.ln = st, ln
	s.serve()
	return nil
}

// WaitIdle returns once every request being handled when it was called has
// been handled (a request still on its way may arrive after).
func (s *Server) WaitIdle() {
	s.gate.Lock()
	s.gate.Unlock() //nolint:staticcheck // an empty critical section: waiting for the readers is the point
}
