package upload

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// A fileSource is the source of an upload: a file whose parts are read,
// hashed and sent with their Content-MD5, so that the server proves every
// part's bytes and the engine can prove a part already on the server ours.
type fileSource struct {
	u *uploader

	// Set by upload before any part is hashed or sent and never changed
	// after, so read without mu.
	f        *os.File
	baseline Fingerprint // the file when it was opened

	mu       sync.Mutex
	localMD5 map[int]md5Sum // part hashes computed while reconciling
}

// upload opens the file, checks it against Input.Expected and uploads it:
// in a single PUT when it is smaller than one part, else as a multipart
// upload.
func (s *fileSource) upload(ctx context.Context) error {
	u := s.u
	f, err := os.Open(u.in.Path)
	if err != nil {
		return fmt.Errorf("opening source: %w", err)
	}
	defer f.Close()
	s.f = f
	fp, err := StatFingerprint(u.in.Path)
	if err != nil {
		return fmt.Errorf("reading source: %w", err)
	}
	if u.in.Expected != nil {
		if d := u.in.Expected.diff(fp); d != "" {
			return fmt.Errorf("%w: %s: %s since it was planned", ErrSourceChanged, u.in.Path, d)
		}
	}
	s.baseline = fp
	if fi, err := f.Stat(); err != nil || fingerprintOf(fi) != fp {
		return fmt.Errorf("%w: %s was replaced while being opened", ErrSourceChanged, u.in.Path)
	}
	if err := u.planLayout(fp.Size, PlanParts); err != nil {
		return fmt.Errorf("planning %s: %w", u.in.Path, err)
	}
	defer u.reportTicks()()
	return u.send(ctx)
}

// putSingle uploads the whole file in one PUT with its Content-MD5, with
// retries, and verifies the object's ETag.
func (s *fileSource) putSingle(ctx context.Context) error {
	u := s.u
	size := u.layout.Size
	sum, err := s.singleSum()
	if err != nil {
		return fmt.Errorf("reading %s: %w", u.in.Path, err)
	}
	if u.in.Putting != nil {
		u.in.Putting()
	}
	var res obs.PutObjectOutput
	err = u.retry(ctx, retried{
		what: "single PUT", fields: []any{"bucket", u.in.Bucket, "key", u.in.Key},
		attempts: partAttempts, timeout: u.in.PartTimeout(size),
	}, func(pctx context.Context) (bool, error) {
		if err := s.check(); err != nil {
			return false, err
		}
		r, err := u.c.PutObject(pctx, obs.PutObjectInput{
			Bucket: u.in.Bucket, Key: u.in.Key,
			Body: u.body(pctx, s.f, 0, 0, size), Size: size,
			ContentMD5: sum[:], Options: u.in.Options,
		})
		switch {
		case err == nil:
			res = r
			return false, nil
		case obs.IsCode(err, "BadDigest"):
			return s.badDigest(ctx, 0, size, sum, err)
		case errors.Is(err, obs.ErrShortBody):
			return false, fmt.Errorf("%w: %s shrank while uploading: %w", ErrSourceChanged, u.in.Path, err)
		}
		return transient(ctx, pctx, err), err
	})
	if err != nil {
		return fmt.Errorf("uploading %s/%s: %w", u.in.Bucket, u.in.Key, err)
	}
	u.out.ETag, u.out.VersionID = normETag(res.ETag), res.VersionID
	u.out.PartsSent, u.out.BytesSent = 1, size
	u.partDone(0, size)
	if !u.sse && !etagIsMD5(res.ETag, sum) {
		return u.verifyEncrypted(ctx, res.ETag, hex.EncodeToString(sum[:]))
	}
	return nil
}

// putPart uploads part n, whose bytes hash to sum, with Content-MD5 and
// retries, then checks the file.
func (s *fileSource) putPart(ctx context.Context, n int, sum md5Sum) error {
	u := s.u
	off, size := u.layout.Part(n)
	timeout := u.in.PartTimeout(size)
	var etag string
	err := u.retry(ctx, retried{
		what: "part", fields: []any{"upload_id", u.uploadID, "part", n},
		attempts: partAttempts, timeout: timeout,
	}, func(pctx context.Context) (bool, error) {
		var err error
		etag, err = u.c.UploadPart(pctx, obs.UploadPartInput{
			Bucket: u.in.Bucket, Key: u.in.Key, UploadID: u.uploadID, PartNumber: n,
			Body: u.body(pctx, s.f, n, off, size), Offset: 0, Size: size,
			ContentMD5: sum[:], SSEC: u.in.Options.SSEC,
		})
		switch {
		case err == nil:
			return false, nil
		case obs.IsCode(err, "BadDigest"):
			return s.badDigest(ctx, off, size, sum, err)
		case errors.Is(err, obs.ErrShortBody):
			return false, fmt.Errorf("%w: %s shrank while uploading: %w", ErrSourceChanged, u.in.Path, err)
		case timedOut(ctx, pctx, err):
			return true, fmt.Errorf("part deadline of %s expired: %w", timeout, err)
		}
		return obs.IsRetryable(err), err
	})
	if err != nil {
		return err
	}
	u.stored(n, size, etag, !etagIsMD5(etag, sum))
	return s.check()
}

