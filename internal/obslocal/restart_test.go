package obslocal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// stallingReader yields head, signals started, then blocks until release is
// closed before yielding the rest: a body that is in flight when the test
// acts.
type stallingReader struct {
	head, rest []byte
	started    chan struct{}
	release    chan struct{}
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		if len(r.head) == 0 {
			close(r.started)
		}
		return n, nil
	}
	<-r.release
	if len(r.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// TestRestart: a restart cuts the request in flight without storing any of
// it, keeps the address, the data and the counters, and the upload goes on
// against the restarted server.
func TestRestart(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	addr := s.Addr()
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "k", nil)
	p1, p2 := partBody(1, minPart), partBody(2, minPart)
	e1 := c.putPart(obslocaltest.Bucket, "k", id, 1, p1, nil)

	body := &stallingReader{head: p2[:1000], rest: p2[1000:], started: make(chan struct{}), release: make(chan struct{})}
	req := c.build(rawReq{method: "PUT", path: fmt.Sprintf("/%s/k?partNumber=2&uploadId=%s", obslocaltest.Bucket, id), body: body, size: int64(len(p2))})
	req.GetBody = nil // not replayable: the transport must not retry it
	cut := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: loopbackTransport(s)}).Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("a response: %s", resp.Status)
		} else {
			err = nil
		}
		cut <- err
	}()
	<-body.started
	// The handler is reading the body once the server counts the part.
	for deadline := time.Now().Add(5 * time.Second); s.Stats().ConcurrentParts != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the part never reached the handler")
		}
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	close(body.release)
	if err := <-cut; err != nil {
		t.Fatalf("the part in flight during the restart got %v, want a connection error", err)
	}

	if s.Addr() != addr {
		t.Fatalf("address %s after the restart, was %s", s.Addr(), addr)
	}
	if ups := s.OpenUploads(obslocaltest.Bucket); len(ups) != 1 || ups[0].UploadID != id || ups[0].Parts != 1 {
		t.Fatalf("open uploads after the restart: %+v (want %s with part 1 only)", ups, id)
	}
	if st := s.Stats().Ops[obslocal.OpUploadPart]; st.Requests != 2 {
		t.Fatalf("counters after the restart: %+v (want both part requests)", st)
	}
	c = newRaw(t, s) // the old client's idle connection died with the server
	e2 := c.putPart(obslocaltest.Bucket, "k", id, 2, p2, nil)
	if resp, b := c.complete(obslocaltest.Bucket, "k", id, completeXML(map[int]string{1: e1, 2: e2}, []int{1, 2})); resp.StatusCode != 200 {
		t.Fatalf("complete after the restart: %d %s", resp.StatusCode, b)
	}
	sum, _, err := s.ObjectSHA256(obslocaltest.Bucket, "k")
	want := sha256.Sum256(bytes.Join([][]byte{p1, p2}, nil))
	if err != nil || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("object after the restart: %s %v", sum, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err == nil {
		t.Fatal("a closed server restarted")
	}
}

// TestWaitIdle: WaitIdle returns only after the request being handled has
// taken effect.
func TestWaitIdle(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	s.Inject(obslocal.Fault{Op: obslocal.OpInitiateMultipartUpload, Latency: 200 * time.Millisecond})
	done := make(chan string, 1)
	go func() { done <- c.initiate(obslocaltest.Bucket, "k", nil) }()
	for deadline := time.Now().Add(5 * time.Second); s.Stats().Ops[obslocal.OpInitiateMultipartUpload].Requests != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the server")
		}
	}
	s.WaitIdle()
	if ups := s.OpenUploads(obslocaltest.Bucket); len(ups) != 1 {
		t.Fatalf("open uploads after WaitIdle: %+v, want the one being initiated", ups)
	}
	<-done
}
