package upload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// The engine waits between its own attempts at a call with the obs layer's
// backoff (obs.Backoff), on this scale: its attempts come on top of the
// obs layer's retries, which have already waited.
const (
	retryBaseWait = 100 * time.Millisecond
	retryMaxWait  = 2 * time.Second
)

// A retried call is one the engine makes several attempts at.
type retried struct {
	what     string        // logged as "retrying " + what
	fields   []any         // key/value pairs logged with each retry
	attempts int           // at most this many attempts
	timeout  time.Duration // each attempt's own deadline
}

// retry calls try until it succeeds, fails with an error it does not retry,
// or has been called r.attempts times, waiting with full-jitter backoff in
// between. Each call gets its own context, derived from ctx with a deadline
// of r.timeout; try returns nil on success, else its error and whether
// another attempt may succeed (see transient).
//
// Once ctx is done nothing is retried: retry returns try's error, or, when
// ctx ends during a wait, ctx's error wrapping the last one. When the
// attempts run out the error says how many were made.
func (u *uploader) retry(ctx context.Context, r retried, try func(ctx context.Context) (retry bool, err error)) error {
	for n := 1; ; n++ {
		actx, cancel := context.WithTimeout(ctx, r.timeout)
		again, err := try(actx)
		cancel()
		switch {
		case err == nil:
			return nil
		case !again || ctx.Err() != nil:
			return err
		case n >= r.attempts:
			return fmt.Errorf("%d attempts: %w", n, err)
		}
		kv := append(append(make([]any, 0, len(r.fields)+4), r.fields...), "attempt", n, "error", err.Error())
		u.log.Warn("retrying "+r.what, kv...)
		if werr := obs.Sleep(ctx, obs.Backoff(n-1, retryBaseWait, retryMaxWait)); werr != nil {
			return fmt.Errorf("%w while waiting to retry after: %w", werr, err)
		}
	}
}

// transient reports whether a call made with child (derived from parent)
// that failed with err may succeed if made again: the error is retryable
// (obs.IsRetryable) or a deadline while parent is alive (timedOut).
func transient(parent, child context.Context, err error) bool {
	return obs.IsRetryable(err) || timedOut(parent, child, err)
}

// timedOut reports whether a call made with child (derived from parent)
// failed because of a deadline — the child's own or a transport timeout —
// while parent is still alive, so that the call may be retried.
func timedOut(parent, child context.Context, err error) bool {
	if parent.Err() != nil {
		return false
	}
	return child.Err() == context.DeadlineExceeded || (err != nil && errors.Is(err, context.DeadlineExceeded))
}
