package obs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
// message, request ID and cause. Advice on what to change belongs to the
// caller, which knows its own settings.
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
	if e.RequestID != "" {
		msg += " (request ID " + e.RequestID + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
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

// IsPreconditionFailed reports whether err is 412 PreconditionFailed: for
// a copy, its source no longer has the ETag the copy was made for.
func IsPreconditionFailed(err error) bool {
	e, ok := AsError(err)
	return ok && (e.StatusCode == http.StatusPreconditionFailed || e.Code == "PreconditionFailed")
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
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || IsCertificateError(err) || errors.Is(err, ErrShortBody) {
		return false
	}
	e, ok := AsError(err)
	if !ok {
		return false
	}
	switch e.StatusCode {
	case 0:
		// No usable HTTP response: a network error (reset, refused, EOF)
		// or an answer without its result (a copy that failed after OBS
		// answered 200).
		return e.Err != nil
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// IsSecurityTokenInvalid reports whether err is OBS refusing the security
// token of temporary credentials: expired, malformed, or not the one issued
// with the access key. OBS answers all of these with 403 InvalidAccessKeyId
// and the message "The security token is invalid." (the same code as for
// an unknown access key, so the message tells them apart); S3-compatible
// servers answer ExpiredToken or InvalidToken.
func IsSecurityTokenInvalid(err error) bool {
	e, ok := AsError(err)
	if !ok {
		return false
	}
	switch e.Code {
	case "InvalidAccessKeyId":
		return strings.Contains(strings.ToLower(e.Message), "security token")
	case "ExpiredToken", "InvalidToken":
		return true
	}
	return false
}
