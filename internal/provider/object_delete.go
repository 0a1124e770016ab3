package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// deleteWritten is the destroy of an object resource (obs_object_multipart,
// obs_object_copy) at bucket/key whose state is state: it aborts the open
// upload a failed apply recorded in private state, then deletes the object
// if it still is the one the resource wrote. stat reads the object.
func deleteWritten(ctx context.Context, data *providerData, state objectMultipartModelV0,
	stat func(context.Context) (obs.ObjectInfo, error), req resource.DeleteRequest, resp *resource.DeleteResponse) {
	bucket, key := state.Bucket.ValueString(), state.Key.ValueString()
	summary := fmt.Sprintf("Deleting OBS object %s/%s", bucket, key)
	fail := func(detail string) {
		// A null state with an error makes Terraform keep the prior state,
		// private state included, exactly as stored, so a later destroy
		// still finds the open upload and the object record.
		resp.State.RemoveResource(ctx)
		resp.Diagnostics.AddError(summary, detail)
	}

	// Abort the open upload a failed apply recorded. Delete only sees it on
	// a real destroy or a config-forced replacement; during a tainted
	// replacement it is not passed here, and the Create that follows adopts
	// the upload instead.
	pending, diags := getPrivate[uploadRecord](ctx, req.Private, privateUpload)
	resp.Diagnostics.Append(diags...)
	if pending != nil && pending.Bucket == bucket && pending.Key == key {
		if err := upload.Abort(ctx, data.client, bucket, key, pending.UploadID); err != nil && !obs.IsNoSuchUpload(err) {
			fail(fmt.Sprintf("Aborting the open upload %s: %s", pending.UploadID, describeOBSError(err)))
			return
		}
		// A real destroy (a tainted replacement passes no upload record):
		// the key's other journaled uploads are ours and superseded too.
		for _, w := range abortJournaled(ctx, data.client, bucket, key, completion{}) {
			resp.Diagnostics.AddWarning(summary, w)
		}
	}

	if state.ETag.IsNull() || state.ETag.ValueString() == "" {
		return // nothing of ours was ever completed at this key
	}
	info, err := stat(ctx)
	if obs.IsNotFound(err) {
		return
	}
	if err != nil {
		fail(describeOBSError(err))
		return
	}
	written, diags := getPrivate[objectRecord](ctx, req.Private, privateObject)
	resp.Diagnostics.Append(diags...)
	if !sameObject(info, state, written) {
		resp.Diagnostics.AddWarning(summary+": kept",
			"The object at this key is no longer the one this resource wrote (a create_before_destroy replacement or "+
				"another writer replaced it), so it was not deleted.")
		return
	}
	// Already gone (e.g. deleted concurrently) is what we wanted: some
	// S3-compatible servers answer 404 where OBS answers 204.
	if err := data.client.DeleteObject(ctx, bucket, key); err != nil && !obs.IsNotFound(err) {
		fail(describeOBSError(err))
		return
	}
	forgetCompleted(bucket, key)
}
