package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

var (
	_ resource.Resource                     = (*objectMultipartResource)(nil)
	_ resource.ResourceWithConfigure        = (*objectMultipartResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*objectMultipartResource)(nil)
	_ resource.ResourceWithImportState      = (*objectMultipartResource)(nil)
	_ resource.ResourceWithConfigValidators = (*objectMultipartResource)(nil)
)

// readTimeout bounds Read, which has no user-set timeout.
const readTimeout = 5 * time.Minute

type objectMultipartResource struct {
	data *providerData
}

func newObjectMultipartResource() resource.Resource { return &objectMultipartResource{} }

func (r *objectMultipartResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_object_multipart"
}

func (r *objectMultipartResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = objectMultipartSchemaV0(ctx)
}

func (r *objectMultipartResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.RequiredTogether(path.MatchRoot("object_lock_mode"), path.MatchRoot("object_lock_retain_until_date")),
		resourcevalidator.Conflicting(path.MatchRoot("sse_c_key"), path.MatchRoot("sse_c_key_wo")),
		resourcevalidator.RequiredTogether(path.MatchRoot("sse_c_key_wo"), path.MatchRoot("sse_c_key_wo_version")),
	}
}

func (r *objectMultipartResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T; this is a bug in the provider", req.ProviderData))
		return
	}
	r.data = data
}

