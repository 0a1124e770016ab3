package obslocal

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The on-disk layout under the data directory:
//
//	buckets/<bucket>/bucket.json
//	buckets/<bucket>/objects/<sha256(key)>.json|.data
//	buckets/<bucket>/uploads/<uploadID>/upload.json
//	buckets/<bucket>/uploads/<uploadID>/parts/<n>.json|.data
//	tmp/   bodies being received; emptied at start
//
// Metadata files are written to a temporary name and renamed, so a crash
// leaves either the old or the new version. Part and object bodies are
// streamed into tmp/ and renamed into place once complete and verified.
//
// A zero-filled object or part (see Server.PutSparseObject) is a sparse
// data file of its size holding only zeros; copies of it stay sparse, so
// objects of many gigabytes cost no disk space or I/O.

type bucketState struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	objects map[string]*objectState
	uploads map[string]*uploadState
}

type objectState struct {
	Key          string            `json:"key"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"` // unquoted
	LastModified time.Time         `json:"lastModified"`
	Attrs        map[string]string `json:"attrs"`
	UploadID     string            `json:"uploadId,omitempty"`
	// ZeroFilled: the content is Size zero bytes, in a sparse data file.
	ZeroFilled bool `json:"zeroFilled,omitempty"`
}

type uploadState struct {
	Bucket    string            `json:"bucket"`
	Key       string            `json:"key"`
	ID        string            `json:"id"`
	Initiated time.Time         `json:"initiated"`
	Attrs     map[string]string `json:"attrs"`
	parts     map[int]*partState
	// completing is set while Complete assembles the object.
	completing bool
}

type partState struct {
	Number       int       `json:"number"`
	ETag         string    `json:"etag"` // unquoted hex
	Size         int64     `json:"size"`
	LastModified time.Time `json:"lastModified"`
	// ZeroFilled: the content is Size zero bytes, in a sparse data file.
	ZeroFilled bool `json:"zeroFilled,omitempty"`
}

func (u *uploadState) sse() bool { return encrypted(u.Attrs) }

// encrypted reports whether attributes ask for server-side encryption
// (SSE-KMS or SSE-C), under which an ETag is not the content's MD5.
func encrypted(attrs map[string]string) bool {
	return attrs["x-server-side-encryption"] != "" || attrs["x-server-side-encryption-customer-algorithm"] != ""
}

type store struct {
	dir     string
	mu      sync.Mutex
	buckets map[string]*bucketState
	idMu    sync.Mutex
	lastID  int64
	// zeroMu guards zeroSums, the MD5s of runs of zero bytes by length,
	// computed once each (the ETags of zero-filled parts and objects).
	zeroMu   sync.Mutex
	zeroSums map[int64][]byte
}

func openStore(dir string) (*store, error) {
	st := &store{dir: dir, buckets: map[string]*bucketState{}, zeroSums: map[int64][]byte{}}
	if err := os.RemoveAll(st.tmpDir()); err != nil {
		return nil, err
	}
	for _, d := range []string{st.tmpDir(), filepath.Join(dir, "buckets")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, "buckets"))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		b, err := st.loadBucket(e.Name())
		if err != nil {
			return nil, fmt.Errorf("loading bucket %s: %w", e.Name(), err)
		}
		st.buckets[b.Name] = b
	}
	return st, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (st *store) writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := filepath.Join(st.tmpDir(), "meta-"+randHex(8))
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (st *store) loadBucket(name string) (*bucketState, error) {
	b := &bucketState{Name: name, objects: map[string]*objectState{}, uploads: map[string]*uploadState{}}
	if err := readJSON(filepath.Join(st.bucketDir(name), "bucket.json"), b); err != nil {
		return nil, err
	}
	b.Name = name
	objs, _ := filepath.Glob(filepath.Join(st.bucketDir(name), "objects", "*.json"))
	for _, p := range objs {
		var o objectState
		if err := readJSON(p, &o); err != nil {
			return nil, err
		}
		if _, err := os.Stat(st.objectData(name, o.Key)); err != nil {
			continue // metadata without data: an interrupted write
		}
		b.objects[o.Key] = &o
	}
	ups, _ := filepath.Glob(filepath.Join(st.bucketDir(name), "uploads", "*", "upload.json"))
	for _, p := range ups {
		u := &uploadState{parts: map[int]*partState{}}
		if err := readJSON(p, u); err != nil {
			return nil, err
		}
		parts, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "parts", "*.json"))
		for _, pp := range parts {
			var ps partState
			if err := readJSON(pp, &ps); err != nil {
				return nil, err
			}
			if _, err := os.Stat(st.partData(u, ps.Number)); err != nil {
				continue
			}
			u.parts[ps.Number] = &ps
		}
		b.uploads[u.ID] = u
	}
	return b, nil
}

