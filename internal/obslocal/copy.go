package obslocal

import (
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Server-side copies, as the OBS API reference describes them: CopyObject
// (PUT /key with x-obs-copy-source) and Upload Part - Copy (PUT
// /key?partNumber&uploadId with x-obs-copy-source and
// x-obs-copy-source-range). The S3-compatible signatures use the same
// headers with x-amz-. A copy sends no body; its data come from the source.

// maxCopySize is the largest source CopyObject copies; larger objects are
// copied in parts.
const maxCopySize = 5 << 30

// copySource is the object a copy reads, from its copy-source header.
type copySource struct{ bucket, key, versionID string }

// parseCopySource parses "[/]bucket/key[?versionId=ID]", the key
// URL-encoded. It decodes as the official SDKs encode (url.QueryEscape: a
// space is "+" or "%20", a plus sign "%2B"), as versitygw decodes too.
func parseCopySource(v string) (copySource, *apiError) {
	v = strings.TrimPrefix(v, "/")
	path, version, _ := strings.Cut(v, "?versionId=")
	dec, err := url.QueryUnescape(path)
	if err != nil {
		return copySource{}, errInvalidArgument("The copy source %q is not validly URL-encoded.", v)
	}
	b, k, _ := strings.Cut(dec, "/")
	if b == "" || k == "" {
		return copySource{}, errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	return copySource{bucket: b, key: k, versionID: version}, nil
}

// openSource opens the source of a copy request and checks what the
// request says about it: its version, its SSE-C key and the copy
// conditions. The caller closes the file, which keeps the source's bytes
// as they were checked even if the object is replaced meanwhile.
func (s *Server) openSource(r *http.Request, p string) (copySource, *objectState, *os.File, *apiError) {
	src, e := parseCopySource(r.Header.Get(p + "copy-source"))
	if e != nil {
		return src, nil, nil, e
	}
	o, f, e := s.st.openObject(src.bucket, src.key)
	if e != nil {
		return src, nil, nil, e
	}
	e = checkVersion(src.versionID)
	if e == nil {
		e = checkSourceSSEC(r, p, o)
	}
	if e == nil {
		e = checkCopyConditions(r, p, o, s.now())
	}
	if e != nil {
		f.Close()
		return src, nil, nil, e
	}
	return src, o, f, nil
}

// checkSourceSSEC checks the copy-source SSE-C headers: an SSE-C source
// needs its key, any other source none.
func checkSourceSSEC(r *http.Request, p string, o *objectState) *apiError {
	cp := p + "copy-source-"
	if md := o.Attrs["x-server-side-encryption-customer-key-md5"]; md != "" {
		return checkSSEC(r, cp, md)
	}
	for _, n := range []string{"algorithm", "key", "key-md5"} {
		if r.Header.Get(cp+"server-side-encryption-customer-"+n) != "" {
			return errf(http.StatusBadRequest, "InvalidRequest", "The encryption parameters are not applicable to this object: the copy source is not encrypted with SSE-C.")
		}
	}
	return nil
}

// checkCopyConditions evaluates the copy-source-if-* headers against the
// source: any condition that does not hold fails the copy with 412
// PreconditionFailed. A date in the future, or one that does not parse,
// does not take effect (OBS API reference, Copying an Object).
func checkCopyConditions(r *http.Request, p string, o *objectState, now time.Time) *apiError {
	failed := func(h string) *apiError {
		e := errf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
		e.Extra = [][2]string{{"Condition", h}}
		return e
	}
	modified := o.LastModified.Truncate(time.Second) // HTTP dates have whole seconds
	if h := p + "copy-source-if-match"; r.Header.Get(h) != "" && !etagListMatches(r.Header.Get(h), o.ETag) {
		return failed(h)
	}
	if h := p + "copy-source-if-none-match"; r.Header.Get(h) != "" && etagListMatches(r.Header.Get(h), o.ETag) {
		return failed(h)
	}
	if h := p + "copy-source-if-unmodified-since"; r.Header.Get(h) != "" {
		if t, ok := parseHTTPDate(r.Header.Get(h)); ok && !t.After(now) && modified.After(t) {
			return failed(h)
		}
	}
	if h := p + "copy-source-if-modified-since"; r.Header.Get(h) != "" {
		if t, ok := parseHTTPDate(r.Header.Get(h)); ok && !t.After(now) && !modified.After(t) {
			return failed(h)
		}
	}
	return nil
}

// etagListMatches reports whether a comma-separated list of ETags (quoted
// or not) or "*" names etag (unquoted).
func etagListMatches(list, etag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if v == "*" || strings.EqualFold(v, etag) {
			return true
		}
	}
	return false
}

// parseCopyRange parses a copy-source-range header, "bytes=first-last"
// with zero-based inclusive offsets, against a source of size bytes and
// returns the offset and length to copy; no header means the whole source.
// A malformed range is 400 InvalidArgument; one beyond the source is 416
// InvalidRange, OBS's code for a range that cannot be obtained.
func parseCopyRange(r *http.Request, p string, size int64) (off, n int64, e *apiError) {
	h := p + "copy-source-range"
	v := r.Header.Get(h)
	if v == "" {
		return 0, size, nil
	}
	spec, ok := strings.CutPrefix(v, "bytes=")
	a, b, ok2 := strings.Cut(spec, "-")
	first, err1 := parseOffset(a)
	last, err2 := parseOffset(b)
	if !ok || !ok2 || err1 != nil || err2 != nil || last < first {
		return 0, 0, errInvalidArgument("The %s %q is not valid: it must be bytes=first-last with 0 <= first <= last.", h, v)
	}
	if last >= size {
		return 0, 0, errf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange",
			"The requested range cannot be obtained: %s %q of a source of %d bytes.", h, v, size)
	}
	return first, last - first + 1, nil
}

