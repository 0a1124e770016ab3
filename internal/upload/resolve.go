package upload

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// A resolution is the multipart upload resolve chose.
type resolution struct {
	id   string
	kept map[int]CompletedPart // parts already on the server, by number
	// options is the digest of the object options the upload was
	// initiated with ("" when unknown).
	options string
	// completed: the upload had already completed into the object, so
	// there is nothing to send.
	completed bool
}

// resolve decides which multipart upload to use: the recorded one when the
// server still has it, else (with Discover) an open upload that is provably
// ours, else a new one.
func (u *uploader) resolve(ctx context.Context) (resolution, error) {
	var exclude string
	options := OptionsDigest(u.in.Options)
	if r := u.in.Record; r != nil && r.UploadID != "" {
		switch refused := u.src.refuses(r); {
		case r.PartSize != u.layout.PartSize || r.Size != u.layout.Size:
			u.out.Abandoned = r.UploadID
			exclude = r.UploadID
			u.notice("recorded upload %s was planned for %s in parts of %s but the file now needs %s in parts of %s; it was left for abort and another upload is used",
				r.UploadID, FormatBytes(r.Size), FormatBytes(r.PartSize), FormatBytes(u.layout.Size), FormatBytes(u.layout.PartSize))
		case refused != "":
			u.out.Abandoned = r.UploadID
			exclude = r.UploadID
			u.notice("recorded upload %s %s; it was left for abort and another upload is used", r.UploadID, refused)
		case r.Options != "" && r.Options != options:
			u.out.Abandoned = r.UploadID
			exclude = r.UploadID
			u.notice("recorded upload %s was started with other object settings (the content's checksum, metadata or options changed since), "+
				"which completing it would give the object; it was left for abort and another upload is used", r.UploadID)
		default:
			res, err := u.resume(ctx, r)
			if err != nil || res.id != "" {
				return res, err
			}
			exclude = r.UploadID
		}
	}
	if u.in.Discover {
		res, err := u.discover(ctx, exclude)
		if err != nil || res.id != "" {
			return res, err
		}
	}
	ictx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	id, err := u.c.InitiateMultipartUpload(ictx, obs.InitiateInput{Bucket: u.in.Bucket, Key: u.in.Key, Options: u.in.Options})
	if err != nil {
		return resolution{}, fmt.Errorf("initiating multipart upload of %s/%s: %w", u.in.Bucket, u.in.Key, err)
	}
	u.log.Info("initiated multipart upload", "bucket", u.in.Bucket, "key", u.in.Key, "upload_id", id,
		"parts", u.layout.Parts, "part_size", u.layout.PartSize)
	if u.in.Initiated != nil {
		r := Record{UploadID: id, PartSize: u.layout.PartSize, Size: u.layout.Size, Options: options}
		u.src.stamp(&r)
		u.in.Initiated(r)
	}
	return resolution{id: id, options: options}, nil
}

// adopt makes res the upload: multipart calls it once resolving is done,
// before any part is sent, so that u.uploadID never changes while parts
// are in flight.
func (u *uploader) adopt(res resolution) {
	var bytes int64
	for _, p := range res.kept {
		bytes += p.Size
	}
	u.uploadID, u.options = res.id, res.options
	u.mu.Lock()
	maps.Copy(u.done, res.kept)
	u.completed = res.completed
	u.mu.Unlock()
	u.progMu.Lock()
	u.prog.BytesDone += bytes
	u.prog.PartsDone += len(res.kept)
	u.progMu.Unlock()
}

// resume reconciles the recorded upload r with the server's ListParts.
// It returns no upload (and no error) when the recorded one no longer
// exists.
func (u *uploader) resume(ctx context.Context, r *Record) (resolution, error) {
	lctx, cancel := context.WithTimeout(ctx, listTimeout)
	server, err := u.c.ListParts(lctx, obs.ListPartsInput{Bucket: u.in.Bucket, Key: u.in.Key, UploadID: r.UploadID})
	cancel()
	if err != nil {
		if obs.IsNoSuchUpload(err) {
			if u.completedEarlier(ctx, r) {
				return resolution{id: r.UploadID, completed: true, options: r.Options}, nil
			}
			u.out.Restarted = true
			u.notice("upload %s no longer exists (aborted, or expired by a lifecycle rule); started a new upload", r.UploadID)
			return resolution{}, nil
		}
		// The upload may well exist: hand the caller's record back unchanged.
		u.mu.Lock()
		u.keepRecord = r
		u.mu.Unlock()
		return resolution{}, fmt.Errorf("listing parts of multipart upload %s: %w", r.UploadID, err)
	}
	trusted := u.src.sameSource(r)
	if !trusted {
		u.log.Info("source file changed since the upload was recorded; verifying its parts by MD5", "upload_id", r.UploadID)
	}
	recorded := make(map[int]CompletedPart, len(r.Parts))
	for _, p := range r.Parts {
		recorded[p.Number] = p
	}
	kept := map[int]CompletedPart{}
	var verify []obs.Part
	for _, p := range server {
		if p.Number < 1 || p.Number > u.layout.Parts {
			continue // not in the layout: discarded by Complete
		}
		if _, want := u.layout.Part(p.Number); p.Size != want {
			continue // re-sent
		}
		if rp, ok := recorded[p.Number]; ok && trusted {
			// Recorded: keep it when the server holds what was recorded,
			// re-send anything else.
			if rp.Size == p.Size && normETag(rp.ETag) == normETag(p.ETag) {
				kept[p.Number] = CompletedPart{Number: p.Number, Size: p.Size, ETag: normETag(p.ETag)}
			}
			continue
		}
		// Unrecorded (or recorded from other bytes): keep it only when the
		// source proves it holds our bytes.
		verify = append(verify, p)
	}
	proven, err := u.src.provenParts(ctx, verify)
	if err != nil {
		u.mu.Lock()
		u.keepRecord = r
		u.mu.Unlock()
		return resolution{}, fmt.Errorf("verifying parts of multipart upload %s: %w", r.UploadID, err)
	}
	for _, p := range proven {
		kept[p.Number] = CompletedPart{Number: p.Number, Size: p.Size, ETag: normETag(p.ETag)}
	}
	u.out.Resumed = true
	u.notice("resuming upload %s: %d of %d parts already on the server", r.UploadID, len(kept), u.layout.Parts)
	return resolution{id: r.UploadID, kept: kept, options: r.Options}, nil
}