// ModifyPlan hashes the source so the plan shows whether content changed,
// and decides whether the object must be uploaded again.
func (r *objectMultipartResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		// Destroy: the stored private state (with any open upload) passes
		// to Delete unchanged, so Delete can abort the upload.
		return
	}
	var plan, config objectMultipartModelV0
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *objectMultipartModelV0
	if !req.State.Raw.IsNull() {
		state = new(objectMultipartModelV0)
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}

	if !plan.Bucket.IsUnknown() && !plan.Key.IsUnknown() {
		plan.ID = types.StringValue(objectID(plan.Bucket.ValueString(), plan.Key.ValueString()))
	}
	if config.ContentType.IsNull() && !plan.Key.IsUnknown() {
		plan.ContentType = types.StringValue(defaultContentType(plan.Key.ValueString()))
	}
	r.checkSignatureSupport(plan, &resp.Diagnostics)
	r.checkSSECTransport(config, &resp.Diagnostics)

	if plan.Source.IsUnknown() || plan.PartSize.IsUnknown() {
		plan.Size, plan.SourceSHA256 = types.Int64Unknown(), types.StringUnknown()
		plan.setUploadUnknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}

	known, diags := getPrivate[sourceRecord](ctx, req.Private, privateSource)
	resp.Diagnostics.Append(diags...)
	src, hashed, err := resolveSource(ctx, plan.Source.ValueString(), known, plan.PartSize.ValueInt64())
	if err != nil {
		addSourceError(&resp.Diagnostics, err)
		return
	}
	if hashed {
		tflog.Debug(ctx, "hashed source file", logFields("source", plan.Source.ValueString(), "bytes", src.Fingerprint.Size))
		resp.Diagnostics.Append(setPrivate(ctx, resp.Private, privateSource, src)...)
	}
	plan.Size = types.Int64Value(src.Fingerprint.Size)
	plan.SourceSHA256 = types.StringValue(src.SHA256)

	layout, err := upload.PlanParts(src.Fingerprint.Size, plan.PartSize.ValueInt64())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("part_size"), "Cannot split the source into parts", err.Error())
		return
	}
	var proof upload.Layout
	proven := false
	if state != nil && needsUpload(*state, plan) {
		proof, proven = etagProof(*state, plan)
	}
	if state == nil || needsUpload(*state, plan) && !proven {
		plan.setUploadUnknown()
		plan.PartCount = types.Int64Value(int64(partCount(layout)))
		plan.EffectivePartSize = types.Int64Value(layout.PartSize)
		if layout.Grown {
			resp.Diagnostics.AddAttributeWarning(path.Root("part_size"), "Part size grown",
				fmt.Sprintf("A %s file needs more than %d parts of %s; parts of %s will be used instead.",
					upload.FormatBytes(layout.Size), upload.MaxParts, upload.FormatBytes(plan.PartSize.ValueInt64()), upload.FormatBytes(layout.PartSize)))
		}
	} else {
		// The object stays: a known etag tells Update to send nothing.
		plan.ETag, plan.VersionID = state.ETag, state.VersionID
		plan.PartCount, plan.EffectivePartSize = state.PartCount, state.EffectivePartSize
		if proven {
			plan.EffectivePartSize = types.Int64Value(proof.PartSize)
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// checkSignatureSupport rejects at plan time what the S3-compatible modes
// cannot send, instead of silently dropping it.
func (r *objectMultipartResource) checkSignatureSupport(plan objectMultipartModelV0, diags *diag.Diagnostics) {
	if r.data == nil || r.data.signature == obs.SignatureOBS {
		return
	}
	if plan.Expires.ValueInt64() > 0 {
		diags.AddAttributeError(path.Root("expires"), "expires needs the OBS signature",
			fmt.Sprintf("x-obs-expires is an OBS-only header with no S3 equivalent, and the provider signs with %q. "+
				"Use signature = \"obs\", or set an expiry with a bucket lifecycle rule.", r.data.signature))
	}
}

// needsUpload reports whether the object must be sent (again) to match plan.
func needsUpload(state, plan objectMultipartModelV0) bool {
	return state.ETag.IsNull() || state.ETag.ValueString() == "" ||
		!state.SourceSHA256.Equal(plan.SourceSHA256) || !state.Size.Equal(plan.Size) ||
		objectOptionsChanged(state, plan)
}

// etagProof reports whether an object that carries no SHA-256 of ours
// (uploaded by another tool, then imported) already holds the planned
// content: its ETag, recomputed from the local file cut into the object's
// part count, matches. The configured part size is tried first when it gives
// that part count, then the one import inferred; each try reads the file.
// It returns the layout that matched. Only meaningful without server-side
// encryption.
func etagProof(state, plan objectMultipartModelV0) (upload.Layout, bool) {
	if state.SourceSHA256.ValueString() != "" || state.ETag.ValueString() == "" || plan.encrypted() ||
		!state.Size.Equal(plan.Size) || objectOptionsChanged(state, plan) || plan.Source.IsUnknown() {
		return upload.Layout{}, false
	}
	size := plan.Size.ValueInt64()
	n := upload.MultipartETagParts(state.ETag.ValueString())
	var tried []upload.Layout
	for _, p := range []int64{plan.PartSize.ValueInt64(), state.PartSize.ValueInt64()} {
		if !upload.ConsistentPartSize(size, n, p) {
			continue
		}
		l, err := upload.PlanParts(size, p)
		if err != nil || slices.ContainsFunc(tried, func(t upload.Layout) bool { return sameCut(t, l) }) {
			continue
		}
		tried = append(tried, l)
		if etag, err := upload.FileETag(plan.Source.ValueString(), l); err == nil && etag == state.ETag.ValueString() {
			return l, true
		}
	}
	return upload.Layout{}, false
}

// sameCut reports whether two layouts of one file cut the same byte ranges.
func sameCut(a, b upload.Layout) bool {
	return a.SinglePut == b.SinglePut && (a.SinglePut || a.PartSize == b.PartSize)
}

func partCount(l upload.Layout) int {
	if l.SinglePut {
		return 0
	}
	return l.Parts
}

func (r *objectMultipartResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan objectMultipartModelV0
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// Write-only values are only in the configuration.
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("sse_c_key_wo"), &plan.SSECKeyWO)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// Create gets no private state (the plan's is discarded), so the open
	// upload of an earlier failed or killed run is found by discovery.
	r.apply(ctx, plan, nil, nil, &resp.State, resp.Private, &resp.Diagnostics)
}

func (r *objectMultipartResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state objectMultipartModelV0
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.ETag.IsUnknown() {
		// The plan keeps the object (ModifyPlan): only transfer settings,
		// timeouts or the recorded source changed.
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("sse_c_key_wo"), &plan.SSECKeyWO)...)
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	recorded, diags := getPrivate[uploadRecord](ctx, req.Private, privateUpload)
	resp.Diagnostics.Append(diags...)
	r.apply(ctx, plan, &state, recorded, &resp.State, resp.Private, &resp.Diagnostics)
}

