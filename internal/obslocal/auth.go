package obslocal

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sigMode is the signature scheme of a request; it also selects the header
// prefix (x-obs- for OBS, x-amz- for the S3-compatible modes).
type sigMode int

const (
	modeOBS sigMode = iota
	modeV2
	modeV4
)

func (m sigMode) prefix() string {
	if m == modeOBS {
		return "x-obs-"
	}
	return "x-amz-"
}

func (m sigMode) String() string {
	return [...]string{"OBS", "V2", "V4"}[m]
}

const maxSkew = 15 * time.Minute

// signedSubresources are the query parameters that belong to the canonical
// resource of the OBS and V2 signatures (compared lower-case), as listed in
// the OBS API reference and the official SDK.
var signedSubresources = map[string]bool{
	"acl": true, "append": true, "attname": true, "backtosource": true, "cors": true, "customdomain": true,
	"delete": true, "deletebucket": true, "directcoldaccess": true, "encryption": true, "inventory": true,
	"length": true, "lifecycle": true, "location": true, "logging": true, "metadata": true, "mirrorbacktosource": true,
	"modify": true, "name": true, "notification": true, "object-lock": true, "partnumber": true, "policy": true,
	"position": true, "quota": true, "rename": true, "replication": true, "requestpayment": true, "restore": true,
	"retention": true, "storageclass": true, "storageinfo": true, "storagepolicy": true, "tagging": true,
	"torrent": true, "truncate": true, "uploadid": true, "uploads": true, "versionid": true, "versioning": true,
	"versions": true, "website": true, "x-obs-security-token": true, "x-image-process": true, "x-oss-process": true,
	"x-image-save-bucket": true, "x-image-save-object": true, "ignore-sign-in-query": true, "cdnnotifyconfiguration": true,
	"publicaccessblock": true, "bucketstatus": true, "policystatus": true, "x-obs-accesslabel": true,
	"response-content-type": true, "response-content-language": true, "response-expires": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
}

// authResult is what a verified request carries on.
type authResult struct {
	mode sigMode
	cred Credential
}

var errPayloadHash = errors.New("x-amz-content-sha256 does not match the request body")

// authenticate verifies the request's Authorization header. On success for a
// SigV4 request with a signed payload hash, r.Body is wrapped so that reading
// it to EOF fails with errPayloadHash on mismatch.
func (s *Server) authenticate(r *http.Request, rt route) (authResult, *apiError) {
	authz := r.Header.Get("Authorization")
	switch {
	case authz == "":
		if r.URL.Query().Has("Signature") || r.URL.Query().Has("X-Amz-Signature") {
			return authResult{}, errf(http.StatusNotImplemented, "NotImplemented", "query-string authentication is not supported by obslocal")
		}
		return authResult{}, errAccessDenied("Anonymous access is forbidden for this operation.")
	case strings.HasPrefix(authz, "OBS "):
		return s.authV2(r, rt, modeOBS, authz[4:])
	case strings.HasPrefix(authz, "AWS "):
		return s.authV2(r, rt, modeV2, authz[4:])
	case strings.HasPrefix(authz, "AWS4-HMAC-SHA256 "):
		return s.authV4(r, authz[len("AWS4-HMAC-SHA256 "):])
	default:
		return authResult{}, errf(http.StatusBadRequest, "InvalidArgument", "Unsupported Authorization Type")
	}
}

func (s *Server) lookupCred(ak string) (Credential, bool) {
	s.credMu.RLock()
	defer s.credMu.RUnlock()
	for _, c := range s.cfg.Credentials {
		if c.AccessKey == ak {
			return c, true
		}
	}
	return Credential{}, false
}

func (s *Server) checkSkew(t time.Time) *apiError {
	now := s.now()
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		e := errf(http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.")
		e.Extra = [][2]string{{"RequestTime", t.UTC().Format(http.TimeFormat)}, {"ServerTime", now.UTC().Format(http.TimeFormat)}, {"MaxAllowedSkewMilliseconds", "900000"}}
		return e
	}
	return nil
}

// checkToken checks the security token of a request signed with cred's
// key. OBS answers every token problem alike, in all signature modes:
// 403 InvalidAccessKeyId, "The security token is invalid." for a token that
// is malformed, expired, or not the one issued with the access key (OBS
// error-code reference, InvalidAccessKeyId). Without a token a temporary
// access key is unknown: OBS looks it up among permanent keys.
func (s *Server) checkToken(r *http.Request, mode sigMode, cred Credential) *apiError {
	tok := r.Header.Get(mode.prefix() + "security-token")
	switch {
	case cred.SecurityToken == "" && tok == "":
		return nil
	case tok == "":
		return errUnknownAccessKey()
	case !hmac.Equal([]byte(tok), []byte(cred.SecurityToken)):
		return errf(http.StatusForbidden, "InvalidAccessKeyId", "The security token is invalid.")
	}
	return nil
}

