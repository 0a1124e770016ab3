package obslocal

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// discardBody reads and discards up to n bytes of the request body.
func discardBody(r *http.Request, n int64) (int64, error) {
	return io.CopyN(io.Discard, r.Body, n)
}

const xmlns = "http://obs.myhwclouds.com/doc/2015-06-30/"

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rt route, auth authResult) {
	if rt.key != "" && len(rt.key) > maxKeyLength {
		drain(r)
		writeError(w, r, errf(http.StatusBadRequest, "KeyTooLongError", "Your key is too long: %d bytes, the maximum is %d.", len(rt.key), maxKeyLength))
		return
	}
	if rt.op != OpCreateBucket && s.st.bucket(rt.bucket) == nil {
		drain(r)
		writeError(w, r, errNoSuchBucket(rt.bucket))
		return
	}
	var e *apiError
	switch rt.op {
	case OpCreateBucket:
		e = s.createBucket(w, r, rt)
	case OpHeadBucket:
		w.WriteHeader(http.StatusOK)
	case OpDeleteBucket:
		e = s.deleteBucket(w, rt)
	case OpPutObject:
		e = s.putObject(w, r, rt, auth)
	case OpGetObject, OpHeadObject:
		e = s.getObject(w, r, rt, auth)
	case OpDeleteObject:
		e = s.st.deleteObject(rt.bucket, rt.key)
		if e == nil {
			w.WriteHeader(http.StatusNoContent)
		}
	case OpInitiateMultipartUpload:
		e = s.initiate(w, r, rt, auth)
	case OpUploadPart:
		e = s.uploadPart(w, r, rt, auth)
	case OpCopyObject:
		e = s.copyObject(w, r, rt, auth)
	case OpUploadPartCopy:
		e = s.uploadPartCopy(w, r, rt, auth)
	case OpListParts:
		e = s.listParts(w, r, rt)
	case OpListMultipartUploads:
		e = s.listUploads(w, r, rt)
	case OpListObjects:
		e = s.listObjects(w, r, rt, auth)
	case OpCompleteMultipartUpload:
		e = s.complete(w, r, rt, auth)
	case OpAbortMultipartUpload:
		e = s.st.removeUpload(rt.bucket, rt.key, r.URL.Query().Get("uploadId"))
		if e == nil {
			w.WriteHeader(http.StatusNoContent)
		}
	}
	if e != nil {
		drain(r)
		writeError(w, r, e)
	}
}

