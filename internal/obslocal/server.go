// Package obslocal is a local OBS-compatible server: the test bed for the
// provider's tests, the demo backend and a fault injector.
//
// It verifies signatures exactly (OBS, AWS V2 and SigV4 header form), enforces
// OBS's limits and error codes for the object, multipart and server-side copy
// operations, keeps data under a directory that survives restarts, and
// streams every body to disk so memory stays constant whatever the object
// size; objects of zeros can be held as sparse files (PutSparseObject) to
// test sizes beyond the disk. It speaks HTTP,
// or HTTPS with a given or a self-signed certificate (SSE-C requires HTTPS,
// as on OBS).
package obslocal

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Credential is an access key the server accepts. A non-empty SecurityToken
// makes it a temporary credential: every request must then carry the token.
type Credential struct{ AccessKey, SecretKey, SecurityToken string }

// Config configures a Server.
type Config struct {
	Addr        string // default "127.0.0.1:0"
	DataDir     string // "" → a temp dir removed by Close
	Credentials []Credential
	Buckets     []string // created at start if missing
	// Domain is the virtual-host base domain, default "obs.local": Host
	// "b.obs.local:PORT" addresses bucket b; any other host is path style.
	Domain string
	// Region, when set, must match the region of SigV4 credential scopes.
	Region string
	// MinPartSize is the smallest size of every part but the last, default
	// 100 KiB (OBS 3.0); it may be raised (5 MiB for OBS 2.0), never lowered.
	MinPartSize int64
	Logf        func(format string, args ...any) // optional request log

	// TLS, when set, makes the server speak HTTPS (HTTP/1.1) with it; it
	// must hold the server's certificate. HTTP is the default.
	TLS *tls.Config
	// SelfSignedTLS makes the server speak HTTPS with a certificate for
	// SelfSignedHosts(Domain), signed by a CA created at start (see
	// Server.SelfSignedCert). It excludes TLS.
	SelfSignedTLS bool
}

const (
	defaultMinPartSize = 100 * 1024
	maxPartSize        = 5 << 30
	maxPutSize         = 5 << 30
	maxMetadataSize    = 8 * 1024
	maxKeyLength       = 1024
	adminPrefix        = "/__obslocal/"
)

// Server is a running local OBS server.
type Server struct {
	cfg     Config
	st      *store
	ln      net.Listener
	tlsConf *tls.Config     // nil for plain HTTP
	scheme  string          // "http" or "https"
	cert    *SelfSignedCert // with SelfSignedTLS
	credMu  sync.RWMutex    // guards cfg.Credentials (security tokens change)
	hs      *http.Server
	addr    string // the listening address, kept across restarts
	// gate is held for reading by each request while it is handled and
	// for writing by Restart while it swaps the store and the listener.
	gate    sync.RWMutex
	tempDir bool
	offset  atomic.Int64
	reqSeq  atomic.Uint64
	faults  faultSet
	stats   *counters
	closeMu sync.Once
	done    chan struct{}
}

