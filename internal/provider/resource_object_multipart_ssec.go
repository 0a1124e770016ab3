package provider

import (
	"net/url"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// checkSSECTransport refuses at plan an SSE-C key (sse_c_key or
// sse_c_key_wo) with a plain-HTTP endpoint: the key travels in request
// headers, and OBS denies SSE-C requests that do not arrive over HTTPS.
// config (not the plan) holds the key, so a write-only key is seen too.
func (r *objectMultipartResource) checkSSECTransport(config objectMultipartModelV0, diags *diag.Diagnostics) {
	checkSSECOverHTTP(r.data, path.Root("sse_c_key"), config.SSECKey, diags)
	checkSSECOverHTTP(r.data, path.Root("sse_c_key_wo"), config.SSECKeyWO, diags)
}

// checkSSECOverHTTP reports on attr an SSE-C key (its configured value) that
// would be sent to a plain-HTTP endpoint.
func checkSSECOverHTTP(data *providerData, attr path.Path, key types.String, diags *diag.Diagnostics) {
	if data == nil || key.IsNull() || key.IsUnknown() {
		return
	}
	u, err := url.Parse(data.endpoint)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return
	}
	name := attr.String()
	diags.AddAttributeError(attr, "SSE-C needs HTTPS",
		"OBS accepts SSE-C ("+name+") only over HTTPS, and over plain HTTP the customer key would cross the network "+
			"in clear text. The provider's endpoint is "+data.endpoint+"; use an https:// endpoint "+
			"(with ca_file for a private CA), or remove "+name+".")
}
