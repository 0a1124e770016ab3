package upload

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"golang.org/x/sync/errgroup"
)

// PartSums are the MD5s of a file's parts computed ahead of an upload (at
// plan time, by SumFile), for Input.PartMD5s. They hold for one version of
// the file and one layout only.
type PartSums struct {
	// Source is the fingerprint of the file the sums were computed from.
	Source Fingerprint `json:"fp"`
	// PartSize is the layout's part size (Layout.PartSize); 0 when the
	// layout is a single PUT and Sums is the MD5 of the whole file.
	PartSize int64 `json:"part_size"`
	// Sums are the binary MD5s of the parts in order, 16 bytes each.
	Sums []byte `json:"md5"`
}

// fits reports whether s are the sums of the parts of layout l of the file
// whose fingerprint is fp. A nil s fits nothing.
func (s *PartSums) fits(fp Fingerprint, l Layout) bool {
	if s == nil || s.Source != fp || l.Size != fp.Size || len(s.Sums) != md5.Size*l.Parts {
		return false
	}
	if l.SinglePut {
		return s.PartSize == 0
	}
	return s.PartSize == l.PartSize
}

// sum returns the MD5 of part n (1-based); s must fit the layout.
func (s *PartSums) sum(n int) md5Sum {
	var m md5Sum
	copy(m[:], s.Sums[md5.Size*(n-1):])
	return m
}

// FileSums is what one pass of SumFile over a file computes.
type FileSums struct {
	SHA256 [sha256.Size]byte
	// Parts are the MD5s of the parts of the file's layout; nil when the
	// file has no valid layout for the part size.
	Parts *PartSums
}

const (
	// sumChunk is the size of one read of SumFile's sequential pass.
	sumChunk = 256 << 10
	// sumAhead is how many chunks the sequential pass reads ahead of the
	// SHA-256, so that the hash never waits for a read.
	sumAhead = 4
)

// sumLanes bounds the parts SumFile passes hash at the same time across the
// process (Terraform plans several resources at once): as many as
// md5Server has lanes, which they share anyway. So the read buffers of the
// lanes stay within hashLanes × 256 KiB however many files are hashed.
var sumLanes = make(chan struct{}, hashLanes)

// SumFile computes in one pass over the first fp.Size bytes of r their
// SHA-256 and the MD5 of every part of the layout PlanParts(fp.Size,
// partSize) gives (for a single PUT: the MD5 of the whole file), which it
// stamps with fp. The file's bytes are read from storage once, in order: one
// goroutine reads chunks ahead of the SHA-256, which runs on the calling
// goroutine. The part MD5s run concurrently on md5Server's lanes, in
// batches of parts behind the sequential read (sumParts), which they read
// again from the page cache: they cannot share the SHA-256's buffers, since
// keeping a batch of parts busy on the lanes takes several parts' worth of
// bytes read ahead, too much to hold in memory. Where a second core is free
// the pass takes the time of the SHA-256 plus that of the last batch's MD5s. Whether the file changed while it was read is for the
// caller to check (fp before, the fingerprint after).
func SumFile(ctx context.Context, r io.ReaderAt, fp Fingerprint, partSize int64) (FileSums, error) {
	if err := ctx.Err(); err != nil {
		return FileSums{}, err
	}
	size := fp.Size
	g, gctx := errgroup.WithContext(ctx)
	read := newFrontier()
	full := make(chan []byte, sumAhead)
	free := make(chan []byte, sumAhead)
	for range sumAhead {
		free <- make([]byte, min(sumChunk, max(size, 1)))
	}
	g.Go(func() error {
		defer close(full)
		err := readAhead(gctx, r, size, free, full, read)
		read.stop(err)
		return err
	})
	var out FileSums
	if l, err := PlanParts(size, partSize); err == nil {
		out.Parts = &PartSums{Source: fp, Sums: make([]byte, md5.Size*l.Parts)}
		if !l.SinglePut {
			out.Parts.PartSize = l.PartSize
		}
		g.Go(func() error { return sumParts(gctx, r, l, read, out.Parts.Sums) })
	}
	h := sha256.New()
	for b := range full {
		h.Write(b)
		free <- b[:cap(b)]
	}
	if err := g.Wait(); err != nil {
		return FileSums{}, err
	}
	h.Sum(out.SHA256[:0])
	return out, nil
}

