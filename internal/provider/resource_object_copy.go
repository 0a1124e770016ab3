package provider

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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
	_ resource.Resource                     = (*objectCopyResource)(nil)
	_ resource.ResourceWithConfigure        = (*objectCopyResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*objectCopyResource)(nil)
	_ resource.ResourceWithImportState      = (*objectCopyResource)(nil)
	_ resource.ResourceWithConfigValidators = (*objectCopyResource)(nil)
)

// objectCopyResource is obs_object_copy: a server-side copy of an OBS
// object. Its destination is an object like obs_object_multipart's, and
// shares that resource's rules on object options, identity and destroy.
type objectCopyResource struct {
	data *providerData
}

func newObjectCopyResource() resource.Resource { return &objectCopyResource{} }

// object is the obs_object_multipart resource on the same provider data,
// whose rules on the destination object the copy follows.
func (r *objectCopyResource) object() *objectMultipartResource {
	return &objectMultipartResource{data: r.data}
}

func (r *objectCopyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_object_copy"
}

func (r *objectCopyResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = objectCopySchemaV0(ctx)
}

func (r *objectCopyResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.RequiredTogether(path.MatchRoot("object_lock_mode"), path.MatchRoot("object_lock_retain_until_date")),
	}
}

func (r *objectCopyResource) Configure(ctx context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	o := r.object()
	o.Configure(ctx, req, resp)
	r.data = o.data
}

// ModifyPlan reads the source's metadata (HEAD) so that the plan shows
// whether the source changed, and decides whether the object is copied.
func (r *objectCopyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy: the private state passes to Delete unchanged
	}
	var plan, config objectCopyModelV0
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *objectCopyModelV0
	if !req.State.Raw.IsNull() {
		state = new(objectCopyModelV0)
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if !plan.Bucket.IsUnknown() && !plan.Key.IsUnknown() {
		plan.ID = types.StringValue(objectID(plan.Bucket.ValueString(), plan.Key.ValueString()))
	}
	r.object().checkSignatureSupport(plan.asObject(), &resp.Diagnostics)
	checkSSECOverHTTP(r.data, path.Root("sse_c_key"), config.SSECKey, &resp.Diagnostics)
	checkSSECOverHTTP(r.data, path.Root("source_sse_c_key"), config.SourceSSECKey, &resp.Diagnostics)
	if plan.SourceBucket.Equal(plan.Bucket) && plan.SourceKey.Equal(plan.Key) && !plan.Key.IsUnknown() && !plan.Bucket.IsUnknown() {
		// Every copy would change the source it copies, so the next plan
		// would copy again.
		resp.Diagnostics.AddAttributeError(path.Root("source_key"), "An object cannot be copied onto itself",
			fmt.Sprintf("source_bucket/source_key and bucket/key both name %s. Copy to another key or bucket.", plan.ID.ValueString()))
	}
	if resp.Diagnostics.HasError() {
		return
	}

	if r.data == nil || !config.sourceKnown() || plan.PartSize.IsUnknown() {
		// The source is written in this apply (source_etag unknown): it is
		// read, and copied, by the apply.
		plan.setSourceUnknown(config)
		plan.setCopyUnknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	hctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	info, err := r.data.client.HeadObject(hctx, config.headSource(config.SourceVersionID.ValueString()))
	if err != nil {
		addSourceObjectError(&resp.Diagnostics, config, err, "")
		return
	}
	if want := config.SourceETag; !want.IsNull() && !sameETag(want.ValueString(), info.ETag) {
		resp.Diagnostics.AddAttributeError(path.Root("source_etag"), "The source object has another ETag",
			fmt.Sprintf("source_etag is %q, but OBS object %s/%s has ETag %q. Copy the object it is now by removing source_etag, "+
				"or set it to the etag of the resource that writes the source so that the copy follows it.",
				want.ValueString(), config.SourceBucket.ValueString(), config.SourceKey.ValueString(), info.ETag))
		return
	}
	if checkSourceKeyApplies(&resp.Diagnostics, config, info, ""); resp.Diagnostics.HasError() {
		return
	}
	plan.takeSource(config, info, &resp.Diagnostics)
	layout, err := upload.PlanCopyParts(info.Size, plan.PartSize.ValueInt64())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("part_size"), "Cannot split the source into parts", err.Error())
		return
	}
	written, diags := getPrivate[objectRecord](ctx, req.Private, privateObject)
	resp.Diagnostics.Append(diags...)
	if state == nil || needsCopy(*state, plan, written) && !provenCopy(*state, plan, info.SSE != "") {
		plan.setCopyUnknown()
		plan.setLayout(layout)
		if layout.Grown {
			resp.Diagnostics.AddAttributeWarning(path.Root("part_size"), "Part size grown",
				fmt.Sprintf("A %s source needs more than %d parts of %s; parts of %s will be copied instead.",
					upload.FormatBytes(layout.Size), upload.MaxParts, upload.FormatBytes(plan.PartSize.ValueInt64()), upload.FormatBytes(layout.PartSize)))
		}
	} else {
		plan.keepCopy(*state)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// sameETag compares two ETags as OBS writes them, quoted or not.
func sameETag(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(s), `"`)) }
	return norm(a) == norm(b)
}

