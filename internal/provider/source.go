package provider

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// A hash is trusted for a fingerprint only if the file's mtime and ctime are
// older than the moment hashing started by more than the file system's
// timestamp granularity: a write within the same tick would leave the
// fingerprint unchanged. File systems with whole-second timestamps (FAT has
// 2 s) get coarseDoubt; nanosecond ones get fineDoubt, which covers the
// kernel's coarse clock tick.
const (
	coarseDoubt = 2 * time.Second
	fineDoubt   = 100 * time.Millisecond
)

// hashedBytes counts the bytes of source files hashed: each pass over a
// file adds its size. Tests assert on it to prove that an unchanged file is
// not read again.
var hashedBytes atomic.Int64

// sourceRecord ties a file's fingerprint to the SHA-256 of its content.
type sourceRecord struct {
	Fingerprint upload.Fingerprint `json:"fp"`
	SHA256      string             `json:"sha256"`
	// HashedAt is when hashing started (Unix nanoseconds).
	HashedAt int64 `json:"hashed_at"`
	// parts are the part MD5s computed in the same pass, for the upload
	// (nil when unknown). They are kept in the hash cache only: a private
	// state record does not carry them.
	parts *upload.PartSums
}

// trustedFor reports whether the record's hash is still the content of a
// file whose fingerprint is now fp.
func (r *sourceRecord) trustedFor(fp upload.Fingerprint) bool {
	if r == nil || r.SHA256 == "" || r.Fingerprint != fp {
		return false
	}
	doubt := fineDoubt
	if fp.ModTimeNs%int64(time.Second) == 0 && fp.ChangeTimeNs%int64(time.Second) == 0 {
		doubt = coarseDoubt
	}
	return max(fp.ModTimeNs, fp.ChangeTimeNs) < r.HashedAt-int64(doubt)
}

// sourceError is a problem with the `source` file, reported on `source`.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// statSource checks that path is a readable regular file and returns its
// fingerprint.
func statSource(path string) (upload.Fingerprint, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return upload.Fingerprint{}, &sourceError{fmt.Errorf("source file %q does not exist", path)}
	case err != nil:
		return upload.Fingerprint{}, &sourceError{fmt.Errorf("cannot read source file %q: %w", path, err)}
	case fi.IsDir():
		return upload.Fingerprint{}, &sourceError{fmt.Errorf("source %q is a directory; it must be a file", path)}
	case !fi.Mode().IsRegular():
		return upload.Fingerprint{}, &sourceError{fmt.Errorf("source %q is not a regular file", path)}
	}
	f, err := os.Open(path)
	if err != nil {
		return upload.Fingerprint{}, &sourceError{fmt.Errorf("cannot read source file %q: %w", path, err)}
	}
	_ = f.Close()
	fp, err := upload.StatFingerprint(path)
	if err != nil {
		return upload.Fingerprint{}, &sourceError{err}
	}
	return fp, nil
}

// resolveSource returns the SHA-256 record of the file at path, reading the
// file only when neither the given record (from private state) nor the
// user's hash cache is trusted for its current fingerprint. A record read
// from the cache carries the part MD5s computed with its hash; when the file
// is read, the MD5s of the parts of partSize (the resource's part_size) are
// computed in the same pass and cached with the hash, for the apply.
func resolveSource(ctx context.Context, path string, known *sourceRecord, partSize int64) (sourceRecord, bool, error) {
	fp, err := statSource(path)
	if err != nil {
		return sourceRecord{}, false, err
	}
	if known.trustedFor(fp) {
		return *known, false, nil
	}
	if cached := readHashCache(path, fp); cached.trustedFor(fp) {
		return *cached, false, nil
	}
	rec, err := hashSource(ctx, path, partSize)
	if err != nil {
		return sourceRecord{}, true, err
	}
	writeHashCache(path, rec)
	return rec, true, nil
}

// hashSource reads the whole file once and returns its SHA-256 record with
// the MD5s of its parts of partSize (upload.SumFile). It fails if the file
// changes while it is read.
func hashSource(ctx context.Context, path string, partSize int64) (sourceRecord, error) {
	before, err := statSource(path)
	if err != nil {
		return sourceRecord{}, err
	}
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return sourceRecord{}, &sourceError{fmt.Errorf("cannot read source file %q: %w", path, err)}
	}
	defer f.Close()
	sums, err := upload.SumFile(ctx, f, before, partSize)
	if err != nil {
		if ctx.Err() != nil {
			return sourceRecord{}, ctx.Err()
		}
		return sourceRecord{}, &sourceError{fmt.Errorf("reading source file %q: %w", path, err)}
	}
	hashedBytes.Add(before.Size)
	after, err := upload.StatFingerprint(path)
	if err != nil || after != before {
		return sourceRecord{}, &sourceError{fmt.Errorf("source file %q changed while it was being hashed; try again once it is no longer being written", path)}
	}
	return sourceRecord{Fingerprint: before, SHA256: hex.EncodeToString(sums.SHA256[:]), HashedAt: start.UnixNano(), parts: sums.Parts}, nil
}

// hashCachePath names the cache entry of a (path, fingerprint).
func hashCachePath(path string, fp upload.Fingerprint) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	return cacheFile("sha256", fmt.Sprintf("%s\x00%d\x00%d\x00%d\x00%d\x00%d", abs, fp.Size, fp.ModTimeNs, fp.ChangeTimeNs, fp.Inode, fp.Device))
}

// hashCacheEntry is a hash cache entry: the record and the part MD5s
// computed with it.
type hashCacheEntry struct {
	sourceRecord
	Parts *upload.PartSums `json:"parts,omitempty"`
}

func readHashCache(path string, fp upload.Fingerprint) *sourceRecord {
	var e hashCacheEntry
	if !readCacheJSON(hashCachePath(path, fp), &e) {
		return nil
	}
	e.parts = e.Parts
	return &e.sourceRecord
}

func writeHashCache(path string, r sourceRecord) {
	writeCacheJSON(hashCachePath(path, r.Fingerprint), hashCacheEntry{sourceRecord: r, Parts: r.parts})
}
