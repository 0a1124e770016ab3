package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// uploadErrorDetail explains a failed upload: the cause, what was kept, and
// what to do next.
func uploadErrorDetail(ctx context.Context, err error, record *upload.Record) string {
	var b strings.Builder
	switch {
	case errors.Is(err, context.Canceled):
		b.WriteString("The upload was interrupted.")
	case errors.Is(err, context.DeadlineExceeded):
		b.WriteString("The upload did not finish within the timeout (see the `timeouts` argument).")
	case errors.Is(err, upload.ErrSourceChanged):
		b.WriteString("The source file changed while it was being uploaded: " + err.Error() +
			". Nothing was completed, so OBS holds no object mixing old and new bytes. Run plan and apply again once the file is no longer being written.")
	default:
		b.WriteString(describeOBSError(err))
	}
	if record != nil && errors.Is(err, upload.ErrSourceChanged) {
		fmt.Fprintf(&b, "\n\nThe open upload %s holds parts of the old content; it cannot be resumed and is aborted "+
			"after the next successful apply.", record.UploadID)
	} else if record != nil {
		var sent int64
		for _, p := range record.Parts {
			sent += p.Size
		}
		fmt.Fprintf(&b, "\n\nProgress is kept: upload %s has %d part(s), %s of %s, in OBS. "+
			"Run terraform apply again to resume; only the missing parts will be sent.",
			record.UploadID, len(record.Parts), upload.FormatBytes(sent), upload.FormatBytes(record.Size))
	}
	tflog.Debug(ctx, "upload failed", map[string]any{"error": err.Error()})
	return b.String()
}

// describeOBSError is the error from the obs layer followed by advice on
// what to change, when there is any.
func describeOBSError(err error) string {
	if hint := obsErrorHint(err); hint != "" {
		return err.Error() + "\n\n" + hint
	}
	return err.Error()
}

// obsErrorHint says what to check or change for an error from the obs
// layer, or "". The obs layer reports only what OBS answered (status, code,
// message, request ID); advice that names provider settings is given here.
// A hint never promises a resume: only uploadErrorDetail knows whether an
// upload is kept to resume.
func obsErrorHint(err error) string {
	switch {
	case obs.IsCertificateError(err):
		return "The endpoint's TLS certificate could not be verified, so nothing was sent (a certificate error is not retried). " +
			"If the endpoint uses a private CA or a self-signed certificate, set ca_file (HW_CA_FILE) to a PEM file holding that CA; " +
			"to skip verification, for tests only, set insecure = true (HW_INSECURE). " +
			"If the certificate is for another name, check endpoint; if it expired, the server's certificate must be renewed."
	case obs.IsSecurityTokenInvalid(err):
		return "OBS refused the security token: temporary (STS) credentials expire, and a token is valid only with the access key " +
			"it was issued with. Get new temporary credentials and set security_token (HW_SECURITY_TOKEN) together with " +
			"their access_key and secret_key, then apply again; the upload resumes."
	}
	e, ok := obs.AsError(err)
	if !ok {
		return ""
	}
	switch e.Code {
	case "SignatureDoesNotMatch":
		return "The secret key does not match the access key. Check secret_key (HW_SECRET_KEY), and that signature " +
			"(obs, v2, v4) and region match what the endpoint expects."
	case "InvalidAccessKeyId":
		return "OBS does not know this access key. Check access_key (HW_ACCESS_KEY), and security_token for temporary credentials."
	case "RequestTimeTooSkewed":
		return "This machine's clock differs from OBS's by more than 15 minutes. Synchronise the clock (NTP) and retry."
	case "AccessDenied":
		return "The credentials lack permission for this bucket or key (obs:object:PutObject and multipart permissions are needed)."
	case "NoSuchBucket":
		return "The bucket does not exist in this region/endpoint. Check bucket, region and endpoint."
	case "EntityTooSmall":
		return "A part was smaller than the server's minimum part size (100 KiB on OBS 3.0 buckets, 5 MiB on OBS 2.0 buckets and S3-compatible servers). Raise part_size."
	case "SlowDown", "ServiceUnavailable", "InternalError":
		return "OBS kept failing after retries. Run apply again later; raise max_retries or lower concurrency to be gentler."
	}
	if e.StatusCode == 0 && e.Err != nil {
		return "The endpoint could not be reached. Check endpoint/region, network and proxy settings."
	}
	return ""
}

// copyErrorDetail explains a failed copy: the cause, what was kept, and
// what to do next.
func copyErrorDetail(ctx context.Context, err error, record *upload.Record) string {
	var b strings.Builder
	switch {
	case errors.Is(err, context.Canceled):
		b.WriteString("The copy was interrupted.")
	case errors.Is(err, context.DeadlineExceeded):
		b.WriteString("The copy did not finish within the timeout (see the `timeouts` argument).")
	case errors.Is(err, upload.ErrSourceObjectChanged):
		b.WriteString("The source object changed while it was being copied: " + err.Error() +
			". Nothing was completed, so the copy holds no mix of two versions of the source. Run plan and apply again to copy the new version.")
	default:
		b.WriteString(describeOBSError(err))
	}
	switch {
	case record != nil && errors.Is(err, upload.ErrSourceObjectChanged):
		fmt.Fprintf(&b, "\n\nThe open upload %s holds parts of the old version; it cannot be resumed and is aborted "+
			"after the next successful copy.", record.UploadID)
	case record != nil:
		var copied int64
		for _, p := range record.Parts {
			copied += p.Size
		}
		fmt.Fprintf(&b, "\n\nProgress is kept: upload %s has %d part(s), %s of %s, copied in OBS. "+
			"Run terraform apply again to resume; only the missing parts will be copied.",
			record.UploadID, len(record.Parts), upload.FormatBytes(copied), upload.FormatBytes(record.Size))
	}
	tflog.Debug(ctx, "copy failed", map[string]any{"error": err.Error()})
	return b.String()
}
