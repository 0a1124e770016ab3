package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// objectCopyModelV0 is the state of obs_object_copy, schema version 0.
type objectCopyModelV0 struct {
	ID              types.String `tfsdk:"id"`
	Bucket          types.String `tfsdk:"bucket"`
	Key             types.String `tfsdk:"key"`
	SourceBucket    types.String `tfsdk:"source_bucket"`
	SourceKey       types.String `tfsdk:"source_key"`
	SourceVersionID types.String `tfsdk:"source_version_id"`
	SourceETag      types.String `tfsdk:"source_etag"`
	SourceSSECKey   types.String `tfsdk:"source_sse_c_key"`

	PartSize                  types.Int64    `tfsdk:"part_size"`
	Concurrency               types.Int64    `tfsdk:"concurrency"`
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

// asObject is the copy as an obs_object_multipart model without a source
// file: the destination's object options, its identity and the copy's
// results, so that the rules on them (options, changes, encryption,
// import, identity) are those of obs_object_multipart.
func (m objectCopyModelV0) asObject() objectMultipartModelV0 {
	return objectMultipartModelV0{
		ID: m.ID, Bucket: m.Bucket, Key: m.Key, Source: types.StringNull(),
		PartSize: m.PartSize, Concurrency: m.Concurrency,
		ContentType: m.ContentType, ContentEncoding: m.ContentEncoding, ACL: m.ACL, StorageClass: m.StorageClass,
		Metadata: m.Metadata, Tags: m.Tags, WebsiteRedirectLocation: m.WebsiteRedirectLocation, Expires: m.Expires,
		ServerSideEncryption: m.ServerSideEncryption, KMSKeyID: m.KMSKeyID, SSECKey: m.SSECKey,
		ObjectLockMode: m.ObjectLockMode, ObjectLockRetainUntilDate: m.ObjectLockRetainUntilDate, Grants: m.Grants,
		Timeouts: m.Timeouts, Size: m.Size, SourceSHA256: m.SourceSHA256,
		ETag: m.ETag, VersionID: m.VersionID, PartCount: m.PartCount, EffectivePartSize: m.EffectivePartSize,
	}
}

// setObject takes the attributes asObject gives from o.
func (m *objectCopyModelV0) setObject(o objectMultipartModelV0) {
	m.ID, m.Bucket, m.Key = o.ID, o.Bucket, o.Key
	m.PartSize, m.Concurrency = o.PartSize, o.Concurrency
	m.ContentType, m.ContentEncoding, m.ACL, m.StorageClass = o.ContentType, o.ContentEncoding, o.ACL, o.StorageClass
	m.Metadata, m.Tags, m.WebsiteRedirectLocation, m.Expires = o.Metadata, o.Tags, o.WebsiteRedirectLocation, o.Expires
	m.ServerSideEncryption, m.KMSKeyID, m.SSECKey = o.ServerSideEncryption, o.KMSKeyID, o.SSECKey
	m.ObjectLockMode, m.ObjectLockRetainUntilDate, m.Grants = o.ObjectLockMode, o.ObjectLockRetainUntilDate, o.Grants
	m.Timeouts, m.Size, m.SourceSHA256 = o.Timeouts, o.Size, o.SourceSHA256
	m.ETag, m.VersionID, m.PartCount, m.EffectivePartSize = o.ETag, o.VersionID, o.PartCount, o.EffectivePartSize
}

// sourceKnown reports whether a configuration names the source version to
// read: bucket and key known, and version and ETag known or not set.
func (m objectCopyModelV0) sourceKnown() bool {
	return !m.SourceBucket.IsUnknown() && !m.SourceKey.IsUnknown() && !m.SourceVersionID.IsUnknown() && !m.SourceETag.IsUnknown()
}

// sourceVersion is the source version the copy reads. The version is
// empty when the plan has none (current version, or a bucket without
// versioning).
func (m objectCopyModelV0) sourceVersion() upload.ObjectVersion {
	return upload.ObjectVersion{
		Bucket: m.SourceBucket.ValueString(), Key: m.SourceKey.ValueString(),
		VersionID: m.SourceVersionID.ValueString(), ETag: m.SourceETag.ValueString(),
	}
}

// sourceSSEC returns the source's SSE-C key, or nil.
func (m objectCopyModelV0) sourceSSEC() *obs.SSECustomerKey {
	if m.SourceSSECKey.IsNull() || m.SourceSSECKey.ValueString() == "" {
		return nil
	}
	return &obs.SSECustomerKey{KeyBase64: m.SourceSSECKey.ValueString()}
}

// headSource is the request that reads version (the current one when "")
// of the source's metadata.
func (m objectCopyModelV0) headSource(version string) obs.HeadInput {
	return obs.HeadInput{Bucket: m.SourceBucket.ValueString(), Key: m.SourceKey.ValueString(), VersionID: version, SSEC: m.sourceSSEC()}
}

// takeSource sets from the source's HEAD what config leaves to the source:
// size, content hash, ETag and version unless set, and the content type,
// encoding and user metadata a copy takes from its source unless they are
// set.
func (m *objectCopyModelV0) takeSource(config objectCopyModelV0, info obs.ObjectInfo, diags *diag.Diagnostics) {
	m.Size = types.Int64Value(info.Size)
	m.SourceSHA256 = optionalString(info.Metadata[metaSHA256])
	if config.SourceETag.IsNull() {
		m.SourceETag = types.StringValue(info.ETag)
	}
	if config.SourceVersionID.IsNull() {
		m.SourceVersionID = types.StringValue(info.VersionID)
	}
	if config.ContentType.IsNull() {
		m.ContentType = optionalString(info.ContentType)
	}
	if config.ContentEncoding.IsNull() {
		m.ContentEncoding = optionalString(info.ContentEncoding)
	}
	if config.Metadata.IsNull() {
		m.Metadata = types.MapNull(types.StringType)
		if md := userMetadata(info.Metadata); len(md) > 0 {
			v, d := types.MapValue(types.StringType, md)
			diags.Append(d...)
			m.Metadata = v
		}
	}
}

// setSourceUnknown marks unknown what the plan learns from the source: the
// source is written in this apply. Configured values stay.
func (m *objectCopyModelV0) setSourceUnknown(config objectCopyModelV0) {
	m.Size, m.SourceSHA256, m.SourceETag = types.Int64Unknown(), types.StringUnknown(), types.StringUnknown()
	if config.SourceVersionID.IsNull() {
		m.SourceVersionID = types.StringUnknown()
	}
	if config.ContentType.IsNull() {
		m.ContentType = types.StringUnknown()
	}
	if config.ContentEncoding.IsNull() {
		m.ContentEncoding = types.StringUnknown()
	}
	if config.Metadata.IsNull() {
		m.Metadata = types.MapUnknown(types.StringType)
	}
}

// setCopyUnknown marks the copy's results unknown: the plan copies.
func (m *objectCopyModelV0) setCopyUnknown() {
	m.ETag, m.VersionID = types.StringUnknown(), types.StringUnknown()
	m.PartCount, m.EffectivePartSize = types.Int64Unknown(), types.Int64Unknown()
}

// setLayout records the layout a copy uses.
func (m *objectCopyModelV0) setLayout(l upload.Layout) {
	m.PartCount = types.Int64Value(int64(partCount(l)))
	m.EffectivePartSize = types.Int64Value(l.PartSize)
}

// keepCopy takes the copy's results from state: the plan copies nothing.
func (m *objectCopyModelV0) keepCopy(state objectCopyModelV0) {
	m.ETag, m.VersionID = state.ETag, state.VersionID
	m.PartCount, m.EffectivePartSize = state.PartCount, state.EffectivePartSize
}

// objectOptions are the copy's object options: those of the destination
// as obs_object_multipart builds them, with the copy's metadata — the user
// metadata and the source's content hash, never a source file path.
func (m objectCopyModelV0) objectOptions(ctx context.Context) (obs.ObjectOptions, diag.Diagnostics) {
	o, diags := m.asObject().objectOptions(ctx)
	o.Metadata = map[string]string{}
	if !m.Metadata.IsNull() && !m.Metadata.IsUnknown() {
		diags.Append(m.Metadata.ElementsAs(ctx, &o.Metadata, false)...)
	}
	if sha := m.SourceSHA256.ValueString(); sha != "" {
		o.Metadata[metaSHA256] = sha
	}
	return o, diags
}

// needsCopy reports whether the destination must be copied (again) to
// match plan: nothing copied yet, another source or source version, a
// destination changed outside Terraform (its ETag is not the one written),
// or other object options.
func needsCopy(state, plan objectCopyModelV0, written *objectRecord) bool {
	return state.ETag.IsNull() || state.ETag.ValueString() == "" ||
		!state.SourceBucket.Equal(plan.SourceBucket) || !state.SourceKey.Equal(plan.SourceKey) ||
		!state.SourceVersionID.Equal(plan.SourceVersionID) || !state.SourceETag.Equal(plan.SourceETag) ||
		!state.Size.Equal(plan.Size) ||
		written != nil && written.ETag != state.ETag.ValueString() ||
		objectOptionsChanged(state.asObject(), plan.asObject())
}

// provenCopy reports whether an imported destination (no source recorded
// yet) already holds the planned source's bytes with the planned options:
// the same size, and the same content hash in the metadata, or the same
// ETag when neither object is encrypted.
func provenCopy(state, plan objectCopyModelV0, sourceEncrypted bool) bool {
	if !state.SourceBucket.IsNull() || state.ETag.ValueString() == "" || !state.Size.Equal(plan.Size) ||
		objectOptionsChanged(state.asObject(), plan.asObject()) {
		return false
	}
	if sha := state.SourceSHA256.ValueString(); sha != "" {
		return sha == plan.SourceSHA256.ValueString()
	}
	return !sourceEncrypted && !plan.asObject().encrypted() && state.ETag.ValueString() == plan.SourceETag.ValueString()
}
