package provider

import (
	"context"
	"os"
	"slices"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// The upload journal remembers, per bucket/key, the multipart uploads applies
// on this machine started (from the moment they are initiated) and the open
// ones failed applies left behind. Terraform hands a failed Create's private
// state to nobody but Read (the tainted object's private state is dropped
// before planning its replacement), and a killed run saves nothing at all, so
// an upload that the next apply cannot adopt — the file changed, or SSE-C
// parts cannot be proven ours — would otherwise stay open and billed. After
// the key is uploaded successfully, or destroyed, the journaled uploads are
// aborted.
type uploadJournal struct {
	UploadIDs []string `json:"upload_ids"`
	// Records are the journaled records, by upload ID, of the uploads
	// that have one: a copy journals its upload with the upload's record
	// (layout and source version) as soon as it is initiated, since a
	// copy's parts cannot be checked against the source afterwards, so the
	// record is what proves an open upload ours when a killed run saved
	// nothing else.
	Records map[string]*uploadRecord `json:"records,omitempty"`
	// Completed is the upload the key's last successful multipart upload on
	// this machine completed: an object assembled from it is this
	// machine's, even when Terraform was killed before it saved the state
	// that says so.
	Completed string `json:"completed,omitempty"`
	// Options holds, by upload ID, the digest of the object options each
	// journaled upload was initiated with (upload.OptionsDigest), when
	// known.
	Options map[string]string `json:"options,omitempty"`
	// Puts are the SHA-256s of the content of the single PUTs of the key
	// applies on this machine started since its last successful upload,
	// and of that upload's when it was a PUT: an object without an upload
	// ID whose tf-source-sha256 is among them is this machine's (a PUT
	// carries no other identity), even when its apply was cut off before
	// the PUT's answer.
	Puts []string `json:"puts,omitempty"`
}

// completion is what just completed a key: a multipart upload, with the
// digest of its object options, or a single PUT, by the SHA-256 of its
// content. Neither (the zero value) is a destroy.
type completion struct {
	UploadID, Options, PutSHA256 string
}

func journalPath(bucket, key string) string { return cacheFile("uploads", bucket+"/"+key) }

// journalUpload records an upload of bucket/key initiated with the object
// options of digest options ("" when unknown).
func journalUpload(bucket, key, uploadID, options string) {
	p := journalPath(bucket, key)
	var j uploadJournal
	readCacheJSON(p, &j)
	if slices.Contains(j.UploadIDs, uploadID) && (options == "" || j.Options[uploadID] == options) {
		return
	}
	if !slices.Contains(j.UploadIDs, uploadID) {
		j.UploadIDs = append(j.UploadIDs, uploadID)
	}
	if options != "" {
		if j.Options == nil {
			j.Options = map[string]string{}
		}
		j.Options[uploadID] = options
	}
	writeCacheJSON(p, j)
}

// journalPut records that a single PUT of content with SHA-256 sum to
// bucket/key is about to start.
func journalPut(bucket, key, sum string) {
	p := journalPath(bucket, key)
	var j uploadJournal
	readCacheJSON(p, &j)
	if !slices.Contains(j.Puts, sum) {
		j.Puts = append(j.Puts, sum)
		writeCacheJSON(p, j)
	}
}

// journaledPut reports whether a single PUT of content with SHA-256 sum to
// bucket/key is journaled.
func journaledPut(bucket, key, sum string) bool {
	var j uploadJournal
	return sum != "" && readCacheJSON(journalPath(bucket, key), &j) && slices.Contains(j.Puts, sum)
}

// forgetCompleted drops from the journal of bucket/key what completed the
// key (the last upload's ID, the PUTs' SHA-256s) once its object is
// deleted: an object put at the key later is no longer this machine's by
// that record. Journaled open uploads stay.
func forgetCompleted(bucket, key string) {
	p := journalPath(bucket, key)
	var j uploadJournal
	if !readCacheJSON(p, &j) || j.Completed == "" && len(j.Puts) == 0 {
		return
	}
	if !slices.Contains(j.UploadIDs, j.Completed) {
		delete(j.Options, j.Completed)
	}
	j.Completed, j.Puts = "", nil
	if len(j.UploadIDs) == 0 {
		_ = os.Remove(p)
		return
	}
	writeCacheJSON(p, j)
}

// journaled reports whether uploadID is journaled for bucket/key, open or
// completed, and the digest of the options it was initiated with.
func journaled(bucket, key, uploadID string) (options string, ok bool) {
	var j uploadJournal
	if !readCacheJSON(journalPath(bucket, key), &j) || !slices.Contains(j.UploadIDs, uploadID) && j.Completed != uploadID {
		return "", false
	}
	return j.Options[uploadID], true
}

// journalRecord records an open upload of bucket/key with its record.
func journalRecord(bucket, key string, r *upload.Record) {
	enc, err := encodeUpload(bucket, key, r)
	if err != nil {
		journalUpload(bucket, key, r.UploadID, r.Options)
		return
	}
	p := journalPath(bucket, key)
	var j uploadJournal
	readCacheJSON(p, &j)
	if !slices.Contains(j.UploadIDs, r.UploadID) {
		j.UploadIDs = append(j.UploadIDs, r.UploadID)
	}
	if r.Options != "" {
		if j.Options == nil {
			j.Options = map[string]string{}
		}
		j.Options[r.UploadID] = r.Options
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

// abortJournaled aborts the journaled uploads of bucket/key other than the
// one that has just completed it (done) and returns the warnings worth
// showing. Uploads that cannot be aborted stay in the journal for the next
// time. done is journaled as what completed the key.
func abortJournaled(ctx context.Context, c obs.Client, bucket, key string, done completion) []string {
	return abortJournaledOf(ctx, c, bucket, key, done, nil)
}

// abortJournaledOf is abortJournaled for the uploads in only (every one
// when only is nil): a copy journals its upload as it starts, so the
// uploads journaled since a run began may be in flight in another run, and
// that run aborts only those it found. The others stay in the journal.
func abortJournaledOf(ctx context.Context, c obs.Client, bucket, key string, done completion, only []string) []string {
	keep := done.UploadID
	p := journalPath(bucket, key)
	var j uploadJournal
	readCacheJSON(p, &j)
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
	if len(left) == 0 && keep == "" && done.PutSHA256 == "" {
		_ = os.Remove(p)
		return warnings
	}
	next := uploadJournal{UploadIDs: left, Records: kept, Completed: keep, Options: map[string]string{}}
	for _, id := range left {
		if o := j.Options[id]; o != "" {
			next.Options[id] = o
		}
	}
	if keep != "" && done.Options != "" {
		next.Options[keep] = done.Options
	}
	if done.PutSHA256 != "" {
		next.Puts = []string{done.PutSHA256}
	}
	writeCacheJSON(p, next)
	return warnings
}
