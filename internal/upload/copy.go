package upload

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// A copy is an upload whose parts are byte ranges of an existing object,
// copied server-side (Upload Part - Copy) instead of read from a file: it is
// planned, resumed, budgeted, retried, completed and verified by the same
// code as an upload, and no object data pass through the client. A source
// that fits one part is copied in a single CopyObject.

// ErrSourceObjectChanged reports that the source object of a copy no longer
// has the ETag (or version) the copy started from: a part copy failed its
// if-match precondition. The engine never completes a copy once it has seen
// this, so the object never mixes two versions of the source.
var ErrSourceObjectChanged = errors.New("source object changed during copy")

// ObjectVersion identifies the version of an object a copy reads.
type ObjectVersion struct {
	Bucket, Key string
	// VersionID is the version copied; "" is the current one (a bucket
	// without versioning).
	VersionID string
	// ETag is the ETag the source must have: every request of the copy
	// carries it as copy-source-if-match.
	ETag string
}

// CopySource is the source object of a copy.
type CopySource struct {
	ObjectVersion
	// Size is the source's size in bytes.
	Size int64
	// Encrypted reports that the source is encrypted server-side, so that
	// its ETag is not the MD5 of its bytes.
	Encrypted bool
	// SSEC is the source's key when it is encrypted with SSE-C.
	SSEC *obs.SSECustomerKey
}

// Copy copies in.Copy to in.Bucket/in.Key server-side: a single CopyObject
// when the source fits one part (at most in.PartSize and 5 GiB), else a
// multipart upload whose parts are copied with UploadPartCopy, resumed
// from in.Record or discovered on the server when possible. The result is
// verified: the object's size, and its ETag against the part ETags (or, for
// a single copy, against the source's ETag) when nothing is encrypted.
//
// Errors, records and cancellation behave as in Upload. A source that
// changes during the copy fails it with ErrSourceObjectChanged.
func Copy(ctx context.Context, c obs.Client, in Input) (Output, *Record, error) {
	if c == nil {
		return Output{}, nil, errors.New("copy: nil OBS client")
	}
	if in.Bucket == "" || in.Key == "" || in.Copy == nil || in.Copy.Bucket == "" || in.Copy.Key == "" || in.Copy.ETag == "" {
		return Output{}, nil, errors.New("copy: bucket, key, and the source's bucket, key and ETag are required")
	}
	if in.Path != "" {
		return Output{}, nil, errors.New("copy: a copy has a source object, not a path")
	}
	u := newUploader(c, in)
	return u.finish(u.runCopy(ctx))
}

// PlanCopyParts is PlanParts for a copy: a source of exactly one part is
// copied in a single request too (SinglePut), as every source smaller than
// one part is. PlanCopyParts is pure.
func PlanCopyParts(size, requestedPartSize int64) (Layout, error) {
	l, err := PlanParts(size, requestedPartSize)
	if err == nil && l.Parts == 1 {
		l.SinglePut = true
	}
	return l, err
}

func (u *uploader) runCopy(ctx context.Context) error {
	src := u.in.Copy
	if err := u.planLayout(src.Size, PlanCopyParts); err != nil {
		return fmt.Errorf("planning the copy of %s/%s: %w", src.Bucket, src.Key, err)
	}
	defer u.reportTicks()()
	var err error
	if u.layout.SinglePut {
		err = u.singleCopy(ctx)
	} else {
		err = u.multipart(ctx)
	}
	if err != nil {
		return err
	}
	return u.verifySize(ctx)
}

// copyOrigin is the source version of a copy for its record (nil for an
// upload).
func (u *uploader) copyOrigin() *ObjectVersion {
	if u.in.Copy == nil {
		return nil
	}
	v := u.in.Copy.ObjectVersion
	return &v
}

// sameSource reports whether the parts of r were taken from this run's
// source: the same file (fingerprint), or the same object version.
func (u *uploader) sameSource(r *Record) bool {
	if u.in.Copy != nil {
		return r.Copy != nil && sameVersion(*r.Copy, u.in.Copy.ObjectVersion)
	}
	return r.Copy == nil && r.Source == u.baseline
}

func sameVersion(a, b ObjectVersion) bool {
	return a.Bucket == b.Bucket && a.Key == b.Key && a.VersionID == b.VersionID && normETag(a.ETag) == normETag(b.ETag)
}

// copySource is the source as the obs layer takes it: the version, the
// if-match condition on its ETag and its SSE-C key.
func (u *uploader) copySource() obs.CopySource {
	s := u.in.Copy
	return obs.CopySource{Bucket: s.Bucket, Key: s.Key, VersionID: s.VersionID, IfMatch: s.ETag, SSEC: s.SSEC}
}

// copyFailure is the error of a copy request that failed with err: a failed
// precondition means the source changed.
func (u *uploader) copyFailure(err error) error {
	if obs.IsPreconditionFailed(err) {
		s := u.in.Copy
		return fmt.Errorf("%w: %s/%s no longer has ETag %s: %w", ErrSourceObjectChanged, s.Bucket, s.Key, s.ETag, err)
	}
	return err
}