func errUnknownAccessKey() *apiError {
	return errf(http.StatusForbidden, "InvalidAccessKeyId", "The OBS Access Key Id you provided does not exist in our records.")
}

// rawPath is the request path exactly as sent (still percent-encoded).
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		if u, err := url.Parse(p); err == nil {
			return u.EscapedPath()
		}
	}
	return p
}

func parseHTTPDate(v string) (time.Time, bool) {
	t, err := http.ParseTime(v)
	return t, err == nil
}

// authV2 verifies the OBS signature and AWS signature V2 (same layout).
func (s *Server) authV2(r *http.Request, rt route, mode sigMode, rest string) (authResult, *apiError) {
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return authResult{}, errAccessDenied("Malformed Authorization header.")
	}
	ak, sig := strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+1:])
	cred, ok := s.lookupCred(ak)
	if !ok {
		return authResult{}, errUnknownAccessKey()
	}
	p := mode.prefix()
	dateLine := r.Header.Get("Date")
	var reqTime time.Time
	if xd := r.Header.Get(p + "date"); xd != "" {
		dateLine = ""
		t, ok := parseHTTPDate(xd)
		if !ok {
			return authResult{}, errAccessDenied("Invalid %sdate header.", p)
		}
		reqTime = t
	} else {
		t, ok := parseHTTPDate(dateLine)
		if !ok {
			return authResult{}, errAccessDenied("Authentication requires a valid Date or %sdate header.", p)
		}
		reqTime = t
	}
	if e := s.checkSkew(reqTime); e != nil {
		return authResult{}, e
	}
	if e := s.checkToken(r, mode, cred); e != nil {
		return authResult{}, e
	}

	var sb strings.Builder
	sb.WriteString(r.Method + "\n")
	sb.WriteString(strings.Join(r.Header.Values("Content-MD5"), ",") + "\n")
	sb.WriteString(strings.Join(r.Header.Values("Content-Type"), ",") + "\n")
	sb.WriteString(dateLine + "\n")
	var names []string
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, p) {
			names = append(names, l)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		vals := r.Header.Values(n)
		for j := range vals {
			vals[j] = strings.TrimSpace(vals[j])
		}
		sb.WriteString(n + ":" + strings.Join(vals, ",") + "\n")
	}
	// Canonical resource.
	res := rawPath(r)
	if rt.vhost {
		res = "/" + rt.bucket + res
	}
	sb.WriteString(res)
	var subs [][2]string
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return authResult{}, errInvalidArgument("Malformed query string.")
		}
		lk := strings.ToLower(dk)
		if signedSubresources[lk] || strings.HasPrefix(lk, p) {
			subs = append(subs, [2]string{dk, dv})
		}
	}
	sort.SliceStable(subs, func(a, b int) bool { return subs[a][0] < subs[b][0] })
	for j, kv := range subs {
		if j == 0 {
			sb.WriteByte('?')
		} else {
			sb.WriteByte('&')
		}
		sb.WriteString(kv[0])
		if kv[1] != "" {
			sb.WriteString("=" + kv[1])
		}
	}
	sts := sb.String()
	mac := hmac.New(sha1.New, []byte(cred.SecretKey))
	mac.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return authResult{}, sigMismatch(sts, sig)
	}
	return authResult{mode: mode, cred: cred}, nil
}