// parseOffset parses a byte offset: decimal digits only.
func parseOffset(v string) (int64, error) {
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("offset %q is not a decimal number", v)
	}
	return strconv.ParseInt(v, 10, 64)
}

// refuseBody fails a copy request that carries a body, as OBS does.
func refuseBody(r *http.Request) *apiError {
	n, err := io.CopyN(io.Discard, r.Body, 1)
	if n > 0 {
		return errf(http.StatusBadRequest, "MaxMessageLengthExceeded", "Copying an object does not require a message body in the request.")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return bodyError(err, nil)
	}
	return nil
}

// directive reads a metadata or tagging directive: false for COPY (the
// default), true for REPLACE.
func directive(r *http.Request, name string) (replace bool, e *apiError) {
	switch v := r.Header.Get(name); v {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	default:
		return false, errInvalidArgument("Unknown %s %q: it must be COPY or REPLACE.", name, v)
	}
}

// isMetadataAttr reports whether an attribute is object metadata in the
// sense of the metadata directive: the standard headers (Content-Type…)
// and the user metadata. ACL, storage class, encryption, website redirect
// and the others always come from the request, as on OBS.
func isMetadataAttr(k string) bool {
	return strings.HasPrefix(k, "x-meta-") || slices.Contains(stdAttrs, k)
}

// copiedAttrs are a copy's attributes: the request's, with the source's
// metadata instead under metadata directive COPY and the source's tags
// instead under tagging directive COPY.
func copiedAttrs(req, src map[string]string, replaceMeta, replaceTags bool) map[string]string {
	fromSource := func(k string) bool {
		return !replaceMeta && isMetadataAttr(k) || !replaceTags && k == "x-tagging"
	}
	a := map[string]string{}
	for k, v := range req {
		if !fromSource(k) {
			a[k] = v
		}
	}
	for k, v := range src {
		if fromSource(k) {
			a[k] = v
		}
	}
	return a
}

// changesObject reports whether a copy of an object onto itself under
// metadata directive COPY changes anything OBS lets such a copy change.
func changesObject(req map[string]string) bool {
	for _, k := range []string{"x-storage-class", "x-website-redirect-location", "x-server-side-encryption", "x-server-side-encryption-customer-algorithm"} {
		if req[k] != "" {
			return true
		}
	}
	return false
}

