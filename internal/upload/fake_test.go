package upload

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// fakeOBS is an in-memory obs.Client with fault hooks. By default it stores
// part bytes; with trustMD5 it stores nothing, reads bodies only to count
// them, and takes Content-MD5 as the ETag (for large uploads).
type fakeOBS struct {
	trustMD5 bool

	mu           sync.Mutex
	uploads      map[string]*fakeUpload
	objects      map[string]*fakeObject
	seq          int
	calls        map[string]int
	partAttempts map[int]int   // UploadPart calls per part number
	partBytes    map[int]int64 // body bytes read per part number (all attempts)
	bodyBytes    int64         // body bytes read by UploadPart (all attempts)
	inflight     int
	maxInflight  int
	copiedBytes  int64                 // bytes copied by UploadPartCopy (all attempts)
	copySources  []obs.CopySource      // the source of every copy request
	copyInputs   []obs.CopyObjectInput // every CopyObject that copied

	// partHook runs before a part's body is read (without the lock). An
	// error is returned as the part's error; a *resetAfter first reads that
	// many bytes of the body.
	partHook func(ctx context.Context, in obs.UploadPartInput, attempt int) error
	// afterPart runs after a part was stored, before its ETag is returned.
	afterPart func(n int)
	// completeHook decides Complete's fate on each attempt.
	completeHook func(attempt int) completeFault
}

type completeFault struct {
	Before error // returned without completing
	After  error // returned after completing (a lost response)
}

// resetAfter makes a part read N bytes and then fail like a reset connection.
type resetAfter struct{ N int64 }

func (r *resetAfter) Error() string { return fmt.Sprintf("reset after %d bytes", r.N) }

type fakePart struct {
	size int64
	etag string
	data []byte
}

type fakeUpload struct {
	key       string
	id        string
	initiated time.Time
	parts     map[int]fakePart
	opts      obs.ObjectOptions
}

type fakeObject struct {
	etag     string
	uploadID string
	size     int64
	data     []byte
	sse      string
	version  string
	// synthetic, when set, makes the object one of size bytes that are not
	// stored (putSynthetic): copies derive their ETags from it.
	synthetic string
}

var _ obs.Client = (*fakeOBS)(nil)

func newFake() *fakeOBS {
	return &fakeOBS{
		uploads: map[string]*fakeUpload{}, objects: map[string]*fakeObject{},
		calls: map[string]int{}, partAttempts: map[int]int{}, partBytes: map[int]int64{},
	}
}

func obsErr(op, key string, status int, code string) *obs.Error {
	return &obs.Error{Op: op, Bucket: "b", Key: key, StatusCode: status, Code: code, Message: code, RequestID: "req-" + code}
}

func (f *fakeOBS) count(op string) {
	f.mu.Lock()
	f.calls[op]++
	f.mu.Unlock()
}

func (f *fakeOBS) callCount(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeOBS) bytesRead() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodyBytes
}

func (f *fakeOBS) resetCounters() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
	f.partAttempts = map[int]int{}
	f.partBytes = map[int]int64{}
	f.bodyBytes = 0
	f.maxInflight = 0
	f.copiedBytes = 0
	f.copySources = nil
	f.copyInputs = nil
}