func (st *store) tmpDir() string               { return filepath.Join(st.dir, "tmp") }
func (st *store) bucketDir(name string) string { return filepath.Join(st.dir, "buckets", name) }

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:20])
}

func (st *store) objectData(bucket, key string) string {
	return filepath.Join(st.bucketDir(bucket), "objects", keyHash(key)+".data")
}

func (st *store) objectMeta(bucket, key string) string {
	return filepath.Join(st.bucketDir(bucket), "objects", keyHash(key)+".json")
}

func (st *store) uploadDir(u *uploadState) string {
	return filepath.Join(st.bucketDir(u.Bucket), "uploads", u.ID)
}

func (st *store) partData(u *uploadState, n int) string {
	return filepath.Join(st.uploadDir(u), "parts", strconv.Itoa(n)+".data")
}

func (st *store) partMeta(u *uploadState, n int) string {
	return filepath.Join(st.uploadDir(u), "parts", strconv.Itoa(n)+".json")
}

// createBucket returns false when the bucket already exists.
func (st *store) createBucket(name string, now time.Time) (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.buckets[name]; ok {
		return false, nil
	}
	b := &bucketState{Name: name, Created: now, objects: map[string]*objectState{}, uploads: map[string]*uploadState{}}
	for _, d := range []string{"objects", "uploads"} {
		if err := os.MkdirAll(filepath.Join(st.bucketDir(name), d), 0o755); err != nil {
			return false, err
		}
	}
	if err := st.writeJSON(filepath.Join(st.bucketDir(name), "bucket.json"), b); err != nil {
		return false, err
	}
	st.buckets[name] = b
	return true, nil
}

func (st *store) bucket(name string) *bucketState {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.buckets[name]
}

