package provider

import (
	"context"
	"mime"
	"net/url"
	"path"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// Metadata entries the provider stores on every object it uploads.
const (
	// metaSHA256 holds the hex SHA-256 of the content: Read compares it to
	// detect out-of-band changes, and import proves identity with it.
	metaSHA256 = "tf-source-sha256"
	// metaSource holds the `source` argument (URL-encoded, when at most
	// maxStoredSourceBytes) so that an imported object plans empty.
	metaSource           = "tf-source"
	maxStoredSourceBytes = 1024
	// metaPartSize holds the requested `part_size` (decimal), so that an
	// import records the part size the object was uploaded with, which its
	// ETag alone does not always tell.
	metaPartSize = "tf-part-size"
	// reservedMetadataBytes is what the three entries can take of the 8 KiB.
	reservedMetadataBytes = len(metaSHA256) + 64 + len(metaSource) + maxStoredSourceBytes + len(metaPartSize) + 10
)

func isReservedMetadata(name string) bool {
	return name == metaSHA256 || name == metaSource || name == metaPartSize
}

// objectMultipartModelV0 is the resource's state, schema version 0.
type objectMultipartModelV0 struct {
	ID                        types.String   `tfsdk:"id"`
	Bucket                    types.String   `tfsdk:"bucket"`
	Key                       types.String   `tfsdk:"key"`
	Source                    types.String   `tfsdk:"source"`
	PartSize                  types.Int64    `tfsdk:"part_size"`
	Concurrency               types.Int64    `tfsdk:"concurrency"`
	MaxBandwidth              types.Int64    `tfsdk:"max_bandwidth"`
	ContentType               types.String   `tfsdk:"content_type"`
	ContentEncoding           types.String   `tfsdk:"content_encoding"`
	ACL                       types.String   `tfsdk:"acl"`
	StorageClass              types.String   `tfsdk:"storage_class"`
	Metadata                  types.Map      `tfsdk:"metadata"`
	Tags                      types.Map      `tfsdk:"tags"`
	WebsiteRedirectLocation   types.String   `tfsdk:"website_redirect_location"`
	Expires                   types.Int64    `tfsdk:"expires"`
	ServerSideEncryption      types.String   `tfsdk:"server_side_encryption"`
	KMSKeyID                  types.String   `tfsdk:"kms_key_id"`
	SSECKey                   types.String   `tfsdk:"sse_c_key"`
	SSECKeyWO                 types.String   `tfsdk:"sse_c_key_wo"`
	SSECKeyWOVersion          types.Int64    `tfsdk:"sse_c_key_wo_version"`
	ObjectLockMode            types.String   `tfsdk:"object_lock_mode"`
	ObjectLockRetainUntilDate types.String   `tfsdk:"object_lock_retain_until_date"`
	Grants                    types.Object   `tfsdk:"grants"`
	Timeouts                  timeouts.Value `tfsdk:"timeouts"`

	Size              types.Int64  `tfsdk:"size"`
	SourceSHA256      types.String `tfsdk:"source_sha256"`
	ETag              types.String `tfsdk:"etag"`
	VersionID         types.String `tfsdk:"version_id"`
	PartCount         types.Int64  `tfsdk:"part_count"`
	EffectivePartSize types.Int64  `tfsdk:"effective_part_size"`
}

type grantsModel struct {
	Read        types.Set `tfsdk:"read"`
	ReadACP     types.Set `tfsdk:"read_acp"`
	WriteACP    types.Set `tfsdk:"write_acp"`
	FullControl types.Set `tfsdk:"full_control"`
}

var objectAsOptions = basetypes.ObjectAsOptions{}

// objectID is the resource ID of an object.
func objectID(bucket, key string) string { return bucket + "/" + key }

// defaultContentType infers a MIME type from the key's extension.
func defaultContentType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// objectOptionsChanged reports whether any attribute that is part of the
// uploaded object differs between two models (so the object must be sent
// again). Transfer settings and timeouts are not.
func objectOptionsChanged(a, b objectMultipartModelV0) bool {
	return !a.ContentType.Equal(b.ContentType) ||
		!a.ContentEncoding.Equal(b.ContentEncoding) ||
		!a.ACL.Equal(b.ACL) ||
		storageClass(a.StorageClass) != storageClass(b.StorageClass) ||
		!a.Metadata.Equal(b.Metadata) ||
		!a.Tags.Equal(b.Tags) ||
		!a.WebsiteRedirectLocation.Equal(b.WebsiteRedirectLocation) ||
		!a.Expires.Equal(b.Expires) ||
		!a.ServerSideEncryption.Equal(b.ServerSideEncryption) ||
		!a.KMSKeyID.Equal(b.KMSKeyID) ||
		!a.SSECKey.Equal(b.SSECKey) ||
		!a.SSECKeyWOVersion.Equal(b.SSECKeyWOVersion) ||
		!a.ObjectLockMode.Equal(b.ObjectLockMode) ||
		!a.ObjectLockRetainUntilDate.Equal(b.ObjectLockRetainUntilDate) ||
		!a.Grants.Equal(b.Grants)
}

// storageClass treats an unset storage class as the default, STANDARD.
func storageClass(v types.String) string {
	if v.ValueString() == "" {
		return "STANDARD"
	}
	return v.ValueString()
}

// setUploadUnknown marks the upload results unknown: the plan uploads the
// object again.
func (m *objectMultipartModelV0) setUploadUnknown() {
	m.ETag, m.VersionID = types.StringUnknown(), types.StringUnknown()
	m.PartCount, m.EffectivePartSize = types.Int64Unknown(), types.Int64Unknown()
}

// setUploadNull is the state of an object whose upload has not completed.
func (m *objectMultipartModelV0) setUploadNull() {
	m.ETag, m.VersionID = types.StringNull(), types.StringNull()
	m.PartCount, m.EffectivePartSize = types.Int64Null(), types.Int64Null()
}

// sseC returns the SSE-C key, or nil. The write-only key is only there in
// a model that Create or Update filled in from the configuration.
func (m objectMultipartModelV0) sseC() *obs.SSECustomerKey {
	for _, k := range []types.String{m.SSECKey, m.SSECKeyWO} {
		if k.ValueString() != "" {
			return &obs.SSECustomerKey{KeyBase64: k.ValueString()}
		}
	}
	return nil
}

// keyWriteOnly reports whether the object is encrypted with a write-only
// SSE-C key, which Read and Delete never have: they cannot HEAD it.
func (m objectMultipartModelV0) keyWriteOnly() bool { return !m.SSECKeyWOVersion.IsNull() }

// withoutWriteOnly is m as state holds it: without the write-only key.
func (m objectMultipartModelV0) withoutWriteOnly() *objectMultipartModelV0 {
	m.SSECKeyWO = types.StringNull()
	return &m
}

// encrypted reports whether OBS encrypts the object server-side (its ETag
// is then not an MD5).
func (m objectMultipartModelV0) encrypted() bool {
	return m.sseC() != nil || m.keyWriteOnly() || m.ServerSideEncryption.ValueString() == "kms"
}

// objectOptions builds the engine's object options from a planned model.
func (m objectMultipartModelV0) objectOptions(ctx context.Context) (obs.ObjectOptions, diag.Diagnostics) {
	var diags diag.Diagnostics
	o := obs.ObjectOptions{
		ContentType:             m.ContentType.ValueString(),
		ContentEncoding:         m.ContentEncoding.ValueString(),
		ACL:                     m.ACL.ValueString(),
		StorageClass:            m.StorageClass.ValueString(),
		WebsiteRedirectLocation: m.WebsiteRedirectLocation.ValueString(),
		ExpiresDays:             m.Expires.ValueInt64(),
		SSEKMS:                  m.ServerSideEncryption.ValueString() == "kms",
		SSEKMSKeyID:             m.KMSKeyID.ValueString(),
		SSEC:                    m.sseC(),
		ObjectLockMode:          m.ObjectLockMode.ValueString(),
		Metadata:                map[string]string{},
	}
	diags.Append(m.Metadata.ElementsAs(ctx, &o.Metadata, false)...)
	if o.Metadata == nil {
		o.Metadata = map[string]string{}
	}
	o.Metadata[metaSHA256] = m.SourceSHA256.ValueString()
	if enc := url.PathEscape(m.Source.ValueString()); len(enc) <= maxStoredSourceBytes {
		o.Metadata[metaSource] = enc
	}
	o.Metadata[metaPartSize] = strconv.FormatInt(m.PartSize.ValueInt64(), 10)
	if !m.Tags.IsNull() {
		diags.Append(m.Tags.ElementsAs(ctx, &o.Tags, false)...)
	}
	if s := m.ObjectLockRetainUntilDate.ValueString(); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			diags.AddError("Invalid object_lock_retain_until_date", err.Error())
		}
		o.ObjectLockRetainUntil = t
	}
	if !m.Grants.IsNull() && !m.Grants.IsUnknown() {
		var g grantsModel
		diags.Append(m.Grants.As(ctx, &g, objectAsOptions)...)
		for _, s := range []struct {
			set types.Set
			dst *[]string
		}{{g.Read, &o.Grants.Read}, {g.ReadACP, &o.Grants.ReadACP}, {g.WriteACP, &o.Grants.WriteACP}, {g.FullControl, &o.Grants.FullControl}} {
			if !s.set.IsNull() {
				diags.Append(s.set.ElementsAs(ctx, s.dst, false)...)
			}
		}
	}
	return o, diags
}

