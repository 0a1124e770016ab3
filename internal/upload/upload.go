package upload

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

const (
	defaultConcurrency = 4
	// partAttempts bounds the engine's own attempts at one part, on top of
	// the obs layer's retries: it covers an expired per-part deadline, a
	// retryable error that outlived the obs layer's retries, and a BadDigest
	// whose bytes re-hash to the same MD5.
	partAttempts     = 3
	completeAttempts = 3
	// cancelGrace is how long Upload waits for parts in flight once its
	// context is cancelled before returning without them (the issue's
	// bound is 2 s).
	cancelGrace   = 1500 * time.Millisecond
	abortTimeout  = 2 * time.Minute
	headTimeout   = 1 * time.Minute
	listTimeout   = 2 * time.Minute
	retryBaseWait = 100 * time.Millisecond
)

func defaultPartTimeout(size int64) time.Duration {
	return 2*time.Minute + time.Duration(size>>20)*time.Second
}

func completeTimeout(parts int) time.Duration {
	return 5*time.Minute + time.Duration(parts)*10*time.Millisecond
}

// Upload uploads in.Path to in.Bucket/in.Key: a single PUT when the file is
// smaller than one part, else a multipart upload (resumed from in.Record or
// discovered on the server when possible).
//
// On error it returns a non-nil *Record when a multipart upload exists,
// listing exactly the parts completed so far, and it does not abort that
// upload. When ctx is cancelled it returns within 2 seconds. The Output is
// filled as far as the upload got (Notices, Abandoned, UploadID).
func Upload(ctx context.Context, c obs.Client, in Input) (Output, *Record, error) {
	if c == nil {
		return Output{}, nil, errors.New("upload: nil OBS client")
	}
	if in.Bucket == "" || in.Key == "" || in.Path == "" {
		return Output{}, nil, errors.New("upload: bucket, key and path are required")
	}
	u := &uploader{c: c, in: in, log: in.Logger, done: map[int]CompletedPart{}}
	if u.log == nil {
		u.log = nopLogger{}
	}
	if u.in.Concurrency <= 0 {
		u.in.Concurrency = defaultConcurrency
	}
	if u.in.PartTimeout == nil {
		u.in.PartTimeout = defaultPartTimeout
	}
	u.sse = in.Options.SSEKMS || in.Options.SSEC != nil
	err := u.run(ctx)
	rec := u.record()
	if err == nil {
		rec = nil
	}
	u.mu.Lock()
	if !u.layout.SinglePut {
		u.out.UploadID = u.uploadID
		u.out.PartsSent, u.out.BytesSent = u.partsSent, u.bytesSent
		u.out.PartsReused = len(u.done) - u.partsSent
	}
	u.mu.Unlock()
	u.progMu.Lock()
	u.returned = true
	u.progMu.Unlock()
	return u.out, rec, err
}

type uploader struct {
	c   obs.Client
	in  Input
	log Logger
	f   *os.File

	layout   Layout
	baseline Fingerprint
	sse      bool // the caller asked for server-side encryption
	out      Output

	mu        sync.Mutex
	uploadID  string
	completed bool                  // the upload no longer exists: completed (or gone)
	done      map[int]CompletedPart // parts the server holds (kept or sent)
	opaque    bool                  // a part ETag was not its MD5 (bucket default encryption)
	localMD5  map[int]md5Sum        // part hashes computed while reconciling
	partsSent int
	bytesSent int64
	// keepRecord, when set, is returned as the record: the caller's record
	// of an upload that could not be checked.
	keepRecord *Record
	// alreadyDone: the recorded upload had completed into the object.
	alreadyDone bool

	progMu    sync.Mutex // guards prog, runSent, returned; held while calling OnProgress
	prog      Progress
	runSent   int64
	returned  bool // Upload has returned: late parts report no progress
	startTime time.Time
}

