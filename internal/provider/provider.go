// Package provider is the Terraform-facing layer: the provider `obs`, its
// configuration, and the obs_object_multipart and obs_object_copy
// resources. It talks to OBS only through the upload engine and the
// internal/obs client interface.
package provider

import (
	"context"
	"net"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
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
	MaxBandwidth       types.Int64  `tfsdk:"max_bandwidth"`
}

// providerData is what resources receive from Configure.
type providerData struct {
	client    obs.Client
	budget    *upload.Budget
	bandwidth *upload.Bandwidth
	signature obs.Signature
	// endpoint is the OBS endpoint URL, already validated
	// (scheme://host[:port]).
	endpoint string
	// progressTicks returns the ticks of one upload's progress log and the
	// function that stops them: tickProgress, or the test's.
	progressTicks func() (<-chan time.Time, func())
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
			"max_bandwidth": schema.Int64Attribute{
				MarkdownDescription: "Cap on the bytes per second written to OBS, shared by every resource of this provider " +
					"instance (like `max_concurrent_parts`); an object's own `max_bandwidth` can only make it tighter. " +
					"A token bucket counts part bodies as they are written, retried attempts included; no burst exceeds " +
					"a tenth of a second's bytes. Default: unlimited. At least `1024` (1 KiB/s), e.g. `10485760` for " +
					"10 MiB/s. Environment: `" + envMaxBandwidth + "`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(minBandwidth)},
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
	if obs.FallsBackToV2(cfg.clientConfig) {
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
	tflog.Debug(ctx, "configured OBS client", logFields(
		"endpoint", cfg.clientConfig.Endpoint,
		"signature", string(cfg.clientConfig.Signature),
		"path_style", cfg.clientConfig.PathStyle,
		"max_retries", cfg.clientConfig.MaxRetries,
		"max_concurrent_parts", cfg.maxConcurrentParts,
		"max_bandwidth", cfg.maxBandwidth,
	))
	data := &providerData{
		client:        client,
		budget:        upload.NewBudget(cfg.maxConcurrentParts),
		bandwidth:     upload.NewBandwidth(cfg.maxBandwidth),
		signature:     cfg.clientConfig.Signature,
		endpoint:      cfg.clientConfig.Endpoint,
		progressTicks: tickProgress,
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *obsProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newObjectMultipartResource, newObjectCopyResource}
}

func (p *obsProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
