package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// An OBS error a user can fix gets the wire facts and then one hint, which
// names the settings to check.
func TestDescribeOBSError_oneHint(t *testing.T) {
	for code, want := range map[string]string{
		"SignatureDoesNotMatch": "Check secret_key (HW_SECRET_KEY), and that signature (obs, v2, v4) and region match",
		"InvalidAccessKeyId":    "Check access_key (HW_ACCESS_KEY)",
		"RequestTimeTooSkewed":  "differs from OBS's by more than 15 minutes",
		"AccessDenied":          "The credentials lack permission for this bucket or key",
		"NoSuchBucket":          "Check bucket, region and endpoint",
	} {
		err := &obs.Error{Op: "UploadPart", Bucket: "b", Key: "k", StatusCode: 403, Code: code, Message: "msg", RequestID: "rid"}
		got := describeOBSError(err)
		facts, hint, ok := strings.Cut(got, "\n\n")
		if !ok || facts != err.Error() || strings.Contains(hint, "\n\n") || !strings.Contains(hint, want) {
			t.Errorf("%s: %q, want %q then one hint containing %q", code, got, err.Error(), want)
		}
		if strings.Contains(strings.ToLower(facts), "check") {
			t.Errorf("%s: the obs error %q gives advice of its own", code, facts)
		}
	}
}

// A refused security token and an unverifiable certificate each get their
// own hint, which names the settings that fix them; an unknown access key
// (the same code as a refused token on OBS) keeps the access-key hint.
func TestDescribeOBSError_tokenAndCertificate(t *testing.T) {
	certErr := &url.Error{Op: "Put", URL: "https://b.obs.example.com/k", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}
	for _, tc := range []struct {
		name      string
		err       error
		want, not []string
	}{
		{"expired token (OBS)", &obs.Error{Op: "UploadPart", StatusCode: 403, Code: "InvalidAccessKeyId", Message: "The security token is invalid."},
			[]string{"refused the security token", "security_token (HW_SECURITY_TOKEN)", "the upload resumes"}, []string{"does not know this access key"}},
		{"expired token (S3)", &obs.Error{Op: "UploadPart", StatusCode: 400, Code: "ExpiredToken", Message: "The provided token has expired."},
			[]string{"security_token (HW_SECURITY_TOKEN)"}, nil},
		{"unknown key", &obs.Error{Op: "UploadPart", StatusCode: 403, Code: "InvalidAccessKeyId", Message: "The OBS Access Key Id you provided does not exist in our records."},
			[]string{"Check access_key (HW_ACCESS_KEY)"}, []string{"refused the security token"}},
		{"unknown CA", &obs.Error{Op: "ListMultipartUploads", Bucket: "b", Err: certErr},
			[]string{"TLS certificate could not be verified", "is not retried", "ca_file (HW_CA_FILE)", "insecure = true (HW_INSECURE)"},
			[]string{"could not be reached"}},
	} {
		got := describeOBSError(tc.err)
		facts, hint, ok := strings.Cut(got, "\n\n")
		if !ok || facts != tc.err.Error() || strings.Contains(hint, "\n\n") {
			t.Errorf("%s: %q, want the error then one hint", tc.name, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(hint, w) {
				t.Errorf("%s: hint %q lacks %q", tc.name, hint, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(hint, n) {
				t.Errorf("%s: hint %q contains %q", tc.name, hint, n)
			}
		}
	}
}

func TestDescribeOBSError_noHint(t *testing.T) {
	for _, err := range []error{
		&obs.Error{Op: "HeadObject", Bucket: "b", Key: "k", StatusCode: 409, Code: "Conflict"},
		errors.New("not from OBS"),
	} {
		if got := describeOBSError(err); got != err.Error() {
			t.Errorf("describeOBSError(%v) = %q, want the error alone", err, got)
		}
	}
	unreachable := &obs.Error{Op: "HeadObject", Bucket: "b", Key: "k", Err: errors.New("connection refused")}
	if got := describeOBSError(unreachable); !strings.HasSuffix(got, "\n\nThe endpoint could not be reached. "+
		"Check endpoint/region, network and proxy settings.") {
		t.Errorf("unreachable endpoint: %q", got)
	}
}

// A failed upload's detail speaks of resuming exactly when an upload is
// kept to resume, whatever the hint for the error says.
func TestUploadErrorDetail_resumeOnlyWithAnUpload(t *testing.T) {
	rec := &upload.Record{UploadID: "up-1", Size: 300, Parts: []upload.CompletedPart{{Number: 1, Size: 100}}}
	for _, err := range []error{
		&obs.Error{Op: "InitiateMultipartUpload", Bucket: "b", Key: "k", Err: errors.New("dial tcp: connection refused")},
		&obs.Error{Op: "UploadPart", Bucket: "b", Key: "k", StatusCode: 503, Code: "SlowDown"},
		&obs.Error{Op: "UploadPart", Bucket: "b", Key: "k", StatusCode: 500, Code: "InternalError"},
	} {
		if got := uploadErrorDetail(context.Background(), err, nil); strings.Contains(strings.ToLower(got), "resum") {
			t.Errorf("no upload exists, yet the detail speaks of resuming: %q", got)
		}
		got := uploadErrorDetail(context.Background(), err, rec)
		if n := strings.Count(strings.ToLower(got), "resum"); n != 1 || !strings.Contains(got, "upload up-1 has 1 part(s)") {
			t.Errorf("an upload is kept: the detail should say once that apply resumes it: %q", got)
		}
	}
}
