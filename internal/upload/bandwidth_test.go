package upload

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// fakeClock starts at a fixed instant and moves only when slept on: a
// sleep of d moves it d ahead at once. waiting, when set, receives the
// duration of every sleep that would wait, and the sleep then lasts until
// ctx is done.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	waiting chan time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if c.waiting != nil {
		c.waiting <- d
		<-ctx.Done()
		return ctx.Err()
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// countingBucket is a real token bucket that records every reservation.
type countingBucket struct {
	*rate.Limiter
	taken    atomic.Int64
	largest  atomic.Int64
	reserves atomic.Int64
}

func (b *countingBucket) ReserveN(t time.Time, n int) *rate.Reservation {
	b.taken.Add(int64(n))
	b.reserves.Add(1)
	for {
		l := b.largest.Load()
		if int64(n) <= l || b.largest.CompareAndSwap(l, int64(n)) {
			break
		}
	}
	return b.Limiter.ReserveN(t, n)
}

// meteredUploader is an uploader that only reads bodies through thr, and
// path opened to read them from.
func meteredUploader(t *testing.T, path string, thr throttle) (*uploader, *os.File) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &uploader{thr: thr, inflight: map[int]int64{}}, f
}

func TestBurstOf(t *testing.T) {
	for _, tt := range []struct{ rate, want int64 }{
		{1, 1},
		{100, 100},
		{1 << 10, 1 << 10},
		{10 << 10, 1 << 10},
		{64 << 10, 64 << 10 / 10},
		{10 << 20, 1 << 20},
		{1 << 30, 1 << 20},
	} {
		got := int64(burstOf(tt.rate))
		if got != tt.want || got > tt.rate {
			t.Errorf("burstOf(%d) = %d, want %d (never more than a second's bytes)", tt.rate, got, tt.want)
		}
	}
}

// The effective cap is the tighter of the shared one and the upload's own;
// the deadline allowance assumes every part that may be in flight shares it.
func TestNewThrottle(t *testing.T) {
	shared := NewBandwidth(1 << 20)
	for _, tt := range []struct {
		name        string
		in          Input
		rates       []int64
		sharers     []int
		chunk       int
		allowance1M time.Duration // for a 1 MiB part
	}{
		{"unlimited", Input{Concurrency: 4}, nil, nil, 0, 0},
		{"shared only", Input{Concurrency: 4, Bandwidth: shared, Budget: NewBudget(8)}, []int64{1 << 20}, []int{8}, 1 << 20 / 10, 8 * time.Second},
		{"shared without budget", Input{Concurrency: 4, Bandwidth: shared}, []int64{1 << 20}, []int{4}, 1 << 20 / 10, 4 * time.Second},
		{"own tighter", Input{Concurrency: 4, Bandwidth: shared, Budget: NewBudget(8), MaxBandwidth: 256 << 10},
			[]int64{1 << 20, 256 << 10}, []int{8, 4}, 256 << 10 / 10, 16 * time.Second},
		{"own looser", Input{Concurrency: 4, Bandwidth: shared, Budget: NewBudget(8), MaxBandwidth: 4 << 20}, []int64{1 << 20}, []int{8}, 1 << 20 / 10, 8 * time.Second},
		{"own only, budget smaller", Input{Concurrency: 4, Budget: NewBudget(2), MaxBandwidth: 512 << 10}, []int64{512 << 10}, []int{2}, 512 << 10 / 10, 4 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			thr := newThrottle(tt.in, realClock{})
			if len(thr.caps) != len(tt.rates) {
				t.Fatalf("%d caps, want %d", len(thr.caps), len(tt.rates))
			}
			for i, c := range thr.caps {
				if int64(c.lim.Limit()) != tt.rates[i] || c.sharers != tt.sharers[i] {
					t.Errorf("cap %d: %v B/s shared by %d, want %d B/s by %d", i, c.lim.Limit(), c.sharers, tt.rates[i], tt.sharers[i])
				}
			}
			if thr.chunk != tt.chunk {
				t.Errorf("chunk %d, want %d", thr.chunk, tt.chunk)
			}
			if got := thr.allowance(1 << 20); got != tt.allowance1M {
				t.Errorf("allowance for 1 MiB: %v, want %v", got, tt.allowance1M)
			}
			base := func(int64) time.Duration { return time.Minute }
			if got := thr.extend(base)(1 << 20); got != time.Minute+tt.allowance1M {
				t.Errorf("extended part deadline %v, want %v", got, time.Minute+tt.allowance1M)
			}
		})
	}
}

