package obslocal_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

func partReq(bucket, key, id string, n int, data []byte) rawReq {
	return rawReq{method: "PUT", path: fmt.Sprintf("/%s/%s?partNumber=%d&uploadId=%s", bucket, key, n, id),
		body: strings.NewReader(string(data)), size: int64(len(data))}
}

func TestFaultStatusOnNthRequest(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "k", nil)
	s.ResetStats()
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, After: 2, Status: 503, Code: "SlowDown"})
	data := partBody(1, 1000)
	c.putPart(obslocaltest.Bucket, "k", id, 1, data, nil)
	c.putPart(obslocaltest.Bucket, "k", id, 2, data, nil)
	c.expectErr(partReq(obslocaltest.Bucket, "k", id, 3, data), 503, "SlowDown")
	c.putPart(obslocaltest.Bucket, "k", id, 3, data, nil) // Times defaults to 1
	st := s.Stats().Ops[obslocal.OpUploadPart]
	if st.Requests != 4 || st.Errors != 1 || st.BodyBytes != 4000 {
		t.Fatalf("stats %+v", st)
	}
	// PartNumber filter and Times=-1: every request for part 5 fails.
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 5, Times: -1, Status: 500, Code: "InternalError"})
	for i := 0; i < 3; i++ {
		c.expectErr(partReq(obslocaltest.Bucket, "k", id, 5, data), 500, "InternalError")
	}
	c.putPart(obslocaltest.Bucket, "k", id, 6, data, nil)
	s.ClearFaults()
	c.putPart(obslocaltest.Bucket, "k", id, 5, data, nil)
	if s.OpenUploads(obslocaltest.Bucket)[0].Parts != 5 {
		t.Fatal("parts of failed requests were stored")
	}
}

func TestFaultResetAfterBytes(t *testing.T) {
	t.Run("http", func(t *testing.T) { testFaultResetAfterBytes(t) })
	t.Run("https", func(t *testing.T) { testFaultResetAfterBytes(t, obslocaltest.WithSelfSignedTLS()) })
}

func testFaultResetAfterBytes(t *testing.T, opts ...obslocaltest.Option) {
	s, _ := obslocaltest.Start(t, opts...)
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "k", nil)
	s.ResetStats()
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, Reset: true, ResetAfterBytes: 50_000})
	data := partBody(1, 300_000)
	resp, err := c.hc.Do(c.build(partReq(obslocaltest.Bucket, "k", id, 1, data)))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("client saw a response (%d), want a connection error", resp.StatusCode)
	}
	t.Logf("client error: %v", err)
	s.WaitIdle() // the handler counts the error after the reset the client saw
	st := s.Stats().Ops[obslocal.OpUploadPart]
	if st.BodyBytes != 50_000 || st.Errors != 1 {
		t.Fatalf("stats %+v", st)
	}
	if s.OpenUploads(obslocaltest.Bucket)[0].Parts != 0 {
		t.Fatal("a reset part was stored")
	}
	c.putPart(obslocaltest.Bucket, "k", id, 1, data, nil) // the next attempt succeeds
	if got := s.Stats().Ops[obslocal.OpUploadPart].BodyBytes; got != 350_000 {
		t.Fatalf("BodyBytes %d", got)
	}
}

func TestFaultLatencyAndThrottle(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	s.Inject(obslocal.Fault{Op: obslocal.OpHeadBucket, Latency: 300 * time.Millisecond})
	start := time.Now()
	if resp, _ := c.do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket}); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
	start = time.Now()
	c.do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket})
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("latency applied twice: %v", d)
	}

	id := c.initiate(obslocaltest.Bucket, "k", nil)
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, BytesPerSecond: 400_000})
	start = time.Now()
	c.putPart(obslocaltest.Bucket, "k", id, 1, partBody(1, 200_000), nil)
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Fatalf("200 kB at 400 kB/s took %v", d)
	}
}

