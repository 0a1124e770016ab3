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
	s := &objectSource{u: u, obj: in.Copy}
	u.src = s
	return u.finish(s.copy(ctx))
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

// An objectSource is the source of a copy: an object whose byte ranges the
// server copies into the parts, every request under if-match on the
// source's ETag. Its bytes never pass through the client, so a part is
// never hashed here.
type objectSource struct {
	u   *uploader
	obj *CopySource
}

// copy copies the source: in a single CopyObject when it fits one part,
// else as a multipart upload; then it checks the object's size.
func (s *objectSource) copy(ctx context.Context) error {
	u := s.u
	if err := u.planLayout(s.obj.Size, PlanCopyParts); err != nil {
		return fmt.Errorf("planning the copy of %s/%s: %w", s.obj.Bucket, s.obj.Key, err)
	}
	defer u.reportTicks()()
	if err := u.send(ctx); err != nil {
		return err
	}
	return u.verifySize(ctx)
}

// stamp records the source version as the record's Copy.
func (s *objectSource) stamp(r *Record) {
	v := s.obj.ObjectVersion
	r.Copy = &v
}

// sameSource reports whether the parts of r were copied from this source
// version.
func (s *objectSource) sameSource(r *Record) bool {
	return r.Copy != nil && sameVersion(*r.Copy, s.obj.ObjectVersion)
}

// refuses a record copied from another version of the source: a copy's
// parts cannot be checked against the source, so an upload copied from
// another version is never mixed with this one.
func (s *objectSource) refuses(r *Record) string {
	if s.sameSource(r) {
		return ""
	}
	return "was copied from another version of the source"
}

// check finds nothing: every part is copied under if-match on the
// source's ETag, so a changed source fails the request instead.
func (s *objectSource) check() error { return nil }

// planned is nil: a copy has no part MD5s.
func (s *objectSource) planned() *PartSums { return nil }

// partMD5 is zero: a part is copied server-side, never read here.
func (s *objectSource) partMD5(int) (md5Sum, error) { return md5Sum{}, nil }

// provenParts returns every part: the upload was copied from this source
// version (other versions are refused), so its parts were copied from our
// ranges.
func (s *objectSource) provenParts(_ context.Context, parts []obs.Part) ([]obs.Part, error) {
	return parts, nil
}

func sameVersion(a, b ObjectVersion) bool {
	return a.Bucket == b.Bucket && a.Key == b.Key && a.VersionID == b.VersionID && normETag(a.ETag) == normETag(b.ETag)
}

// copySource is the source as the obs layer takes it: the version, the
// if-match condition on its ETag and its SSE-C key.
func (s *objectSource) copySource() obs.CopySource {
	o := s.obj
	return obs.CopySource{Bucket: o.Bucket, Key: o.Key, VersionID: o.VersionID, IfMatch: o.ETag, SSEC: o.SSEC}
}

// copyFailure is the error of a copy request that failed with err: a failed
// precondition means the source changed.
func (s *objectSource) copyFailure(err error) error {
	if obs.IsPreconditionFailed(err) {
		o := s.obj
		return fmt.Errorf("%w: %s/%s no longer has ETag %s: %w", ErrSourceObjectChanged, o.Bucket, o.Key, o.ETag, err)
	}
	return err
}

// putSingle copies the whole source in one CopyObject. The copy's
// metadata and tags are the input's options (directives REPLACE), so that
// a single copy and a multipart copy of the same source give the same
// object.
func (s *objectSource) putSingle(ctx context.Context) error {
	u := s.u
	size := u.layout.Size
	var res obs.CopyObjectOutput
	err := u.retry(ctx, retried{
		what: "copy", fields: []any{"bucket", u.in.Bucket, "key", u.in.Key},
		attempts: partAttempts, timeout: u.in.PartTimeout(size),
	}, func(cctx context.Context) (bool, error) {
		r, err := u.c.CopyObject(cctx, obs.CopyObjectInput{
			Bucket: u.in.Bucket, Key: u.in.Key, Source: s.copySource(),
			ReplaceMetadata: true, ReplaceTags: true, Options: u.in.Options,
		})
		if err == nil {
			res = r
			return false, nil
		}
		return transient(ctx, cctx, err), s.copyFailure(err)
	})
	if err != nil {
		return fmt.Errorf("copying %s/%s to %s/%s: %w", s.obj.Bucket, s.obj.Key, u.in.Bucket, u.in.Key, err)
	}
	u.out.ETag, u.out.VersionID = normETag(res.ETag), res.VersionID
	u.out.PartsSent, u.out.BytesSent = 1, size
	u.copied(size)
	u.partDone(0, size)
	want := normETag(s.obj.ETag)
	if u.sse || s.obj.Encrypted || strings.Contains(want, "-") || u.out.ETag == want {
		// Only a plain source ETag (the MD5 of its bytes) predicts the
		// copy's; a multipart source's ETag is built from its parts.
		return nil
	}
	return u.verifyEncrypted(ctx, res.ETag, want)
}

// putPart copies part n's byte range of the source into the upload, under
// if-match on the source's ETag, with retries.
func (s *objectSource) putPart(ctx context.Context, n int, _ md5Sum) error {
	u := s.u
	off, size := u.layout.Part(n)
	var etag string
	err := u.retry(ctx, retried{
		what: "part copy", fields: []any{"upload_id", u.uploadID, "part", n},
		attempts: partAttempts, timeout: u.in.PartTimeout(size),
	}, func(pctx context.Context) (bool, error) {
		var err error
		etag, err = u.c.UploadPartCopy(pctx, obs.UploadPartCopyInput{
			Bucket: u.in.Bucket, Key: u.in.Key, UploadID: u.uploadID, PartNumber: n,
			Source: s.copySource(), Offset: off, Size: size, SSEC: u.in.Options.SSEC,
		})
		if err == nil {
			return false, nil
		}
		return transient(ctx, pctx, err), s.copyFailure(err)
	})
	if err != nil {
		return err
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

// provesUpload reports whether an open upload found on the server, whose
// parts have the sizes of our layout, provably holds a copy of our source:
// it has every part, and the multipart ETag of its parts is the source's
// own ETag, so that the source was assembled from parts of the same layout
// and these parts have their MD5s. A copied part's ETag is the MD5 of bytes
// that are not here to hash, so nothing less is proof.
func (s *objectSource) provesUpload(_ context.Context, parts []obs.Part) (bool, string, error) {
	u := s.u
	if len(parts) != u.layout.Parts {
		return false, fmt.Sprintf("it holds %d of our %d parts, and copied parts cannot be checked one by one", len(parts), u.layout.Parts), nil
	}
	etags := make([]string, len(parts))
	for i, p := range parts {
		etags[i] = p.ETag
	}
	got, ok := multipartETag(etags)
	if want := normETag(s.obj.ETag); !ok || got != want {
		return false, fmt.Sprintf("its parts assemble to ETag %s, not the source's %s", got, want), nil
	}
	return true, "", nil
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