func (s *Server) createBucket(w http.ResponseWriter, r *http.Request, rt route) *apiError {
	if !validBucketName(rt.bucket) {
		return errf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
	}
	drain(r)
	created, err := s.st.createBucket(rt.bucket, s.now())
	if err != nil {
		return errf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	if !created {
		return errf(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
	}
	w.Header().Set("Location", "/"+rt.bucket)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteBucket(w http.ResponseWriter, rt route) *apiError {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	b := s.st.buckets[rt.bucket]
	if len(b.objects) > 0 || len(b.uploads) > 0 {
		return errf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
	}
	delete(s.st.buckets, rt.bucket)
	_ = os.RemoveAll(s.st.bucketDir(rt.bucket))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Object attributes are stored under mode-independent names: standard
// headers lower-case ("content-type"), prefixed ones as "x-<name>"
// ("x-acl", "x-meta-color"); they are written back with the prefix of the
// request reading them.

var stdAttrs = []string{"content-type", "content-encoding", "cache-control", "content-disposition", "content-language", "expires"}

var prefixedAttrs = []string{"acl", "grant-read", "grant-read-acp", "grant-write-acp", "grant-full-control",
	"storage-class", "website-redirect-location", "server-side-encryption", "server-side-encryption-kms-key-id",
	"server-side-encryption-customer-algorithm", "server-side-encryption-customer-key-md5", "expires", "tagging",
	"object-lock-mode", "object-lock-retain-until-date"}

var storageClasses = map[string]bool{"STANDARD": true, "WARM": true, "COLD": true, "DEEP_ARCHIVE": true, "INTELLIGENT_TIERING": true}

var cannedACLs = map[string]bool{"private": true, "public-read": true, "public-read-write": true,
	"public-read-delivered": true, "public-read-write-delivered": true, "bucket-owner-full-control": true, "authenticated-read": true}

func fromAmzStorageClass(v string) string {
	switch v {
	case "STANDARD_IA":
		return "WARM"
	case "GLACIER":
		return "COLD"
	}
	return v
}

func toAmzStorageClass(v string) string {
	switch v {
	case "WARM":
		return "STANDARD_IA"
	case "COLD":
		return "GLACIER"
	}
	return v
}

// recordAttrs validates and records the object attributes of a PUT or an
// Initiate request.
func (s *Server) recordAttrs(r *http.Request, mode sigMode) (map[string]string, *apiError) {
	a := map[string]string{}
	p := mode.prefix()
	for _, n := range stdAttrs {
		if v := r.Header.Get(n); v != "" {
			a[n] = v
		}
	}
	for _, n := range prefixedAttrs {
		hn := p + n
		if mode != modeOBS && n == "server-side-encryption-kms-key-id" {
			hn = "x-amz-server-side-encryption-aws-kms-key-id"
		}
		if v := r.Header.Get(hn); v != "" {
			a["x-"+n] = v
		}
	}
	metaSize := 0
	for name, vals := range r.Header {
		l := strings.ToLower(name)
		if m, ok := strings.CutPrefix(l, p+"meta-"); ok {
			v := strings.Join(vals, ",")
			a["x-meta-"+m] = v
			metaSize += len(m) + len(v)
		}
	}
	if metaSize > maxMetadataSize {
		return nil, errf(http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size: %d > %d bytes.", metaSize, maxMetadataSize)
	}
	if v, ok := a["x-storage-class"]; ok {
		if mode != modeOBS {
			v = fromAmzStorageClass(v)
		}
		if !storageClasses[v] {
			return nil, errf(http.StatusBadRequest, "InvalidStorageClass", "The storage class you specified is not valid: %s", v)
		}
		a["x-storage-class"] = v
	}
	if v, ok := a["x-acl"]; ok && !cannedACLs[v] {
		return nil, errInvalidArgument("Invalid canned ACL %q.", v)
	}
	if v, ok := a["x-server-side-encryption"]; ok {
		if mode != modeOBS && v == "aws:kms" {
			v = "kms"
		}
		if v != "kms" && v != "AES256" {
			return nil, errInvalidArgument("Invalid server-side encryption %q.", v)
		}
		a["x-server-side-encryption"] = v
	} else if _, ok := a["x-server-side-encryption-kms-key-id"]; ok {
		return nil, errInvalidArgument("A KMS key ID requires %sserver-side-encryption: kms.", p)
	}
	_, c1 := a["x-server-side-encryption-customer-algorithm"]
	_, c2 := a["x-server-side-encryption-customer-key-md5"]
	if c1 || c2 || r.Header.Get(p+"server-side-encryption-customer-key") != "" {
		if e := checkSSEC(r, p, ""); e != nil {
			return nil, e
		}
		if _, ok := a["x-server-side-encryption"]; ok {
			return nil, errInvalidArgument("SSE-C and SSE-KMS cannot be used together.")
		}
	}
	if v, ok := a["x-expires"]; ok {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return nil, errInvalidArgument("%sexpires must be a non-negative integer.", p)
		}
	}
	mode1, ok1 := a["x-object-lock-mode"]
	until, ok2 := a["x-object-lock-retain-until-date"]
	if ok1 || ok2 {
		if !ok1 || !ok2 {
			return nil, errInvalidArgument("%sobject-lock-mode and %sobject-lock-retain-until-date must be used together.", p, p)
		}
		if mode1 != "COMPLIANCE" {
			return nil, errInvalidArgument("Invalid object lock mode %q; only COMPLIANCE is supported.", mode1)
		}
		t, err := time.Parse(time.RFC3339, until)
		if err != nil || !t.After(s.now()) {
			return nil, errInvalidArgument("%sobject-lock-retain-until-date must be a future date (ISO 8601).", p)
		}
	}
	return a, nil
}

// hasSSECHeaders reports whether r carries any SSE-C header (of the object
// or of a copy source) in mode's prefix.
func hasSSECHeaders(r *http.Request, mode sigMode) bool {
	p := mode.prefix()
	for name := range r.Header {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, p+"server-side-encryption-customer-") || strings.HasPrefix(l, p+"copy-source-server-side-encryption-customer-") {
			return true
		}
	}
	return false
}

// errSSECNeedsHTTPS answers an SSE-C request sent over plain HTTP. OBS
// denies such requests (user guide, SSE-C, "Important Notes") without
// naming the error code; this is the code and message of the S3 API OBS
// mirrors, 400 InvalidRequest.
func errSSECNeedsHTTPS() *apiError {
	return errf(http.StatusBadRequest, "InvalidRequest", "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
}

// checkSSEC validates the SSE-C headers of a request; when wantMD5 is set
// the key must be the one the upload was initiated with.
func checkSSEC(r *http.Request, p, wantMD5 string) *apiError {
	alg := r.Header.Get(p + "server-side-encryption-customer-algorithm")
	key := r.Header.Get(p + "server-side-encryption-customer-key")
	keyMD5 := r.Header.Get(p + "server-side-encryption-customer-key-md5")
	if alg == "" || key == "" || keyMD5 == "" {
		return errf(http.StatusBadRequest, "InvalidRequest", "SSE-C requires the %sserver-side-encryption-customer-algorithm, -key and -key-MD5 headers.", p)
	}
	if alg != "AES256" {
		return errInvalidArgument("The SSE-C algorithm must be AES256.")
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return errInvalidArgument("The SSE-C key must be the base64 of 256 bits.")
	}
	sum := md5.Sum(raw)
	if base64.StdEncoding.EncodeToString(sum[:]) != keyMD5 {
		return errInvalidArgument("The SSE-C key MD5 does not match the key.")
	}
	if wantMD5 != "" && keyMD5 != wantMD5 {
		return errAccessDenied("The SSE-C key differs from the key the object or upload was created with.")
	}
	return nil
}

// objectHeaders writes the headers HEAD/GET return for o, in mode's prefix.
func objectHeaders(h http.Header, o *objectState, mode sigMode) {
	p := mode.prefix()
	h.Set("Content-Length", strconv.FormatInt(o.Size, 10))
	h.Set("ETag", `"`+o.ETag+`"`)
	h.Set("Last-Modified", o.LastModified.Format(http.TimeFormat))
	h.Set("Content-Type", "binary/octet-stream")
	for k, v := range o.Attrs {
		name, prefixed := strings.CutPrefix(k, "x-")
		if !prefixed {
			h.Set(k, v)
			continue
		}
		switch {
		case name == "storage-class" && mode != modeOBS:
			v = toAmzStorageClass(v)
		case name == "server-side-encryption-kms-key-id" && mode != modeOBS:
			name = "server-side-encryption-aws-kms-key-id"
		case name == "server-side-encryption" && mode != modeOBS && v == "kms":
			v = "aws:kms"
		}
		h[p+name] = []string{v}
	}
	if o.UploadID != "" {
		h[p+"uploadId"] = []string{o.UploadID}
	}
}

// md5Digest parses a Content-MD5 header; nil when absent.
func md5Digest(r *http.Request) ([]byte, *apiError) {
	v := r.Header.Get("Content-MD5")
	if v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != md5.Size {
		return nil, errf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified is not valid.")
	}
	return b, nil
}

// bodyError maps a failure while receiving a body to an OBS error.
func bodyError(err error, tooLarge *apiError) *apiError {
	switch {
	case errors.Is(err, errTooLarge):
		return tooLarge
	case errors.Is(err, errPayloadHash):
		return errf(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errf(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	default:
		return errf(http.StatusBadRequest, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period: %v", err)
	}
}

// sseETag is the ETag of data stored with server-side encryption: not the
// MD5 of the content, as on OBS.
func sseETag(sum []byte) []byte {
	h := md5.New()
	h.Write(sum)
	h.Write([]byte("obslocal-sse"))
	return h.Sum(nil)
}

func (s *Server) putObject(w http.ResponseWriter, r *http.Request, rt route, auth authResult) *apiError {
	tooLarge := errf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size (5 GB for a single PUT).")
	if r.ContentLength > maxPutSize {
		return tooLarge
	}
	attrs, e := s.recordAttrs(r, auth.mode)
	if e != nil {
		return e
	}
	path, size, sum, e := s.receiveVerified(r, maxPutSize, tooLarge)
	if e != nil {
		return e
	}
	etag := sum
	if encrypted(attrs) {
		etag = sseETag(sum)
	}
	o := &objectState{Key: rt.key, Size: size, ETag: hex.EncodeToString(etag), LastModified: s.now(), Attrs: attrs}
	if err := s.st.putObject(rt.bucket, o, path); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae
		}
		return errf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	w.Header().Set("ETag", `"`+o.ETag+`"`)
	sseEcho(w.Header(), attrs, auth.mode)
	w.WriteHeader(http.StatusOK)
	return nil
}

// sseEcho echoes the SSE headers of an object or upload in a response.
func sseEcho(h http.Header, attrs map[string]string, mode sigMode) {
	o := &objectState{Attrs: map[string]string{}}
	for _, n := range []string{"x-server-side-encryption", "x-server-side-encryption-kms-key-id",
		"x-server-side-encryption-customer-algorithm", "x-server-side-encryption-customer-key-md5"} {
		if v, ok := attrs[n]; ok {
			o.Attrs[n] = v
		}
	}
	tmp := http.Header{}
	objectHeaders(tmp, o, mode)
	for k, v := range tmp {
		if strings.HasPrefix(strings.ToLower(k), mode.prefix()) {
			h[k] = v
		}
	}
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, rt route, auth authResult) *apiError {
	o, f, e := s.st.openObject(rt.bucket, rt.key)
	if e != nil {
		return e
	}
	defer f.Close()
	if e := checkVersion(r.URL.Query().Get("versionId")); e != nil {
		return e
	}
	if md := o.Attrs["x-server-side-encryption-customer-key-md5"]; md != "" {
		if e := checkSSEC(r, auth.mode.prefix(), md); e != nil {
			return e
		}
	}
	objectHeaders(w.Header(), o, auth.mode)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	w.Header().Del("Content-Length")
	http.ServeContent(w, r, "", o.LastModified, f)
	return nil
}

// checkVersion checks a requested version ID. The server keeps no
// versions: as in a bucket that never had versioning, the current object's
// version is "null" and no other exists.
func checkVersion(id string) *apiError {
	if id != "" && id != "null" {
		return errNoSuchVersion()
	}
	return nil
}

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (s *Server) initiate(w http.ResponseWriter, r *http.Request, rt route, auth authResult) *apiError {
	attrs, e := s.recordAttrs(r, auth.mode)
	if e != nil {
		return e
	}
	drain(r)
	now := s.now()
	u := &uploadState{Bucket: rt.bucket, Key: rt.key, ID: s.st.newUploadID(now), Initiated: now, Attrs: attrs}
	if err := s.st.addUpload(u); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae
		}
		return errf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	sseEcho(w.Header(), attrs, auth.mode)
	writeXML(w, initiateResult{Xmlns: xmlns, Bucket: rt.bucket, Key: rt.key, UploadID: u.ID})
	return nil
}

func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, rt route, auth authResult) *apiError {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
	}
	id := q.Get("uploadId")
	u, e := s.st.upload(rt.bucket, rt.key, id)
	if e != nil {
		return e
	}
	if e := checkPartSSEC(r, auth.mode.prefix(), u); e != nil {
		return e
	}
	tooLarge := errf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum part size (5 GB).")
	if r.ContentLength > maxPartSize {
		return tooLarge
	}
	path, size, sum, e := s.receiveVerified(r, maxPartSize, tooLarge)
	if e != nil {
		return e
	}
	etag := sum
	if u.sse() {
		etag = sseETag(sum)
	}
	ps := &partState{Number: n, ETag: hex.EncodeToString(etag), Size: size, LastModified: s.now()}
	if e := s.st.putPart(rt.bucket, rt.key, id, ps, path); e != nil {
		return e
	}
	w.Header().Set("ETag", `"`+ps.ETag+`"`)
	sseEcho(w.Header(), u.Attrs, auth.mode)
	w.WriteHeader(http.StatusOK)
	return nil
}

// checkPartSSEC checks the SSE-C headers of a part against its upload:
// the upload's key for an SSE-C upload, none otherwise.
func checkPartSSEC(r *http.Request, p string, u *uploadState) *apiError {
	if md := u.Attrs["x-server-side-encryption-customer-key-md5"]; md != "" {
		return checkSSEC(r, p, md)
	}
	if r.Header.Get(p+"server-side-encryption-customer-algorithm") != "" || r.Header.Get(p+"server-side-encryption-customer-key") != "" {
		return errInvalidArgument("The upload was not initiated with SSE-C; do not send SSE-C headers with its parts.")
	}
	return nil
}

type xmlOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

type xmlPart struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

type listPartsResult struct {
	XMLName              xml.Name  `xml:"ListPartsResult"`
	Xmlns                string    `xml:"xmlns,attr"`
	Bucket               string    `xml:"Bucket"`
	Key                  string    `xml:"Key"`
	UploadID             string    `xml:"UploadId"`
	Initiator            xmlOwner  `xml:"Initiator"`
	Owner                xmlOwner  `xml:"Owner"`
	StorageClass         string    `xml:"StorageClass"`
	PartNumberMarker     int       `xml:"PartNumberMarker"`
	NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
	MaxParts             int       `xml:"MaxParts"`
	IsTruncated          bool      `xml:"IsTruncated"`
	Parts                []xmlPart `xml:"Part"`
}

const xmlTime = "2006-01-02T15:04:05.000Z"

// intParam parses an optional non-negative integer query parameter.
func intParam(r *http.Request, name string, def int) (int, *apiError) {
	q := r.URL.Query()
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < 0 {
		return 0, errInvalidArgument("%s must be a non-negative integer.", name)
	}
	return n, nil
}

func (s *Server) listParts(w http.ResponseWriter, r *http.Request, rt route) *apiError {
	maxParts, e := intParam(r, "max-parts", 1000)
	if e != nil {
		return e
	}
	if maxParts > 1000 {
		maxParts = 1000
	}
	marker, e := intParam(r, "part-number-marker", 0)
	if e != nil {
		return e
	}
	u, parts, e := s.st.uploadSnapshot(rt.bucket, rt.key, r.URL.Query().Get("uploadId"))
	if e != nil {
		return e
	}
	sc := u.Attrs["x-storage-class"]
	if sc == "" {
		sc = "STANDARD"
	}
	res := listPartsResult{Xmlns: xmlns, Bucket: rt.bucket, Key: rt.key, UploadID: u.ID, StorageClass: sc,
		PartNumberMarker: marker, MaxParts: maxParts, Initiator: xmlOwner{ID: "obslocal"}, Owner: xmlOwner{ID: "obslocal"}}
	i := sort.Search(len(parts), func(i int) bool { return parts[i].Number > marker })
	for ; i < len(parts); i++ {
		if len(res.Parts) == maxParts {
			res.IsTruncated = true
			break
		}
		p := parts[i]
		res.Parts = append(res.Parts, xmlPart{PartNumber: p.Number, LastModified: p.LastModified.Format(xmlTime), ETag: `"` + p.ETag + `"`, Size: p.Size})
		res.NextPartNumberMarker = p.Number
	}
	writeXML(w, res)
	return nil
}

type xmlUpload struct {
	Key          string   `xml:"Key"`
	UploadID     string   `xml:"UploadId"`
	Initiator    xmlOwner `xml:"Initiator"`
	Owner        xmlOwner `xml:"Owner"`
	StorageClass string   `xml:"StorageClass"`
	Initiated    string   `xml:"Initiated"`
}

type xmlPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listUploadsResult struct {
	XMLName            xml.Name    `xml:"ListMultipartUploadsResult"`
	Xmlns              string      `xml:"xmlns,attr"`
	Bucket             string      `xml:"Bucket"`
	KeyMarker          string      `xml:"KeyMarker"`
	UploadIDMarker     string      `xml:"UploadIdMarker"`
	NextKeyMarker      string      `xml:"NextKeyMarker"`
	NextUploadIDMarker string      `xml:"NextUploadIdMarker"`
	Delimiter          string      `xml:"Delimiter,omitempty"`
	Prefix             string      `xml:"Prefix"`
	MaxUploads         int         `xml:"MaxUploads"`
	IsTruncated        bool        `xml:"IsTruncated"`
	Uploads            []xmlUpload `xml:"Upload"`
	CommonPrefixes     []xmlPrefix `xml:"CommonPrefixes"`
}

func (s *Server) listUploads(w http.ResponseWriter, r *http.Request, rt route) *apiError {
	q := r.URL.Query()
	maxUploads, e := intParam(r, "max-uploads", 1000)
	if e != nil {
		return e
	}
	if maxUploads > 1000 {
		maxUploads = 1000
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, idMarker := q.Get("key-marker"), q.Get("upload-id-marker")
	ups, e := s.st.listUploads(rt.bucket)
	if e != nil {
		return e
	}
	res := listUploadsResult{Xmlns: xmlns, Bucket: rt.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker,
		Prefix: prefix, Delimiter: delim, MaxUploads: maxUploads}
	seenPrefix := map[string]bool{}
	count := 0
	for _, u := range ups {
		if !strings.HasPrefix(u.Key, prefix) {
			continue
		}
		if keyMarker != "" {
			if u.Key < keyMarker || (u.Key == keyMarker && (idMarker == "" || u.ID <= idMarker)) {
				continue
			}
		}
		var cp string
		if delim != "" {
			if i := strings.Index(u.Key[len(prefix):], delim); i >= 0 {
				cp = u.Key[:len(prefix)+i+len(delim)]
				if seenPrefix[cp] {
					continue
				}
			}
		}
		if count == maxUploads {
			res.IsTruncated = true
			break
		}
		count++
		if cp != "" {
			seenPrefix[cp] = true
			res.CommonPrefixes = append(res.CommonPrefixes, xmlPrefix{Prefix: cp})
			res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
			continue
		}
		sc := "STANDARD"
		if v := u.Attrs["x-storage-class"]; v != "" {
			sc = v
		}
		res.Uploads = append(res.Uploads, xmlUpload{Key: u.Key, UploadID: u.ID, Initiator: xmlOwner{ID: "obslocal"},
			Owner: xmlOwner{ID: "obslocal"}, StorageClass: sc, Initiated: u.Initiated.Format(xmlTime)})
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.ID
	}
	writeXML(w, res)
	return nil
}

type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request, rt route, auth authResult) *apiError {
	id := r.URL.Query().Get("uploadId")
	if _, e := s.st.upload(rt.bucket, rt.key, id); e != nil {
		return e
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return bodyError(err, nil)
	}
	var req completeRequest
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Parts) == 0 {
		return errf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	if len(req.Parts) > 10000 {
		return errf(http.StatusBadRequest, "MalformedXML", "A multipart upload has at most 10000 parts.")
	}
	for i := 1; i < len(req.Parts); i++ {
		if req.Parts[i].PartNumber <= req.Parts[i-1].PartNumber {
			return errf(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
	}

	// Validate against a snapshot and mark the upload as completing, so
	// parts cannot change underneath the assembly.
	s.st.mu.Lock()
	u, e := s.st.uploadLocked(rt.bucket, rt.key, id)
	if e == nil && u.completing {
		e = errf(http.StatusConflict, "OperationAborted", "A conflicting operation is in progress on this upload.")
	}
	if e != nil {
		s.st.mu.Unlock()
		return e
	}
	var size int64
	zero := true // every part zero-filled: the object is too
	etagSum := md5.New()
	files := make([]string, len(req.Parts))
	for i, rp := range req.Parts {
		p := u.parts[rp.PartNumber]
		if p == nil || !strings.EqualFold(strings.Trim(strings.TrimSpace(rp.ETag), `"`), p.ETag) {
			s.st.mu.Unlock()
			return errf(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found or its entity tag did not match: part %d.", rp.PartNumber)
		}
		if i < len(req.Parts)-1 && p.Size < s.cfg.MinPartSize {
			s.st.mu.Unlock()
			e := errf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size: part %d is %d bytes, the minimum is %d.", p.Number, p.Size, s.cfg.MinPartSize)
			e.Extra = [][2]string{{"PartNumber", strconv.Itoa(p.Number)}, {"ProposedSize", strconv.FormatInt(p.Size, 10)}, {"MinSizeAllowed", strconv.FormatInt(s.cfg.MinPartSize, 10)}}
			return e
		}
		raw, _ := hex.DecodeString(p.ETag)
		etagSum.Write(raw)
		size += p.Size
		zero = zero && p.ZeroFilled
		files[i] = s.st.partData(u, p.Number)
	}
	u.completing = true
	attrs := u.Attrs
	s.st.mu.Unlock()

	fail := func(err error) *apiError {
		s.st.mu.Lock()
		u.completing = false
		s.st.mu.Unlock()
		return errf(http.StatusInternalServerError, "InternalError", "assembling the object: %v", err)
	}
	dataPath, err := s.assemble(files, size, zero)
	if err != nil {
		return fail(err)
	}
	etag := hex.EncodeToString(etagSum.Sum(nil)) + "-" + strconv.Itoa(len(req.Parts))
	o := &objectState{Key: rt.key, Size: size, ETag: etag, LastModified: s.now(), Attrs: attrs, UploadID: id, ZeroFilled: zero}

	s.st.mu.Lock()
	b := s.st.buckets[rt.bucket]
	if b == nil || b.uploads[id] != u {
		s.st.mu.Unlock()
		_ = os.Remove(dataPath)
		return errNoSuchUpload()
	}
	if err := os.Rename(dataPath, s.st.objectData(rt.bucket, rt.key)); err != nil {
		u.completing = false
		s.st.mu.Unlock()
		return errf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	if err := s.st.writeJSON(s.st.objectMeta(rt.bucket, rt.key), o); err != nil {
		u.completing = false
		s.st.mu.Unlock()
		return errf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	b.objects[rt.key] = o
	s.st.removeUploadLocked(u)
	s.st.mu.Unlock()

	sseEcho(w.Header(), attrs, auth.mode)
	writeXML(w, completeResult{Xmlns: xmlns, Location: "/" + rt.bucket + "/" + rt.key, Bucket: rt.bucket, Key: rt.key, ETag: `"` + etag + `"`})
	return nil
}

// assemble concatenates the part files into a new file in tmp/ and returns
// its path; zero-filled parts make a sparse file of size instead.
func (s *Server) assemble(files []string, size int64, zero bool) (string, error) {
	if zero {
		return s.st.sparseFile(size)
	}
	// Stream the parts into one file: file-to-file copies, never in memory.
	out, err := s.st.tmpFile()
	if err != nil {
		return "", err
	}
	for _, fn := range files {
		if err := appendFile(out, fn); err != nil {
			out.Close()
			_ = os.Remove(out.Name())
			return "", err
		}
	}
	if err := out.Close(); err != nil {
		_ = os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

func appendFile(dst *os.File, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(dst, f) // copy_file_range/sendfile on Linux
	return err
}

// receiveVerified streams the request body to a file (at most limit bytes,
// else tooLarge) and checks it against Content-MD5 when one was sent
// (BadDigest). It returns the file, its size and its MD5.
func (s *Server) receiveVerified(r *http.Request, limit int64, tooLarge *apiError) (string, int64, []byte, *apiError) {
	want, e := md5Digest(r)
	if e != nil {
		return "", 0, nil, e
	}
	path, size, sum, err := s.st.receive(r.Body, limit)
	if err != nil {
		return "", 0, nil, bodyError(err, tooLarge)
	}
	if want != nil && !bytes.Equal(want, sum) {
		_ = os.Remove(path)
		return "", 0, nil, errf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	return path, size, sum, nil
}
