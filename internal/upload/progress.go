package upload

import (
	"sync"
	"time"
)

// wrote accounts n bytes of part written to the connection, which has now
// been written up to pos by the current attempt.
func (u *uploader) wrote(part int, pos int64, n int) {
	u.progMu.Lock()
	defer u.progMu.Unlock()
	u.written += int64(n)
	if pos > u.inflight[part] {
		u.inflight[part] = pos
	}
}

// partDone accounts a completed part (0 for a single PUT) of size bytes and
// reports progress.
func (u *uploader) partDone(part int, size int64) {
	u.progMu.Lock()
	defer u.progMu.Unlock()
	u.prog.BytesDone += size
	u.prog.PartsDone++
	delete(u.inflight, part)
	u.report(false)
}

// report calls OnProgress with the progress so far; progMu is held.
func (u *uploader) report(tick bool) {
	if u.in.OnProgress == nil || u.returned {
		return
	}
	p := u.prog
	p.Tick = tick
	for _, n := range u.inflight {
		p.BytesInFlight += n
	}
	if el := time.Since(u.startTime).Seconds(); el > 0 && u.written > 0 {
		p.BytesPerSecond = float64(u.written) / el
		left := max(0, p.BytesTotal-p.BytesDone-p.BytesInFlight)
		p.ETA = time.Duration(float64(left) / p.BytesPerSecond * float64(time.Second))
	}
	u.in.OnProgress(p)
}

// reportTicks reports progress on every value from u.in.Ticks until the
// returned function is called; that function returns once no report is
// being made.
func (u *uploader) reportTicks() (stop func()) {
	if u.in.Ticks == nil || u.in.OnProgress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case _, ok := <-u.in.Ticks:
				if !ok {
					return
				}
				u.progMu.Lock()
				u.report(true)
				u.progMu.Unlock()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
