package provider

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// The built provider, run by the real terraform through a CLI config with
// dev_overrides, reports provider `obs` with every attribute and its
// secrets marked sensitive.
func TestProviderSchemaThroughTerraform(t *testing.T) {
	t.Parallel()
	cli := newTerraformCLI(t)
	work := filepath.Join(t.TempDir(), "work")
	cli.writeConfig(work, acctest.TerraformBlock())
	out, err := cli.command(work, "providers", "schema", "-json").Output()
	if err != nil {
		t.Fatalf("terraform providers schema: %v\n%s", err, out)
	}
	var schemas struct {
		ProviderSchemas map[string]struct {
			Provider struct {
				Block struct {
					Attributes map[string]struct {
						Sensitive       bool   `json:"sensitive"`
						DescriptionKind string `json:"description_kind"`
						Description     string `json:"description"`
					} `json:"attributes"`
				} `json:"block"`
			} `json:"provider"`
			ResourceSchemas map[string]json.RawMessage `json:"resource_schemas"`
		} `json:"provider_schemas"`
	}
	if err := json.Unmarshal(out, &schemas); err != nil {
		t.Fatal(err)
	}
	p, ok := schemas.ProviderSchemas["registry.terraform.io/obsprovider/obs"]
	if !ok {
		t.Fatalf("provider obs not listed: %s", out)
	}
	sensitive := map[string]bool{"secret_key": true, "security_token": true}
	for _, name := range []string{"region", "endpoint", "access_key", "secret_key", "security_token", "signature",
		"path_style", "insecure", "ca_file", "max_retries", "max_concurrent_parts", "max_bandwidth"} {
		a, ok := p.Provider.Block.Attributes[name]
		if !ok {
			t.Errorf("attribute %s missing", name)
			continue
		}
		if a.Sensitive != sensitive[name] {
			t.Errorf("attribute %s: sensitive = %v", name, a.Sensitive)
		}
		if a.DescriptionKind != "markdown" || a.Description == "" {
			t.Errorf("attribute %s has no markdown description", name)
		}
	}
	if _, ok := p.ResourceSchemas["obs_object_multipart"]; !ok {
		t.Error("resource obs_object_multipart missing")
	}
	var copySchema struct {
		Block struct {
			Attributes map[string]struct {
				Sensitive   bool   `json:"sensitive"`
				Description string `json:"description"`
			} `json:"attributes"`
		} `json:"block"`
	}
	if err := json.Unmarshal(p.ResourceSchemas["obs_object_copy"], &copySchema); err != nil || len(copySchema.Block.Attributes) == 0 {
		t.Fatalf("resource obs_object_copy missing or unreadable (%v)", err)
	}
	for name, a := range copySchema.Block.Attributes {
		secret := name == "sse_c_key" || name == "source_sse_c_key"
		if a.Sensitive != secret || a.Description == "" {
			t.Errorf("obs_object_copy attribute %s: sensitive = %v, description %q", name, a.Sensitive, a.Description)
		}
	}
	for _, name := range []string{"source_bucket", "source_key", "source_version_id", "source_etag", "source_sha256", "part_count"} {
		if _, ok := copySchema.Block.Attributes[name]; !ok {
			t.Errorf("obs_object_copy attribute %s missing", name)
		}
	}
}