// addSourceObjectError reports a source that cannot be read: a read with
// source_sse_c_key that OBS denied on that attribute, one without it that
// OBS refused as it refuses an SSE-C source read without its key, else on
// source_version_id when one is set, else on source_key; when is "" at
// plan, or what the apply did.
func addSourceObjectError(diags *diag.Diagnostics, m objectCopyModelV0, err error, when string) {
	attr, name := path.Root("source_key"), m.SourceBucket.ValueString()+"/"+m.SourceKey.ValueString()
	if v := m.SourceVersionID.ValueString(); v != "" {
		attr, name = path.Root("source_version_id"), name+" (version "+v+")"
	}
	if addSourceKeyDenied(diags, m, name, err, when) || addSourceKeyMissing(diags, m, attr, name, err, when) {
		return
	}
	if !obs.IsNotFound(err) {
		diags.AddAttributeError(attr, "Reading the source object "+name, describeOBSError(err)+when)
		return
	}
	diags.AddAttributeError(attr, "Source object not found",
		fmt.Sprintf("OBS has no object %s: %s.%s If another resource of this configuration writes it, set source_etag to "+
			"that resource's etag (e.g. source_etag = obs_object_multipart.build.etag): the copy then waits for the object "+
			"and copies it in the same apply.", name, err.Error(), when))
}

func (r *objectCopyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config objectCopyModelV0
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
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
	// Create gets no private state: the open upload of an earlier failed
	// or killed run is found in the journal, or by discovery.
	r.apply(ctx, copyApply{plan: plan, config: config}, &resp.State, resp.Private, &resp.Diagnostics)
}