// badDigest decides on a request for size bytes at off, sent with
// Content-MD5 sum, that the server rejected with BadDigest (err): it is
// worth retrying when the bytes still hash to sum (they were corrupted on
// the way); when they do not, the file changed under the upload. Nothing
// is re-read once ctx is done.
func (s *fileSource) badDigest(ctx context.Context, off, size int64, sum md5Sum, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, err
	}
	again, herr := hashRange(s.f, off, size)
	if herr != nil {
		return false, fmt.Errorf("re-reading %s: %w", s.u.in.Path, herr)
	}
	if again != sum {
		return false, fmt.Errorf("%w: %s: bytes changed while uploading: %w", ErrSourceChanged, s.u.in.Path, err)
	}
	return true, err
}

// check compares the file with the baseline fingerprint.
func (s *fileSource) check() error {
	fp, err := StatFingerprint(s.u.in.Path)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrSourceChanged, s.u.in.Path, err)
	}
	if d := s.baseline.diff(fp); d != "" {
		return fmt.Errorf("%w: %s: %s", ErrSourceChanged, s.u.in.Path, d)
	}
	return nil
}

// planned returns Input.PartMD5s when they fit the file and the layout,
// else nil.
func (s *fileSource) planned() *PartSums {
	if sums := s.u.in.PartMD5s; sums.fits(s.baseline, s.u.layout) {
		return sums
	}
	return nil
}

// partMD5 returns the MD5 of part n's bytes: from Input.PartMD5s when they
// fit the file, else read and hashed once (reconciliation may have hashed
// them already).
func (s *fileSource) partMD5(n int) (md5Sum, error) {
	if sums := s.planned(); sums != nil {
		return sums.sum(n), nil
	}
	s.mu.Lock()
	sum, ok := s.localMD5[n]
	s.mu.Unlock()
	if ok {
		return sum, nil
	}
	off, size := s.u.layout.Part(n)
	sum, err := hashPart(s.f, off, size)
	if err != nil {
		return sum, fmt.Errorf("reading %s: %w", s.u.in.Path, err)
	}
	return sum, nil
}

// singleSum is the MD5 of the file of a single PUT: from Input.PartMD5s
// when they fit, else read and hashed.
func (s *fileSource) singleSum() (md5Sum, error) {
	if sums := s.planned(); sums != nil {
		return sums.sum(1), nil
	}
	return hashRange(s.f, 0, s.u.layout.Size)
}

// hashParts computes (and caches) the local MD5 of each part's byte range,
// with the upload's concurrency.
func (s *fileSource) hashParts(ctx context.Context, parts []obs.Part) (map[int]md5Sum, error) {
	out := make(map[int]md5Sum, len(parts))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.u.in.Concurrency)
	for _, p := range parts {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			sum, err := s.partMD5(p.Number)
			if err != nil {
				return fmt.Errorf("part %d: %w", p.Number, err)
			}
			mu.Lock()
			out[p.Number] = sum
			mu.Unlock()
			s.mu.Lock()
			if s.localMD5 == nil {
				s.localMD5 = map[int]md5Sum{}
			}
			s.localMD5[p.Number] = sum
			s.mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// provenParts returns the parts whose ETag is the MD5 of our byte range.
// With SSE the ETag is not an MD5: no part can be proven, and all are
// re-sent.
func (s *fileSource) provenParts(ctx context.Context, parts []obs.Part) ([]obs.Part, error) {
	if s.u.sse {
		return nil, nil
	}
	sums, err := s.hashParts(ctx, parts)
	if err != nil {
		return nil, err
	}
	var proven []obs.Part
	for _, p := range parts {
		if etagIsMD5(p.ETag, sums[p.Number]) {
			proven = append(proven, p)
		}
	}
	return proven, nil
}

// provesUpload reports whether every part's ETag is the MD5 of the same
// local byte range.
func (s *fileSource) provesUpload(ctx context.Context, parts []obs.Part) (bool, string, error) {
	// One part first: a foreign upload is usually rejected after one hash.
	for _, batch := range [][]obs.Part{parts[:1], parts[1:]} {
		sums, err := s.hashParts(ctx, batch)
		if err != nil {
			return false, "", err
		}
		for _, p := range batch {
			if !etagIsMD5(p.ETag, sums[p.Number]) {
				return false, fmt.Sprintf("part %d has ETag %s, not the MD5 of our bytes", p.Number, p.ETag), nil
			}
		}
	}
	return true, "", nil
}

// stamp records the file's fingerprint as the record's source.
func (s *fileSource) stamp(r *Record) { r.Source = s.baseline }

// sameSource reports whether the parts of r were read from this file: a
// record of an upload (not a copy) with the same fingerprint.
func (s *fileSource) sameSource(r *Record) bool {
	return r.Copy == nil && r.Source == s.baseline
}

// refuses no record: parts read from other bytes are proven by their MD5
// when the upload is resumed (provenParts).
func (s *fileSource) refuses(*Record) string { return "" }
