package upload

import (
	"context"
	"fmt"
	"io"
	"time"

	"golang.org/x/time/rate"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// Bandwidth caps the bytes per second written to the connections of every
// upload that shares it (the provider's max_bandwidth). It is a token
// bucket (golang.org/x/time/rate) of one token per byte: a request body
// takes the tokens for each chunk before the chunk is handed to the
// connection, so every attempt's bytes count, retried ones too. A nil
// *Bandwidth is unlimited.
type Bandwidth struct {
	lim tokenBucket
}

// tokenBucket is what the engine uses of *rate.Limiter (tests wrap one to
// see every reservation).
type tokenBucket interface {
	ReserveN(t time.Time, n int) *rate.Reservation
	Burst() int
	Limit() rate.Limit
}

// NewBandwidth returns a cap of bytesPerSecond; bytesPerSecond ≤ 0 returns
// nil (unlimited). The bucket holds a tenth of a second's bytes (at least
// 1 KiB, or the rate if lower, and at most 1 MiB): no burst on the wire
// exceeds that, so the cap holds over any second.
func NewBandwidth(bytesPerSecond int64) *Bandwidth {
	if bytesPerSecond <= 0 {
		return nil
	}
	return &Bandwidth{lim: rate.NewLimiter(rate.Limit(bytesPerSecond), burstOf(bytesPerSecond))}
}

const (
	minBurst = 1 << 10
	maxBurst = 1 << 20
)

func burstOf(bytesPerSecond int64) int {
	b := max(bytesPerSecond/10, min(bytesPerSecond, minBurst))
	return int(min(b, maxBurst))
}

// BytesPerSecond returns the cap (0 for a nil, unlimited cap).
func (b *Bandwidth) BytesPerSecond() int64 {
	if b == nil {
		return 0
	}
	return int64(b.lim.Limit())
}

// A clock tells the time and waits; tests replace the real one.
type clock interface {
	now() time.Time
	sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) now() time.Time                                   { return time.Now() }
func (realClock) sleep(ctx context.Context, d time.Duration) error { return obs.Sleep(ctx, d) }

// maxAllowance bounds allowance (a year: no apply waits that long).
const maxAllowance = 365 * 24 * time.Hour

// A bandwidthCap is one token bucket an upload's bytes pass through, and
// how many parts may share it at once.
type bandwidthCap struct {
	lim     tokenBucket
	sharers int
}

// A throttle holds the caps one upload's bytes pass through: the shared
// one and the upload's own, when it is tighter. The zero throttle is
// unlimited.
type throttle struct {
	caps  []bandwidthCap
	chunk int // bytes taken at a time: the smallest burst
	clock clock
}

// newThrottle returns the throttle of an upload: in.Bandwidth, and a cap of
// in.MaxBandwidth of its own when that is tighter. Parts in flight are
// bounded by in.Budget across uploads (by in.Concurrency when there is no
// budget) and by in.Concurrency within this one.
func newThrottle(in Input, clk clock) throttle {
	t := throttle{clock: clk}
	budget := in.Budget.Cap()
	if budget == 0 {
		budget = in.Concurrency
	}
	shared := in.Bandwidth.BytesPerSecond()
	if shared > 0 {
		t.caps = append(t.caps, bandwidthCap{lim: in.Bandwidth.lim, sharers: budget})
	}
	if own := in.MaxBandwidth; own > 0 && (shared == 0 || own < shared) {
		t.caps = append(t.caps, bandwidthCap{lim: NewBandwidth(own).lim, sharers: min(in.Concurrency, budget)})
	}
	for i, c := range t.caps {
		if i == 0 || c.lim.Burst() < t.chunk {
			t.chunk = c.lim.Burst()
		}
	}
	return t
}

// wait takes n tokens (n ≤ t.chunk) from every cap, waiting until they are
// available or ctx is done. A cancelled wait gives its tokens back. It does
// not use rate.Limiter.WaitN, which fails at once when the tokens come
// after ctx's deadline: that error is not a timeout, so the part would not
// be retried; here the deadline expires as on any slow link.
func (t throttle) wait(ctx context.Context, n int) error {
	for _, c := range t.caps {
		now := t.clock.now()
		r := c.lim.ReserveN(now, n)
		if !r.OK() {
			return fmt.Errorf("bandwidth cap: %d bytes exceed the burst of %d (internal error)", n, c.lim.Burst())
		}
		if err := t.clock.sleep(ctx, r.DelayFrom(now)); err != nil {
			r.CancelAt(t.clock.now())
			return err
		}
	}
	return nil
}

// allowance is how much longer than on an unlimited link the caps may make
// sending size bytes take, when every part that may be in flight shares
// them fairly. It is added to a part's deadline, so that a capped link is
// not taken for a hung one.
func (t throttle) allowance(size int64) time.Duration {
	var secs float64
	for _, c := range t.caps {
		secs = max(secs, float64(size)*float64(c.sharers)/float64(c.lim.Limit()))
	}
	return time.Duration(min(secs, maxAllowance.Seconds()) * float64(time.Second))
}

// A meteredBody is one attempt's request body for part (0 for a single
// PUT): size bytes of r from offset 0. Each chunk handed to the connection
// first takes its tokens from the throttle, then is counted as written
// for progress.
type meteredBody struct {
	ctx  context.Context
	u    *uploader
	part int
	r    io.ReaderAt
	size int64
}

// body returns the request body of one attempt at part, size bytes of r
// at off; ctx is the attempt's context, which ends a wait for the
// bandwidth cap.
func (u *uploader) body(ctx context.Context, r io.ReaderAt, part int, off, size int64) io.ReaderAt {
	return &meteredBody{ctx: ctx, u: u, part: part, r: io.NewSectionReader(r, off, size), size: size}
}

func (b *meteredBody) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	if left := b.size - off; int64(len(p)) > left {
		p = p[:left]
	}
	var n int
	for len(p) > 0 {
		c := len(p)
		if b.u.thr.chunk > 0 {
			c = min(c, b.u.thr.chunk)
		}
		if err := b.u.thr.wait(b.ctx, c); err != nil {
			return n, err
		}
		k, err := b.r.ReadAt(p[:c], off)
		n, off, p = n+k, off+int64(k), p[k:]
		b.u.wrote(b.part, off, k)
		if err != nil {
			return n, err
		}
	}
	if off >= b.size {
		return n, io.EOF
	}
	return n, nil
}

// extend adds the caps' allowance to a part deadline.
func (t throttle) extend(timeout func(size int64) time.Duration) func(size int64) time.Duration {
	if len(t.caps) == 0 {
		return timeout
	}
	return func(size int64) time.Duration { return timeout(size) + t.allowance(size) }
}