func TestFaultDropResponseAfterComplete(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "k", nil)
	e := c.putPart(obslocaltest.Bucket, "k", id, 1, []byte("hello"), nil)
	s.Inject(obslocal.Fault{Op: obslocal.OpCompleteMultipartUpload, DropResponse: true})
	x := completeXML(map[int]string{1: e}, []int{1})
	resp, err := c.hc.Do(c.build(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/k?uploadId=" + id, body: strings.NewReader(x), size: int64(len(x))}))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("client saw a response (%d)", resp.StatusCode)
	}
	// The upload completed nonetheless: HEAD shows the object with our upload ID.
	resp, _ = c.do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket + "/k"})
	if resp.StatusCode != 200 || resp.Header.Get("x-obs-uploadId") != id {
		t.Fatalf("HEAD after dropped complete: %d %v", resp.StatusCode, resp.Header)
	}
	if len(s.OpenUploads(obslocaltest.Bucket)) != 0 {
		t.Fatal("upload still open")
	}
	// Retrying Complete now gets NoSuchUpload, as on OBS.
	resp, _ = c.complete(obslocaltest.Bucket, "k", id, x)
	if resp.StatusCode != 404 {
		t.Fatalf("retried complete: %d", resp.StatusCode)
	}
}

func TestExpireUpload(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "k", nil)
	e := c.putPart(obslocaltest.Bucket, "k", id, 1, []byte("x"), nil)
	if err := s.ExpireUpload(obslocaltest.Bucket, "k", id); err != nil {
		t.Fatal(err)
	}
	c.expectErr(partReq(obslocaltest.Bucket, "k", id, 2, []byte("y")), 404, "NoSuchUpload")
	c.expectErr(rawReq{method: "GET", path: "/" + obslocaltest.Bucket + "/k?uploadId=" + id}, 404, "NoSuchUpload")
	x := completeXML(map[int]string{1: e}, []int{1})
	c.expectErr(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/k?uploadId=" + id, body: strings.NewReader(x), size: int64(len(x))}, 404, "NoSuchUpload")
	if len(s.OpenUploads(obslocaltest.Bucket)) != 0 {
		t.Fatal("expired upload still listed")
	}
}

func TestPeakConcurrentParts(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "k", nil)
	s.ResetStats()
	s.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, Times: -1, Latency: 200 * time.Millisecond})
	var wg sync.WaitGroup
	for n := 1; n <= 4; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := c.build(partReq(obslocaltest.Bucket, "k", id, n, []byte("abc")))
			resp, err := c.hc.Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	if st.PeakConcurrentParts != 4 || st.ConcurrentParts != 0 || st.Ops[obslocal.OpUploadPart].Requests != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAdminEndpoint(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	post := func(path, body string) *http.Response {
		resp, err := http.Post(s.URL()+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("/__obslocal/faults", `{"Op":"HeadBucket","Status":503,"Code":"SlowDown","Latency":"10ms"}`); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	c.expectErr(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket}, 503, "")
	resp, err := http.Get(s.URL() + "/__obslocal/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st obslocal.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Ops[obslocal.OpHeadBucket].Requests != 1 || st.Ops[obslocal.OpHeadBucket].Errors != 1 {
		t.Fatalf("stats %+v %v", st, err)
	}
	post("/__obslocal/stats/reset", "")
	if s.Stats().Ops[obslocal.OpHeadBucket].Requests != 0 {
		t.Fatal("reset did not reset")
	}
	post("/__obslocal/faults", `{"Op":"HeadBucket","Times":-1,"Status":503}`)
	req, _ := http.NewRequest("DELETE", s.URL()+"/__obslocal/faults", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("%v %v", resp, err)
	}
	if resp, _ := c.do(rawReq{method: "HEAD", path: "/" + obslocaltest.Bucket}); resp.StatusCode != 200 {
		t.Fatalf("fault survived DELETE: %d", resp.StatusCode)
	}
}