func (r *objectCopyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, config, state objectCopyModelV0
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	written, diags := getPrivate[objectRecord](ctx, req.Private, privateObject)
	resp.Diagnostics.Append(diags...)
	if !plan.ETag.IsUnknown() {
		// The plan keeps the object (ModifyPlan): only transfer settings,
		// timeouts or the recorded source changed. An imported object
		// proven to be the copy becomes the object this resource keeps.
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		if written == nil {
			resp.Diagnostics.Append(setPrivate(ctx, resp.Private, privateObject,
				&objectRecord{ETag: plan.ETag.ValueString(), VersionID: plan.VersionID.ValueString()})...)
		}
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	recorded, diags := getPrivate[uploadRecord](ctx, req.Private, privateUpload)
	resp.Diagnostics.Append(diags...)
	r.apply(ctx, copyApply{plan: plan, config: config, prior: &state, recorded: recorded, written: written},
		&resp.State, resp.Private, &resp.Diagnostics)
}

// copyApply is what an apply of the copy starts from.
type copyApply struct {
	plan, config objectCopyModelV0
	// prior is the state an update starts from (nil for a create), with
	// the open upload its failed apply recorded and the object it wrote.
	prior    *objectCopyModelV0
	recorded *uploadRecord
	written  *objectRecord
}

// apply reads the source, copies it unless it turns out unchanged, and
// saves the state; on failure it keeps the prior state (update) or a
// partial state (create) with the open upload, which the next apply
// resumes.
func (r *objectCopyResource) apply(ctx context.Context, a copyApply, st stateSetter, priv privateSetter, diags *diag.Diagnostics) {
	if r.data == nil {
		diags.AddError("Provider not configured", "The obs provider was not configured; this is a bug in the provider.")
		return
	}
	plan := a.plan
	bucket, key := plan.Bucket.ValueString(), plan.Key.ValueString()
	summary := fmt.Sprintf("Copying %s/%s to OBS object %s/%s", plan.SourceBucket.ValueString(), plan.SourceKey.ValueString(), bucket, key)
	keepPrior := func() {
		if a.prior != nil {
			diags.Append(st.Set(ctx, a.prior)...)
		}
	}

	// The version the plan saw, or the current one when the plan could not
	// read the source.
	version := ""
	if !plan.SourceVersionID.IsUnknown() {
		version = plan.SourceVersionID.ValueString()
	}
	info, err := r.data.client.HeadObject(ctx, plan.headSource(version))
	if err != nil {
		keepPrior()
		addSourceObjectError(diags, plan, err, " Nothing was copied.")
		return
	}
	if want := plan.SourceETag; !want.IsUnknown() && !sameETag(want.ValueString(), info.ETag) {
		keepPrior()
		diags.AddAttributeError(path.Root("source_etag"), summary,
			fmt.Sprintf("The source object changed after the plan was made: its ETag is now %s, the plan has %s. "+
				"Nothing was copied; run plan and apply again.", info.ETag, want.ValueString()))
		return
	}
	if checkSourceKeyApplies(diags, plan, info, " Nothing was copied."); diags.HasError() {
		keepPrior()
		return
	}
	plan.takeSource(a.config, info, diags)
	layout, err := upload.PlanCopyParts(info.Size, plan.PartSize.ValueInt64())
	if err != nil {
		keepPrior()
		diags.AddAttributeError(path.Root("part_size"), summary, err.Error())
		return
	}
	if a.prior != nil && !needsCopy(*a.prior, plan, a.written) {
		// The source was written in this apply, with the bytes it had.
		plan.keepCopy(*a.prior)
		diags.Append(st.Set(ctx, &plan)...)
		return
	}
	opts, d := plan.objectOptions(ctx)
	diags.Append(d...)
	if diags.HasError() {
		keepPrior()
		return
	}
	source := plan.sourceVersion()
	ticks, stopTicks := r.data.progressTicks()
	defer stopTicks()
	in := upload.Input{
		Bucket: bucket, Key: key,
		Copy:        &upload.CopySource{ObjectVersion: source, Size: info.Size, Encrypted: info.SSE != "", SSEC: plan.sourceSSEC()},
		PartSize:    plan.PartSize.ValueInt64(),
		Concurrency: int(plan.Concurrency.ValueInt64()),
		Options:     opts,
		Discover:    true,
		Initiated:   func(rec upload.Record) { journalRecord(bucket, key, &rec) },
		Budget:      r.data.budget,
		OnProgress:  progressLogger(ctx, bucket, key),
		Ticks:       ticks,
		Logger:      engineLogger{ctx: ctx},
	}
	in.Record = copyRecord(ctx, bucket, key, source, layout, a.recorded)
	// The uploads this copy supersedes: those journaled before it started
	// (uploads journaled since may be another run's, in flight).
	superseded := append([]string{}, journaledUploads(bucket, key)...)

	out, record, err := upload.Copy(ctx, r.data.client, in)
	for _, n := range out.Notices {
		diags.AddWarning(summary, n)
	}
	if out.Abandoned != "" {
		journalUpload(bucket, key, out.Abandoned, "") // aborted once the key holds the new copy
		superseded = append(superseded, out.Abandoned)
	}
	if err != nil {
		if record != nil {
			journalRecord(bucket, key, record)
		}
		switch {
		case a.prior != nil:
			keepPrior()
		case record != nil:
			// A partial state (Terraform taints it) that destroy can abort.
			plan.ETag, plan.VersionID = types.StringNull(), types.StringNull()
			plan.PartCount, plan.EffectivePartSize = types.Int64Null(), types.Int64Null()
			diags.Append(st.Set(ctx, &plan)...)
		}
		if a.prior != nil || record != nil {
			savePendingUpload(ctx, priv, bucket, key, record, diags)
		}
		diags.AddError(summary, copyErrorDetail(ctx, err, record))
		return
	}
	for _, w := range abortJournaledOf(ctx, r.data.client, bucket, key, completion{UploadID: out.UploadID, Options: upload.OptionsDigest(opts)}, superseded) {
		diags.AddWarning(summary, w)
	}
	plan.ETag, plan.VersionID = types.StringValue(out.ETag), types.StringValue(out.VersionID)
	plan.setLayout(out.Layout)
	diags.Append(st.Set(ctx, &plan)...)
	diags.Append(setPrivate(ctx, priv, privateUpload, nil)...)
	diags.Append(setPrivate(ctx, priv, privateObject, r.object().objectIdentity(ctx, plan.asObject(), out))...)
	tflog.Info(ctx, "copied OBS object", map[string]any{
		"bucket": bucket, "key": key, "source_bucket": source.Bucket, "source_key": source.Key,
		"bytes_copied": out.BytesSent, "parts_copied": out.PartsSent, "parts_reused": out.PartsReused,
		"resumed": out.Resumed || out.Discovered,
	})
}

// copyRecord is the open upload to resume: the one a failed update
// recorded in private state, else the newest one this machine journaled
// for the same source version and layout (a create gets no private state,
// and a killed run saves none).
func copyRecord(ctx context.Context, bucket, key string, source upload.ObjectVersion, l upload.Layout, recorded *uploadRecord) *upload.Record {
	if recorded != nil && recorded.Bucket == bucket && recorded.Key == key {
		rec, err := recorded.decode()
		if err == nil {
			return rec
		}
		tflog.Warn(ctx, "ignoring an unreadable upload record in private state", map[string]any{"error": err.Error()})
	}
	return journaledRecord(bucket, key, func(r *upload.Record) bool {
		return r.Copy != nil && *r.Copy == source && r.PartSize == l.PartSize && r.Size == l.Size
	})
}

func (r *objectCopyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state objectCopyModelV0
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	bucket, key := state.Bucket.ValueString(), state.Key.ValueString()

	pending, diags := getPrivate[uploadRecord](ctx, req.Private, privateUpload)
	resp.Diagnostics.Append(diags...)
	uploadOpen := r.object().reportPendingUpload(ctx, bucket, key, pending, resp)

	info, err := r.data.client.HeadObject(ctx, obs.HeadInput{Bucket: bucket, Key: key, SSEC: state.asObject().sseC()})
	if obs.IsNotFound(err) {
		if uploadOpen {
			return // a failed create: the next apply resumes, a destroy aborts
		}
		resp.Diagnostics.AddWarning(fmt.Sprintf("OBS object %s/%s not found", bucket, key),
			"The copy no longer exists in OBS (deleted outside Terraform?); it is removed from state and the next apply copies the source again.")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		detail := describeOBSError(err)
		if e, ok := obs.AsError(err); ok && e.StatusCode == http.StatusBadRequest && state.SourceBucket.IsNull() && state.asObject().sseC() == nil {
			detail += importedSSECHint
		}
		resp.Diagnostics.AddError(fmt.Sprintf("Reading OBS object %s/%s", bucket, key), detail)
		return
	}
	switch {
	case state.SourceBucket.IsNull():
		// Imported: the destination is read back; the source cannot be.
		o := state.asObject()
		r.object().fillImported(ctx, &o, info, &resp.Diagnostics)
		state.setObject(o)
		state.SourceSHA256 = optionalString(info.Metadata[metaSHA256])
	case state.ETag.IsNull():
		// The copy never completed: whatever is at the key is not ours.
	case info.ETag != state.ETag.ValueString() || info.Size != state.Size.ValueInt64():
		tflog.Warn(ctx, "OBS object changed outside Terraform; the next apply copies the source again",
			map[string]any{"bucket": bucket, "key": key, "etag": info.ETag, "size": info.Size})
		state.ETag, state.VersionID = types.StringValue(info.ETag), types.StringValue(info.VersionID)
		state.Size = types.Int64Value(info.Size)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *objectCopyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state objectCopyModelV0
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	o := state.asObject()
	deleteWritten(ctx, r.data, o, func(ctx context.Context) (obs.ObjectInfo, error) {
		return r.data.client.HeadObject(ctx, obs.HeadInput{Bucket: o.Bucket.ValueString(), Key: o.Key.ValueString(), SSEC: o.sseC()})
	}, req, resp)
}

// ImportState takes bucket/key (or obs://bucket/key) of the destination.
// The source cannot be read back from it: Read fills in the object, and
// the source attributes stay null until the next apply records them.
func (r *objectCopyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	r.object().ImportState(ctx, req, resp)
}