func (u *uploader) run(ctx context.Context) error {
	f, err := os.Open(u.in.Path)
	if err != nil {
		return fmt.Errorf("opening source: %w", err)
	}
	defer f.Close()
	u.f = f
	fp, err := StatFingerprint(u.in.Path)
	if err != nil {
		return fmt.Errorf("reading source: %w", err)
	}
	if u.in.Expected != nil {
		if d := u.in.Expected.diff(fp); d != "" {
			return fmt.Errorf("%w: %s: %s since it was planned", ErrSourceChanged, u.in.Path, d)
		}
	}
	u.baseline = fp
	if fi, err := f.Stat(); err != nil || fingerprintOf(fi) != fp {
		return fmt.Errorf("%w: %s was replaced while being opened", ErrSourceChanged, u.in.Path)
	}
	l, err := PlanParts(fp.Size, u.in.PartSize)
	if err != nil {
		return fmt.Errorf("planning %s: %w", u.in.Path, err)
	}
	u.layout = l
	u.out.Layout = l
	if l.Grown {
		req := u.in.PartSize
		if req == 0 {
			req = DefaultPartSize
		}
		u.notice("part size grown from %s to %s to stay within %d parts", FormatBytes(req), FormatBytes(l.PartSize), MaxParts)
	}
	u.prog = Progress{BytesTotal: l.Size, PartsTotal: l.Parts}
	u.startTime = time.Now()

	if l.SinglePut {
		if r := u.in.Record; r != nil && r.UploadID != "" {
			u.out.Abandoned = r.UploadID
			u.notice("recorded upload %s does not fit the file any more (now %s, a single PUT); it was left for abort", r.UploadID, FormatBytes(l.Size))
		}
		return u.singlePut(ctx)
	}
	if err := u.resolve(ctx); err != nil {
		return err
	}
	if u.alreadyDone {
		return nil
	}
	if err := u.transfer(ctx); err != nil {
		return err
	}
	return u.complete(ctx)
}

func (u *uploader) notice(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	u.out.Notices = append(u.out.Notices, msg)
	u.log.Info(msg, "bucket", u.in.Bucket, "key", u.in.Key)
}

// record returns the exact state of the multipart upload, or nil when there
// is none (single PUT, not yet initiated, completed or gone).
func (u *uploader) record() *Record {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.keepRecord != nil {
		return u.keepRecord
	}
	if u.uploadID == "" || u.completed {
		return nil
	}
	r := &Record{UploadID: u.uploadID, PartSize: u.layout.PartSize, Size: u.layout.Size, Source: u.baseline}
	r.Parts = make([]CompletedPart, 0, len(u.done))
	for _, p := range u.done {
		r.Parts = append(r.Parts, p)
	}
	slices.SortFunc(r.Parts, func(a, b CompletedPart) int { return a.Number - b.Number })
	return r
}

// checkSource compares the file with the baseline fingerprint.
func (u *uploader) checkSource() error {
	fp, err := StatFingerprint(u.in.Path)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrSourceChanged, u.in.Path, err)
	}
	if d := u.baseline.diff(fp); d != "" {
		return fmt.Errorf("%w: %s: %s", ErrSourceChanged, u.in.Path, d)
	}
	return nil
}

// timedOut reports whether a call made with child (derived from parent)
// failed because of a deadline — the child's own or a transport timeout —
// while parent is still alive, so that the call may be retried.
func timedOut(parent, child context.Context, err error) bool {
	if parent.Err() != nil {
		return false
	}
	return child.Err() == context.DeadlineExceeded || (err != nil && errors.Is(err, context.DeadlineExceeded))
}

