package upload

import (
	"context"
	"errors"
	"fmt"
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
	// context is cancelled before returning without them: Upload returns
	// within 2 s of cancellation.
	cancelGrace  = 1500 * time.Millisecond
	abortTimeout = 2 * time.Minute
	headTimeout  = 1 * time.Minute
	listTimeout  = 2 * time.Minute
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
	if in.Copy != nil {
		return Output{}, nil, errors.New("upload: an upload has a path, not a source object (see Copy)")
	}
	u := newUploader(c, in)
	s := &fileSource{u: u}
	u.src = s
	return u.finish(s.upload(ctx))
}

// newUploader is the engine's state for one upload or copy, with the
// input's defaults filled in; the caller sets its source.
func newUploader(c obs.Client, in Input) *uploader {
	u := &uploader{c: c, in: in, log: in.Logger, done: map[int]CompletedPart{}, inflight: map[int]int64{}}
	if u.log == nil {
		u.log = nopLogger{}
	}
	if u.in.Concurrency <= 0 {
		u.in.Concurrency = defaultConcurrency
	}
	if u.in.PartTimeout == nil {
		u.in.PartTimeout = defaultPartTimeout
	}
	u.thr = newThrottle(u.in, realClock{})
	u.in.PartTimeout = u.thr.extend(u.in.PartTimeout)
	u.sse = in.Options.SSEKMS || in.Options.SSEC != nil
	return u
}

// finish returns what Upload and Copy return once the run ended with err.
func (u *uploader) finish(err error) (Output, *Record, error) {
	rec := u.record()
	if err == nil {
		rec = nil
	}
	if !u.layout.SinglePut {
		u.out.UploadID = u.uploadID
		u.mu.Lock()
		u.out.PartsSent, u.out.BytesSent = u.partsSent, u.bytesSent
		u.out.PartsReused = len(u.done) - u.partsSent
		u.mu.Unlock()
	}
	u.progMu.Lock()
	u.returned = true
	u.progMu.Unlock()
	return u.out, rec, err
}

type uploader struct {
	c   obs.Client
	in  Input
	src partSource // set by Upload or Copy, before anything else
	log Logger
	sse bool // the caller asked for server-side encryption
	thr throttle

	// Set before any part is hashed or sent and never changed after, so
	// read without mu.
	layout   Layout
	uploadID string // the multipart upload, once resolved
	options  string // the digest of the options it was initiated with ("" when unknown)

	out Output // written by the goroutine of Upload or Copy only

	mu        sync.Mutex
	completed bool                  // the upload no longer exists: completed (or gone)
	done      map[int]CompletedPart // parts the server holds (kept or sent)
	opaque    bool                  // a part ETag was not its MD5 (bucket default encryption)
	partsSent int
	bytesSent int64
	// keepRecord, when set, is returned as the record: the caller's record
	// of an upload that could not be checked.
	keepRecord *Record

	progMu    sync.Mutex // guards prog, inflight, written, returned; held while calling OnProgress
	prog      Progress
	inflight  map[int]int64 // how far each part in flight has been written
	written   int64         // bytes written to the connection by this run
	returned  bool          // Upload has returned: late parts report no progress
	startTime time.Time
}

// A partSource is where the bytes of the parts come from: the file of an
// upload (fileSource) or the object of a copy (objectSource). Upload and
// Copy make the uploader with one; the engine asks it wherever an upload
// and a copy differ.
type partSource interface {
	// stamp records on r, a record of this run's upload, where its parts
	// come from.
	stamp(r *Record)
	// sameSource reports whether the parts of r were taken from this
	// source.
	sameSource(r *Record) bool
	// refuses says why the recorded upload r cannot be resumed at all, ""
	// when it can.
	refuses(r *Record) string
	// check returns an error when the source changed since the run began.
	check() error
	// planned returns the MD5s of every part of the layout when they are
	// known up front, else nil.
	planned() *PartSums
	// partMD5 returns the MD5 of part n's bytes, which sendPart is given.
	partMD5(n int) (md5Sum, error)
	// putSingle stores the whole source as the object in a single
	// request, with retries, and verifies it. The caller holds a budget
	// slot.
	putSingle(ctx context.Context) error
	// putPart stores part n, whose bytes hash to sum, in the upload, with
	// retries. The caller holds a budget slot.
	putPart(ctx context.Context, n int, sum md5Sum) error
	// provenParts returns those of parts, parts of a recorded upload that
	// fit the layout but that the record does not vouch for, that provably
	// hold the source's bytes.
	provenParts(ctx context.Context, parts []obs.Part) ([]obs.Part, error)
	// provesUpload reports whether an open upload provably holds the
	// source, or why not; parts are its parts, at least one, each of the
	// layout's size.
	provesUpload(ctx context.Context, parts []obs.Part) (bool, string, error)
}