// Start starts a server; it is listening when Start returns.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Domain == "" {
		cfg.Domain = "obs.local"
	}
	if cfg.MinPartSize < defaultMinPartSize {
		cfg.MinPartSize = defaultMinPartSize
	}
	cfg.Credentials = append([]Credential(nil), cfg.Credentials...) // SetSecurityToken changes them
	s := &Server{cfg: cfg, stats: newCounters(), done: make(chan struct{}), scheme: "http"}
	tlsConf, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		d, err := os.MkdirTemp("", "obslocal-")
		if err != nil {
			return nil, err
		}
		s.cfg.DataDir, s.tempDir = d, true
	}
	st, err := openStore(s.cfg.DataDir)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("obslocal: opening data dir: %w", err)
	}
	s.st = st
	for _, b := range cfg.Buckets {
		if !validBucketName(b) {
			s.cleanup()
			return nil, fmt.Errorf("obslocal: invalid bucket name %q", b)
		}
		if _, err := st.createBucket(b, s.now()); err != nil {
			s.cleanup()
			return nil, fmt.Errorf("obslocal: creating bucket %s: %w", b, err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("obslocal: %w", err)
	}
	s.ln, s.addr, s.tlsConf = ln, ln.Addr().String(), tlsConf
	s.serve()
	return s, nil
}

// logfWriter adapts a Logf function to an io.Writer of log lines.
type logfWriter func(format string, args ...any)

func (f logfWriter) Write(p []byte) (int, error) {
	f("%s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// tlsConfig returns the server's TLS configuration, nil for plain HTTP.
func (s *Server) tlsConfig() (*tls.Config, error) {
	var conf *tls.Config
	switch {
	case s.cfg.TLS != nil && s.cfg.SelfSignedTLS:
		return nil, errors.New("obslocal: TLS and SelfSignedTLS exclude each other")
	case s.cfg.TLS != nil:
		conf = s.cfg.TLS.Clone()
	case s.cfg.SelfSignedTLS:
		c, err := NewSelfSignedCert(SelfSignedHosts(s.cfg.Domain), selfSignedValidity)
		if err != nil {
			return nil, err
		}
		s.cert, conf = c, c.ServerTLS()
	default:
		return nil, nil
	}
	// HTTP/1.1 only: fault injection takes the connection over (Hijack),
	// which HTTP/2 does not allow.
	conf.NextProtos = []string{"http/1.1"}
	s.scheme = "https"
	return conf, nil
}

func (s *Server) cleanup() {
	if s.tempDir {
		_ = os.RemoveAll(s.cfg.DataDir)
	}
}

// URL returns "http://127.0.0.1:PORT", or "https://…" when serving TLS.
func (s *Server) URL() string { return s.scheme + "://" + s.Addr() }

// SelfSignedCert returns the certificates made for Config.SelfSignedTLS (a
// client trusts its CAPEM or CertPool), or nil.
func (s *Server) SelfSignedCert() *SelfSignedCert { return s.cert }

// SetSecurityToken replaces the security token the temporary credential
// accessKey is accepted with, as when the token in use expires and a new
// one is issued: from then on only token is accepted, and the old one is
// refused as OBS refuses an expired token. An empty token makes the key
// permanent.
func (s *Server) SetSecurityToken(accessKey, token string) error {
	s.credMu.Lock()
	defer s.credMu.Unlock()
	for i := range s.cfg.Credentials {
		if s.cfg.Credentials[i].AccessKey == accessKey {
			s.cfg.Credentials[i].SecurityToken = token
			return nil
		}
	}
	return fmt.Errorf("obslocal: no credential with access key %q", accessKey)
}

// Addr returns the listening address "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.addr }

// DataDir returns the directory holding the server's data.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Close stops the listener, closes active connections and removes a
// temporary data directory.
func (s *Server) Close() error {
	var err error
	s.closeMu.Do(func() {
		close(s.done)
		err = s.hs.Close()
		s.cleanup()
	})
	return err
}

// Shutdown stops accepting connections and waits for active requests to
// finish (or ctx to end), then closes like Close.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.hs.Shutdown(ctx)
	if cerr := s.Close(); err == nil && !errors.Is(cerr, http.ErrServerClosed) {
		err = cerr
	}
	return err
}

// SetClockOffset sets the server clock to now + d (for clock-skew tests).
func (s *Server) SetClockOffset(d time.Duration) { s.offset.Store(int64(d)) }

func (s *Server) now() time.Time { return time.Now().Add(time.Duration(s.offset.Load())).UTC() }

// Inject adds a fault and returns its id.
func (s *Server) Inject(f Fault) int { return s.faults.add(f) }

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.clear() }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the counters.
func (s *Server) ResetStats() { s.stats.reset() }

// ExpireUpload removes an open upload as a lifecycle rule would: later calls
// on it get 404 NoSuchUpload.
func (s *Server) ExpireUpload(bucket, key, uploadID string) error {
	if e := s.st.removeUpload(bucket, key, uploadID); e != nil {
		return e
	}
	return nil
}

// UploadInfo describes an open multipart upload.
type UploadInfo struct {
	Bucket, Key, UploadID string
	Initiated             time.Time
	Parts                 int
}

// OpenUploads lists the open uploads of a bucket, by key then initiation.
func (s *Server) OpenUploads(bucket string) []UploadInfo {
	ups, e := s.st.listUploads(bucket)
	if e != nil {
		return nil
	}
	out := make([]UploadInfo, len(ups))
	for i, u := range ups {
		out[i] = UploadInfo{Bucket: u.Bucket, Key: u.Key, UploadID: u.ID, Initiated: u.Initiated, Parts: len(u.parts)}
	}
	return out
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Size     int64
	ETag     string // quoted, as HEAD returns it
	UploadID string // the multipart upload that assembled it, if any
	Metadata map[string]string
	Headers  http.Header // the headers HEAD returns in OBS signature mode
}

// ObjectSHA256 returns the hex SHA-256 of an object's stored bytes and its
// info; the error wraps os.ErrNotExist when the bucket or object is missing.
func (s *Server) ObjectSHA256(bucket, key string) (string, ObjectInfo, error) {
	o, f, e := s.st.openObject(bucket, key)
	if e != nil {
		if e.Status == http.StatusNotFound {
			return "", ObjectInfo{}, fmt.Errorf("obslocal: %s/%s: %w", bucket, key, os.ErrNotExist)
		}
		return "", ObjectInfo{}, e
	}
	defer f.Close()
	sum, err := sha256File(f)
	if err != nil {
		return "", ObjectInfo{}, err
	}
	return sum, objectInfoOf(o), nil
}

func objectInfoOf(o *objectState) ObjectInfo {
	info := ObjectInfo{Size: o.Size, ETag: `"` + o.ETag + `"`, UploadID: o.UploadID, Metadata: map[string]string{}, Headers: http.Header{}}
	for k, v := range o.Attrs {
		if m, ok := strings.CutPrefix(k, "x-meta-"); ok {
			info.Metadata[m] = v
		}
	}
	objectHeaders(info.Headers, o, modeOBS)
	return info
}

// PutObjectData writes an object out of band (no request, no counters).
func (s *Server) PutObjectData(bucket, key string, data []byte) error {
	path, size, sum, err := s.st.receive(strings.NewReader(string(data)), maxPutSize)
	if err != nil {
		return err
	}
	o := &objectState{Key: key, Size: size, ETag: hex.EncodeToString(sum), LastModified: s.now(), Attrs: map[string]string{}}
	if err := s.st.putObject(bucket, o, path); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return fmt.Errorf("obslocal: bucket %s: %w", bucket, os.ErrNotExist)
		}
		return err
	}
	return nil
}

