package provider

import (
	"context"
	"os"
	"slices"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// The upload journal remembers, per bucket/key, the open uploads failed
// applies on this machine left behind. Terraform hands a failed Create's
// private state to nobody but Read (the tainted object's private state is
// dropped before planning its replacement), so an upload that the next
// Create cannot adopt — the file changed, or SSE-C parts cannot be proven
// ours — would otherwise stay open and billed. After the key is uploaded
// successfully, or destroyed, the journaled uploads are aborted.
//
// A copy journals its upload with the upload's record (layout and source
// version) as soon as the upload is initiated: a copy's parts cannot be
// checked against the source afterwards, so the record is what proves an
// open upload ours when a killed run saved nothing else.
type uploadJournal struct {
	UploadIDs []string `json:"upload_ids"`
	// Records are the journaled records, by upload ID, of the uploads
	// that have one.
	Records map[string]*uploadRecord `json:"records,omitempty"`
}

func journalPath(bucket, key string) string { return cacheFile("uploads", bucket+"/"+key) }

// journalUpload records an open upload of bucket/key.
func journalUpload(bucket, key, uploadID string) {
	p := journalPath(bucket, key)
	var j uploadJournal
	readCacheJSON(p, &j)
	if !slices.Contains(j.UploadIDs, uploadID) {
		j.UploadIDs = append(j.UploadIDs, uploadID)
		writeCacheJSON(p, j)
	}
}

// journalRecord records an open upload of bucket/key with its record.
func journalRecord(bucket, key string, r *upload.Record) {
	enc, err := encodeUpload(bucket, key, r)
	if err != nil {
		journalUpload(bucket, key, r.UploadID)
		return
	}
	p := journalPath(bucket, key)
	var j uploadJournal
	readCacheJSON(p, &j)
	if !slices.Contains(j.UploadIDs, r.UploadID) {
		j.UploadIDs = append(j.UploadIDs, r.UploadID)
	}
	if j.Records == nil {
		j.Records = map[string]*uploadRecord{}
	}
	j.Records[r.UploadID] = enc
	writeCacheJSON(p, j)
}

// journaledRecord returns the record of the newest journaled upload of
// bucket/key for which match holds, or nil.
func journaledRecord(bucket, key string, match func(*upload.Record) bool) *upload.Record {
	var j uploadJournal
	if !readCacheJSON(journalPath(bucket, key), &j) {
		return nil
	}
	for _, id := range slices.Backward(j.UploadIDs) {
		enc := j.Records[id]
		if enc == nil || enc.Bucket != bucket || enc.Key != key || enc.UploadID != id {
			continue
		}
		if r, err := enc.decode(); err == nil && match(r) {
			return r
		}
	}
	return nil
}

// journaledUploads returns the IDs of the journaled uploads of bucket/key.
func journaledUploads(bucket, key string) []string {
	var j uploadJournal
	readCacheJSON(journalPath(bucket, key), &j)
	return j.UploadIDs
}

// abortJournaled aborts the journaled uploads of bucket/key other than keep
// and returns the warnings worth showing. Uploads that cannot be aborted stay
// in the journal for the next time.
func abortJournaled(ctx context.Context, c obs.Client, bucket, key, keep string) []string {
	return abortJournaledOf(ctx, c, bucket, key, keep, nil)
}

// abortJournaledOf is abortJournaled for the uploads in only (every one
// when only is nil): a copy journals its upload as it starts, so the
// uploads journaled since a run began may be in flight in another run, and
// that run aborts only those it found. keep, the upload that completed,
// leaves the journal; the others stay in it.
func abortJournaledOf(ctx context.Context, c obs.Client, bucket, key, keep string, only []string) []string {
	p := journalPath(bucket, key)
	var j uploadJournal
	if !readCacheJSON(p, &j) {
		return nil
	}
	var left, warnings []string
	kept := map[string]*uploadRecord{}
	leave := func(id string) {
		left = append(left, id)
		if r := j.Records[id]; r != nil {
			kept[id] = r
		}
	}
	for _, id := range j.UploadIDs {
		if id == keep {
			continue
		}
		if only != nil && !slices.Contains(only, id) {
			leave(id)
			continue
		}
		err := upload.Abort(ctx, c, bucket, key, id)
		switch {
		case err == nil:
			tflog.Info(ctx, "aborted a superseded open upload", map[string]any{"bucket": bucket, "key": key, "upload_id": id})
		case obs.IsNoSuchUpload(err):
		default:
			leave(id)
			w := "Could not abort the superseded upload " + id + ": " + err.Error() +
				". The next successful apply tries again; a bucket lifecycle rule for incomplete multipart uploads also removes it."
			if hint := obsErrorHint(err); hint != "" {
				w += "\n\n" + hint
			}
			warnings = append(warnings, w)
		}
	}
	if len(left) == 0 {
		_ = os.Remove(p)
	} else {
		writeCacheJSON(p, uploadJournal{UploadIDs: left, Records: kept})
	}
	return warnings
}
