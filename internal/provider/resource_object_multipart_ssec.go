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
	if r.data == nil {
		return
	}
	u, err := url.Parse(r.data.endpoint)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return
	}
	for _, a := range []struct {
		name string
		key  types.String
	}{{"sse_c_key", config.SSECKey}, {"sse_c_key_wo", config.SSECKeyWO}} {
		name := a.name
		if a.key.IsNull() || a.key.IsUnknown() {
			continue
		}
		diags.AddAttributeError(path.Root(name), "SSE-C needs HTTPS",
			"OBS accepts SSE-C ("+name+") only over HTTPS, and over plain HTTP the customer key would cross the network "+
				"in clear text. The provider's endpoint is "+r.data.endpoint+"; use an https:// endpoint "+
				"(with ca_file for a private CA), or remove "+name+".")
	}
}
