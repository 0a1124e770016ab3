package obslocal

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// SparseObject describes an object PutSparseObject creates.
type SparseObject struct {
	Bucket string
	Key    string
	Size   int64
	// PartSize, when > 0, makes the object one a multipart upload
	// assembled from parts of PartSize bytes (the last one smaller), as
	// every object over 5 GB on OBS is: its ETag is the multipart ETag
	// "<hex>-<N>" of those parts and HEAD returns x-obs-uploadId. 0 makes it
	// a single PUT (Size at most 5 GB) whose ETag is the MD5 of its bytes.
	PartSize int64
	// Metadata is the user metadata (x-obs-meta-*); names are stored
	// lower-case.
	Metadata    map[string]string
	ContentType string
}

// PutSparseObject stores an object of Size zero bytes out of band (no
// request, no counters) without writing them: its data file is sparse, and
// objects and parts copied from it stay sparse. Tests of sources over 5 GB
// (the CopyObject limit, part layouts, UploadPartCopy request counts) so
// need neither the disk space nor the I/O. To requests it is an ordinary
// object of zeros: GET returns the zeros, and every ETag, of the object
// and of the parts and objects copied from it, is what it would be for
// those bytes. Computing them hashes each distinct part length once
// (about a second per GiB).
func (s *Server) PutSparseObject(so SparseObject) (ObjectInfo, error) {
	etag, uploadID, err := s.sparseETag(so)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("obslocal: sparse object %s/%s: %w", so.Bucket, so.Key, err)
	}
	attrs := map[string]string{}
	for k, v := range so.Metadata {
		attrs["x-meta-"+strings.ToLower(k)] = v
	}
	if so.ContentType != "" {
		attrs["content-type"] = so.ContentType
	}
	path, err := s.st.sparseFile(so.Size)
	if err != nil {
		return ObjectInfo{}, err
	}
	o := &objectState{Key: so.Key, Size: so.Size, ETag: etag, LastModified: s.now(), Attrs: attrs, UploadID: uploadID, ZeroFilled: true}
	if err := s.st.putObject(so.Bucket, o, path); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return ObjectInfo{}, fmt.Errorf("obslocal: bucket %s: %w", so.Bucket, os.ErrNotExist)
		}
		return ObjectInfo{}, err
	}
	return objectInfoOf(o), nil
}

// sparseETag validates so against OBS's limits and returns the ETag of its
// zeros and, for a multipart object, an upload ID.
func (s *Server) sparseETag(so SparseObject) (etag, uploadID string, err error) {
	switch {
	case so.Key == "" || len(so.Key) > maxKeyLength:
		return "", "", fmt.Errorf("key must be 1 to %d bytes", maxKeyLength)
	case so.Size < 0 || so.PartSize < 0:
		return "", "", errors.New("size and part size must be >= 0")
	case so.PartSize == 0 && so.Size > maxPutSize:
		return "", "", fmt.Errorf("a single PUT holds at most %d bytes; set PartSize", int64(maxPutSize))
	case so.PartSize == 0:
		return hex.EncodeToString(s.st.zeroMD5(so.Size)), "", nil
	case so.Size == 0:
		return "", "", errors.New("a multipart object has at least one byte")
	case so.PartSize > maxPartSize:
		return "", "", fmt.Errorf("part size %d exceeds %d", so.PartSize, int64(maxPartSize))
	}
	n := (so.Size + so.PartSize - 1) / so.PartSize
	if n > 10000 {
		return "", "", fmt.Errorf("%d parts of %d bytes exceed 10000", n, so.PartSize)
	}
	if n > 1 && so.PartSize < s.cfg.MinPartSize {
		return "", "", fmt.Errorf("part size %d is below the minimum %d", so.PartSize, s.cfg.MinPartSize)
	}
	full, last := s.st.zeroMD5(so.PartSize), s.st.zeroMD5(so.Size-(n-1)*so.PartSize)
	h := md5.New()
	for i := int64(1); i < n; i++ {
		h.Write(full)
	}
	h.Write(last)
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.FormatInt(n, 10), s.st.newUploadID(s.now()), nil
}
