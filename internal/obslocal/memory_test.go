package obslocal_test

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ off, n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rem := p.n - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	n := copy(b, pattern[p.off%int64(len(pattern)):])
	p.off += int64(n)
	return n, nil
}

// pattern is 64 KiB + 1 bytes, so parts do not repeat on 64 KiB boundaries.
var pattern = func() []byte {
	b := make([]byte, 64<<10+1)
	for i := range b {
		b[i] = byte(i * 131 >> 3)
	}
	return b
}()

// TestHeapOneGiB uploads 1 GiB as 64 parts of 16 MiB, four at a time, and
// samples HeapInuse (client and server share the process) throughout, then
// Completes. Set OBSLOCAL_HEAP_TEST=1 or run without -short.
func TestHeapOneGiB(t *testing.T) {
	if testing.Short() && os.Getenv("OBSLOCAL_HEAP_TEST") == "" {
		t.Skip("1 GiB upload: skipped with -short")
	}
	const partSize, parts = 16 << 20, 64
	s, _ := obslocaltest.Start(t)
	c := newRaw(t, s)
	id := c.initiate(obslocaltest.Bucket, "big", nil)

	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	start := time.Now()
	etags := make(map[int]string, parts)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for n := 1; n <= parts; n++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			q := rawReq{method: "PUT", path: fmt.Sprintf("/%s/big?partNumber=%d&uploadId=%s", obslocaltest.Bucket, n, id),
				body: &patternReader{n: partSize}, size: partSize}
			resp, err := c.hc.Do(c.build(q))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			etags[n] = resp.Header.Get("ETag")
			mu.Unlock()
		}()
	}
	wg.Wait()
	order := make([]int, parts)
	for i := range order {
		order[i] = i + 1
	}
	x := completeXML(etags, order)
	resp, body := c.do(rawReq{method: "POST", path: "/" + obslocaltest.Bucket + "/big?uploadId=" + id, body: strings.NewReader(x), size: int64(len(x))})
	close(stop)
	sampler.Wait()
	if resp.StatusCode != 200 {
		t.Fatalf("complete: %d %s", resp.StatusCode, body)
	}
	_, info, err := s.ObjectSHA256(obslocaltest.Bucket, "big")
	if err != nil || info.Size != partSize*parts {
		t.Fatalf("%+v %v", info, err)
	}
	if st := s.Stats().Ops[obslocal.OpUploadPart]; st.BodyBytes != partSize*parts {
		t.Fatalf("BodyBytes %d", st.BodyBytes)
	}
	mib := float64(peak.Load()) / (1 << 20)
	t.Logf("1 GiB in %v; peak HeapInuse (client+server) %.1f MiB", time.Since(start).Round(time.Millisecond), mib)
	if mib >= 64 {
		t.Fatalf("peak HeapInuse %.1f MiB ≥ 64 MiB", mib)
	}
}
