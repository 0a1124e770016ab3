package obs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Error is a failed OBS request. It carries the HTTP status, the OBS error
// code and the request ID so that users can quote them to support.
type Error struct {
	// Op is the operation, e.g. "UploadPart".
	Op         string
	Bucket     string
	Key        string
	StatusCode int
	Code       string
	Message    string
	RequestID  string
	// Err is the underlying transport or SDK error, if any.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("OBS %s %s/%s", e.Op, e.Bucket, e.Key) + e.detail()
}

// detail is the message after the operation and object: status, code,
// message, a hint for codes users can fix, request ID and cause.
func (e *Error) detail() string {
	var msg string
	switch {
	case e.StatusCode != 0 && e.Code != "":
		msg += fmt.Sprintf(": %d %s", e.StatusCode, e.Code)
	case e.StatusCode != 0:
		msg += fmt.Sprintf(": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if hint := codeHints[e.Code]; hint != "" {
		msg += " (" + hint + ")"
	}
	if e.RequestID != "" {
		msg += " (request ID " + e.RequestID + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// codeHints say what to check for errors a user's configuration causes.
var codeHints = map[string]string{
	"SignatureDoesNotMatch": "check secret_key, and that signature (obs, v2, v4) and region match what the endpoint expects",
	"InvalidAccessKeyId":    "check access_key",
	"RequestTimeTooSkewed":  "the local clock differs from the server's by more than 15 minutes",
	"AccessDenied":          "check the credentials' permissions on the bucket",
	"NoSuchBucket":          "check the bucket name and the endpoint's region",
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports whether err is a 404 (missing object, key or bucket).
func IsNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.StatusCode == http.StatusNotFound
}

// IsNoSuchUpload reports whether err says the multipart upload does not exist
// (aborted, completed, or expired by a lifecycle rule).
func IsNoSuchUpload(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == "NoSuchUpload"
}

// IsNoSuchBucket reports whether err says the bucket does not exist.
func IsNoSuchBucket(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == "NoSuchBucket"
}

// IsCode reports whether err carries the given OBS error code.
func IsCode(err error, code string) bool {
	e, ok := AsError(err)
	return ok && e.Code == code
}

// IsRetryable reports whether a request that failed with err may succeed if
// sent again: network errors, 408, 500, 502, 503 (including SlowDown) and
// 504. Other 4xx never are; a cancelled or expired context never is, nor a
// body that ended early (ErrShortBody).
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrShortBody) {
		return false
	}
	e, ok := AsError(err)
	if !ok {
		return false
	}
	switch e.StatusCode {
	case 0:
		// No HTTP response: a network error (reset, refused, EOF).
		return e.Err != nil
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
