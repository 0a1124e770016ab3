package upload

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// The fake copies server-side as OBS does: CopyObject up to 5 GiB, and
// UploadPartCopy of a byte range into a part, both under the source's
// if-match, without a request body. A synthetic object (putSynthetic) has a
// size but no bytes; its parts' ETags are derived from its seed and range,
// so that copies of terabytes cost nothing.

// putSynthetic stores an object of size bytes without data, as if uploaded
// in parts of partSize (0: a single PUT), and returns its ETag.
func (f *fakeOBS) putSynthetic(key string, size, partSize int64, seed string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := &fakeObject{size: size, synthetic: seed}
	if partSize == 0 {
		o.etag = syntheticETag(seed, 0, size)
	} else {
		l := Layout{Size: size, PartSize: partSize, Parts: int(ceilDiv(size, partSize))}
		etags := make([]string, l.Parts)
		for n := 1; n <= l.Parts; n++ {
			off, sz := l.Part(n)
			etags[n-1] = syntheticETag(seed, off, sz)
		}
		o.etag, _ = multipartETag(etags)
		o.uploadID = "synthetic-" + seed
	}
	f.seq++
	o.version = "v" + strconv.Itoa(f.seq)
	f.objects[key] = o
	return o.etag
}

// putObjectData stores an object holding data, as a single PUT would.
func (f *fakeOBS) putObjectData(key string, data []byte) string {
	sum := md5.Sum(data)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	f.objects[key] = &fakeObject{etag: hex.EncodeToString(sum[:]), size: int64(len(data)), data: slices.Clone(data), version: "v" + strconv.Itoa(f.seq)}
	return f.objects[key].etag
}

func syntheticETag(seed string, off, size int64) string {
	sum := md5.Sum([]byte(fmt.Sprintf("%s:%d:%d", seed, off, size)))
	return hex.EncodeToString(sum[:])
}

// rangeOf returns the ETag and bytes of size bytes of o from off.
func (o *fakeObject) rangeOf(off, size int64) (string, []byte) {
	if o.synthetic != "" {
		return syntheticETag(o.synthetic, off, size), nil
	}
	b := slices.Clone(o.data[off : off+size])
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:]), b
}

// copySourceLocked returns the source object of a copy request after
// checking its version and if-match condition; f.mu is held.
func (f *fakeOBS) copySourceLocked(op string, key string, src obs.CopySource) (*fakeObject, error) {
	f.copySources = append(f.copySources, src)
	o, ok := f.objects[src.Key]
	switch {
	case !ok:
		return nil, obsErr(op, key, http.StatusNotFound, "NoSuchKey")
	case src.VersionID != "" && src.VersionID != o.version:
		return nil, obsErr(op, key, http.StatusNotFound, "NoSuchVersion")
	case src.IfMatch != "" && normETag(src.IfMatch) != o.etag:
		return nil, obsErr(op, key, http.StatusPreconditionFailed, "PreconditionFailed")
	}
	return o, nil
}

// CopyObject implements obs.Client.
func (f *fakeOBS) CopyObject(ctx context.Context, in obs.CopyObjectInput) (obs.CopyObjectOutput, error) {
	f.count("CopyObject")
	if err := ctx.Err(); err != nil {
		return obs.CopyObjectOutput{}, &obs.Error{Op: "CopyObject", Key: in.Key, Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	src, err := f.copySourceLocked("CopyObject", in.Key, in.Source)
	if err != nil {
		return obs.CopyObjectOutput{}, err
	}
	if src.size > MaxSinglePutSize {
		return obs.CopyObjectOutput{}, obsErr("CopyObject", in.Key, http.StatusBadRequest, "EntityTooLarge")
	}
	etag, data := src.rangeOf(0, src.size)
	obj := &fakeObject{etag: etag, size: src.size, data: data, synthetic: src.synthetic}
	if in.Options.SSEKMS {
		obj.sse, obj.etag = "kms", "opaque-copy"
	}
	f.seq++
	obj.version = "v" + strconv.Itoa(f.seq)
	f.objects[in.Key] = obj
	f.copyInputs = append(f.copyInputs, in)
	return obs.CopyObjectOutput{ETag: obj.etag, VersionID: obj.version, SourceVersionID: src.version}, nil
}

// UploadPartCopy implements obs.Client. partHook runs for it too (its
// UploadPartInput has the part's key, upload and number), and afterPart.
func (f *fakeOBS) UploadPartCopy(ctx context.Context, in obs.UploadPartCopyInput) (string, error) {
	f.mu.Lock()
	f.calls["UploadPartCopy"]++
	f.partAttempts[in.PartNumber]++
	attempt := f.partAttempts[in.PartNumber]
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if f.partHook != nil {
		if err := f.partHook(ctx, obs.UploadPartInput{Bucket: in.Bucket, Key: in.Key, UploadID: in.UploadID, PartNumber: in.PartNumber, Size: in.Size}, attempt); err != nil {
			return "", err
		}
	}
	if err := ctx.Err(); err != nil {
		return "", &obs.Error{Op: "UploadPartCopy", Key: in.Key, Err: err}
	}
	f.mu.Lock()
	up, ok := f.uploads[in.UploadID]
	if !ok {
		f.mu.Unlock()
		return "", obsErr("UploadPartCopy", in.Key, http.StatusNotFound, "NoSuchUpload")
	}
	src, err := f.copySourceLocked("UploadPartCopy", in.Key, in.Source)
	if err == nil && (in.Offset < 0 || in.Size < 1 || in.Offset+in.Size > src.size) {
		err = obsErr("UploadPartCopy", in.Key, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
	}
	if err == nil && in.Size > MaxPartSize {
		err = obsErr("UploadPartCopy", in.Key, http.StatusBadRequest, "EntityTooLarge")
	}
	if err != nil {
		f.mu.Unlock()
		return "", err
	}
	etag, data := src.rangeOf(in.Offset, in.Size)
	if up.opts.SSEKMS {
		etag = "opaque-part-" + strconv.Itoa(in.PartNumber)
	}
	up.parts[in.PartNumber] = fakePart{size: in.Size, etag: etag, data: data}
	f.copiedBytes += in.Size
	f.mu.Unlock()
	if f.afterPart != nil {
		f.afterPart(in.PartNumber)
	}
	return `"` + etag + `"`, nil
}
