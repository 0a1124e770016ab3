package provider

import (
	"net/url"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// checkSSECTransport refuses at plan an SSE-C key with a plain-HTTP
// endpoint: the key travels in request headers, and OBS denies SSE-C
// requests that do not arrive over HTTPS. config (not the plan) holds the
// key, so the check sees it however the attribute is stored.
func (r *objectMultipartResource) checkSSECTransport(config objectMultipartModelV0, diags *diag.Diagnostics) {
	if r.data == nil || config.SSECKey.IsNull() || config.SSECKey.IsUnknown() {
		return
	}
	u, err := url.Parse(r.data.endpoint)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return
	}
	diags.AddAttributeError(path.Root("sse_c_key"), "SSE-C needs HTTPS",
		"OBS accepts SSE-C (sse_c_key) only over HTTPS, and over plain HTTP the customer key would cross the network "+
			"in clear text. The provider's endpoint is "+r.data.endpoint+"; use an https:// endpoint "+
			"(with ca_file for a private CA), or remove sse_c_key.")
}