// newUploadID returns a 32-character upper-case hex ID whose first half is
// a strictly increasing timestamp, so ID order is initiation order.
func (st *store) newUploadID(now time.Time) string {
	st.idMu.Lock()
	n := now.UnixNano()
	if n <= st.lastID {
		n = st.lastID + 1
	}
	st.lastID = n
	st.idMu.Unlock()
	return strings.ToUpper(fmt.Sprintf("%016x%s", n, randHex(8)))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// tmpFile creates a file in tmp/ for a body being received.
func (st *store) tmpFile() (*os.File, error) {
	return os.CreateTemp(st.tmpDir(), "body-")
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// receive streams body into a new temporary file, hashing it with MD5.
// It fails with errTooLarge once more than limit bytes arrive.
func (st *store) receive(body io.Reader, limit int64) (path string, size int64, sum []byte, err error) {
	f, err := st.tmpFile()
	if err != nil {
		return "", 0, nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	h := md5.New()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	size, err = io.CopyBuffer(io.MultiWriter(f, h), io.LimitReader(body, limit+1), *bp)
	if err != nil {
		return "", 0, nil, err
	}
	if size > limit {
		return "", 0, nil, errTooLarge
	}
	return f.Name(), size, h.Sum(nil), nil
}

// sparseFile creates a file in tmp/ of size zero bytes without writing
// them: a file of one hole.
func (st *store) sparseFile(size int64) (string, error) {
	f, err := st.tmpFile()
	if err != nil {
		return "", err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// zeroMD5 returns the MD5 of n zero bytes. The first call for a length
// hashes them (about a second per GiB); later calls are free.
func (st *store) zeroMD5(n int64) []byte {
	st.zeroMu.Lock()
	defer st.zeroMu.Unlock()
	if sum, ok := st.zeroSums[n]; ok {
		return sum
	}
	h := md5.New()
	bp := copyBufs.Get().(*[]byte)
	buf := *bp
	clear(buf)
	for left := n; left > 0; {
		k := min(left, int64(len(buf)))
		h.Write(buf[:k])
		left -= k
	}
	copyBufs.Put(bp)
	sum := h.Sum(nil)
	st.zeroSums[n] = sum
	return sum
}

type sentinel string

func (s sentinel) Error() string { return string(s) }

const errTooLarge = sentinel("body exceeds the size limit")

func (st *store) putObject(bucket string, o *objectState, dataPath string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buckets[bucket]
	if b == nil {
		_ = os.Remove(dataPath)
		return errNoSuchBucket(bucket)
	}
	if err := os.Rename(dataPath, st.objectData(bucket, o.Key)); err != nil {
		return err
	}
	if err := st.writeJSON(st.objectMeta(bucket, o.Key), o); err != nil {
		return err
	}
	b.objects[o.Key] = o
	return nil
}

// openObject returns the object's state and an open data file.
func (st *store) openObject(bucket, key string) (*objectState, *os.File, *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buckets[bucket]
	if b == nil {
		return nil, nil, errNoSuchBucket(bucket)
	}
	o := b.objects[key]
	if o == nil {
		return nil, nil, errNoSuchKey()
	}
	f, err := os.Open(st.objectData(bucket, key))
	if err != nil {
		return nil, nil, errf(500, "InternalError", "%v", err)
	}
	return o, f, nil
}

func (st *store) deleteObject(bucket, key string) *apiError {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buckets[bucket]
	if b == nil {
		return errNoSuchBucket(bucket)
	}
	if _, ok := b.objects[key]; !ok {
		return nil
	}
	delete(b.objects, key)
	_ = os.Remove(st.objectMeta(bucket, key))
	_ = os.Remove(st.objectData(bucket, key))
	return nil
}

func (st *store) addUpload(u *uploadState) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buckets[u.Bucket]
	if b == nil {
		return errNoSuchBucket(u.Bucket)
	}
	if err := os.MkdirAll(filepath.Join(st.uploadDir(u), "parts"), 0o755); err != nil {
		return err
	}
	if err := st.writeJSON(filepath.Join(st.uploadDir(u), "upload.json"), u); err != nil {
		return err
	}
	u.parts = map[int]*partState{}
	b.uploads[u.ID] = u
	return nil
}

// upload looks up an open upload of bucket/key; call with st.mu held.
func (st *store) uploadLocked(bucket, key, id string) (*uploadState, *apiError) {
	b := st.buckets[bucket]
	if b == nil {
		return nil, errNoSuchBucket(bucket)
	}
	u := b.uploads[id]
	if u == nil || u.Key != key {
		return nil, errNoSuchUpload()
	}
	return u, nil
}

func (st *store) upload(bucket, key, id string) (*uploadState, *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.uploadLocked(bucket, key, id)
}

// uploadSnapshot returns a copy of an upload's state with its parts sorted.
func (st *store) uploadSnapshot(bucket, key, id string) (uploadState, []partState, *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	u, e := st.uploadLocked(bucket, key, id)
	if e != nil {
		return uploadState{}, nil, e
	}
	parts := make([]partState, 0, len(u.parts))
	for _, p := range u.parts {
		parts = append(parts, *p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	return *u, parts, nil
}

func (st *store) putPart(bucket, key, id string, p *partState, dataPath string) *apiError {
	st.mu.Lock()
	defer st.mu.Unlock()
	u, e := st.uploadLocked(bucket, key, id)
	if e != nil {
		_ = os.Remove(dataPath)
		return e
	}
	if u.completing {
		_ = os.Remove(dataPath)
		return errf(409, "OperationAborted", "The multipart upload is being completed.")
	}
	if err := os.Rename(dataPath, st.partData(u, p.Number)); err != nil {
		return errf(500, "InternalError", "%v", err)
	}
	if err := st.writeJSON(st.partMeta(u, p.Number), p); err != nil {
		return errf(500, "InternalError", "%v", err)
	}
	u.parts[p.Number] = p
	return nil
}

// removeUpload deletes an upload (abort, expiry, completion).
func (st *store) removeUpload(bucket, key, id string) *apiError {
	st.mu.Lock()
	defer st.mu.Unlock()
	u, e := st.uploadLocked(bucket, key, id)
	if e != nil {
		return e
	}
	st.removeUploadLocked(u)
	return nil
}

func (st *store) removeUploadLocked(u *uploadState) {
	delete(st.buckets[u.Bucket].uploads, u.ID)
	// Rename first so a restart never sees a half-deleted upload.
	trash := filepath.Join(st.tmpDir(), "trash-"+u.ID)
	if err := os.Rename(st.uploadDir(u), trash); err == nil {
		go os.RemoveAll(trash)
	} else {
		_ = os.RemoveAll(st.uploadDir(u))
	}
}

func (st *store) listUploads(bucket string) ([]uploadState, *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buckets[bucket]
	if b == nil {
		return nil, errNoSuchBucket(bucket)
	}
	out := make([]uploadState, 0, len(b.uploads))
	for _, u := range b.uploads {
		c := *u
		c.parts = nil
		out = append(out, c)
		out[len(out)-1].parts = map[int]*partState{}
		for n := range u.parts {
			out[len(out)-1].parts[n] = nil
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
