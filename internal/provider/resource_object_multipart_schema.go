package provider

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// Defaults of the resource's transfer settings and timeouts.
const (
	defaultConcurrency   = 4
	defaultCreateTimeout = 12 * time.Hour
	defaultUpdateTimeout = 12 * time.Hour
	defaultDeleteTimeout = 10 * time.Minute
)

var (
	bucketNameRegexp = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	redirectRegexp   = regexp.MustCompile(`^(/|https?://)`)
	kmsKeyIDRegexp   = regexp.MustCompile(`^[A-Za-z0-9:/_.-]+$`)
	domainIDRegexp   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func objectMultipartSchemaV0(ctx context.Context) schema.Schema {
	domainIDs := func(what string) schema.SetAttribute {
		return schema.SetAttribute{
			MarkdownDescription: "Domain (account) IDs granted " + what + ". Sent as `x-obs-grant-*` at upload.",
			ElementType:         types.StringType,
			Optional:            true,
			Validators: []validator.Set{
				setvalidator.SizeAtLeast(1),
				setvalidator.ValueStringsAre(stringvalidator.RegexMatches(domainIDRegexp, "must be an OBS domain ID (letters, digits, '-' or '_', at most 64)")),
			},
		}
	}
	return schema.Schema{
		Version: 0,
		MarkdownDescription: "Uploads a local file, of any size up to 48.8 TB, to an OBS object with a concurrent multipart " +
			"upload in which every part is checked with Content-MD5. The plan hashes the file (SHA-256) so it shows " +
			"exactly whether the content changed; an unchanged file is recognised from its size, timestamps and inode " +
			"without being read again. A failed or interrupted apply leaves its upload open and the next apply resumes it, " +
			"sending only the parts that are missing.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`bucket/key`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "Name of an existing bucket: 3–63 characters, lower-case letters, digits, `-` and `.`. Changing it creates a new object.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{
					stringvalidator.RegexMatches(bucketNameRegexp, "must be 3-63 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"),
				},
			},
			"key": schema.StringAttribute{
				MarkdownDescription: "Object key, 1–1024 bytes. Changing it creates a new object.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				// LengthBetween counts bytes, as OBS limits keys.
				Validators: []validator.String{stringvalidator.LengthBetween(1, 1024)},
			},
			"source": schema.StringAttribute{
				MarkdownDescription: "Path of the local file to upload. The plan reads it to compute `source_sha256`; a missing, unreadable or directory path is a plan error.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"part_size": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Requested part size in bytes, %d (100 KiB) to %d (5 GiB). Default `%d` (9 MiB). "+
					"Grown automatically when the file would need more than 10000 parts (see `effective_part_size`). "+
					"Files smaller than one part are sent in a single PUT. Changing it does not re-upload an unchanged file.",
					upload.MinPartSize, int64(upload.MaxPartSize), upload.DefaultPartSize),
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(upload.DefaultPartSize),
				Validators: []validator.Int64{int64validator.Between(upload.MinPartSize, upload.MaxPartSize)},
			},
			"concurrency": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Parts of this object uploaded at once, 1–10000. Default `%d`. "+
					"The provider's `max_concurrent_parts` caps the total across all objects.", defaultConcurrency),
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(defaultConcurrency),
				Validators: []validator.Int64{int64validator.Between(1, 10000)},
			},
			"max_bandwidth": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Cap on the bytes per second written for this object, at least `%d` (1 KiB/s). "+
					"Default: none, only the provider's `max_bandwidth` applies; when both are set the tighter one holds. "+
					"Changing it does not re-upload an unchanged file.", minBandwidth),
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(minBandwidth)},
			},
			"content_type": schema.StringAttribute{
				MarkdownDescription: "MIME type of the object. Default: inferred from the key's extension, else `application/octet-stream`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 1024), headerValue()},
			},
			"content_encoding": schema.StringAttribute{
				MarkdownDescription: "Content-Encoding of the object, e.g. `gzip`. Default: none.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 1024), headerValue()},
			},
			"acl": schema.StringAttribute{
				MarkdownDescription: "Canned ACL: `private`, `public-read`, `public-read-write` or `bucket-owner-full-control`. Default: the bucket's (OBS applies `private`).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(acls...)},
			},
			"storage_class": schema.StringAttribute{
				MarkdownDescription: "Storage class: `STANDARD`, `WARM`, `COLD` or `DEEP_ARCHIVE`. Default: the bucket's.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(storageClasses...)},
			},
			"metadata": schema.MapAttribute{
				MarkdownDescription: "User metadata (`x-obs-meta-*`). Names are lower-case letters, digits and `-`; names and values " +
					"are US-ASCII; at most 8 KiB in total including the three entries the provider adds (`" + metaSHA256 + "`, `" + metaSource + "`, `" + metaPartSize + "`). Default: none.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  []validator.Map{metadataValidator{}},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Object tags (`x-obs-tagging`), at most 10; keys 1–128 and values 0–255 characters. Default: none.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators: []validator.Map{
					mapvalidator.SizeBetween(1, 10),
					mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 128)),
					mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(255)),
				},
			},
			"website_redirect_location": schema.StringAttribute{
				MarkdownDescription: "Redirect for website hosting: starts with `/`, `http://` or `https://`; at most 2048 characters. Default: none.",
				Optional:            true,
				Validators: []validator.String{
					stringvalidator.LengthAtMost(2048),
					stringvalidator.RegexMatches(redirectRegexp, "must start with /, http:// or https://"),
					headerValue(),
				},
			},
			"expires": schema.Int64Attribute{
				MarkdownDescription: "Days after which OBS deletes the object (`x-obs-expires`), 0 or more; `0` sends nothing (the object does not expire). Not available with `signature = \"v2\"` or `\"v4\"`.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(0)},
			},
			"server_side_encryption": schema.StringAttribute{
				MarkdownDescription: "Server-side encryption: `kms` for SSE-KMS. Default: none (the bucket's default encryption applies). For SSE-C set `sse_c_key` instead.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf("kms")},
			},
			"kms_key_id": schema.StringAttribute{
				MarkdownDescription: "KMS key ID for SSE-KMS. Default: the OBS default key of the region. Requires `server_side_encryption = \"kms\"`.",
				Optional:            true,
				Validators: []validator.String{
					stringvalidator.AlsoRequires(path.MatchRoot("server_side_encryption")),
					stringvalidator.RegexMatches(kmsKeyIDRegexp, "must be a KMS key ID"),
				},
			},
			"sse_c_key": schema.StringAttribute{
				MarkdownDescription: "SSE-C customer key: a base64-encoded 256-bit key. Sensitive: never logged; Terraform keeps it in state " +
					"and plan files (with Terraform 1.11 and later, `sse_c_key_wo` keeps it out of both). " +
					"Conflicts with `server_side_encryption` and `sse_c_key_wo`.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{sseCKeyValidator{}, stringvalidator.ConflictsWith(path.MatchRoot("server_side_encryption"))},
			},
			"sse_c_key_wo": schema.StringAttribute{
				MarkdownDescription: "SSE-C customer key like `sse_c_key`, as a write-only argument (Terraform 1.11 and later): it is sent " +
					"to OBS on upload and never stored in state or plan files. Requires `sse_c_key_wo_version`; change that to upload " +
					"the object again with a new key. Conflicts with `sse_c_key` and `server_side_encryption`.",
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{sseCKeyValidator{}, stringvalidator.ConflictsWith(path.MatchRoot("server_side_encryption"))},
			},
			"sse_c_key_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Version of `sse_c_key_wo`, any number, kept in state in place of the key. Terraform cannot see " +
					"a write-only key change, so change this number with the key: the object is then uploaded again with the new key. " +
					"Requires `sse_c_key_wo`.",
				Optional: true,
			},
			"object_lock_mode": schema.StringAttribute{
				MarkdownDescription: "WORM retention mode: `COMPLIANCE`. Requires `object_lock_retain_until_date` and a bucket with WORM enabled.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf("COMPLIANCE")},
			},
			"object_lock_retain_until_date": schema.StringAttribute{
				MarkdownDescription: "WORM retention end, RFC 3339 (e.g. `2030-01-01T00:00:00Z`). Requires `object_lock_mode`.",
				Optional:            true,
				Validators:          []validator.String{rfc3339Validator{}},
			},
			"grants": schema.SingleNestedAttribute{
				MarkdownDescription: "Permissions granted to other OBS accounts by domain ID, in addition to `acl`. Default: none.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"read":         domainIDs("READ (read the object and its metadata)"),
					"read_acp":     domainIDs("READ_ACP (read the object's ACL)"),
					"write_acp":    domainIDs("WRITE_ACP (change the object's ACL)"),
					"full_control": domainIDs("FULL_CONTROL"),
				},
			},
			"timeouts": timeoutsAttribute(ctx),

			"size": schema.Int64Attribute{
				MarkdownDescription: "Size of the source file in bytes, known at plan time.",
				Computed:            true,
			},
			"source_sha256": schema.StringAttribute{
				MarkdownDescription: "Hex SHA-256 of the source file, known at plan time. A change means the content changed. " +
					"Stored on the object as metadata `" + metaSHA256 + "`.",
				Computed: true,
			},
			"etag": schema.StringAttribute{
				MarkdownDescription: "ETag of the object: the MD5 for a single PUT, `md5-of-part-md5s-N` for a multipart upload (not an MD5 with server-side encryption).",
				Computed:            true,
			},
			"version_id": schema.StringAttribute{
				MarkdownDescription: "Version ID of the object when the bucket has versioning, else empty.",
				Computed:            true,
			},
			"part_count": schema.Int64Attribute{
				MarkdownDescription: "Number of parts the object was uploaded in (0 for a single PUT).",
				Computed:            true,
			},
			"effective_part_size": schema.Int64Attribute{
				MarkdownDescription: "Part size actually used: `part_size`, grown when needed to stay within 10000 parts.",
				Computed:            true,
			},
		},
	}
}

var (
	acls           = []string{"private", "public-read", "public-read-write", "bucket-owner-full-control"}
	storageClasses = []string{"STANDARD", "WARM", "COLD", "DEEP_ARCHIVE"}
)

// timeoutsAttribute is the framework's timeouts attribute with a description
// of its own.
func timeoutsAttribute(ctx context.Context) schema.Attribute {
	a := timeouts.Attributes(ctx, timeouts.Opts{
		Create: true, Update: true, Delete: true,
		CreateDescription: "Time allowed for a create, e.g. `24h`. Default `12h`. When it runs out the upload stops, is kept, and the next apply resumes it.",
		UpdateDescription: "Time allowed for an update, e.g. `24h`. Default `12h`.",
		DeleteDescription: "Time allowed for a delete. Default `10m`.",
	})
	if nested, ok := a.(schema.SingleNestedAttribute); ok {
		nested.MarkdownDescription = "How long Terraform waits for each operation. An upload that runs out of time is interrupted, " +
			"not aborted: its parts are kept and the next apply sends only the missing ones."
		return nested
	}
	return a
}
