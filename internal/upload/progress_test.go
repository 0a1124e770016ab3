package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// gatedOBS is the fake behind a link the test drives: UploadPart reads its
// body step bytes at a time and, after each step, says how far it got on
// read and waits for next. Once free is closed it reads on without waiting.
type gatedOBS struct {
	*fakeOBS
	step    int64
	resetAt map[int]int64 // the first attempt at a part fails after this many bytes
	read    chan int64
	next    chan struct{}
	free    chan struct{}
}

func newGatedOBS(step int64) *gatedOBS {
	return &gatedOBS{fakeOBS: newFake(), step: step, read: make(chan int64), next: make(chan struct{}), free: make(chan struct{})}
}

func (g *gatedOBS) UploadPart(ctx context.Context, in obs.UploadPartInput) (string, error) {
	g.mu.Lock()
	g.partAttempts[in.PartNumber]++
	first := g.partAttempts[in.PartNumber] == 1
	g.mu.Unlock()
	buf := make([]byte, in.Size)
	for n := int64(0); n < in.Size; {
		k, err := in.Body.ReadAt(buf[n:min(n+g.step, in.Size)], in.Offset+n)
		n += int64(k)
		if err != nil && !(errors.Is(err, io.EOF) && n == in.Size) {
			return "", &obs.Error{Op: "UploadPart", Key: in.Key, Err: err}
		}
		select {
		case g.read <- n:
			select {
			case <-g.next:
			case <-g.free:
			}
		case <-g.free:
		}
		if at := g.resetAt[in.PartNumber]; first && at > 0 && n >= at {
			return "", &obs.Error{Op: "UploadPart", Key: in.Key, Err: syscall.ECONNRESET}
		}
	}
	g.mu.Lock()
	g.partAttempts[in.PartNumber]--
	g.mu.Unlock()
	in.Body, in.Offset = bytes.NewReader(buf), 0
	return g.fakeOBS.UploadPart(ctx, in)
}

// On a slow link every tick reports, while the first part is still in
// flight, exactly the bytes written so far, more at each tick; then each
// part reports as it completes, and nothing is reported once Upload has
// returned.
func TestProgressTicksWhilePartInFlight(t *testing.T) {
	const step = 16 << 10
	g := newGatedOBS(step)
	path, data := writeFile(t, 2*MinPartSize, 10)
	ticks := make(chan time.Time)
	events := make(chan Progress, 16)
	in := input(path, MinPartSize)
	in.Concurrency = 1
	in.Ticks = ticks
	in.OnProgress = func(p Progress) { events <- p }
	type result struct {
		out Output
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := Upload(context.Background(), g, in)
		done <- result{out, err}
	}()

	var last int64
	for i := 1; i <= 4; i++ {
		written := <-g.read
		ticks <- time.Now()
		p := <-events
		if !p.Tick || p.PartsDone != 0 || p.BytesDone != 0 || p.BytesInFlight != written || written != int64(i)*step {
			t.Fatalf("tick %d after %d bytes of part 1: %+v", i, written, p)
		}
		if p.BytesInFlight <= last || p.BytesTotal != 2*MinPartSize || p.PartsTotal != 2 {
			t.Fatalf("tick %d: %+v after %d bytes in flight", i, p, last)
		}
		last = p.BytesInFlight
		g.next <- struct{}{}
	}
	close(g.free)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	var parts []Progress
	for len(events) > 0 {
		parts = append(parts, <-events)
	}
	if len(parts) != 2 || parts[0].Tick || parts[1].Tick || parts[0].BytesDone+parts[0].BytesInFlight < last ||
		parts[1].PartsDone != 2 || parts[1].BytesDone != 2*MinPartSize || parts[1].BytesInFlight != 0 {
		t.Fatalf("part reports %+v", parts)
	}
	select {
	case ticks <- time.Now():
		t.Fatal("a tick was taken after Upload returned")
	default:
	}
	checkObject(t, g.fakeOBS, r.out, path, data)
}

// A retried part counts from where its earlier attempt got: what is done
// and in flight never goes back, at a tick after every step of each
// attempt.
func TestProgressNeverGoesBack(t *testing.T) {
	g := newGatedOBS(16 << 10)
	g.resetAt = map[int]int64{1: 48 << 10}
	path, _ := writeFile(t, 2*MinPartSize, 11)
	ticks := make(chan time.Time)
	events := make(chan Progress, 64)
	in := input(path, MinPartSize)
	in.Concurrency = 1
	in.Ticks = ticks
	in.OnProgress = func(p Progress) { events <- p }
	done := make(chan error, 1)
	go func() {
		_, _, err := Upload(context.Background(), g, in)
		done <- err
	}()
	var seen []Progress
	steps := 0
	for running := true; running; {
		select {
		case <-g.read:
			steps++
			ticks <- time.Now()
			for p := <-events; ; p = <-events {
				seen = append(seen, p)
				if p.Tick {
					break
				}
			}
			g.next <- struct{}{}
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		}
	}
	for len(events) > 0 {
		seen = append(seen, <-events)
	}
	// Part 1: 3 steps, reset, 7 steps; part 2: 7 steps.
	if steps != 3+7+7 || len(seen) != steps+2 {
		t.Fatalf("%d steps, %d reports", steps, len(seen))
	}
	var prev int64
	for i, p := range seen {
		at := p.BytesDone + p.BytesInFlight
		if at < prev {
			t.Fatalf("report %d went back from %d to %d bytes: %+v", i, prev, at, seen)
		}
		prev = at
	}
}
