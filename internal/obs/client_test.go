package obs

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testAK     = "AKTESTACCESSKEY"
	testSK     = "sk-very-secret-Do-Not-Print-1234567890"
	testToken  = "sts-token-also-secret-0987654321"
	testBucket = "bkt"
	testKey    = "dir/big.iso"
)

// newTestClient returns a client for srv (path style, tiny backoff).
func newTestClient(t *testing.T, srv *httptest.Server, mod func(*Config)) Client {
	t.Helper()
	cfg := Config{
		Endpoint:       srv.URL,
		Region:         "cn-north-4",
		AccessKey:      testAK,
		SecretKey:      testSK,
		SecurityToken:  testToken,
		PathStyle:      true,
		MaxRetries:     3,
		RetryBaseDelay: time.Microsecond,
		RetryMaxDelay:  time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeError(w http.ResponseWriter, status int, code, msg, requestID string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-obs-request-id", requestID)
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>h</HostId></Error>`, code, msg, requestID)
}

// hijackClose drops the connection without a response (a connection reset
// as the client sees it).
func hijackClose(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("response writer cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

func partInput(body []byte) UploadPartInput {
	sum := md5.Sum(body)
	return UploadPartInput{
		Bucket: testBucket, Key: testKey, UploadID: "up-1", PartNumber: 1,
		Body: bytes.NewReader(body), Offset: 0, Size: int64(len(body)), ContentMD5: sum[:],
	}
}

func okPart(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	w.WriteHeader(http.StatusOK)
}

func TestRetryRecovers(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(t *testing.T, w http.ResponseWriter, r *http.Request)
	}{
		{"503 SlowDown", func(_ *testing.T, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			writeError(w, 503, "SlowDown", "Please reduce your request rate.", "rid-503")
		}},
		{"500 InternalError", func(_ *testing.T, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			writeError(w, 500, "InternalError", "We encountered an internal error.", "rid-500")
		}},
		{"502", func(_ *testing.T, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(502)
		}},
		{"504", func(_ *testing.T, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(504)
		}},
		{"408 RequestTimeout", func(_ *testing.T, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			writeError(w, 408, "RequestTimeout", "timeout", "rid-408")
		}},
		{"connection reset", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			hijackClose(t, w)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= 2 {
					tc.fail(t, w, r)
					return
				}
				okPart(w, r)
			}))
			defer srv.Close()
			c := newTestClient(t, srv, nil)
			etag, err := c.UploadPart(context.Background(), partInput([]byte("hello part")))
			if err != nil {
				t.Fatalf("UploadPart: %v", err)
			}
			if etag != "0123456789abcdef0123456789abcdef" {
				t.Errorf("etag = %q, want unquoted hex", etag)
			}
			if got := n.Load(); got != 3 {
				t.Errorf("requests = %d, want 3 (two failures then success)", got)
			}
		})
	}
}

func TestRetryGivesUpAfterMaxRetries(t *testing.T) {
	for _, maxRetries := range []int{0, 1, 4} {
		t.Run(fmt.Sprint(maxRetries), func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				writeError(w, 503, "SlowDown", "Please reduce your request rate.", "rid-slow")
			}))
			defer srv.Close()
			c := newTestClient(t, srv, func(cfg *Config) { cfg.MaxRetries = maxRetries })
			_, err := c.UploadPart(context.Background(), partInput([]byte("x")))
			if err == nil {
				t.Fatal("UploadPart succeeded against a server that always fails")
			}
			if got, want := int(n.Load()), maxRetries+1; got != want {
				t.Errorf("requests = %d, want %d", got, want)
			}
			e, ok := AsError(err)
			if !ok || e.StatusCode != 503 || e.Code != "SlowDown" || e.RequestID != "rid-slow" || e.Op != "UploadPart" {
				t.Errorf("error = %#v, want *Error 503 SlowDown rid-slow", err)
			}
			if !IsRetryable(err) {
				t.Error("IsRetryable(503) = false")
			}
		})
	}
}

func TestRetryGivesUpOnConnectionReset(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		hijackClose(t, w)
	}))
	defer srv.Close()
	c := newTestClient(t, srv, func(cfg *Config) { cfg.MaxRetries = 2 })
	_, err := c.UploadPart(context.Background(), partInput([]byte("x")))
	if got := n.Load(); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
	e, ok := AsError(err)
	if !ok || e.StatusCode != 0 || e.Err == nil {
		t.Fatalf("error = %v, want *Error with status 0 and a cause", err)
	}
	if !IsRetryable(err) {
		t.Error("IsRetryable(network error) = false")
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		check  func(error) bool
	}{
		{403, "AccessDenied", func(err error) bool { return IsCode(err, "AccessDenied") }},
		{404, "NoSuchUpload", IsNoSuchUpload},
		{400, "BadDigest", func(err error) bool { return IsCode(err, "BadDigest") }},
		{400, "InvalidArgument", func(err error) bool { return IsCode(err, "InvalidArgument") }},
	} {
		t.Run(fmt.Sprint(tc.status, tc.code), func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				writeError(w, tc.status, tc.code, "no", "rid-4xx")
			}))
			defer srv.Close()
			c := newTestClient(t, srv, func(cfg *Config) { cfg.MaxRetries = 5 })
			_, err := c.UploadPart(context.Background(), partInput([]byte("x")))
			if got := n.Load(); got != 1 {
				t.Errorf("requests = %d, want exactly 1", got)
			}
			if !tc.check(err) {
				t.Errorf("error %v does not carry code %s", err, tc.code)
			}
			if IsRetryable(err) {
				t.Errorf("IsRetryable(%d) = true", tc.status)
			}
			if e, _ := AsError(err); e == nil || e.StatusCode != tc.status || e.RequestID != "rid-4xx" {
				t.Errorf("error = %#v", err)
			}
		})
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		writeError(w, 503, "SlowDown", "slow down", "rid")
		// The client is about to sleep for up to an hour.
		cancel()
	}))
	defer srv.Close()
	c := newTestClient(t, srv, func(cfg *Config) {
		cfg.MaxRetries = 5
		cfg.RetryBaseDelay = time.Hour
		cfg.RetryMaxDelay = time.Hour
	})
	start := time.Now()
	_, err := c.UploadPart(ctx, partInput([]byte("x")))
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("returned after %v, want at once", elapsed)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled in the chain", err)
	}
	if IsRetryable(err) {
		t.Error("a cancelled operation is retryable")
	}
	if got := n.Load(); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestClient(t, srv, nil).HeadObject(ctx, HeadInput{Bucket: testBucket, Key: testKey})
	if !errors.Is(err, context.Canceled) || n.Load() != 0 {
		t.Fatalf("err = %v after %d requests, want context.Canceled and none", err, n.Load())
	}
}

// A request in flight is interrupted by cancellation, not just the sleeps.
func TestCancelInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	go func() { <-arrived; cancel() }()
	_, err := newTestClient(t, srv, nil).HeadObject(ctx, HeadInput{Bucket: testBucket, Key: testKey})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// Every attempt of a retried part sends the whole body with the right
// Content-Length and Content-MD5, even when an attempt died mid-body.
func TestRetriedUploadPartSendsFullBody(t *testing.T) {
	file := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), 64<<10/36+1) // a bit over 64 KiB
	const offset, size = 1000, 50000
	part := file[offset : offset+size]
	sum := md5.Sum(part)
	wantMD5 := base64.StdEncoding.EncodeToString(sum[:])

	type attempt struct {
		contentLength int64
		chunked       bool
		headerMD5     string
		bodyMD5       string
		bodyLen       int
	}
	var mu sync.Mutex
	var attempts []attempt
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(attempts)
		mu.Unlock()
		if n == 0 {
			// Read part of the body, then drop the connection.
			_, _ = io.CopyN(io.Discard, r.Body, 1000)
			mu.Lock()
			attempts = append(attempts, attempt{contentLength: r.ContentLength, headerMD5: r.Header.Get("Content-MD5")})
			mu.Unlock()
			hijackClose(t, w)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
		}
		got := md5.Sum(body)
		mu.Lock()
		attempts = append(attempts, attempt{
			contentLength: r.ContentLength,
			chunked:       len(r.TransferEncoding) > 0,
			headerMD5:     r.Header.Get("Content-MD5"),
			bodyMD5:       base64.StdEncoding.EncodeToString(got[:]),
			bodyLen:       len(body),
		})
		n = len(attempts)
		mu.Unlock()
		if n < 3 {
			writeError(w, 500, "InternalError", "try again", "rid")
			return
		}
		w.Header().Set("ETag", `"`+fmt.Sprintf("%x", got)+`"`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	etag, err := c.UploadPart(context.Background(), UploadPartInput{
		Bucket: testBucket, Key: testKey, UploadID: "up", PartNumber: 7,
		Body: bytes.NewReader(file), Offset: offset, Size: size, ContentMD5: sum[:],
	})
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	if etag != fmt.Sprintf("%x", sum) {
		t.Errorf("etag = %q", etag)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 3 {
		t.Fatalf("attempts = %d, want 3", len(attempts))
	}
	for i, a := range attempts {
		if a.contentLength != size || a.chunked {
			t.Errorf("attempt %d: Content-Length %d chunked %v, want %d and not chunked", i, a.contentLength, a.chunked, size)
		}
		if a.headerMD5 != wantMD5 {
			t.Errorf("attempt %d: Content-MD5 %q, want %q", i, a.headerMD5, wantMD5)
		}
		if i > 0 && (a.bodyMD5 != wantMD5 || a.bodyLen != size) {
			t.Errorf("attempt %d: body %d bytes md5 %s, want %d bytes md5 %s", i, a.bodyLen, a.bodyMD5, size, wantMD5)
		}
	}
}

func TestErrorTyping(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case r.Method == http.MethodHead:
			w.Header().Set("x-obs-request-id", "rid-head")
			w.WriteHeader(404)
		case r.URL.Query().Has("uploadId") && r.Method == http.MethodGet:
			writeError(w, 404, "NoSuchUpload", "The specified upload does not exist.", "rid-nsu")
		case r.Method == http.MethodDelete:
			writeError(w, 404, "NoSuchBucket", "The specified bucket does not exist.", "rid-nsb")
		default:
			writeError(w, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", "rid-sig")
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	ctx := context.Background()

	_, err := c.HeadObject(ctx, HeadInput{Bucket: testBucket, Key: testKey})
	if !IsNotFound(err) || IsNoSuchUpload(err) || IsRetryable(err) {
		t.Errorf("HEAD 404: %v: IsNotFound=%v", err, IsNotFound(err))
	}
	if e, _ := AsError(err); e == nil || e.Code != "" || e.RequestID != "rid-head" || e.Op != "HeadObject" {
		t.Errorf("HEAD 404 error = %#v", err)
	}

	_, err = c.ListParts(ctx, ListPartsInput{Bucket: testBucket, Key: testKey, UploadID: "gone"})
	if !IsNoSuchUpload(err) || !IsNotFound(err) {
		t.Errorf("ListParts: %v: want NoSuchUpload and not-found", err)
	}
	if e, _ := AsError(err); e == nil || e.RequestID != "rid-nsu" || e.Message == "" {
		t.Errorf("ListParts error = %#v", err)
	}

	err = c.DeleteObject(ctx, testBucket, testKey)
	if !IsNoSuchBucket(err) {
		t.Errorf("DeleteObject: %v: want NoSuchBucket", err)
	}

	_, err = c.InitiateMultipartUpload(ctx, InitiateInput{Bucket: testBucket, Key: testKey})
	if !IsCode(err, "SignatureDoesNotMatch") {
		t.Fatalf("Initiate: %v: want SignatureDoesNotMatch", err)
	}
	msg := err.Error()
	for _, want := range []string{"InitiateMultipartUpload", testBucket + "/" + testKey, "403", "SignatureDoesNotMatch", "rid-sig"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "secret_key") {
		t.Errorf("message %q names a provider setting; hints are the provider's", msg)
	}
	for _, secret := range []string{testSK, testToken} {
		if strings.Contains(msg, secret) {
			t.Errorf("message %q contains a secret", msg)
		}
	}
}

// No secret ever appears in an error, whatever fails.
func TestNoSecretsInErrors(t *testing.T) {
	ssec := &SSECustomerKey{KeyBase64: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		// A hostile server echoes the credentials back in its message.
		echo := r.Header.Get("Authorization") + " " + r.Header.Get("x-amz-security-token") + " " + testSK
		writeError(w, 403, "AccessDenied", echo, "rid")
	}))
	defer srv.Close()
	c := newTestClient(t, srv, func(cfg *Config) { cfg.MaxRetries = 0 })
	ctx := context.Background()
	var errs []error
	_, err := c.InitiateMultipartUpload(ctx, InitiateInput{Bucket: testBucket, Key: testKey, Options: ObjectOptions{SSEC: ssec}})
	errs = append(errs, err)
	_, err = c.HeadObject(ctx, HeadInput{Bucket: testBucket, Key: testKey, SSEC: ssec})
	errs = append(errs, err)
	_, err = c.HeadObject(ctx, HeadInput{Bucket: testBucket, Key: testKey, SSEC: &SSECustomerKey{KeyBase64: "not base64 " + testSK}})
	errs = append(errs, err)
	// An unreachable endpoint: a transport error.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c2 := newTestClient(t, dead, func(cfg *Config) { cfg.MaxRetries = 0 })
	_, err = c2.HeadObject(ctx, HeadInput{Bucket: testBucket, Key: testKey})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("error %d is nil", i)
		}
		for _, secret := range []string{testSK, testToken, ssec.KeyBase64} {
			if s := err.Error(); strings.Contains(s, secret) {
				t.Errorf("error %d %q contains a secret", i, s)
			}
			if s := fmt.Sprintf("%+v %#v", err, err); strings.Contains(s, secret) {
				t.Errorf("formatted error %d contains a secret", i)
			}
		}
	}
}

func TestNewValidates(t *testing.T) {
	good := Config{Endpoint: "https://obs.cn-north-4.myhuaweicloud.com", AccessKey: "ak", SecretKey: "sk", Region: "cn-north-4"}
	if _, err := New(good); err != nil {
		t.Fatalf("New(good): %v", err)
	}
	for name, mod := range map[string]func(*Config){
		"no endpoint":      func(c *Config) { c.Endpoint = "" },
		"bad scheme":       func(c *Config) { c.Endpoint = "ftp://obs.example.com" },
		"no scheme":        func(c *Config) { c.Endpoint = "obs.example.com" },
		"path":             func(c *Config) { c.Endpoint = "https://obs.example.com/bucket" },
		"no host":          func(c *Config) { c.Endpoint = "https://" },
		"garbage":          func(c *Config) { c.Endpoint = "https://%zz" },
		"no access key":    func(c *Config) { c.AccessKey = "" },
		"no secret key":    func(c *Config) { c.SecretKey = "" },
		"bad signature":    func(c *Config) { c.Signature = "v3" },
		"v4 without regn":  func(c *Config) { c.Signature = SignatureV4; c.Region = "" },
		"negative retries": func(c *Config) { c.MaxRetries = -1 },
		"negative conns":   func(c *Config) { c.MaxConns = -1 },
		"bad CA":           func(c *Config) { c.CACertPEM = []byte("not a cert") },
	} {
		cfg := good
		mod(&cfg)
		c, err := New(cfg)
		if err == nil || c != nil {
			t.Errorf("%s: New = %v, %v; want an error", name, c, err)
		}
	}
}
