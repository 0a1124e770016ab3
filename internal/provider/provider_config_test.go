package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

func nullModel() providerModel {
	return providerModel{
		Region: types.StringNull(), Endpoint: types.StringNull(), AccessKey: types.StringNull(),
		SecretKey: types.StringNull(), SecurityToken: types.StringNull(), Signature: types.StringNull(),
		PathStyle: types.BoolNull(), Insecure: types.BoolNull(), CAFile: types.StringNull(),
		MaxRetries: types.Int64Null(), MaxConcurrentParts: types.Int64Null(), MaxBandwidth: types.Int64Null(),
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolveConfig_envFallbacks(t *testing.T) {
	t.Parallel()
	cfg, diags := resolveConfig(nullModel(), env(map[string]string{
		envRegion: "cn-north-4", envAccessKey: "AK", envSecretKey: "SK", envSecurityToken: "TOKEN",
		envSignature: "v4", envPathStyle: "true", envInsecure: "1", envMaxRetries: "7", envMaxConcurrentParts: "12",
		envMaxBandwidth: "2097152",
	}))
	if diags.HasError() {
		t.Fatal(diags)
	}
	c := cfg.clientConfig
	if c.Region != "cn-north-4" || c.AccessKey != "AK" || c.SecretKey != "SK" || c.SecurityToken != "TOKEN" ||
		c.Signature != obs.SignatureV4 || !c.PathStyle || !c.Insecure || c.MaxRetries != 7 || cfg.maxConcurrentParts != 12 {
		t.Errorf("env not applied: %+v parts=%d", c, cfg.maxConcurrentParts)
	}
	if cfg.maxBandwidth != 2<<20 {
		t.Errorf("%s not applied: max_bandwidth %d", envMaxBandwidth, cfg.maxBandwidth)
	}
	if c.Endpoint != "https://obs.cn-north-4.myhuaweicloud.com" {
		t.Errorf("endpoint not derived from region: %q", c.Endpoint)
	}
}

func TestResolveConfig_configWinsOverEnv(t *testing.T) {
	t.Parallel()
	m := nullModel()
	m.Endpoint = types.StringValue("https://obs.example.com:8443")
	m.AccessKey = types.StringValue("cfg-ak")
	m.SecretKey = types.StringValue("cfg-sk")
	m.Signature = types.StringValue("obs")
	m.PathStyle = types.BoolValue(false)
	m.MaxRetries = types.Int64Value(0)
	m.MaxConcurrentParts = types.Int64Value(3)
	m.MaxBandwidth = types.Int64Value(1 << 20)
	cfg, diags := resolveConfig(m, env(map[string]string{
		envEndpoint: "https://env.example.com", envAccessKey: "env-ak", envSecretKey: "env-sk",
		envSignature: "v2", envPathStyle: "true", envMaxRetries: "9", envMaxConcurrentParts: "50",
		envMaxBandwidth: "9999999",
	}))
	if diags.HasError() {
		t.Fatal(diags)
	}
	c := cfg.clientConfig
	if c.Endpoint != "https://obs.example.com:8443" || c.AccessKey != "cfg-ak" || c.SecretKey != "cfg-sk" ||
		c.Signature != obs.SignatureOBS || c.PathStyle || c.MaxRetries != 0 || cfg.maxConcurrentParts != 3 {
		t.Errorf("configuration did not win: %+v parts=%d", c, cfg.maxConcurrentParts)
	}
	if cfg.maxBandwidth != 1<<20 {
		t.Errorf("configuration did not win: max_bandwidth %d", cfg.maxBandwidth)
	}
}

func TestResolveConfig_defaults(t *testing.T) {
	t.Parallel()
	cfg, diags := resolveConfig(nullModel(), env(map[string]string{envRegion: "ap-southeast-1", envAccessKey: "a", envSecretKey: "s"}))
	if diags.HasError() {
		t.Fatal(diags)
	}
	c := cfg.clientConfig
	if c.Signature != obs.SignatureOBS || c.MaxRetries != defaultMaxRetries || cfg.maxConcurrentParts != defaultMaxConcurrentParts ||
		c.Insecure || c.PathStyle || cfg.maxBandwidth != 0 {
		t.Errorf("defaults wrong: %+v", c)
	}
}

// Each bad configuration yields an error on its attribute that names the
// attribute and its environment variable, and never a secret.
func TestResolveConfig_errors(t *testing.T) {
	t.Parallel()
	missingCA := filepath.Join(t.TempDir(), "nope.pem")
	base := map[string]string{envRegion: "cn-north-4", envAccessKey: "AK", envSecretKey: "super-secret"}
	cases := []struct {
		name   string
		model  func(*providerModel)
		env    map[string]string
		attr   string
		wanted []string
	}{
		{"missing access key", nil, map[string]string{envAccessKey: ""}, "access_key", []string{"access_key", envAccessKey}},
		{"missing secret key", nil, map[string]string{envSecretKey: ""}, "secret_key", []string{"secret_key", envSecretKey}},
		{"missing region and endpoint", nil, map[string]string{envRegion: ""}, "region", []string{"region", envRegion, envEndpoint}},
		{"endpoint without scheme", func(m *providerModel) { m.Endpoint = types.StringValue("obs.example.com") }, nil, "endpoint", []string{"endpoint", envEndpoint, "https://"}},
		{"endpoint with path", func(m *providerModel) { m.Endpoint = types.StringValue("https://obs.example.com/bucket") }, nil, "endpoint", []string{"endpoint", "no path"}},
		{"endpoint bad port", func(m *providerModel) { m.Endpoint = types.StringValue("https://obs.example.com:99999") }, nil, "endpoint", []string{"port"}},
		{"endpoint from env malformed", nil, map[string]string{envEndpoint: "ftp://x"}, "endpoint", []string{envEndpoint}},
		{"region malformed", func(m *providerModel) { m.Region = types.StringValue("cn north/4") }, nil, "region", []string{"region"}},
		{"signature from env", nil, map[string]string{envSignature: "v3"}, "signature", []string{envSignature, "obs, v2, v4"}},
		{"path_style from env", nil, map[string]string{envPathStyle: "maybe"}, "path_style", []string{envPathStyle}},
		{"insecure from env", nil, map[string]string{envInsecure: "yes please"}, "insecure", []string{envInsecure}},
		{"max_retries from env", nil, map[string]string{envMaxRetries: "-1"}, "max_retries", []string{envMaxRetries}},
		{"max_concurrent_parts from env", nil, map[string]string{envMaxConcurrentParts: "0"}, "max_concurrent_parts", []string{envMaxConcurrentParts}},
		{"max_bandwidth from env too low", nil, map[string]string{envMaxBandwidth: "1023"}, "max_bandwidth", []string{envMaxBandwidth, "1024"}},
		{"max_bandwidth from env with a unit", nil, map[string]string{envMaxBandwidth: "10MB"}, "max_bandwidth", []string{envMaxBandwidth}},
		{"ca_file missing", func(m *providerModel) { m.CAFile = types.StringValue(missingCA) }, nil, "ca_file", []string{"ca_file", envCAFile}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := nullModel()
			if tc.model != nil {
				tc.model(&m)
			}
			e := map[string]string{}
			for k, v := range base {
				e[k] = v
			}
			for k, v := range tc.env {
				e[k] = v
			}
			_, diags := resolveConfig(m, env(e))
			d := findAttrError(diags, path.Root(tc.attr))
			if d == nil {
				t.Fatalf("no error on %s; got %v", tc.attr, diags)
			}
			text := d.Summary() + " " + d.Detail()
			for _, w := range tc.wanted {
				if !strings.Contains(text, w) {
					t.Errorf("diagnostic %q does not mention %q", text, w)
				}
			}
			for _, dd := range diags {
				if strings.Contains(dd.Summary()+dd.Detail(), "super-secret") {
					t.Errorf("diagnostic leaks the secret key: %v", dd)
				}
			}
		})
	}
}

func findAttrError(diags diag.Diagnostics, p path.Path) diag.Diagnostic {
	for _, d := range diags.Errors() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().Equal(p) {
			return d
		}
	}
	return nil
}

func TestResolveConfig_caFile(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := resolveConfig(nullModel(), env(map[string]string{envRegion: "r1", envAccessKey: "a", envSecretKey: "s", envCAFile: ca}))
	if diags.HasError() || len(cfg.clientConfig.CACertPEM) == 0 {
		t.Fatalf("ca_file from env not read: %v", diags)
	}
}
