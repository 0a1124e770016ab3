package upload

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// warnLogger records Warn lines and calls onWarn, if set, after each.
type warnLogger struct {
	nopLogger
	lines  []logLine
	onWarn func()
}

type logLine struct {
	msg string
	kv  []any
}

func (l *warnLogger) Warn(msg string, kv ...any) {
	l.lines = append(l.lines, logLine{msg, kv})
	if l.onWarn != nil {
		l.onWarn()
	}
}

// An attempt is what a try in TestRetry sees.
type attempt struct {
	n      int             // from 1
	parent context.Context // the context given to retry
	ctx    context.Context // the attempt's own
	cancel func()          // cancels parent
}

func TestRetry(t *testing.T) {
	unavailable := obsErr("UploadPart", testKey, http.StatusServiceUnavailable, "ServiceUnavailable")
	denied := obsErr("UploadPart", testKey, http.StatusForbidden, "AccessDenied")
	// hang waits for the attempt's context to end and classifies the
	// error as the engine's calls do.
	hang := func(a attempt) (bool, error) {
		select {
		case <-a.ctx.Done():
		case <-time.After(10 * time.Second):
			return false, errors.New("the attempt's context never ended")
		}
		err := &obs.Error{Op: "UploadPart", Err: a.ctx.Err()}
		return transient(a.parent, a.ctx, err), err
	}
	const attempts, timeout = 3, 50 * time.Millisecond
	for _, tt := range []struct {
		name           string
		try            func(a attempt) (bool, error)
		parentDeadline time.Duration // 0: none
		cancelInWait   bool          // cancel the parent when retry logs a retry, just before it waits
		calls          int
		wantIs         []error // the result is each of these; none: success
		wantText       string  // in the result's text
		same           bool    // the result is wantIs[0] itself, not wrapped
		retries        int     // "retrying" log lines
	}{
		{
			name: "retryable error retried until success",
			try: func(a attempt) (bool, error) {
				if a.n < 3 {
					return true, unavailable
				}
				return false, nil
			},
			calls: 3, retries: 2,
		},
		{
			name:  "permanent error not retried",
			try:   func(attempt) (bool, error) { return false, denied },
			calls: 1, wantIs: []error{denied}, same: true,
		},
		{
			name:  "attempts bounded",
			try:   func(attempt) (bool, error) { return true, unavailable },
			calls: attempts, retries: attempts - 1, wantIs: []error{unavailable}, wantText: "3 attempts: ",
		},
		{
			name: "attempt deadline retried while the parent is alive",
			try: func(a attempt) (bool, error) {
				if a.n == 1 {
					return hang(a)
				}
				if a.ctx.Err() != nil {
					return false, errors.New("the next attempt started with an expired context")
				}
				return false, nil
			},
			calls: 2, retries: 1,
		},
		{
			name:           "parent deadline not retried",
			try:            hang,
			parentDeadline: timeout / 4,
			calls:          1, wantIs: []error{context.DeadlineExceeded},
		},
		{
			name: "parent cancelled during an attempt",
			try: func(a attempt) (bool, error) {
				a.cancel()
				return true, unavailable // even when the try says retry
			},
			calls: 1, wantIs: []error{unavailable}, same: true,
		},
		{
			name:         "parent cancelled while waiting to retry",
			try:          func(attempt) (bool, error) { return true, unavailable },
			cancelInWait: true,
			calls:        1, retries: 1, wantIs: []error{context.Canceled, unavailable}, wantText: "while waiting to retry after: ",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			parent := ctx
			if tt.parentDeadline > 0 {
				var c context.CancelFunc
				parent, c = context.WithTimeout(ctx, tt.parentDeadline)
				defer c()
			}
			log := &warnLogger{}
			if tt.cancelInWait {
				log.onWarn = cancel
			}
			u := &uploader{log: log}
			fields := []any{"part", 7}
			calls := 0
			err := u.retry(parent, retried{what: "thing", fields: fields, attempts: attempts, timeout: timeout},
				func(actx context.Context) (bool, error) {
					calls++
					if d, ok := actx.Deadline(); !ok || time.Until(d) > timeout {
						t.Errorf("attempt %d has deadline %v (set: %t), want one within %s", calls, d, ok, timeout)
					}
					return tt.try(attempt{n: calls, parent: parent, ctx: actx, cancel: cancel})
				})
			if calls != tt.calls {
				t.Errorf("%d attempts, want %d", calls, tt.calls)
			}
			if len(tt.wantIs) == 0 && err != nil {
				t.Fatalf("error %v, want success", err)
			}
			if len(tt.wantIs) > 0 && err == nil {
				t.Fatalf("success, want an error")
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("error %v is not %v", err, target)
				}
			}
			if tt.same && err != tt.wantIs[0] { //nolint:errorlint // identity: the error must come back unwrapped
				t.Errorf("error %v, want %v unwrapped", err, tt.wantIs[0])
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if len(log.lines) != tt.retries {
				t.Fatalf("logged %v, want %d retries", log.lines, tt.retries)
			}
			for i, l := range log.lines {
				if want := []any{"part", 7, "attempt", i + 1, "error"}; l.msg != "retrying thing" || len(l.kv) != 6 || !slices.Equal(l.kv[:5], want) {
					t.Errorf("log line %d: %q %v, want %q %v <error>", i, l.msg, l.kv, "retrying thing", want)
				}
			}
			if !slices.Equal(fields, []any{"part", 7}) {
				t.Errorf("fields changed to %v", fields)
			}
		})
	}
}