// planLayout cuts size bytes into parts with plan (PlanParts or
// PlanCopyParts) and starts the progress count. A recorded upload that a
// single request replaces is abandoned.
func (u *uploader) planLayout(size int64, plan func(size, partSize int64) (Layout, error)) error {
	l, err := plan(size, u.in.PartSize)
	if err != nil {
		return err
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
	if r := u.in.Record; l.SinglePut && r != nil && r.UploadID != "" {
		u.out.Abandoned = r.UploadID
		u.notice("recorded upload %s does not fit the source any more (now %s, a single request); it was left for abort", r.UploadID, FormatBytes(l.Size))
	}
	return nil
}

// send stores the source as planned: in a single request, holding a
// budget slot, or as a multipart upload.
func (u *uploader) send(ctx context.Context) error {
	if !u.layout.SinglePut {
		return u.multipart(ctx)
	}
	if err := u.in.Budget.acquire(ctx); err != nil {
		return err
	}
	defer u.in.Budget.release()
	return u.src.putSingle(ctx)
}

// multipart resolves the multipart upload to use, sends the parts it lacks
// and completes it.
func (u *uploader) multipart(ctx context.Context) error {
	res, err := u.resolve(ctx)
	if err != nil {
		return err
	}
	u.adopt(res)
	if res.completed {
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
	r := &Record{UploadID: u.uploadID, PartSize: u.layout.PartSize, Size: u.layout.Size, Options: u.options}
	u.src.stamp(r)
	r.Parts = make([]CompletedPart, 0, len(u.done))
	for _, p := range u.done {
		r.Parts = append(r.Parts, p)
	}
	slices.SortFunc(r.Parts, func(a, b CompletedPart) int { return a.Number - b.Number })
	return r
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

// transfer sends every part not yet in u.done, in order. With part MD5s
// from Input.PartMD5s that fit the file, every part is queued at once with
// its sum and read only to be sent. Otherwise hashing runs ahead of sending
// (see hashAhead): while parts are on the wire, the next ones are hashed
// together on md5Server's lanes, so that a connection does not sit idle
// while its next part's MD5 is computed.
func (u *uploader) transfer(ctx context.Context) error {
	var todo []int
	u.mu.Lock()
	for n := 1; n <= u.layout.Parts; n++ {
		if _, ok := u.done[n]; !ok {
			todo = append(todo, n)
		}
	}
	u.mu.Unlock()
	id := u.uploadID
	sums := u.src.planned()
	planned := sums != nil
	u.log.Info("uploading parts", "upload_id", id, "parts", len(todo), "reused", u.layout.Parts-len(todo),
		"part_size", u.layout.PartSize, "concurrency", u.in.Concurrency, "md5s_planned", planned)

	g, gctx := errgroup.WithContext(ctx)
	batch := hashBatch(u.layout.PartSize)
	queue := make(chan *hashedPart, batch)
	g.Go(func() error {
		defer close(queue)
		if planned {
			queueSums(gctx, sums, todo, queue)
		} else {
			u.hashAhead(gctx, todo, batch, queue)
		}
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
	// firstHashBatch is the size of the first batch: the first part is
	// hashed alone, so that it leaves as soon as its own MD5 is known
	// instead of when a whole batch is.
	firstHashBatch = 1
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
// whose hashing starts together, so that they share md5Server's lanes: the
// first part alone (firstHashBatch), then size parts at a time. A batch
// starts once the previous one is hashed and queued: hashing runs at most
// two batches ahead of the senders. It returns when every part is queued
// and hashed, or ctx is done.
func (u *uploader) hashAhead(ctx context.Context, todo []int, size int, queue chan<- *hashedPart) {
	first := min(firstHashBatch, len(todo))
	batches := append([][]int{todo[:first]}, slices.Collect(slices.Chunk(todo[first:], size))...)
	for _, batch := range batches {
		var wg sync.WaitGroup
		ps := make([]*hashedPart, len(batch))
		for i, n := range batch {
			ps[i] = &hashedPart{n: n, ready: make(chan struct{})}
			wg.Add(1)
			go func(p *hashedPart) {
				defer wg.Done()
				p.sum, p.err = u.src.partMD5(p.n)
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

// sendPart stores part n, whose bytes hash to sum, in the upload (see
// partSource.putPart), holding a budget slot.
func (u *uploader) sendPart(ctx context.Context, n int, sum md5Sum) error {
	if err := u.in.Budget.acquire(ctx); err != nil {
		return &PartError{UploadID: u.uploadID, PartNumber: n, Err: err}
	}
	defer u.in.Budget.release()
	if err := u.src.putPart(ctx, n, sum); err != nil {
		return &PartError{UploadID: u.uploadID, PartNumber: n, Err: err}
	}
	return nil
}

// stored accounts part n of size bytes, sent by this run, that the server
// holds with etag; opaque when the ETag is not the MD5 of the part.
func (u *uploader) stored(n int, size int64, etag string, opaque bool) {
	u.mu.Lock()
	u.done[n] = CompletedPart{Number: n, Size: size, ETag: normETag(etag)}
	u.opaque = u.opaque || opaque
	u.partsSent++
	u.bytesSent += size
	u.mu.Unlock()
	u.partDone(n, size)
}

func (u *uploader) complete(ctx context.Context) error {
	id := u.uploadID
	if err := u.src.check(); err != nil {
		return fmt.Errorf("before completing multipart upload %s: %w", id, err)
	}
	u.mu.Lock()
	parts := make([]obs.Part, 0, len(u.done))
	etags := make([]string, 0, len(u.done))
	for n := 1; n <= u.layout.Parts; n++ {
		p, ok := u.done[n]
		if !ok {
			u.mu.Unlock()
			return fmt.Errorf("multipart upload %s: part %d missing before complete (internal error)", id, n)
		}
		parts = append(parts, obs.Part{Number: n, Size: p.Size, ETag: p.ETag})
		etags = append(etags, p.ETag)
	}
	opaque := u.opaque
	u.mu.Unlock()
	want, wantOK := multipartETag(etags)

	in := obs.CompleteInput{Bucket: u.in.Bucket, Key: u.in.Key, UploadID: id, Parts: parts}
	var res obs.CompleteOutput
	err := u.retry(ctx, retried{
		what: "complete", fields: []any{"upload_id", id},
		attempts: completeAttempts, timeout: completeTimeout(len(parts)),
	}, func(cctx context.Context) (bool, error) {
		var err error
		res, err = u.c.CompleteMultipartUpload(cctx, in)
		if err == nil || ctx.Err() != nil {
			return false, err
		}
		if !transient(ctx, cctx, err) && !obs.IsNoSuchUpload(err) {
			return false, err
		}
		// The upload may have completed with the response lost: ask the object.
		r, ok, herr := u.assembled(ctx, id)
		if ok {
			u.log.Info("complete response was lost but the object was assembled from our upload", "upload_id", id, "error", err.Error())
			res = r
			return false, nil
		}
		if obs.IsNoSuchUpload(err) && herr != nil && !obs.IsNotFound(herr) {
			// Keep the record: the next run asks again (completedEarlier).
			return false, fmt.Errorf("the upload no longer exists, and whether the object was assembled from it is unknown (%w): %w", herr, err)
		}
		if obs.IsNoSuchUpload(err) {
			u.mu.Lock()
			u.completed = true // gone: nothing left to resume
			u.mu.Unlock()
			return false, fmt.Errorf("the upload no longer exists and the object was not assembled from it: %w", err)
		}
		return true, err
	})
	if err != nil {
		return fmt.Errorf("completing multipart upload %s: %w", id, err)
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

// assembled reports whether the object was assembled from upload id, as
// when Complete succeeded but its response was lost, and returns the
// object's ETag and version; herr is the HEAD's error when it could not
// tell.
func (u *uploader) assembled(ctx context.Context, id string) (out obs.CompleteOutput, ok bool, herr error) {
	hctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	info, err := u.c.HeadObject(hctx, obs.HeadInput{Bucket: u.in.Bucket, Key: u.in.Key, SSEC: u.in.Options.SSEC})
	if err != nil || info.UploadID != id {
		return obs.CompleteOutput{}, false, err
	}
	return obs.CompleteOutput{ETag: info.ETag, VersionID: info.VersionID}, true, nil
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