// singleCopy copies the whole source in one CopyObject. The copy's
// metadata and tags are the input's options (directives REPLACE), so that
// a single copy and a multipart copy of the same source give the same
// object.
func (u *uploader) singleCopy(ctx context.Context) error {
	if err := u.in.Budget.acquire(ctx); err != nil {
		return err
	}
	defer u.in.Budget.release()
	size := u.layout.Size
	var res obs.CopyObjectOutput
	err := u.retry(ctx, retried{
		what: "copy", fields: []any{"bucket", u.in.Bucket, "key", u.in.Key},
		attempts: partAttempts, timeout: u.in.PartTimeout(size),
	}, func(cctx context.Context) (bool, error) {
		r, err := u.c.CopyObject(cctx, obs.CopyObjectInput{
			Bucket: u.in.Bucket, Key: u.in.Key, Source: u.copySource(),
			ReplaceMetadata: true, ReplaceTags: true, Options: u.in.Options,
		})
		if err == nil {
			res = r
			return false, nil
		}
		return transient(ctx, cctx, err), u.copyFailure(err)
	})
	if err != nil {
		return fmt.Errorf("copying %s/%s to %s/%s: %w", u.in.Copy.Bucket, u.in.Copy.Key, u.in.Bucket, u.in.Key, err)
	}
	u.out.ETag, u.out.VersionID = normETag(res.ETag), res.VersionID
	u.out.PartsSent, u.out.BytesSent = 1, size
	u.copied(size)
	u.partDone(0, size)
	want := normETag(u.in.Copy.ETag)
	if u.sse || u.in.Copy.Encrypted || strings.Contains(want, "-") || u.out.ETag == want {
		// Only a plain source ETag (the MD5 of its bytes) predicts the
		// copy's; a multipart source's ETag is built from its parts.
		return nil
	}
	return u.verifyEncrypted(ctx, res.ETag, want)
}

// copyPart copies part n's byte range of the source into the upload, under
// if-match on the source's ETag, with retries. The caller holds a budget
// slot.
func (u *uploader) copyPart(ctx context.Context, n int) error {
	off, size := u.layout.Part(n)
	var etag string
	err := u.retry(ctx, retried{
		what: "part copy", fields: []any{"upload_id", u.uploadID, "part", n},
		attempts: partAttempts, timeout: u.in.PartTimeout(size),
	}, func(pctx context.Context) (bool, error) {
		var err error
		etag, err = u.c.UploadPartCopy(pctx, obs.UploadPartCopyInput{
			Bucket: u.in.Bucket, Key: u.in.Key, UploadID: u.uploadID, PartNumber: n,
			Source: u.copySource(), Offset: off, Size: size, SSEC: u.in.Options.SSEC,
		})
		if err == nil {
			return false, nil
		}
		return transient(ctx, pctx, err), u.copyFailure(err)
	})
	if err != nil {
		return &PartError{UploadID: u.uploadID, PartNumber: n, Err: err}
	}
	// The ETag of a copied part is the MD5 of bytes never seen here, so it
	// is not judged; complete checks the object's ETag against the parts'.
	u.copied(size)
	u.stored(n, size, etag, false)
	return nil
}

// copied counts the size bytes of a part (or a single copy) as written
// once the server has copied them, so that progress reports the copy's
// rate: a copy writes nothing to the connection.
func (u *uploader) copied(size int64) {
	u.progMu.Lock()
	defer u.progMu.Unlock()
	u.written += size
}

// copiedFromSource reports whether an open upload found on the server,
// whose parts have the sizes of our layout, provably holds a copy of our
// source: it has every part, and the multipart ETag of its parts is the
// source's own ETag, so that the source was assembled from parts of the
// same layout and these parts have their MD5s. A copied part's ETag is the
// MD5 of bytes that are not here to hash, so nothing less is proof.
func (u *uploader) copiedFromSource(parts []obs.Part) (bool, string) {
	if len(parts) != u.layout.Parts {
		return false, fmt.Sprintf("it holds %d of our %d parts, and copied parts cannot be checked one by one", len(parts), u.layout.Parts)
	}
	etags := make([]string, len(parts))
	for i, p := range parts {
		etags[i] = p.ETag
	}
	got, ok := multipartETag(etags)
	if want := normETag(u.in.Copy.ETag); !ok || got != want {
		return false, fmt.Sprintf("its parts assemble to ETag %s, not the source's %s", got, want)
	}
	return true, ""
}

// verifySize checks that the object the copy wrote has the source's size.
func (u *uploader) verifySize(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	info, err := u.c.HeadObject(hctx, obs.HeadInput{Bucket: u.in.Bucket, Key: u.in.Key, VersionID: u.out.VersionID, SSEC: u.in.Options.SSEC})
	if err != nil {
		return fmt.Errorf("checking the copy %s/%s: %w", u.in.Bucket, u.in.Key, err)
	}
	if info.Size != u.layout.Size {
		return fmt.Errorf("the copy %s/%s has %d bytes, the source %d", u.in.Bucket, u.in.Key, info.Size, u.layout.Size)
	}
	return nil
}
