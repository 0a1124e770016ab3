package upload

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// objectHoldsFile reports whether the object at the key already holds the
// file: assembled by a multipart upload in our layout from parts with the
// MD5s of our byte ranges (its ETag is their MD5-of-MD5s), the proof
// discovery asks of an open upload. A run stopped while its Complete took
// effect leaves just that: no record and no open upload. It then fills the
// output and marks the upload done.
//
// An object last modified before the file (with a second of slack for
// HEAD's resolution) cannot hold it and is not hashed for the comparison.
func (u *uploader) objectHoldsFile(ctx context.Context) (bool, error) {
	if u.sse {
		return false, nil
	}
	hctx, cancel := context.WithTimeout(ctx, headTimeout)
	info, err := u.c.HeadObject(hctx, obs.HeadInput{Bucket: u.in.Bucket, Key: u.in.Key})
	cancel()
	if err != nil || info.UploadID == "" || info.SSE != "" || info.Size != u.layout.Size ||
		!strings.HasSuffix(normETag(info.ETag), "-"+strconv.Itoa(u.layout.Parts)) ||
		info.LastModified.Add(time.Second).UnixNano() < u.baseline.ModTimeNs {
		return false, nil
	}
	parts := make([]obs.Part, u.layout.Parts)
	for i := range parts {
		parts[i].Number = i + 1
	}
	sums, err := u.hashParts(ctx, parts)
	if err != nil {
		return false, fmt.Errorf("comparing %s with object %s/%s: %w", u.in.Path, u.in.Bucket, u.in.Key, err)
	}
	etags := make([]string, len(parts))
	for i := range parts {
		sum := sums[i+1]
		etags[i] = hex.EncodeToString(sum[:])
	}
	if want, _ := multipartETag(etags); normETag(info.ETag) != want {
		return false, nil
	}
	u.mu.Lock()
	u.uploadID, u.completed = info.UploadID, true
	u.mu.Unlock()
	u.alreadyDone = true
	u.out.Resumed, u.out.Discovered = true, true
	u.out.ETag, u.out.VersionID = normETag(info.ETag), info.VersionID
	u.notice("the object already holds this file, assembled by upload %s (a run stopped while completing it); nothing to send", info.UploadID)
	return true, nil
}