func sigMismatch(sts, sig string) *apiError {
	e := errf(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	e.Extra = [][2]string{{"SignatureProvided", sig}, {"StringToSign", sts}}
	return e
}

const (
	unsignedPayload = "UNSIGNED-PAYLOAD"
	emptySHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// authV4 verifies AWS SigV4 in header form.
func (s *Server) authV4(r *http.Request, rest string) (authResult, *apiError) {
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return authResult{}, errf(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed.")
		}
		fields[k] = v
	}
	credStr, signed, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	scopeParts := strings.Split(credStr, "/")
	if len(scopeParts) != 5 || signed == "" || sig == "" {
		return authResult{}, errf(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; Credential must be AK/date/region/s3/aws4_request.")
	}
	ak, scopeDate, region, service, term := scopeParts[0], scopeParts[1], scopeParts[2], scopeParts[3], scopeParts[4]
	cred, ok := s.lookupCred(ak)
	if !ok {
		return authResult{}, errUnknownAccessKey()
	}
	amzDate := r.Header.Get("x-amz-date")
	if amzDate == "" {
		return authResult{}, errAccessDenied("AWS authentication requires a valid x-amz-date header.")
	}
	reqTime, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return authResult{}, errAccessDenied("Invalid x-amz-date %q.", amzDate)
	}
	if e := s.checkSkew(reqTime); e != nil {
		return authResult{}, e
	}
	if scopeDate != amzDate[:8] || service != "s3" || term != "aws4_request" ||
		(s.cfg.Region != "" && region != s.cfg.Region) {
		return authResult{}, errf(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The credential scope %q does not match the request (date %s, service s3, region %q).", strings.Join(scopeParts[1:], "/"), amzDate[:8], s.cfg.Region)
	}
	if e := s.checkToken(r, modeV4, cred); e != nil {
		return authResult{}, e
	}
	signedList := strings.Split(signed, ";")
	signedSet := map[string]bool{}
	for _, h := range signedList {
		signedSet[h] = true
	}
	if !signedSet["host"] {
		return authResult{}, errAccessDenied("The host header must be signed.")
	}
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") && !signedSet[l] {
			return authResult{}, errAccessDenied("There were headers present in the request which were not signed: %s", l)
		}
	}
	payload := r.Header.Get("x-amz-content-sha256")
	switch {
	case payload == "":
		return authResult{}, errf(http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	case payload == unsignedPayload:
	case strings.HasPrefix(payload, "STREAMING-"):
		return authResult{}, errf(http.StatusNotImplemented, "NotImplemented", "Chunked (streaming) SigV4 payload signing is not supported.")
	default:
		if b, err := hex.DecodeString(payload); err != nil || len(b) != sha256.Size {
			return authResult{}, errf(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a hex SHA-256.")
		}
	}

	var cr strings.Builder
	cr.WriteString(r.Method + "\n")
	cr.WriteString(rawPath(r) + "\n")
	cr.WriteString(canonicalQueryV4(r.URL.RawQuery) + "\n")
	for _, h := range signedList {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			if r.ContentLength >= 0 {
				v = strconv.FormatInt(r.ContentLength, 10)
			}
		case "transfer-encoding":
			v = strings.Join(r.TransferEncoding, ",")
		default:
			vals := r.Header.Values(h)
			for j := range vals {
				vals[j] = strings.Join(strings.Fields(vals[j]), " ")
			}
			v = strings.Join(vals, ",")
		}
		cr.WriteString(h + ":" + v + "\n")
	}
	cr.WriteString("\n" + signed + "\n" + payload)
	crHash := sha256.Sum256([]byte(cr.String()))
	scope := strings.Join(scopeParts[1:], "/")
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	key := hmacSHA256([]byte("AWS4"+cred.SecretKey), scopeDate)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, term)
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		e := sigMismatch(sts, sig)
		e.Extra = append(e.Extra, [2]string{"CanonicalRequest", cr.String()})
		return authResult{}, e
	}
	if payload != unsignedPayload && r.ContentLength == 0 && payload != emptySHA256 {
		return authResult{}, errf(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	if payload != unsignedPayload {
		r.Body = &sha256Verifier{r: r.Body, h: sha256.New(), want: strings.ToLower(payload)}
	}
	return authResult{mode: modeV4, cred: cred}, nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// awsEscape percent-encodes as SigV4 requires: unreserved characters kept,
// everything else %XX (space as %20).
func awsEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

func canonicalQueryV4(raw string) string {
	var pairs [][2]string
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		dk, _ := url.QueryUnescape(k)
		dv, _ := url.QueryUnescape(v)
		if dk == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, [2]string{awsEscape(dk), awsEscape(dv)})
	}
	// Sorted by encoded name, then value: sorting whole "name=value"
	// strings would put "a-b=1" before "a=1".
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + "=" + p[1]
	}
	return strings.Join(out, "&")
}

// sha256Verifier fails the read that reaches EOF when the body's SHA-256
// differs from the signed x-amz-content-sha256.
type sha256Verifier struct {
	r    io.ReadCloser
	h    hash.Hash
	want string
}

func (v *sha256Verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(v.h.Sum(nil)) != v.want {
		return n, errPayloadHash
	}
	return n, err
}

func (v *sha256Verifier) Close() error { return v.r.Close() }