// DeleteObjectData deletes an object out of band; a missing object is not an error.
func (s *Server) DeleteObjectData(bucket, key string) error {
	if e := s.st.deleteObject(bucket, key); e != nil {
		return fmt.Errorf("obslocal: bucket %s: %w", bucket, os.ErrNotExist)
	}
	return nil
}

// CreateBucket creates a bucket out of band; an existing bucket is fine.
func (s *Server) CreateBucket(name string) error {
	if !validBucketName(name) {
		return fmt.Errorf("obslocal: invalid bucket name %q", name)
	}
	_, err := s.st.createBucket(name, s.now())
	return err
}

func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	first, last := b[0], b[len(b)-1]
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	return alnum(first) && alnum(last) && !strings.Contains(b, "..") && net.ParseIP(b) == nil
}

// route is where a request is addressed.
type route struct {
	bucket, key string
	vhost       bool
	op          Op
	partNumber  int
}

func (s *Server) route(r *http.Request) route {
	var rt route
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	path := r.URL.Path
	if b, ok := strings.CutSuffix(host, "."+s.cfg.Domain); ok && b != "" {
		rt.vhost, rt.bucket = true, b
		rt.key = strings.TrimPrefix(path, "/")
	} else {
		p := strings.TrimPrefix(path, "/")
		rt.bucket, rt.key, _ = strings.Cut(p, "/")
	}
	q := r.URL.Query()
	switch {
	case rt.bucket == "":
		rt.op = OpUnknown
	case rt.key == "":
		switch r.Method {
		case http.MethodPut:
			rt.op = OpCreateBucket
		case http.MethodHead:
			rt.op = OpHeadBucket
		case http.MethodDelete:
			rt.op = OpDeleteBucket
		case http.MethodGet:
			if q.Has("uploads") {
				rt.op = OpListMultipartUploads
			} else {
				rt.op = OpListObjects
			}
		default:
			rt.op = OpUnknown
		}
	default:
		switch r.Method {
		case http.MethodPut:
			copied := r.Header.Get(headerPrefix(r)+"copy-source") != ""
			switch {
			case (q.Has("uploadId") || q.Has("partNumber")) && copied:
				rt.op = OpUploadPartCopy
			case q.Has("uploadId") || q.Has("partNumber"):
				rt.op = OpUploadPart
			case copied:
				rt.op = OpCopyObject
			default:
				rt.op = OpPutObject
			}
			rt.partNumber, _ = strconv.Atoi(q.Get("partNumber"))
		case http.MethodPost:
			switch {
			case q.Has("uploads"):
				rt.op = OpInitiateMultipartUpload
			case q.Has("uploadId"):
				rt.op = OpCompleteMultipartUpload
			default:
				rt.op = OpUnknown
			}
		case http.MethodGet:
			if q.Has("uploadId") {
				rt.op = OpListParts
			} else {
				rt.op = OpGetObject
			}
		case http.MethodHead:
			rt.op = OpHeadObject
		case http.MethodDelete:
			if q.Has("uploadId") {
				rt.op = OpAbortMultipartUpload
			} else {
				rt.op = OpDeleteObject
			}
		default:
			rt.op = OpUnknown
		}
	}
	// Sub-resources the server does not implement must not silently fall
	// through to a plain object or bucket operation. A version ID is served
	// on reads: the server keeps no versions, so it names the current
	// object ("null") or none.
	for k := range q {
		lk := strings.ToLower(k)
		switch {
		case !signedSubresources[lk], lk == "uploads", lk == "uploadid", lk == "partnumber", strings.HasPrefix(lk, "response-"):
		case lk == "versionid" && (rt.op == OpGetObject || rt.op == OpHeadObject):
		default:
			rt.op = OpUnknown
		}
	}
	return rt
}

