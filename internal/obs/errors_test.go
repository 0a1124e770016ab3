package obs

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsSecurityTokenInvalid(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&Error{StatusCode: 403, Code: "InvalidAccessKeyId", Message: "The security token is invalid."}, true},
		{fmt.Errorf("part 3: %w", &Error{StatusCode: 403, Code: "InvalidAccessKeyId", Message: "The security token is invalid."}), true},
		{&Error{StatusCode: 400, Code: "ExpiredToken", Message: "The provided token has expired."}, true},
		{&Error{StatusCode: 400, Code: "InvalidToken", Message: "The provided token is malformed or otherwise invalid."}, true},
		{&Error{StatusCode: 403, Code: "InvalidAccessKeyId", Message: "The OBS Access Key Id you provided does not exist in our records."}, false},
		{&Error{StatusCode: 403, Code: "AccessDenied", Message: "The security token is invalid."}, false},
		{errors.New("InvalidAccessKeyId: the security token is invalid"), false}, // not an OBS error
		{nil, false},
	} {
		if got := IsSecurityTokenInvalid(tc.err); got != tc.want {
			t.Errorf("IsSecurityTokenInvalid(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