// stateSetter is the response state of Create and Update.
type stateSetter interface {
	Set(ctx context.Context, v any) diag.Diagnostics
}

// apply uploads the planned object, resuming a recorded or discovered upload.
// On failure it saves prior (Update) or partial (Create) state plus the open
// upload in private state, and returns an error that says the next apply
// resumes.
func (r *objectMultipartResource) apply(ctx context.Context, plan objectMultipartModelV0, prior *objectMultipartModelV0,
	recorded *uploadRecord, st stateSetter, priv privateSetter, diags *diag.Diagnostics) {
	if r.data == nil {
		diags.AddError("Provider not configured", "The obs provider was not configured; this is a bug in the provider.")
		return
	}
	bucket, key := plan.Bucket.ValueString(), plan.Key.ValueString()
	summary := fmt.Sprintf("Uploading OBS object %s/%s", bucket, key)

	src, _, err := resolveSource(ctx, plan.Source.ValueString(), nil, plan.PartSize.ValueInt64())
	if err != nil {
		addSourceError(diags, err)
		return
	}
	if src.SHA256 != plan.SourceSHA256.ValueString() {
		diags.AddAttributeError(path.Root("source"), summary,
			fmt.Sprintf("The source file %q changed after the plan was made (its SHA-256 is now %s, the plan has %s). "+
				"Nothing was uploaded; run plan and apply again.", plan.Source.ValueString(), src.SHA256, plan.SourceSHA256.ValueString()))
		return
	}
	opts, d := plan.objectOptions(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	digest := upload.OptionsDigest(opts)
	ticks, stopTicks := r.data.progressTicks()
	defer stopTicks()
	in := upload.Input{
		Bucket:       bucket,
		Key:          key,
		Path:         plan.Source.ValueString(),
		Expected:     &src.Fingerprint,
		PartSize:     plan.PartSize.ValueInt64(),
		PartMD5s:     src.parts,
		Concurrency:  int(plan.Concurrency.ValueInt64()),
		Options:      opts,
		Discover:     true,
		Budget:       r.data.budget,
		Bandwidth:    r.data.bandwidth,
		MaxBandwidth: plan.MaxBandwidth.ValueInt64(),
		// Journaled as soon as it exists: a run killed before it returns
		// (SIGKILL, a second Ctrl-C, a dead CI runner) saves no private
		// state, and the upload, if the next apply cannot adopt it, must
		// still be aborted once superseded.
		Initiated: func(rec upload.Record) { journalUpload(bucket, key, rec.UploadID, rec.Options) },
		// A PUT has no ID to journal once it exists: its content does.
		Putting:    func() { journalPut(bucket, key, src.SHA256) },
		OnProgress: progressLogger(ctx, bucket, key),
		Ticks:      ticks,
		Logger:     engineLogger{ctx: ctx},
	}
	if recorded != nil && recorded.Bucket == bucket && recorded.Key == key {
		if rec, err := recorded.decode(); err == nil {
			in.Record = rec
		} else {
			tflog.Warn(ctx, "ignoring an unreadable upload record in private state", map[string]any{"error": err.Error()})
		}
	}

	var out upload.Output
	var record *upload.Record
	if done, ok := r.assembledEarlier(ctx, plan, prior, digest); ok {
		out = done
	} else {
		out, record, err = upload.Upload(ctx, r.data.client, in)
	}
	for _, n := range out.Notices {
		diags.AddWarning(summary, n)
	}
	if out.Abandoned != "" {
		// A recorded upload that no longer fits the file: aborted below
		// once the key holds the new object.
		journalUpload(bucket, key, out.Abandoned, "")
	}
	if err != nil {
		if record != nil {
			journalUpload(bucket, key, record.UploadID, record.Options)
		}
		r.saveFailure(ctx, plan, prior, record, st, priv, diags)
		diags.AddError(summary, uploadErrorDetail(ctx, err, record))
		return
	}
	done := completion{UploadID: out.UploadID, Options: digest}
	if out.UploadID == "" {
		done = completion{PutSHA256: src.SHA256}
	}
	for _, w := range abortJournaled(ctx, r.data.client, bucket, key, done) {
		diags.AddWarning(summary, w)
	}

	plan.ETag = types.StringValue(out.ETag)
	plan.VersionID = types.StringValue(out.VersionID)
	plan.PartCount = types.Int64Value(int64(partCount(out.Layout)))
	plan.EffectivePartSize = types.Int64Value(out.Layout.PartSize)
	diags.Append(st.Set(ctx, plan.withoutWriteOnly())...)
	diags.Append(setPrivate(ctx, priv, privateSource, src)...)
	diags.Append(setPrivate(ctx, priv, privateUpload, nil)...)
	diags.Append(setPrivate(ctx, priv, privateObject, r.objectIdentity(ctx, plan, out))...)
	tflog.Info(ctx, "uploaded OBS object", logFields(
		"bucket", bucket, "key", key, "bytes_sent", out.BytesSent, "parts_sent", out.PartsSent,
		"parts_reused", out.PartsReused, "resumed", out.Resumed || out.Discovered,
	))
}

// saveFailure records progress after a failed upload: for Update the prior
// state stays (the old object is still there); for Create the planned state
// without upload results is saved (Terraform marks it tainted), but only if
// an upload is open to resume.
func (r *objectMultipartResource) saveFailure(ctx context.Context, plan objectMultipartModelV0, prior *objectMultipartModelV0,
	record *upload.Record, st stateSetter, priv privateSetter, diags *diag.Diagnostics) {
	bucket, key := plan.Bucket.ValueString(), plan.Key.ValueString()
	switch {
	case prior != nil:
		diags.Append(st.Set(ctx, prior)...)
	case record != nil:
		plan.setUploadNull()
		diags.Append(st.Set(ctx, plan.withoutWriteOnly())...)
	default:
		return
	}
	savePendingUpload(ctx, priv, bucket, key, record, diags)
}

// objectIdentity HEADs the new object so Delete can later tell it from an
// object written to the same key since.
func (r *objectMultipartResource) objectIdentity(ctx context.Context, plan objectMultipartModelV0, out upload.Output) *objectRecord {
	rec := &objectRecord{ETag: out.ETag, VersionID: out.VersionID, UploadID: out.UploadID}
	info, err := r.data.client.HeadObject(ctx, obs.HeadInput{Bucket: plan.Bucket.ValueString(), Key: plan.Key.ValueString(), SSEC: plan.sseC()})
	if err == nil && info.ETag == out.ETag {
		rec.LastModified = info.LastModified.Unix()
	}
	return rec
}

func (r *objectMultipartResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state objectMultipartModelV0
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	bucket, key := state.Bucket.ValueString(), state.Key.ValueString()
	imported := state.Source.IsNull()

	pending, diags := getPrivate[uploadRecord](ctx, req.Private, privateUpload)
	resp.Diagnostics.Append(diags...)

	info, err := r.statObject(ctx, state)
	if err != nil && imported && !obs.IsNotFound(err) {
		// An SSE-C object cannot be HEADed without its key, which import
		// does not have; its listing entry tells size and ETag.
		if listed, lerr := r.data.client.ListObject(ctx, bucket, key); lerr == nil {
			resp.Diagnostics.AddWarning(fmt.Sprintf("Importing OBS object %s/%s: metadata not readable", bucket, key),
				fmt.Sprintf("HEAD failed (%s), as it does for an SSE-C object without its key; only the size and ETag of the "+
					"object were imported. The next apply uploads it again, with the key in the configuration.", describeOBSError(err)))
			info, err = listed, nil
		}
	}
	ours := err == nil && r.assembledFromOurs(bucket, key, info, pending)
	if ours && pending != nil && pending.UploadID == info.UploadID {
		// The recorded upload completed into the object: nothing is
		// left to resume.
		resp.Diagnostics.Append(setPrivate(ctx, resp.Private, privateUpload, nil)...)
		pending = nil
	}
	uploadOpen := r.reportPendingUpload(ctx, bucket, key, pending, resp)
	if obs.IsNotFound(err) {
		if uploadOpen {
			// A failed create: keep it, so the next apply resumes and a
			// destroy aborts the open upload.
			return
		}
		resp.Diagnostics.AddWarning(fmt.Sprintf("OBS object %s/%s not found", bucket, key),
			"The object no longer exists in OBS (deleted outside Terraform?); it is removed from state and the next apply uploads it again.")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading OBS object %s/%s", bucket, key), describeOBSError(err))
		return
	}

	remoteSHA := info.Metadata[metaSHA256]
	switch {
	case imported:
		r.fillImported(ctx, &state, info, &resp.Diagnostics)
	case state.ETag.IsNull():
		// Upload never completed: whatever is at the key is not ours.
	case ours && info.ETag != state.ETag.ValueString():
		// An apply interrupted or killed once Complete had assembled the
		// object, before it could save state: the object is this
		// resource's, and Delete must know it as such.
		tflog.Info(ctx, "OBS object was assembled from an upload of this resource whose apply did not finish",
			map[string]any{"bucket": bucket, "key": key, "etag": info.ETag, "upload_id": info.UploadID})
		state.refreshFromObject(info)
		resp.Diagnostics.Append(setPrivate(ctx, resp.Private, privateObject, &objectRecord{
			ETag: info.ETag, VersionID: info.VersionID, UploadID: info.UploadID, LastModified: info.LastModified.Unix(),
		})...)
	case info.ETag != state.ETag.ValueString() || info.Size != state.Size.ValueInt64() ||
		remoteSHA != "" && remoteSHA != state.SourceSHA256.ValueString():
		tflog.Warn(ctx, "OBS object changed outside Terraform; the next apply uploads it again",
			map[string]any{"bucket": bucket, "key": key, "etag": info.ETag, "size": info.Size})
		state.refreshFromObject(info)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// statObject reads what state needs of the object: HEAD, or, for an object
// whose SSE-C key is write-only (not in state, so not here), its listing
// entry: size, ETag and last modified time, but no metadata.
func (r *objectMultipartResource) statObject(ctx context.Context, state objectMultipartModelV0) (obs.ObjectInfo, error) {
	bucket, key := state.Bucket.ValueString(), state.Key.ValueString()
	if state.keyWriteOnly() {
		return r.data.client.ListObject(ctx, bucket, key)
	}
	return r.data.client.HeadObject(ctx, obs.HeadInput{Bucket: bucket, Key: key, SSEC: state.sseC()})
}

// assembledFromOurs reports whether the object was written by this
// resource: assembled from the multipart upload a failed apply recorded or
// one an apply on this machine journaled when it initiated it, or, without
// an upload ID, put by a single PUT of its content (tf-source-sha256) that
// an apply on this machine journaled before starting it.
func (r *objectMultipartResource) assembledFromOurs(bucket, key string, info obs.ObjectInfo, pending *uploadRecord) bool {
	if info.UploadID == "" {
		return journaledPut(bucket, key, info.Metadata[metaSHA256])
	}
	if pending != nil && pending.Bucket == bucket && pending.Key == key && pending.UploadID == info.UploadID {
		return true
	}
	_, ok := journaled(bucket, key, info.UploadID)
	return ok
}

// assembledEarlier reports whether a create finds its work done: the object
// at the key was assembled from an upload an apply on this machine
// initiated with the same object options (the journal says so) for the
// planned content (its tf-source-sha256 and size are the plan's) and part
// size, by a run killed after Complete but before Terraform saved state (a
// killed -replace or create). It returns the upload's output then. An
// update needs no such check: its refresh took such an object into state.
func (r *objectMultipartResource) assembledEarlier(ctx context.Context, plan objectMultipartModelV0, prior *objectMultipartModelV0, digest string) (upload.Output, bool) {
	if prior != nil || plan.encrypted() {
		return upload.Output{}, false
	}
	bucket, key := plan.Bucket.ValueString(), plan.Key.ValueString()
	if !readCacheJSON(journalPath(bucket, key), &uploadJournal{}) {
		return upload.Output{}, false // no upload of the key journaled: nothing to ask OBS
	}
	info, err := r.data.client.HeadObject(ctx, obs.HeadInput{Bucket: bucket, Key: key})
	if err != nil || info.UploadID == "" || info.Size != plan.Size.ValueInt64() ||
		info.Metadata[metaSHA256] != plan.SourceSHA256.ValueString() {
		return upload.Output{}, false
	}
	if o, ok := journaled(bucket, key, info.UploadID); !ok || o != digest {
		return upload.Output{}, false
	}
	l, err := upload.PlanParts(info.Size, plan.PartSize.ValueInt64())
	if err != nil || l.SinglePut || upload.MultipartETagParts(info.ETag) != l.Parts {
		return upload.Output{}, false
	}
	return upload.Output{
		ETag: info.ETag, VersionID: info.VersionID, UploadID: info.UploadID, Layout: l, Resumed: true,
		Notices: []string{fmt.Sprintf("upload %s of an apply that did not finish had already completed into the object; nothing to send", info.UploadID)},
	}, true
}

// reportPendingUpload warns about an open upload recorded by a failed apply,
// with its real progress from the server, and forgets it if it is gone. It
// reports whether the upload is still open.
func (r *objectMultipartResource) reportPendingUpload(ctx context.Context, bucket, key string, pending *uploadRecord, resp *resource.ReadResponse) bool {
	if pending == nil || pending.Bucket != bucket || pending.Key != key {
		return false
	}
	parts, err := r.data.client.ListParts(ctx, obs.ListPartsInput{Bucket: bucket, Key: key, UploadID: pending.UploadID})
	if err == nil || !obs.IsNoSuchUpload(err) {
		// Remember it on this machine: a replacement's Create will not see
		// this private state, and must abort the upload if it cannot adopt it.
		journalUpload(bucket, key, pending.UploadID, pending.Options)
	}
	if obs.IsNoSuchUpload(err) {
		resp.Diagnostics.AddWarning(fmt.Sprintf("Upload of OBS object %s/%s cannot be resumed", bucket, key),
			fmt.Sprintf("The upload %s left by an earlier apply no longer exists (aborted, or removed by a lifecycle rule). The next apply starts a new upload.", pending.UploadID))
		resp.Diagnostics.Append(setPrivate(ctx, resp.Private, privateUpload, nil)...)
		return false
	}
	if err != nil {
		tflog.Warn(ctx, "cannot list the parts of a recorded upload", map[string]any{"upload_id": pending.UploadID, "error": err.Error()})
		return true
	}
	layout, lerr := upload.PlanParts(pending.Size, pending.PartSize)
	if lerr != nil {
		return true
	}
	var have int64
	for _, p := range parts {
		have += p.Size
	}
	resp.Diagnostics.AddWarning(fmt.Sprintf("Resuming upload of OBS object %s/%s", bucket, key),
		fmt.Sprintf("Resuming upload %s: %d of %d parts already uploaded, %s left. The next apply sends only the missing parts.",
			pending.UploadID, len(parts), layout.Parts, upload.FormatBytes(max(pending.Size-have, 0))))
	return true
}

// fillImported sets state from the object after an import. The part size is
// the one the object records (tf-part-size) when it gives the object's part
// count, else the likeliest of those that do; settings OBS does not record
// (concurrency, timeouts, ACL, tags, ...) get their defaults.
func (r *objectMultipartResource) fillImported(ctx context.Context, state *objectMultipartModelV0, info obs.ObjectInfo, diags *diag.Diagnostics) {
	state.ID = types.StringValue(objectID(state.Bucket.ValueString(), state.Key.ValueString()))
	if src, ok := sourceFromMetadata(info.Metadata); ok {
		state.Source = types.StringValue(src)
	}
	state.Size = types.Int64Value(info.Size)
	state.SourceSHA256 = types.StringValue(info.Metadata[metaSHA256])
	state.ETag = types.StringValue(info.ETag)
	state.VersionID = types.StringValue(info.VersionID)
	state.Concurrency = types.Int64Value(defaultConcurrency)
	state.ContentType = types.StringValue(info.ContentType)
	state.ContentEncoding = optionalString(info.ContentEncoding)
	if info.StorageClass != "STANDARD" { // the default, which some servers report and others omit
		state.StorageClass = optionalString(info.StorageClass)
	}
	state.WebsiteRedirectLocation = optionalString(info.WebsiteRedirectLocation)
	if md := userMetadata(info.Metadata); len(md) > 0 {
		m, d := types.MapValue(types.StringType, md)
		diags.Append(d...)
		state.Metadata = m
	} else {
		state.Metadata = types.MapNull(types.StringType)
	}
	partSize, parts, effective := objectCut(info)
	state.PartSize = types.Int64Value(partSize)
	state.PartCount = types.Int64Value(int64(parts))
	state.EffectivePartSize = types.Int64Value(effective)
	if info.SSE == "kms" {
		state.ServerSideEncryption = types.StringValue("kms")
	}
	tflog.Debug(ctx, "imported OBS object", map[string]any{"bucket": state.Bucket.ValueString(), "key": state.Key.ValueString()})
}

func optionalString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func (r *objectMultipartResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state objectMultipartModelV0
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deleteWritten(ctx, r.data, state, func(ctx context.Context) (obs.ObjectInfo, error) {
		return r.statObject(ctx, state)
	}, req, resp)
}

// sameObject reports whether the object found at the key is the one state
// and the private object record describe.
func sameObject(info obs.ObjectInfo, state objectMultipartModelV0, written *objectRecord) bool {
	if info.ETag != state.ETag.ValueString() {
		return false
	}
	if v := state.VersionID.ValueString(); v != "" && info.VersionID != "" && v != info.VersionID {
		return false
	}
	if written == nil {
		return true
	}
	if written.UploadID != "" && info.UploadID != "" {
		return written.UploadID == info.UploadID
	}
	// S3-compatible servers do not report the upload ID of an object.
	return written.LastModified == 0 || written.LastModified == info.LastModified.Unix()
}

func (r *objectMultipartResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	bucket, key, ok := parseImportID(req.ID)
	if !ok {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Expected bucket/key or obs://bucket/key (e.g. my-bucket/images/disk.qcow2), got %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("bucket"), bucket)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("key"), key)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), objectID(bucket, key))...)
}

// parseImportID accepts "bucket/key" and "obs://bucket/key".
func parseImportID(id string) (bucket, key string, ok bool) {
	id = strings.TrimPrefix(id, "obs://")
	bucket, key, ok = strings.Cut(id, "/")
	if !ok || !bucketNameRegexp.MatchString(bucket) || key == "" || len(key) > 1024 {
		return "", "", false
	}
	return bucket, key, true
}

// addSourceError reports a problem with the source file on `source`.
func addSourceError(diags *diag.Diagnostics, err error) {
	var se *sourceError
	if errors.As(err, &se) {
		diags.AddAttributeError(path.Root("source"), "Cannot read the source file", err.Error())
		return
	}
	diags.AddAttributeError(path.Root("source"), "Hashing the source file", err.Error())
}