// readAhead reads size bytes of r in order into the buffers of free and
// passes them on through full, advancing read after each.
func readAhead(ctx context.Context, r io.ReaderAt, size int64, free <-chan []byte, full chan<- []byte, read *frontier) error {
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		var b []byte
		select {
		case b = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		b = b[:min(int64(len(b)), size-off)]
		n, err := r.ReadAt(b, off)
		if n < len(b) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read %d of %d bytes at offset %d: %w", n, len(b), off, err)
		}
		off += int64(n)
		read.advance(off)
		select {
		case full <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// sumBatchBytes bounds the bytes of one batch of parts SumFile hashes
// together, and so the hashing left when the sequential read ends.
const sumBatchBytes = 256 << 20

// sumBatch is how many parts of partSize bytes SumFile hashes together: at
// least 3, below which md5-simd hashes lane by lane instead of in SIMD
// registers.
func sumBatch(partSize int64) int {
	return int(min(hashLanes, max(3, sumBatchBytes/partSize)))
}

// sumParts writes the MD5 of every part of l into sums. The parts are
// hashed in batches (sumBatch) on md5Server's lanes, each batch once the
// sequential read has passed all of it, so that its parts are in the page
// cache and keep the lanes busy together: hashing a batch takes less time
// than reading the next one. A lone part (a single PUT) is hashed with
// crypto/md5, following the read: one stream gains nothing from the lanes.
func sumParts(ctx context.Context, r io.ReaderAt, l Layout, read *frontier, sums []byte) error {
	if l.Parts == 1 {
		off, size := l.Part(1)
		sum, err := sumBehind(ctx, md5.New(), r, off, size, read)
		copy(sums, sum[:])
		return err
	}
	for first := 1; first <= l.Parts; first += sumBatch(l.PartSize) {
		last := min(first+sumBatch(l.PartSize)-1, l.Parts)
		off, size := l.Part(last)
		if err := read.wait(off + size); err != nil {
			return err
		}
		g, gctx := errgroup.WithContext(ctx)
		for n := first; n <= last; n++ {
			select {
			case sumLanes <- struct{}{}:
			case <-gctx.Done():
				if err := g.Wait(); err != nil {
					return err
				}
				return gctx.Err()
			}
			g.Go(func() error {
				defer func() { <-sumLanes }()
				h := md5Server().NewHash()
				defer h.Close()
				off, size := l.Part(n)
				sum, err := sumBehind(gctx, h, r, off, size, read)
				if err != nil {
					return fmt.Errorf("part %d: %w", n, err)
				}
				copy(sums[md5.Size*(n-1):], sum[:])
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// sumBehind streams size bytes of r from off through h, an MD5, reading
// each buffer only once read has passed it.
func sumBehind(ctx context.Context, h hash.Hash, r io.ReaderAt, off, size int64, read *frontier) (md5Sum, error) {
	var sum md5Sum
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	for done := int64(0); done < size; {
		b := (*bp)[:min(int64(len(*bp)), size-done)]
		if err := read.wait(off + done + int64(len(b))); err != nil {
			return sum, err
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if _, err := r.ReadAt(b, off+done); err != nil {
			return sum, err
		}
		h.Write(b)
		done += int64(len(b))
	}
	h.Sum(sum[:0])
	return sum, nil
}

// A frontier is how far a sequential read has got; waiters block until it
// passes their offset or the read stops.
type frontier struct {
	mu      sync.Mutex
	passed  sync.Cond
	off     int64
	stopped bool
	err     error
}

func newFrontier() *frontier {
	f := &frontier{}
	f.passed.L = &f.mu
	return f
}

func (f *frontier) advance(off int64) {
	f.mu.Lock()
	f.off = off
	f.mu.Unlock()
	f.passed.Broadcast()
}

// stop ends the read: with err == nil it read everything it was to read.
func (f *frontier) stop(err error) {
	f.mu.Lock()
	f.stopped, f.err = true, err
	f.mu.Unlock()
	f.passed.Broadcast()
}

// wait blocks until the read has passed off; it fails when the read stopped
// short of off.
func (f *frontier) wait(off int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.off < off && !f.stopped {
		f.passed.Wait()
	}
	if f.off >= off {
		return nil
	}
	if f.err != nil {
		return f.err
	}
	return fmt.Errorf("the sequential read stopped at offset %d, before %d", f.off, off)
}

// closedReady is the ready channel of a part whose MD5 is known up front.
var closedReady = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// queueSums queues the parts of todo for the senders with their MD5s from
// sums: nothing is read before a part is sent.
func queueSums(ctx context.Context, sums *PartSums, todo []int, queue chan<- *hashedPart) {
	for _, n := range todo {
		select {
		case queue <- &hashedPart{n: n, ready: closedReady, sum: sums.sum(n)}:
		case <-ctx.Done():
			return
		}
	}
}
