package obs

import (
	"net/url"
	"testing"

	sdk "github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// Tags are percent-encoded with %20 for a space, and decode back exactly,
// including a literal plus sign, ampersand and equals sign.
func TestEncodeTags(t *testing.T) {
	tags := map[string]string{"team": "a b", "expr": "1+1=2", "k&v": "x/y", "empty": ""}
	got := encodeTags(tags)
	if want := "empty=&expr=1%2B1%3D2&k%26v=x%2Fy&team=a%20b"; got != want {
		t.Fatalf("encodeTags = %q, want %q", got, want)
	}
	back, err := url.ParseQuery(got)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range tags {
		if back.Get(k) != v {
			t.Errorf("tag %q decodes to %q, want %q", k, back.Get(k), v)
		}
	}
	if encodeTags(nil) != "" {
		t.Error("no tags should give no header")
	}
}

// The SDK parses every server-side-encryption response header as a KMS
// header; only kms (aws:kms on S3-compatible servers) is SSE-KMS, AES256
// there is server-managed keys, and SSE-C has a header of its own.
func TestSSEName(t *testing.T) {
	for _, c := range []struct {
		h    sdk.ISseHeader
		want string
	}{
		{nil, ""},
		{sdk.SseKmsHeader{Encryption: "kms"}, "kms"},
		{sdk.SseKmsHeader{Encryption: "aws:kms"}, "kms"},
		{sdk.SseKmsHeader{Encryption: "AES256"}, "obs"},
		{sdk.SseCHeader{Encryption: "AES256", KeyMD5: "x"}, "AES256"},
		{sdk.SseCHeader{}, "AES256"},
	} {
		if got := sseName(c.h); got != c.want {
			t.Errorf("sseName(%#v) = %q, want %q", c.h, got, c.want)
		}
	}
}