// sourceFromMetadata decodes the stored `source` argument, if any.
func sourceFromMetadata(md map[string]string) (string, bool) {
	enc, ok := md[metaSource]
	if !ok {
		return "", false
	}
	s, err := url.PathUnescape(enc)
	return s, err == nil && s != ""
}

// partSizeFromMetadata returns the stored requested part size, if any.
func partSizeFromMetadata(md map[string]string) (int64, bool) {
	p, err := strconv.ParseInt(md[metaPartSize], 10, 64)
	return p, err == nil
}

// objectCut is how an object was cut into parts, as far as it tells: the
// part size it records (tf-part-size) when that gives its ETag's part
// count, else the likeliest one that does; the part count (0 for a single
// PUT); and the part size the layout used.
func objectCut(info obs.ObjectInfo) (partSize int64, parts int, effective int64) {
	parts = upload.MultipartETagParts(info.ETag)
	partSize, ok := partSizeFromMetadata(info.Metadata)
	if !ok || !upload.ConsistentPartSize(info.Size, parts, partSize) {
		partSize = upload.InferPartSize(info.Size, parts)
	}
	effective = partSize
	if l, err := upload.PlanParts(info.Size, partSize); err == nil {
		effective = l.PartSize
	}
	return partSize, parts, effective
}

// refreshFromObject makes state describe the object found at its key (after
// it changed outside this resource's last apply), keeping the configured
// part_size.
func (m *objectMultipartModelV0) refreshFromObject(info obs.ObjectInfo) {
	_, parts, effective := objectCut(info)
	m.ETag = types.StringValue(info.ETag)
	m.VersionID = types.StringValue(info.VersionID)
	m.Size = types.Int64Value(info.Size)
	m.SourceSHA256 = types.StringValue(info.Metadata[metaSHA256])
	m.PartCount = types.Int64Value(int64(parts))
	m.EffectivePartSize = types.Int64Value(effective)
}

// userMetadata removes the provider's own entries from an object's metadata.
func userMetadata(md map[string]string) map[string]attr.Value {
	out := map[string]attr.Value{}
	for k, v := range md {
		if !isReservedMetadata(k) {
			out[k] = types.StringValue(v)
		}
	}
	return out
}

// stringElement returns the value of a known string map element.
func stringElement(v attr.Value) (string, bool) {
	s, ok := v.(types.String)
	if !ok || s.IsNull() || s.IsUnknown() {
		return "", false
	}
	return s.ValueString(), true
}
