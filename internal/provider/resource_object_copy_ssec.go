package provider

import (
	"fmt"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// The source's SSE-C key (source_sse_c_key) against what OBS answers when
// the source is read with it: the plan and the apply HEAD the source with
// the key before anything is copied.

// sseCAlgorithm is ObjectInfo.SSE of an object encrypted with SSE-C.
const sseCAlgorithm = "AES256"

// addSourceKeyDenied reports a source read that OBS denied (403) while
// source_sse_c_key was sent, on source_sse_c_key: OBS denies a read of an
// SSE-C object with a key other than its own, and a HEAD has no body to
// tell that from missing permissions. It reports false, adding nothing,
// for any other error. name is the source as addSourceObjectError names
// it; when is as for addSourceObjectError.
func addSourceKeyDenied(diags *diag.Diagnostics, m objectCopyModelV0, name string, err error, when string) bool {
	e, ok := obs.AsError(err)
	if !ok || e.StatusCode != http.StatusForbidden || m.sourceSSEC() == nil {
		return false
	}
	diags.AddAttributeError(path.Root("source_sse_c_key"), "Reading the source object "+name,
		fmt.Sprintf("OBS denied reading the source with source_sse_c_key: %s.\n\nsource_sse_c_key is most likely not the key "+
			"the source was encrypted with; set it to that key (OBS denies the read in the same way when the credentials "+
			"may not read the source).%s", err.Error(), when))
	return true
}

// addSourceKeyMissing reports a source read that OBS refused (400) while no
// source_sse_c_key was sent: OBS answers so a read of an SSE-C object
// without its key, and a HEAD has no body to say more. It reports false,
// adding nothing, for any other error. attr and name are the attribute and
// the source as addSourceObjectError has them; when is as for
// addSourceObjectError.
func addSourceKeyMissing(diags *diag.Diagnostics, m objectCopyModelV0, attr path.Path, name string, err error, when string) bool {
	e, ok := obs.AsError(err)
	if !ok || e.StatusCode != http.StatusBadRequest || m.sourceSSEC() != nil {
		return false
	}
	also := ""
	if m.SourceVersionID.ValueString() != "" {
		also = " It answers so too for a source_version_id that is not a valid version ID."
	}
	diags.AddAttributeError(attr, "Reading the source object "+name,
		fmt.Sprintf("OBS refused to read the source: %s.\n\nOBS answers so when an object encrypted with SSE-C is read "+
			"without its key: if the source is encrypted with SSE-C, set source_sse_c_key to the key it was encrypted with.%s%s",
			err.Error(), also, when))
	return true
}

// importedSSECHint follows a failed read of an imported copy: a copy
// encrypted with SSE-C cannot be read without its key, which import does
// not have.
const importedSSECHint = "\n\nIf the copy is encrypted with SSE-C, OBS does not let it be read without its key, which import does " +
	"not have. Instead of importing it, declare the obs_object_copy and apply: the copy is made again, server-side."

// checkSourceKeyApplies reports on source_sse_c_key a key for a source that
// is not encrypted with SSE-C: OBS refuses a copy that sends a source key
// for such a source (InvalidRequest), which would fail a copy in parts
// only once its upload was open. when is as for addSourceObjectError.
func checkSourceKeyApplies(diags *diag.Diagnostics, m objectCopyModelV0, info obs.ObjectInfo, when string) {
	if m.sourceSSEC() == nil || info.SSE == sseCAlgorithm {
		return
	}
	diags.AddAttributeError(path.Root("source_sse_c_key"), "The source object is not encrypted with SSE-C",
		fmt.Sprintf("source_sse_c_key is set, but OBS object %s/%s is not encrypted with SSE-C, and OBS refuses to copy "+
			"such a source with a source key. Remove source_sse_c_key.%s", m.SourceBucket.ValueString(), m.SourceKey.ValueString(), when))
}
