// Package provider is the Terraform-facing layer: the provider `obs`, its
// configuration, and the obs_object_multipart resource. It talks to OBS only
// through the upload engine and the internal/obs client interface.
package provider

import (
	"context"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

var _ provider.Provider = (*obsProvider)(nil)

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
)

// Defaults for optional provider attributes.
const (
	defaultSignature          = obs.SignatureOBS
	defaultMaxRetries         = 5
	defaultMaxConcurrentParts = 32
)

type obsProvider struct {
	version string
	// dialContext, when set, opens every connection of the OBS client
	// (WithDialContext).
	dialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// An Option adjusts a provider built by New.
type Option func(*obsProvider)

// WithDialContext makes the OBS client open its connections with dial, e.g.
// to route virtual-hosted names such as bucket.obs.local to a local server
// in in-process tests. The released provider (main.go) sets no options.
func WithDialContext(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(p *obsProvider) { p.dialContext = dial }
}

// New returns a constructor of the provider for providerserver.Serve.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &obsProvider{version: version}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

// providerModel is the provider configuration, schema version 0.
type providerModel struct {
	Region             types.String `tfsdk:"region"`
	Endpoint           types.String `tfsdk:"endpoint"`
	AccessKey          types.String `tfsdk:"access_key"`
	SecretKey          types.String `tfsdk:"secret_key"`
	SecurityToken      types.String `tfsdk:"security_token"`
	Signature          types.String `tfsdk:"signature"`
	PathStyle          types.Bool   `tfsdk:"path_style"`
	Insecure           types.Bool   `tfsdk:"insecure"`
	CAFile             types.String `tfsdk:"ca_file"`
	MaxRetries         types.Int64  `tfsdk:"max_retries"`
	MaxConcurrentParts types.Int64  `tfsdk:"max_concurrent_parts"`
}

// providerData is what resources receive from Configure.
type providerData struct {
	client    obs.Client
	budget    *upload.Budget
	signature obs.Signature
}

func (p *obsProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "obs"
	resp.Version = p.version
}

func (p *obsProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The `obs` provider uploads large files to [Huawei Cloud OBS](https://www.huaweicloud.com/intl/en-us/product/obs.html) " +
			"with concurrent, integrity-checked, resumable multipart uploads. Every attribute can also be set through " +
			"an environment variable; a value in the configuration wins over the environment.",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				MarkdownDescription: "OBS region, e.g. `cn-north-4`. Used to derive the default endpoint and for SigV4 signing. " +
					"Environment: `" + envRegion + "`. Required unless `endpoint` is set.",
				Optional: true,
			},
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "OBS endpoint URL (`https://host[:port]`). Default: `https://obs.<region>.myhuaweicloud.com`. " +
					"Set it for other clouds, private deployments or a local server. Environment: `" + envEndpoint + "`.",
				Optional: true,
			},
			"access_key": schema.StringAttribute{
				MarkdownDescription: "Access key ID (AK). Required. Environment: `" + envAccessKey + "`.",
				Optional:            true,
			},
			"secret_key": schema.StringAttribute{
				MarkdownDescription: "Secret access key (SK). Required. Never logged. Environment: `" + envSecretKey + "`.",
				Optional:            true,
				Sensitive:           true,
			},
			"security_token": schema.StringAttribute{
				MarkdownDescription: "Security token for temporary credentials (STS); sent as `x-obs-security-token`. " +
					"Never logged. Environment: `" + envSecurityToken + "`.",
				Optional:  true,
				Sensitive: true,
			},
			"signature": schema.StringAttribute{
				MarkdownDescription: "Request signing: `obs` (native OBS signature, default), `v2` (AWS signature V2) or " +
					"`v4` (AWS SigV4, for S3-compatible endpoints). With `obs`, path-style addressing or an IP endpoint " +
					"falls back to `v2`, which OBS also accepts. Environment: `" + envSignature + "`.",
				Optional: true,
				Validators: []validator.String{
					stringvalidator.OneOf(string(obs.SignatureOBS), string(obs.SignatureV2), string(obs.SignatureV4)),
				},
			},
			"path_style": schema.BoolAttribute{
				MarkdownDescription: "Use path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted " +
					"(`bucket.endpoint/key`). Default `false`. Needed for private deployments and local servers. " +
					"Environment: `" + envPathStyle + "`.",
				Optional: true,
			},
			"insecure": schema.BoolAttribute{
				MarkdownDescription: "Skip TLS certificate verification. Default `false`; use only for testing. " +
					"Environment: `" + envInsecure + "`.",
				Optional: true,
			},
			"ca_file": schema.StringAttribute{
				MarkdownDescription: "Path to a PEM bundle of extra CA certificates to trust (e.g. a private deployment). " +
					"Environment: `" + envCAFile + "`.",
				Optional: true,
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: "Retries of a failed request (network errors, 408, 500, 502, 503 SlowDown, 504) with " +
					"exponential backoff and jitter. Other errors are never retried. A part whose retries run out is sent " +
					"again up to twice more before the apply fails (its progress is kept). Default `5`, range 0–100. " +
					"Environment: `" + envMaxRetries + "`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, 100)},
			},
			"max_concurrent_parts": schema.Int64Attribute{
				MarkdownDescription: "Budget of part uploads in flight at once, shared by every resource of this provider " +
					"instance (Terraform applies up to 10 resources in parallel, each with its own `concurrency`). " +
					"Default `32`, range 1–10000. Environment: `" + envMaxConcurrentParts + "`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(1, 10000)},
			},
		},
	}
}

func (p *obsProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, diags := resolveConfig(m, os.Getenv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.clientConfig.Signature == obs.SignatureOBS && (cfg.clientConfig.PathStyle || endpointIsIP(cfg.clientConfig.Endpoint)) {
		resp.Diagnostics.AddAttributeWarning(path.Root("signature"), "OBS signature falls back to AWS V2",
			"The OBS SDK signs path-style and IP-address requests with AWS signature V2, which OBS accepts. "+
				"Use a host name endpoint with path_style = false to sign with the native OBS signature.")
	}
	cfg.clientConfig.UserAgent = "terraform-provider-obs/" + p.version
	cfg.clientConfig.DialContext = p.dialContext
	client, err := obs.New(cfg.clientConfig)
	if err != nil {
		resp.Diagnostics.AddError("Configuring the OBS client", err.Error())
		return
	}
	tflog.Debug(ctx, "configured OBS client", map[string]any{
		"endpoint":             cfg.clientConfig.Endpoint,
		"signature":            string(cfg.clientConfig.Signature),
		"path_style":           cfg.clientConfig.PathStyle,
		"max_retries":          cfg.clientConfig.MaxRetries,
		"max_concurrent_parts": cfg.maxConcurrentParts,
	})
	data := &providerData{
		client:    client,
		budget:    upload.NewBudget(cfg.maxConcurrentParts),
		signature: cfg.clientConfig.Signature,
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// resolvedConfig is the provider configuration after environment fallbacks,
// defaults and validation.
type resolvedConfig struct {
	clientConfig       obs.Config
	maxConcurrentParts int
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
	return resolvedConfig{clientConfig: c, maxConcurrentParts: parts}, diags
}

func endpointIsIP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && net.ParseIP(u.Hostname()) != nil
}

func (p *obsProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newObjectMultipartResource}
}

func (p *obsProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
