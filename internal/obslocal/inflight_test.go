package obslocal_test

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// A PUT whose client sent the whole body and went away is still handled
// from what the connection had buffered, and stores the object late: the
// server counts it in flight until then.
func TestInFlightOutlivesItsClient(t *testing.T) {
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	body := strings.Repeat("x", 40<<10)
	s.Inject(obslocal.Fault{Op: obslocal.OpPutObject, BytesPerSecond: 80 << 10, Times: -1})
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	req := c.build(rawReq{method: "PUT", path: "/" + obslocaltest.Bucket + "/late", body: strings.NewReader(body), size: int64(len(body))})
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()

	poll := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("timed out waiting for %s; stats %+v", what, s.Stats())
			}
		}
	}
	poll("the PUT to be in flight", func() bool { return s.Stats().InFlight == 1 })
	if _, _, err := s.ObjectSHA256(obslocaltest.Bucket, "late"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the object exists while its body is still being read: %v", err)
	}
	poll("the PUT to end", func() bool { return s.Stats().InFlight == 0 })
	if _, info, err := s.ObjectSHA256(obslocaltest.Bucket, "late"); err != nil || info.Size != int64(len(body)) {
		t.Fatalf("after its client went away the PUT stored %+v, %v; want the whole body", info, err)
	}
}
