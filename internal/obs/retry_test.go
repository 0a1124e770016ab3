package obs

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const base, maxDelay = 100 * time.Millisecond, 5 * time.Second
	for _, tt := range []struct {
		n    int
		ceil time.Duration
	}{
		{0, base},
		{1, 2 * base},
		{3, 8 * base},
		{6, maxDelay},  // 6.4 s capped
		{40, maxDelay}, // base·2ⁿ overflows
		{70, maxDelay}, // beyond a shift of 62
	} {
		var lo, hi time.Duration = tt.ceil, 0
		for range 2000 {
			d := Backoff(tt.n, base, maxDelay)
			if d < 0 || d > tt.ceil {
				t.Fatalf("Backoff(%d) = %s, outside [0, %s]", tt.n, d, tt.ceil)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter: the waits spread over the whole range.
		if lo > tt.ceil/10 || hi < tt.ceil*9/10 {
			t.Fatalf("Backoff(%d) stayed in [%s, %s] of [0, %s]", tt.n, lo, hi, tt.ceil)
		}
	}
	if d := Backoff(3, 0, 0); d != 0 {
		t.Fatalf("Backoff with no delay = %s", d)
	}
}

func TestSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled context: %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Sleep(0): %v", err)
	}
}