// copyRange copies n bytes of an open source from off into a new file in
// tmp/ and returns it with the MD5 of the bytes. A zero-filled source
// gives a sparse file without reading or writing the zeros.
func (s *Server) copyRange(op Op, o *objectState, f *os.File, off, n int64) (string, []byte, *apiError) {
	var path string
	var sum []byte
	var err error
	if o.ZeroFilled {
		if path, err = s.st.sparseFile(n); err == nil {
			sum = s.st.zeroMD5(n)
		}
	} else {
		var size int64
		path, size, sum, err = s.st.receive(io.NewSectionReader(f, off, n), n)
		if err == nil && size != n {
			_ = os.Remove(path)
			err = fmt.Errorf("the source ended after %d of %d bytes", size, n)
		}
	}
	if err != nil {
		return "", nil, errf(http.StatusInternalServerError, "InternalError", "copying from the source: %v", err)
	}
	s.stats.op(op).copiedBytes.Add(n)
	return path, sum, nil
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

func (s *Server) copyObject(w http.ResponseWriter, r *http.Request, rt route, auth authResult) *apiError {
	p := auth.mode.prefix()
	if e := refuseBody(r); e != nil {
		return e
	}
	replaceMeta, e := directive(r, p+"metadata-directive")
	if e != nil {
		return e
	}
	replaceTags, e := directive(r, p+"tagging-directive")
	if e != nil {
		return e
	}
	attrs, e := s.recordAttrs(r, auth.mode)
	if e != nil {
		return e
	}
	src, o, f, e := s.openSource(r, p)
	if e != nil {
		return e
	}
	defer f.Close()
	if o.Size > maxCopySize {
		return errf(http.StatusBadRequest, "EntityTooLarge", "The specified copy source is larger than the maximum allowable size for a copy source: %d.", int64(maxCopySize))
	}
	if src.bucket == rt.bucket && src.key == rt.key && !replaceMeta && !changesObject(attrs) {
		return errf(http.StatusBadRequest, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	attrs = copiedAttrs(attrs, o.Attrs, replaceMeta, replaceTags)
	path, sum, e := s.copyRange(OpCopyObject, o, f, 0, o.Size)
	if e != nil {
		return e
	}
	if encrypted(attrs) {
		sum = sseETag(sum)
	}
	obj := &objectState{Key: rt.key, Size: o.Size, ETag: hex.EncodeToString(sum), LastModified: s.now(), Attrs: attrs, ZeroFilled: o.ZeroFilled}
	if err := s.st.putObject(rt.bucket, obj, path); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae
		}
		return errf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	sseEcho(w.Header(), attrs, auth.mode)
	writeXML(w, copyObjectResult{Xmlns: xmlns, LastModified: obj.LastModified.Format(xmlTime), ETag: `"` + obj.ETag + `"`})
	return nil
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

func (s *Server) uploadPartCopy(w http.ResponseWriter, r *http.Request, rt route, auth authResult) *apiError {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
	}
	p := auth.mode.prefix()
	if e := refuseBody(r); e != nil {
		return e
	}
	_, o, f, e := s.openSource(r, p)
	if e != nil {
		return e
	}
	defer f.Close()
	id := q.Get("uploadId")
	u, e := s.st.upload(rt.bucket, rt.key, id)
	if e != nil {
		return e
	}
	if e := checkPartSSEC(r, p, u); e != nil {
		return e
	}
	off, size, e := parseCopyRange(r, p, o.Size)
	if e != nil {
		return e
	}
	if size > maxPartSize {
		return errf(http.StatusBadRequest, "EntityTooLarge", "The part to copy is %d bytes, larger than the maximum part size (5 GB).", size)
	}
	path, sum, e := s.copyRange(OpUploadPartCopy, o, f, off, size)
	if e != nil {
		return e
	}
	if u.sse() {
		sum = sseETag(sum)
	}
	ps := &partState{Number: n, ETag: hex.EncodeToString(sum), Size: size, LastModified: s.now(), ZeroFilled: o.ZeroFilled}
	if e := s.st.putPart(rt.bucket, rt.key, id, ps, path); e != nil {
		return e
	}
	sseEcho(w.Header(), u.Attrs, auth.mode)
	writeXML(w, copyPartResult{Xmlns: xmlns, LastModified: ps.LastModified.Format(xmlTime), ETag: `"` + ps.ETag + `"`})
	return nil
}
