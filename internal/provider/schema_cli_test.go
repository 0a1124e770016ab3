package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The built provider, run by the real terraform through a CLI config with
// dev_overrides, reports provider `obs` with every attribute and its
// secrets marked sensitive.
func TestProviderSchemaThroughTerraform(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform not on PATH (make test installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-obs"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cliConfig := filepath.Join(dir, "terraformrc")
	mustWrite(t, cliConfig, fmt.Sprintf(`provider_installation {
  dev_overrides { "registry.terraform.io/obsprovider/obs" = %q }
  direct {}
}
`, bin))
	work := filepath.Join(dir, "work")
	mustWrite(t, filepath.Join(work, "main.tf"), `terraform {
  required_providers {
    obs = { source = "obsprovider/obs" }
  }
}
`)
	cmd := exec.Command(tf, "providers", "schema", "-json")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1")
	out, err := cmd.Output()
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
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
