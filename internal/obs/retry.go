package obs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	sdk "github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

const (
	defaultRetryBaseDelay = 200 * time.Millisecond
	defaultRetryMaxDelay  = 20 * time.Second
)

// target names the object an operation acts on, for errors.
type target struct {
	op, bucket, key string
}

func (t target) err(cause error) *Error {
	return &Error{Op: t.op, Bucket: t.bucket, Key: t.key, Err: cause}
}

// do runs attempt until it succeeds, fails with an error that is not
// retryable, or has been retried MaxRetries times, sleeping with exponential
// backoff and full jitter in between. Each attempt gets a fresh SDK client
// bound to ctx, so cancellation interrupts a request in flight as well as a
// sleep. attempt must rebuild any request body it sends.
func (c *client) do(ctx context.Context, t target, attempt func(cl *sdk.ObsClient) error) error {
	for n := 0; ; n++ {
		err := c.once(ctx, t, attempt)
		if err == nil {
			return nil
		}
		if n >= c.maxRetries || !IsRetryable(err) {
			return err
		}
		if serr := Sleep(ctx, Backoff(n, c.retryBaseDelay, c.retryMaxDelay)); serr != nil {
			return t.err(fmt.Errorf("%w (while waiting to retry after: %v)", serr, errorCause(err)))
		}
	}
}

// errorCause is err without the "OBS op bucket/key" prefix, for nesting.
func errorCause(err error) string {
	if e, ok := AsError(err); ok {
		return strings.TrimPrefix(e.detail(), ": ")
	}
	return err.Error()
}

// once makes one attempt and converts whatever goes wrong into *Error.
func (c *client) once(ctx context.Context, t target, attempt func(cl *sdk.ObsClient) error) error {
	if err := ctx.Err(); err != nil {
		return t.err(err)
	}
	cl, err := c.newSDK(ctx)
	if err != nil {
		return t.err(c.redact(err))
	}
	err = safeCall(func() error { return attempt(cl) })
	if err == nil {
		return nil
	}
	return c.convert(ctx, t, err)
}

// safeCall turns a panic inside the SDK into an error. (doHTTP recovers its
// own panics and then returns a nil response with a nil error, which makes
// the caller dereference nil.)
func safeCall(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("OBS SDK panicked: %v", r)
		}
	}()
	return f()
}

// errNilOutput is returned when the SDK reports neither output nor error.
var errNilOutput = errors.New("OBS SDK returned no result and no error")

// convert maps an SDK or transport error to *Error.
func (c *client) convert(ctx context.Context, t target, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		// The request was interrupted by our own cancellation or deadline:
		// report that, not the transport error it caused.
		return t.err(cerr)
	}
	var oe sdk.ObsError
	if errors.As(err, &oe) {
		e := t.err(nil)
		e.StatusCode = oe.StatusCode
		e.Code = oe.Code
		e.Message = c.redactString(oe.Message)
		e.RequestID = oe.RequestId
		return e
	}
	return t.err(c.redact(err))
}

// Backoff returns the wait before retry n+1 (n counts from 0): a uniformly
// random duration in [0, min(maxDelay, base·2ⁿ)] ("full jitter"), so that
// clients failing together do not retry together. It is the one retry
// backoff of this provider: the obs layer's and the upload engine's.
func Backoff(n int, base, maxDelay time.Duration) time.Duration {
	ceil := maxDelay
	if n < 62 {
		if d := base << uint(n); d > 0 && d < ceil {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// Sleep waits for d or until ctx is done, whichever is first, and returns
// ctx.Err() in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// redactedError hides secrets that leaked into an error's text while
// keeping the chain (context.Canceled and friends) for errors.Is.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact replaces any secret in err's message.
func (c *client) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := c.redactString(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

func (c *client) redactString(s string) string {
	for _, secret := range c.secrets {
		if len(secret) >= 4 && strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}