// headerPrefix is the vendor header prefix of a request by its
// Authorization scheme: x-obs- for the OBS signature, x-amz- otherwise. It
// only routes; authenticate verifies the signature.
func headerPrefix(r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("Authorization"), "OBS ") {
		return modeOBS.prefix()
	}
	return modeV4.prefix()
}

// statusWriter records the response status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	seq := s.reqSeq.Add(1)
	id := fmt.Sprintf("%016X%016X", uint64(start.UnixNano()), seq)
	h := w.Header()
	h.Set("Server", "OBS")
	h.Set("x-obs-request-id", id)
	idSum := md5.Sum([]byte(id))
	h.Set("x-obs-id-2", hex.EncodeToString(idSum[:])+"obslocal")
	h.Set("Date", s.now().Format(http.TimeFormat))

	if !s.enter(r) {
		return
	}
	defer s.gate.RUnlock()
	rt := s.route(r)
	if rt.bucket == strings.Trim(adminPrefix, "/") && !rt.vhost {
		s.serveAdmin(w, r)
		return
	}
	oc := s.stats.op(rt.op)
	oc.requests.Add(1)
	s.stats.inFlight.Add(1)
	defer s.stats.inFlight.Add(-1)
	s.stats.arrivals.count(r)
	if rt.op == OpUploadPart || rt.op == OpUploadPartCopy {
		s.stats.partStarted()
		defer s.stats.partDone()
	}
	r.Body = &countingReader{r: r.Body, n: &oc.bodyBytes}
	sw := &statusWriter{ResponseWriter: w}
	outcome := "ok"
	defer func() {
		if sw.status >= 400 || outcome != "ok" {
			oc.errors.Add(1)
		}
		if s.cfg.Logf != nil {
			s.cfg.Logf("obslocal: %s %s %s → %d %s (%s)", r.Method, r.URL.RequestURI(), rt.op, sw.status, outcome, time.Since(start).Round(time.Millisecond))
		}
	}()

	auth, ae := s.authenticate(r, rt)
	if ae != nil {
		drain(r)
		writeError(sw, r, ae)
		return
	}
	if rt.op == OpUnknown {
		drain(r)
		writeError(sw, r, errf(http.StatusNotImplemented, "NotImplemented", "obslocal does not implement %s %s", r.Method, r.URL.RequestURI()))
		return
	}
	if r.TLS == nil && hasSSECHeaders(r, auth.mode) {
		drain(r)
		writeError(sw, r, errSSECNeedsHTTPS())
		return
	}

	if eff, ok := s.faults.match(rt.op, rt.partNumber); ok {
		if eff.Latency > 0 {
			t := time.NewTimer(eff.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				outcome = "client gone"
				return
			}
		}
		if eff.BytesPerSecond > 0 {
			r.Body = &throttledReader{r: r.Body, bps: eff.BytesPerSecond, done: r.Context().Done()}
		}
		switch {
		case eff.Status != 0:
			drain(r)
			code := eff.Code
			if code == "" {
				code = http.StatusText(eff.Status)
			}
			writeError(sw, r, errf(eff.Status, code, "Injected fault."))
			outcome = "fault " + code
			return
		case eff.Reset:
			_, _ = discardBody(r, eff.ResetAfterBytes)
			resetConn(w)
			outcome = "fault reset"
			return
		case eff.DropResponse:
			dw := &discardWriter{h: http.Header{}}
			s.handle(&statusWriter{ResponseWriter: dw}, r, rt, auth)
			resetConn(w)
			outcome = "fault drop-response"
			return
		}
	}
	s.handle(sw, r, rt, auth)
}

// drain reads and discards the remaining request body (bounded), so the
// client sees the response instead of a broken pipe.
func drain(r *http.Request) {
	if r.ContentLength > maxPutSize {
		return // refused for its size: do not read it (the connection is closed)
	}
	_, _ = discardBody(r, maxPutSize)
}

// resetConn closes the client connection abruptly (RST) without a response.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn() // closing the TLS layer would send close_notify first
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

type discardWriter struct {
	h http.Header
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
