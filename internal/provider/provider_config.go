package provider

import (
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// Environment variables read when an attribute is not set in configuration.
const (
	envRegion             = "HW_REGION_NAME"
	envEndpoint           = "HW_OBS_ENDPOINT"
	envAccessKey          = "HW_ACCESS_KEY"
	envSecretKey          = "HW_SECRET_KEY"
	envSecurityToken      = "HW_SECURITY_TOKEN"
	envSignature          = "HW_OBS_SIGNATURE"
	envPathStyle          = "HW_OBS_PATH_STYLE"
	envInsecure           = "HW_INSECURE"
	envCAFile             = "HW_CA_FILE"
	envMaxRetries         = "HW_MAX_RETRIES"
	envMaxConcurrentParts = "HW_OBS_MAX_CONCURRENT_PARTS"
	envMaxBandwidth       = "HW_OBS_MAX_BANDWIDTH"
)

// Defaults for optional provider attributes.
const (
	defaultSignature          = obs.SignatureOBS
	defaultMaxRetries         = 5
	defaultMaxConcurrentParts = 32
	// minBandwidth is the lowest max_bandwidth, 1 KiB/s: a value meant in
	// another unit (10 for 10 MB/s) is an error, not an upload that never
	// ends.
	minBandwidth = 1 << 10
)

// resolvedConfig is the provider configuration after environment fallbacks,
// defaults and validation.
type resolvedConfig struct {
	clientConfig       obs.Config
	maxConcurrentParts int
	maxBandwidth       int64 // bytes per second; 0 is unlimited
}

// resolveConfig applies environment fallbacks (configuration wins) and
// defaults, and reports every problem as an error on its attribute.
func resolveConfig(m providerModel, getenv func(string) string) (resolvedConfig, diag.Diagnostics) {
	var diags diag.Diagnostics
	str := func(v types.String, env string) string {
		if !v.IsNull() && !v.IsUnknown() {
			return v.ValueString()
		}
		return getenv(env)
	}
	boolean := func(attr string, v types.Bool, env string) bool {
		if !v.IsNull() && !v.IsUnknown() {
			return v.ValueBool()
		}
		s := getenv(env)
		if s == "" {
			return false
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			diags.AddAttributeError(path.Root(attr), "Invalid "+env,
				"Environment variable "+env+" must be true or false, got "+strconv.Quote(s)+".")
		}
		return b
	}
	integer := func(attr string, v types.Int64, env string, def, lo, hi int64) int64 {
		if !v.IsNull() && !v.IsUnknown() {
			return v.ValueInt64()
		}
		s := getenv(env)
		if s == "" {
			return def
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < lo || n > hi {
			diags.AddAttributeError(path.Root(attr), "Invalid "+env,
				"Environment variable "+env+" must be an integer between "+strconv.FormatInt(lo, 10)+" and "+
					strconv.FormatInt(hi, 10)+", got "+strconv.Quote(s)+".")
			return def
		}
		return n
	}

	c := obs.Config{
		Region:        str(m.Region, envRegion),
		Endpoint:      str(m.Endpoint, envEndpoint),
		AccessKey:     str(m.AccessKey, envAccessKey),
		SecretKey:     str(m.SecretKey, envSecretKey),
		SecurityToken: str(m.SecurityToken, envSecurityToken),
		Signature:     obs.Signature(str(m.Signature, envSignature)),
		PathStyle:     boolean("path_style", m.PathStyle, envPathStyle),
		Insecure:      boolean("insecure", m.Insecure, envInsecure),
		MaxRetries:    int(integer("max_retries", m.MaxRetries, envMaxRetries, defaultMaxRetries, 0, 100)),
	}
	parts := int(integer("max_concurrent_parts", m.MaxConcurrentParts, envMaxConcurrentParts, defaultMaxConcurrentParts, 1, 10000))
	c.MaxConns = parts + 8
	bandwidth := integer("max_bandwidth", m.MaxBandwidth, envMaxBandwidth, 0, minBandwidth, math.MaxInt64)

	switch c.Signature {
	case "":
		c.Signature = defaultSignature
	case obs.SignatureOBS, obs.SignatureV2, obs.SignatureV4:
	default:
		diags.AddAttributeError(path.Root("signature"), "Invalid signature",
			"signature (or "+envSignature+") must be one of obs, v2, v4, got "+strconv.Quote(string(c.Signature))+".")
	}

	if c.AccessKey == "" {
		diags.AddAttributeError(path.Root("access_key"), "Missing OBS access key",
			"Set access_key in the provider configuration or the "+envAccessKey+" environment variable.")
	}
	if c.SecretKey == "" {
		diags.AddAttributeError(path.Root("secret_key"), "Missing OBS secret key",
			"Set secret_key in the provider configuration or the "+envSecretKey+" environment variable.")
	}

	switch {
	case c.Endpoint != "":
		if err := obs.CheckEndpoint(c.Endpoint); err != nil {
			diags.AddAttributeError(path.Root("endpoint"), "Invalid OBS endpoint",
				"endpoint (or "+envEndpoint+"): "+err.Error()+"; expected a URL like https://obs.cn-north-4.myhuaweicloud.com.")
		}
	case c.Region != "":
		if strings.ContainsAny(c.Region, "/:. ") {
			diags.AddAttributeError(path.Root("region"), "Invalid OBS region",
				"region (or "+envRegion+") must be a region name like cn-north-4, got "+strconv.Quote(c.Region)+".")
		}
		c.Endpoint = "https://obs." + c.Region + ".myhuaweicloud.com"
	default:
		diags.AddAttributeError(path.Root("region"), "Missing OBS region or endpoint",
			"Set region (or "+envRegion+") to use https://obs.<region>.myhuaweicloud.com, or set endpoint (or "+envEndpoint+").")
	}

	if caFile := str(m.CAFile, envCAFile); caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			diags.AddAttributeError(path.Root("ca_file"), "Cannot read CA bundle",
				"ca_file (or "+envCAFile+"): "+err.Error())
		} else {
			c.CACertPEM = pem
		}
	}
	return resolvedConfig{clientConfig: c, maxConcurrentParts: parts, maxBandwidth: bandwidth}, diags
}