// discover looks for an open upload of the key that is provably ours and
// returns the newest such one, or no upload (and no error). Uploads that
// are not provably ours are left untouched.
func (u *uploader) discover(ctx context.Context, exclude string) (resolution, error) {
	if u.sse {
		u.log.Info("not looking for open uploads: with server-side encryption part ETags are not MD5s, so no upload can be proven ours")
		return resolution{}, nil
	}
	lctx, cancel := context.WithTimeout(ctx, listTimeout)
	ups, err := u.c.ListUploads(lctx, u.in.Bucket, u.in.Key)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return resolution{}, fmt.Errorf("listing open uploads of %s/%s: %w", u.in.Bucket, u.in.Key, err)
		}
		u.log.Warn("listing open uploads failed; starting a new upload", "bucket", u.in.Bucket, "key", u.in.Key, "error", err.Error())
		return resolution{}, nil
	}
	slices.Reverse(ups) // newest first
	slices.SortStableFunc(ups, func(a, b obs.Upload) int { return b.Initiated.Compare(a.Initiated) })
	for _, up := range ups {
		if up.Key != u.in.Key || up.UploadID == exclude || up.UploadID == "" {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, listTimeout)
		parts, err := u.c.ListParts(lctx, obs.ListPartsInput{Bucket: u.in.Bucket, Key: u.in.Key, UploadID: up.UploadID})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return resolution{}, fmt.Errorf("listing parts of multipart upload %s: %w", up.UploadID, err)
			}
			u.log.Debug("skipping open upload", "upload_id", up.UploadID, "error", err.Error())
			continue
		}
		ok, why, err := u.provablyOurs(ctx, parts)
		if err != nil {
			return resolution{}, fmt.Errorf("verifying parts of multipart upload %s: %w", up.UploadID, err)
		}
		if !ok {
			u.log.Info("leaving open upload untouched: not provably ours", "upload_id", up.UploadID, "reason", why)
			continue
		}
		kept := make(map[int]CompletedPart, len(parts))
		for _, p := range parts {
			kept[p.Number] = CompletedPart{Number: p.Number, Size: p.Size, ETag: normETag(p.ETag)}
		}
		u.out.Resumed, u.out.Discovered = true, true
		u.notice("resuming upload %s found on the server: %d of %d parts already present", up.UploadID, len(kept), u.layout.Parts)
		return resolution{id: up.UploadID, kept: kept}, nil
	}
	return resolution{}, nil
}

// provablyOurs reports whether every part of an upload has the size of our
// layout and the source proves the upload ours (and there is ≥ 1 part).
func (u *uploader) provablyOurs(ctx context.Context, parts []obs.Part) (bool, string, error) {
	if len(parts) == 0 {
		return false, "it has no parts", nil
	}
	for _, p := range parts {
		if p.Number < 1 || p.Number > u.layout.Parts {
			return false, fmt.Sprintf("part %d is outside our %d parts", p.Number, u.layout.Parts), nil
		}
		if _, want := u.layout.Part(p.Number); p.Size != want {
			return false, fmt.Sprintf("part %d has %d bytes, ours %d", p.Number, p.Size, want), nil
		}
	}
	return u.src.provesUpload(ctx, parts)
}

// completedEarlier reports whether the recorded upload, gone from the server,
// was in fact completed into the current object from this same file (a run
// cancelled or killed while Complete's answer was on its way). It then
// fills the output.
func (u *uploader) completedEarlier(ctx context.Context, r *Record) bool {
	if !u.src.sameSource(r) {
		return false
	}
	hctx, cancel := context.WithTimeout(ctx, headTimeout)
	info, err := u.c.HeadObject(hctx, obs.HeadInput{Bucket: u.in.Bucket, Key: u.in.Key, SSEC: u.in.Options.SSEC})
	cancel()
	if err != nil || info.UploadID != r.UploadID || info.Size != u.layout.Size {
		return false
	}
	if !u.sse && info.SSE == "" && len(r.Parts) == u.layout.Parts {
		etags := make([]string, len(r.Parts))
		for i, p := range r.Parts {
			etags[i] = p.ETag
		}
		if want, ok := multipartETag(etags); !ok || normETag(info.ETag) != want {
			return false
		}
	}
	u.out.Resumed = true
	u.out.ETag, u.out.VersionID = normETag(info.ETag), info.VersionID
	u.notice("upload %s had already completed into the object; nothing to send", r.UploadID)
	return true
}