// Reading a body through a cap takes exactly as long as the token bucket
// demands, on a clock that moves only when the throttle waits: the first
// burst goes at once, then the bytes flow at the cap and not faster. With
// a tighter cap of the upload's own, the tighter one sets the pace.
func TestThrottleHoldsTheCap(t *testing.T) {
	const size = 1 << 20
	path, data := writeFile(t, size, 5)
	for _, tt := range []struct {
		name       string
		rates      []int64
		rate       int64 // the tighter cap
		burst      int64
		allowSlack time.Duration
	}{
		{"one cap", []int64{64 << 10}, 64 << 10, 64 << 10 / 10, 0},
		{"shared and a tighter own", []int64{128 << 10, 64 << 10}, 64 << 10, 64 << 10 / 10, 50 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			thr := throttle{clock: clk}
			for _, r := range tt.rates {
				b := NewBandwidth(r)
				thr.caps = append(thr.caps, bandwidthCap{lim: b.lim, sharers: 1})
				if thr.chunk == 0 || b.lim.Burst() < thr.chunk {
					thr.chunk = b.lim.Burst()
				}
			}
			u, f := meteredUploader(t, path, thr)
			start := clk.now()
			got, err := io.ReadAll(io.NewSectionReader(u.body(context.Background(), f, 1, 0, size), 0, size))
			if err != nil || string(got) != string(data) {
				t.Fatalf("read %d bytes, err %v", len(got), err)
			}
			want := time.Duration(float64(size-tt.burst) / float64(tt.rate) * float64(time.Second))
			el := clk.now().Sub(start)
			if el < want-time.Millisecond || el > want+time.Millisecond+tt.allowSlack {
				t.Fatalf("%d bytes took %v at %d B/s with a burst of %d, want %v", size, el, tt.rate, tt.burst, want)
			}
			if u.written != size || u.inflight[1] != size {
				t.Fatalf("counted %d bytes written, part at %d, want %d", u.written, u.inflight[1], size)
			}
		})
	}
}

// A wait for the cap ends when the attempt's context is cancelled, returns
// the context's error, and gives the reserved tokens back.
func TestThrottleWaitCancelled(t *testing.T) {
	path, _ := writeFile(t, 64<<10, 6)
	clk := newFakeClock()
	clk.waiting = make(chan time.Duration)
	b := NewBandwidth(1 << 10)
	u, f := meteredUploader(t, path, throttle{caps: []bandwidthCap{{lim: b.lim, sharers: 1}}, chunk: b.lim.Burst(), clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := u.body(ctx, f, 1, 0, 64<<10).ReadAt(make([]byte, 64<<10), 0)
		done <- result{n, err}
	}()
	select {
	case <-clk.waiting:
	case r := <-done:
		t.Fatalf("ReadAt returned %d bytes, %v, without waiting for the cap", r.n, r.err)
	}
	tokens := b.lim.(*rate.Limiter).TokensAt(clk.now())
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) || r.n != 1<<10 {
		t.Fatalf("ReadAt: %d bytes, %v; want the first burst of 1024 bytes and context.Canceled", r.n, r.err)
	}
	if after := b.lim.(*rate.Limiter).TokensAt(clk.now()); after < 0 || tokens >= 0 {
		t.Fatalf("tokens %v while waiting, %v after cancelling: the reservation was not given back", tokens, after)
	}
}

// A part deadline that expires while waiting for the cap is a deadline
// (retried like any slow attempt), not rate's "would exceed context
// deadline" error.
func TestThrottleDeadlineIsATimeout(t *testing.T) {
	path, _ := writeFile(t, 64<<10, 7)
	b := NewBandwidth(1 << 10)
	u, f := meteredUploader(t, path, throttle{caps: []bandwidthCap{{lim: b.lim, sharers: 1}}, chunk: b.lim.Burst(), clock: realClock{}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := u.body(ctx, f, 1, 0, 64<<10).ReadAt(make([]byte, 64<<10), 0)
	if !errors.Is(err, context.DeadlineExceeded) || !timedOut(context.Background(), ctx, err) {
		t.Fatalf("ReadAt: %v, want the deadline", err)
	}
}

// Two uploads sharing a cap take one token per byte the server reads, for
// every part, the single PUT and the retried attempt alike, never more at
// once than the bucket holds.
func TestSharedBandwidthCountsEveryByte(t *testing.T) {
	f := newFake()
	big, _ := writeFile(t, 6*MinPartSize+123, 8)
	small, _ := writeFile(t, MinPartSize/2, 9)
	var reset atomic.Bool
	f.partHook = func(ctx context.Context, in obs.UploadPartInput, attempt int) error {
		if in.Key == "a" && in.PartNumber == 2 && reset.CompareAndSwap(false, true) {
			return &resetAfter{N: MinPartSize / 3}
		}
		return nil
	}
	bucket := &countingBucket{Limiter: rate.NewLimiter(64<<20, 16<<10)}
	shared := &Bandwidth{lim: bucket}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for key, path := range map[string]string{"a": big, "b": big, "c": small} {
		wg.Go(func() {
			in := input(path, MinPartSize)
			in.Key, in.Concurrency, in.Bandwidth = key, 3, shared
			_, _, err := Upload(context.Background(), f, in)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !reset.Load() {
		t.Fatal("the reset fault was not injected")
	}
	sent := int64(2*(6*MinPartSize+123) + MinPartSize/2 + MinPartSize/3)
	if read := f.bytesRead(); read != sent {
		t.Fatalf("the server read %d body bytes, want %d", read, sent)
	}
	if got := bucket.taken.Load(); got != sent {
		t.Fatalf("%d tokens taken for %d bytes sent", got, sent)
	}
	if l := bucket.largest.Load(); l > int64(bucket.Burst()) || bucket.reserves.Load() < sent/int64(bucket.Burst()) {
		t.Fatalf("largest take %d bytes in %d reservations, burst %d", l, bucket.reserves.Load(), bucket.Burst())
	}
}