// wait sleeps for the backoff of attempt, or until ctx is done.
func wait(ctx context.Context, attempt int) error {
	d := retryBaseWait << (attempt - 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (u *uploader) singlePut(ctx context.Context) error {
	if err := u.in.Budget.acquire(ctx); err != nil {
		return err
	}
	defer u.in.Budget.release()
	size := u.layout.Size
	sum, err := hashRange(u.f, 0, size)
	if err != nil {
		return fmt.Errorf("reading %s: %w", u.in.Path, err)
	}
	for attempt := 1; ; attempt++ {
		if err := u.checkSource(); err != nil {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, u.in.PartTimeout(size))
		res, err := u.c.PutObject(pctx, obs.PutObjectInput{
			Bucket: u.in.Bucket, Key: u.in.Key,
			Body: io.NewSectionReader(u.f, 0, size), Size: size,
			ContentMD5: sum[:], Options: u.in.Options,
		})
		expired := timedOut(ctx, pctx, err)
		cancel()
		if err == nil {
			u.out.ETag, u.out.VersionID = normETag(res.ETag), res.VersionID
			u.out.PartsSent, u.out.BytesSent = 1, size
			u.partDone(size, true)
			if !u.sse && !etagIsMD5(res.ETag, sum) {
				return u.verifyEncrypted(ctx, res.ETag, hex.EncodeToString(sum[:]))
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("uploading %s/%s: %w", u.in.Bucket, u.in.Key, err)
		}
		if errors.Is(err, obs.ErrShortBody) {
			return fmt.Errorf("%w: %s shrank while uploading: %w", ErrSourceChanged, u.in.Path, err)
		}
		if obs.IsCode(err, "BadDigest") {
			again, herr := hashRange(u.f, 0, size)
			if herr != nil {
				return fmt.Errorf("re-reading %s: %w", u.in.Path, herr)
			}
			if again != sum {
				return fmt.Errorf("%w: %s: bytes changed while uploading: %w", ErrSourceChanged, u.in.Path, err)
			}
		} else if !expired && !obs.IsRetryable(err) {
			return fmt.Errorf("uploading %s/%s: %w", u.in.Bucket, u.in.Key, err)
		}
		if attempt >= partAttempts {
			return fmt.Errorf("uploading %s/%s (%d attempts): %w", u.in.Bucket, u.in.Key, attempt, err)
		}
		u.log.Warn("retrying single PUT", "bucket", u.in.Bucket, "key", u.in.Key, "attempt", attempt, "error", err.Error())
		if err := wait(ctx, attempt); err != nil {
			return fmt.Errorf("uploading %s/%s: %w", u.in.Bucket, u.in.Key, err)
		}
	}
}

// verifyEncrypted accepts an object whose ETag is not the expected MD5 only
// when HEAD shows it is server-side encrypted (a bucket default), since then
// the ETag is not an MD5. Integrity was already enforced by Content-MD5.
func (u *uploader) verifyEncrypted(ctx context.Context, got, want string) error {
	hctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	info, err := u.c.HeadObject(hctx, obs.HeadInput{Bucket: u.in.Bucket, Key: u.in.Key, SSEC: u.in.Options.SSEC})
	if err == nil && info.SSE != "" {
		u.log.Info("object is server-side encrypted by the bucket; its ETag is not an MD5", "bucket", u.in.Bucket, "key", u.in.Key, "sse", info.SSE)
		return nil
	}
	if err != nil {
		return fmt.Errorf("object %s/%s has ETag %s, expected %s, and checking its encryption failed: %w", u.in.Bucket, u.in.Key, got, want, err)
	}
	return fmt.Errorf("object %s/%s has ETag %s, expected %s: the stored object does not match the file", u.in.Bucket, u.in.Key, got, want)
}

// partDone accounts a completed part and reports progress.
func (u *uploader) partDone(size int64, sent bool) {
	u.progMu.Lock()
	defer u.progMu.Unlock()
	u.prog.BytesDone += size
	u.prog.PartsDone++
	if sent {
		u.runSent += size
	}
	if el := time.Since(u.startTime).Seconds(); el > 0 && u.runSent > 0 {
		u.prog.BytesPerSecond = float64(u.runSent) / el
		u.prog.ETA = time.Duration(float64(u.prog.BytesTotal-u.prog.BytesDone) / u.prog.BytesPerSecond * float64(time.Second))
	}
	if u.in.OnProgress != nil && !u.returned {
		u.in.OnProgress(u.prog)
	}
}

// transfer sends every part not yet in u.done, in order. Hashing runs ahead
// of sending (see hashAhead): while parts are on the wire, the next ones are
// hashed together on md5Server's lanes, so that a connection does not sit
// idle while its next part's MD5 is computed.
func (u *uploader) transfer(ctx context.Context) error {
	var todo []int
	u.mu.Lock()
	for n := 1; n <= u.layout.Parts; n++ {
		if _, ok := u.done[n]; !ok {
			todo = append(todo, n)
		}
	}
	id := u.uploadID
	u.mu.Unlock()
	u.log.Info("uploading parts", "upload_id", id, "parts", len(todo), "reused", u.layout.Parts-len(todo),
		"part_size", u.layout.PartSize, "concurrency", u.in.Concurrency)

	g, gctx := errgroup.WithContext(ctx)
	batch := hashBatch(u.layout.PartSize)
	queue := make(chan *hashedPart, batch)
	g.Go(func() error {
		defer close(queue)
		u.hashAhead(gctx, todo, batch, queue)
		return nil
	})
	for range min(u.in.Concurrency, len(todo)) {
		g.Go(func() error {
			for p := range queue {
				select {
				case <-p.ready:
				case <-gctx.Done():
					return nil
				}
				if p.err != nil {
					return &PartError{UploadID: u.uploadID, PartNumber: p.n, Err: p.err}
				}
				if err := u.sendPart(gctx, p.n, p.sum); err != nil {
					return err
				}
			}
			return nil
		})
	}
	finished := make(chan error, 1)
	go func() { finished <- g.Wait() }()
	var err error
	select {
	case err = <-finished:
	case <-ctx.Done():
		t := time.NewTimer(cancelGrace)
		select {
		case err = <-finished:
		case <-t.C:
			u.log.Warn("parts still in flight after cancellation; returning without them", "upload_id", id)
		}
		t.Stop()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("multipart upload %s interrupted: %w", id, ctx.Err())
	}
	return err
}

const (
	// hashLanes is at most how many parts are hashed at the same time,
	// ahead of the senders: as many as md5Server has lanes.
	hashLanes = 16
	// hashBatchBytes bounds the bytes of one batch of parts hashed
	// together, and so how far hashing runs ahead of sending (two batches):
	// a part is still in the page cache when it is sent.
	hashBatchBytes = 512 << 20
)

// hashBatch is how many parts of partSize bytes are hashed together.
func hashBatch(partSize int64) int {
	return int(min(hashLanes, max(1, hashBatchBytes/partSize)))
}

// A hashedPart is a part number and, once ready is closed, the MD5 of its
// bytes or the error reading them.
type hashedPart struct {
	n     int
	ready chan struct{}
	sum   md5Sum
	err   error
}

// hashAhead queues the parts of todo for the senders, in order, in batches
// of size parts whose hashing starts together, so that they share
// md5Server's lanes. A batch starts once the previous one is hashed and
// queued: hashing runs at most two batches ahead of the senders. It returns
// when every part is queued and hashed, or ctx is done.
func (u *uploader) hashAhead(ctx context.Context, todo []int, size int, queue chan<- *hashedPart) {
	for batch := range slices.Chunk(todo, size) {
		var wg sync.WaitGroup
		ps := make([]*hashedPart, len(batch))
		for i, n := range batch {
			ps[i] = &hashedPart{n: n, ready: make(chan struct{})}
			wg.Add(1)
			go func(p *hashedPart) {
				defer wg.Done()
				p.sum, p.err = u.partMD5(p.n)
				close(p.ready)
			}(ps[i])
		}
		for _, p := range ps {
			select {
			case queue <- p:
			case <-ctx.Done():
				wg.Wait()
				return
			}
		}
		wg.Wait()
	}
}

// sendPart uploads part n, whose bytes hash to sum, with Content-MD5 and
// retries.
func (u *uploader) sendPart(ctx context.Context, n int, sum md5Sum) error {
	if err := u.in.Budget.acquire(ctx); err != nil {
		return &PartError{UploadID: u.uploadID, PartNumber: n, Err: err}
	}
	defer u.in.Budget.release()
	perr := func(err error) error { return &PartError{UploadID: u.uploadID, PartNumber: n, Err: err} }
	off, size := u.layout.Part(n)
	sr := io.NewSectionReader(u.f, off, size)
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, u.in.PartTimeout(size))
		etag, err := u.c.UploadPart(pctx, obs.UploadPartInput{
			Bucket: u.in.Bucket, Key: u.in.Key, UploadID: u.uploadID, PartNumber: n,
			Body: sr, Offset: 0, Size: size, ContentMD5: sum[:], SSEC: u.in.Options.SSEC,
		})
		expired := timedOut(ctx, pctx, err)
		cancel()
		if err == nil {
			etag = normETag(etag)
			u.mu.Lock()
			u.done[n] = CompletedPart{Number: n, Size: size, ETag: etag}
			if !etagIsMD5(etag, sum) {
				u.opaque = true
			}
			u.partsSent++
			u.bytesSent += size
			u.mu.Unlock()
			u.partDone(size, true)
			if err := u.checkSource(); err != nil {
				return perr(err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return perr(err)
		}
		if errors.Is(err, obs.ErrShortBody) {
			return perr(fmt.Errorf("%w: %s shrank while uploading: %w", ErrSourceChanged, u.in.Path, err))
		}
		switch {
		case obs.IsCode(err, "BadDigest"):
			again, herr := hashRange(sr, 0, size)
			if herr != nil {
				return perr(fmt.Errorf("re-reading %s: %w", u.in.Path, herr))
			}
			if again != sum {
				return perr(fmt.Errorf("%w: %s: bytes of the part changed while uploading: %w", ErrSourceChanged, u.in.Path, err))
			}
		case expired:
			err = fmt.Errorf("part deadline of %s expired: %w", u.in.PartTimeout(size), err)
		case obs.IsRetryable(err):
		default:
			return perr(err)
		}
		if attempt >= partAttempts {
			return perr(fmt.Errorf("%d attempts: %w", attempt, err))
		}
		u.log.Warn("retrying part", "upload_id", u.uploadID, "part", n, "attempt", attempt, "error", err.Error())
		if werr := wait(ctx, attempt); werr != nil {
			return perr(err)
		}
	}
}

func (u *uploader) complete(ctx context.Context) error {
	if err := u.checkSource(); err != nil {
		return fmt.Errorf("before completing multipart upload %s: %w", u.uploadID, err)
	}
	u.mu.Lock()
	parts := make([]obs.Part, 0, len(u.done))
	etags := make([]string, 0, len(u.done))
	for n := 1; n <= u.layout.Parts; n++ {
		p, ok := u.done[n]
		if !ok {
			u.mu.Unlock()
			return fmt.Errorf("multipart upload %s: part %d missing before complete (internal error)", u.uploadID, n)
		}
		parts = append(parts, obs.Part{Number: n, Size: p.Size, ETag: p.ETag})
		etags = append(etags, p.ETag)
	}
	opaque := u.opaque
	id := u.uploadID
	u.mu.Unlock()
	want, wantOK := multipartETag(etags)

	in := obs.CompleteInput{Bucket: u.in.Bucket, Key: u.in.Key, UploadID: id, Parts: parts}
	var res obs.CompleteOutput
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, completeTimeout(len(parts)))
		r, err := u.c.CompleteMultipartUpload(cctx, in)
		expired := timedOut(ctx, cctx, err)
		cancel()
		if err == nil {
			res = r
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("completing multipart upload %s: %w", id, err)
		}
		if !expired && !obs.IsRetryable(err) && !obs.IsNoSuchUpload(err) {
			return fmt.Errorf("completing multipart upload %s: %w", id, err)
		}
		// The upload may have completed with the response lost: ask the object.
		hctx, hcancel := context.WithTimeout(ctx, headTimeout)
		info, herr := u.c.HeadObject(hctx, obs.HeadInput{Bucket: u.in.Bucket, Key: u.in.Key, SSEC: u.in.Options.SSEC})
		hcancel()
		if herr == nil && info.UploadID == id {
			u.log.Info("complete response was lost but the object was assembled from our upload", "upload_id", id, "error", err.Error())
			res = obs.CompleteOutput{ETag: info.ETag, VersionID: info.VersionID}
			break
		}
		if obs.IsNoSuchUpload(err) && herr != nil && !obs.IsNotFound(herr) {
			return fmt.Errorf("completing multipart upload %s: the upload no longer exists, and whether the object was assembled from it is unknown (%v): %w", id, herr, err)
		}
		if obs.IsNoSuchUpload(err) {
			u.mu.Lock()
			u.completed = true // gone: nothing left to resume
			u.mu.Unlock()
			return fmt.Errorf("completing multipart upload %s: the upload no longer exists and the object was not assembled from it: %w", id, err)
		}
		if attempt >= completeAttempts {
			return fmt.Errorf("completing multipart upload %s (%d attempts): %w", id, attempt, err)
		}
		u.log.Warn("retrying complete", "upload_id", id, "attempt", attempt, "error", err.Error())
		if werr := wait(ctx, attempt); werr != nil {
			return fmt.Errorf("completing multipart upload %s: %w", id, err)
		}
	}
	u.mu.Lock()
	u.completed = true
	u.mu.Unlock()
	u.out.ETag, u.out.VersionID = normETag(res.ETag), res.VersionID
	if u.sse {
		return nil
	}
	if opaque || !wantOK || normETag(res.ETag) != want {
		return u.verifyEncrypted(ctx, res.ETag, want)
	}
	return nil
}

// Abort aborts a multipart upload. It runs with a context detached from ctx's
// cancellation (so that it works while a cancelled operation unwinds) and its
// own timeout, and returns the abort's error.
func Abort(ctx context.Context, c obs.Client, bucket, key, uploadID string) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if err := c.AbortMultipartUpload(actx, bucket, key, uploadID); err != nil {
		return fmt.Errorf("aborting multipart upload %s of %s/%s: %w", uploadID, bucket, key, err)
	}
	return nil
}