func (f *fakeOBS) InitiateMultipartUpload(ctx context.Context, in obs.InitiateInput) (string, error) {
	f.count("Initiate")
	if err := ctx.Err(); err != nil {
		return "", &obs.Error{Op: "InitiateMultipartUpload", Key: in.Key, Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := "upload-" + strconv.Itoa(f.seq)
	f.uploads[id] = &fakeUpload{key: in.Key, id: id, initiated: time.Unix(int64(f.seq), 0), parts: map[int]fakePart{}, opts: in.Options}
	return id, nil
}

// readBody reads in.Size bytes of the part body, counting them, and returns
// the MD5 and (unless trustMD5) the bytes.
func (f *fakeOBS) readBody(r io.ReaderAt, off, size int64, n int, limit int64) (md5Sum, []byte, int64, error) {
	var sum md5Sum
	src := io.Reader(io.NewSectionReader(r, off, size))
	if limit >= 0 && limit < size {
		src = io.LimitReader(src, limit)
	}
	var buf bytes.Buffer
	h := md5.New()
	dst := io.MultiWriter(h, &buf)
	if f.trustMD5 {
		dst = io.Discard
	}
	read, err := io.CopyBuffer(dst, src, make([]byte, 32<<10))
	f.mu.Lock()
	f.bodyBytes += read
	f.partBytes[n] += read
	f.mu.Unlock()
	if err != nil {
		return sum, nil, read, err
	}
	h.Sum(sum[:0])
	if f.trustMD5 {
		return sum, nil, read, nil
	}
	return sum, buf.Bytes(), read, nil
}

func (f *fakeOBS) UploadPart(ctx context.Context, in obs.UploadPartInput) (string, error) {
	f.mu.Lock()
	f.calls["UploadPart"]++
	f.partAttempts[in.PartNumber]++
	attempt := f.partAttempts[in.PartNumber]
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	_, ok := f.uploads[in.UploadID]
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if !ok {
		return "", obsErr("UploadPart", in.Key, http.StatusNotFound, "NoSuchUpload")
	}
	limit := int64(-1)
	if f.partHook != nil {
		if err := f.partHook(ctx, in, attempt); err != nil {
			var ra *resetAfter
			if !errors.As(err, &ra) {
				return "", err
			}
			limit = ra.N
		}
	}
	if err := ctx.Err(); err != nil {
		return "", &obs.Error{Op: "UploadPart", Key: in.Key, Err: err}
	}
	sum, data, read, err := f.readBody(in.Body, in.Offset, in.Size, in.PartNumber, limit)
	if err != nil {
		return "", &obs.Error{Op: "UploadPart", Key: in.Key, Err: err}
	}
	if limit >= 0 && read < in.Size {
		return "", &obs.Error{Op: "UploadPart", Key: in.Key, Err: syscall.ECONNRESET}
	}
	if err := ctx.Err(); err != nil { // the request was cut before the server answered
		return "", &obs.Error{Op: "UploadPart", Key: in.Key, Err: err}
	}
	if f.trustMD5 {
		copy(sum[:], in.ContentMD5)
	} else if !bytes.Equal(sum[:], in.ContentMD5) {
		return "", obsErr("UploadPart", in.Key, http.StatusBadRequest, "BadDigest")
	}
	etag := hex.EncodeToString(sum[:])
	f.mu.Lock()
	up, ok := f.uploads[in.UploadID]
	if ok {
		up.parts[in.PartNumber] = fakePart{size: in.Size, etag: etag, data: data}
	}
	f.mu.Unlock()
	if !ok {
		return "", obsErr("UploadPart", in.Key, http.StatusNotFound, "NoSuchUpload")
	}
	if f.afterPart != nil {
		f.afterPart(in.PartNumber)
	}
	return `"` + etag + `"`, nil
}

// putPart stores a part directly (a foreign writer, not through the engine).
func (f *fakeOBS) putPart(id string, n int, data []byte) {
	sum := md5.Sum(data)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads[id].parts[n] = fakePart{size: int64(len(data)), etag: hex.EncodeToString(sum[:]), data: slices.Clone(data)}
}

func (f *fakeOBS) ListParts(ctx context.Context, in obs.ListPartsInput) ([]obs.Part, error) {
	f.count("ListParts")
	if err := ctx.Err(); err != nil {
		return nil, &obs.Error{Op: "ListParts", Key: in.Key, Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	up, ok := f.uploads[in.UploadID]
	if !ok {
		return nil, obsErr("ListParts", in.Key, http.StatusNotFound, "NoSuchUpload")
	}
	var out []obs.Part
	for n, p := range up.parts {
		out = append(out, obs.Part{Number: n, Size: p.size, ETag: p.etag})
	}
	slices.SortFunc(out, func(a, b obs.Part) int { return a.Number - b.Number })
	return out, nil
}

func (f *fakeOBS) ListUploads(ctx context.Context, bucket, key string) ([]obs.Upload, error) {
	f.count("ListUploads")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []obs.Upload
	for _, up := range f.uploads {
		if up.key == key {
			out = append(out, obs.Upload{Key: up.key, UploadID: up.id, Initiated: up.initiated})
		}
	}
	slices.SortFunc(out, func(a, b obs.Upload) int { return a.Initiated.Compare(b.Initiated) })
	return out, nil
}

func (f *fakeOBS) CompleteMultipartUpload(ctx context.Context, in obs.CompleteInput) (obs.CompleteOutput, error) {
	f.mu.Lock()
	f.calls["Complete"]++
	attempt := f.calls["Complete"]
	f.mu.Unlock()
	var fault completeFault
	if f.completeHook != nil {
		fault = f.completeHook(attempt)
	}
	if fault.Before != nil {
		return obs.CompleteOutput{}, fault.Before
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	up, ok := f.uploads[in.UploadID]
	if !ok {
		return obs.CompleteOutput{}, obsErr("CompleteMultipartUpload", in.Key, http.StatusNotFound, "NoSuchUpload")
	}
	h := md5.New()
	var data []byte
	var size int64
	for i, p := range in.Parts {
		sp, ok := up.parts[p.Number]
		if !ok || sp.etag != normETag(p.ETag) {
			return obs.CompleteOutput{}, obsErr("CompleteMultipartUpload", in.Key, http.StatusBadRequest, "InvalidPart")
		}
		if i > 0 && in.Parts[i-1].Number >= p.Number {
			return obs.CompleteOutput{}, obsErr("CompleteMultipartUpload", in.Key, http.StatusBadRequest, "InvalidPartOrder")
		}
		if i < len(in.Parts)-1 && sp.size < MinPartSize {
			return obs.CompleteOutput{}, obsErr("CompleteMultipartUpload", in.Key, http.StatusBadRequest, "EntityTooSmall")
		}
		b, _ := hex.DecodeString(sp.etag)
		h.Write(b)
		data = append(data, sp.data...)
		size += sp.size
	}
	obj := &fakeObject{etag: hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(in.Parts)), uploadID: in.UploadID, size: size, data: data}
	if up.opts.SSEKMS {
		obj.sse = "kms"
		obj.etag = "opaque-" + in.UploadID
	}
	f.seq++
	obj.version = "v" + strconv.Itoa(f.seq)
	f.objects[in.Key] = obj
	delete(f.uploads, in.UploadID)
	if fault.After != nil {
		return obs.CompleteOutput{}, fault.After
	}
	return obs.CompleteOutput{ETag: obj.etag, VersionID: obj.version}, nil
}

func (f *fakeOBS) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	f.count("Abort")
	if err := ctx.Err(); err != nil {
		return &obs.Error{Op: "AbortMultipartUpload", Key: key, Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.uploads[uploadID]; !ok {
		return obsErr("AbortMultipartUpload", key, http.StatusNotFound, "NoSuchUpload")
	}
	delete(f.uploads, uploadID)
	return nil
}

func (f *fakeOBS) HeadObject(ctx context.Context, in obs.HeadInput) (obs.ObjectInfo, error) {
	f.count("Head")
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[in.Key]
	if !ok {
		return obs.ObjectInfo{}, obsErr("HeadObject", in.Key, http.StatusNotFound, "")
	}
	return obs.ObjectInfo{Size: o.size, ETag: o.etag, UploadID: o.uploadID, SSE: o.sse, VersionID: o.version}, nil
}

func (f *fakeOBS) ListObject(ctx context.Context, bucket, key string) (obs.ObjectInfo, error) {
	f.count("List")
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[key]
	if !ok {
		return obs.ObjectInfo{}, obsErr("ListObjects", key, http.StatusNotFound, "NoSuchKey")
	}
	return obs.ObjectInfo{Size: o.size, ETag: o.etag}, nil
}

func (f *fakeOBS) DeleteObject(ctx context.Context, bucket, key string) error {
	f.count("Delete")
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects, key)
	return nil
}

func (f *fakeOBS) PutObject(ctx context.Context, in obs.PutObjectInput) (obs.PutObjectOutput, error) {
	f.count("PutObject")
	if err := ctx.Err(); err != nil {
		return obs.PutObjectOutput{}, &obs.Error{Op: "PutObject", Key: in.Key, Err: err}
	}
	sum, data, _, err := f.readBody(in.Body, 0, in.Size, 0, -1)
	if err != nil {
		return obs.PutObjectOutput{}, &obs.Error{Op: "PutObject", Key: in.Key, Err: err}
	}
	if f.trustMD5 {
		copy(sum[:], in.ContentMD5)
	} else if !bytes.Equal(sum[:], in.ContentMD5) {
		return obs.PutObjectOutput{}, obsErr("PutObject", in.Key, http.StatusBadRequest, "BadDigest")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	o := &fakeObject{etag: hex.EncodeToString(sum[:]), size: in.Size, data: data, version: "v" + strconv.Itoa(f.seq)}
	f.objects[in.Key] = o
	return obs.PutObjectOutput{ETag: o.etag, VersionID: o.version}, nil
}

func (f *fakeOBS) object(key string) *fakeObject {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects[key]
}

func (f *fakeOBS) uploadIDs(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id, up := range f.uploads {
		if up.key == key {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
