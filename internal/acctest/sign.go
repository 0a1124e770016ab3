package acctest

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The request signatures of OBS and of S3-compatible servers, written from
// the documented algorithms (the OBS API reference's authentication pages,
// AWS's Signature Version 4 reference) and sharing no code with the client
// or the local server: tests sign raw requests with them and check the
// signatures of the requests the SDK sends, so that a canonical form that
// goes wrong on either side fails a test. sign_test.go checks them against
// the documentation's worked examples.

// A V2 is a signature of the V2 layout: Base64(HMAC-SHA1(SecretKey,
// StringToSign)) sent as "Authorization: <Scheme> <AccessKey>:<Signature>".
type V2 struct {
	Scheme string // "OBS" or "AWS"
	Prefix string // of the headers it signs: "x-obs-" or "x-amz-"
}

// The OBS signature and AWS signature V2.
var (
	OBSSignature   = V2{Scheme: "OBS", Prefix: "x-obs-"}
	AWSV2Signature = V2{Scheme: "AWS", Prefix: "x-amz-"}
)

// v2Subresources are the query parameters of the canonical resource,
// lower-case, besides the response-* overrides.
var v2Subresources = strings.Fields(`acl append attname cors delete encryption lifecycle location logging
	metadata notification partnumber policy position replication restore storageclass tagging uploadid
	uploads versionid versioning versions website object-lock retention x-obs-security-token`)

func isV2Subresource(name string) bool {
	l := strings.ToLower(name)
	return slices.Contains(v2Subresources, l) || strings.HasPrefix(l, "response-")
}

// StringToSign is what v signs for r: the method, Content-MD5,
// Content-Type and Date lines (Date empty when the prefix's date header is
// set), the headers with v's prefix (lower-case, sorted, values trimmed
// and joined by commas) and the canonical resource: the path as sent,
// after "/bucket" for a virtual-hosted request (bucket "" for path style),
// then the sub-resources sorted by name.
func (v V2) StringToSign(r *http.Request, bucket string) string {
	date := r.Header.Get("Date")
	if r.Header.Get(v.Prefix+"date") != "" {
		date = ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n%s\n%s\n", r.Method, r.Header.Get("Content-MD5"), r.Header.Get("Content-Type"), date)
	canon := map[string][]string{}
	for name, vals := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, v.Prefix) {
			for _, val := range vals {
				canon[l] = append(canon[l], strings.TrimSpace(val))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(canon)) {
		fmt.Fprintf(&b, "%s:%s\n", name, strings.Join(canon[name], ","))
	}
	if bucket != "" {
		b.WriteString("/" + bucket)
	}
	b.WriteString(r.URL.EscapedPath())
	subs := map[string]string{}
	for k, vals := range r.URL.Query() {
		if isV2Subresource(k) {
			subs[k] = vals[0]
		}
	}
	sep := "?"
	for _, k := range slices.Sorted(maps.Keys(subs)) {
		b.WriteString(sep + k)
		if subs[k] != "" {
			b.WriteString("=" + subs[k])
		}
		sep = "&"
	}
	return b.String()
}

// Authorization is the Authorization header that signs r for v with the
// key pair ak, sk; bucket as for StringToSign.
func (v V2) Authorization(r *http.Request, ak, sk, bucket string) string {
	mac := hmac.New(sha1.New, []byte(sk))
	mac.Write([]byte(v.StringToSign(r, bucket)))
	return v.Scheme + " " + ak + ":" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Sign signs r for v, bucket as for StringToSign. A request with neither
// Date nor the prefix's date header gets Date (now) first.
func (v V2) Sign(r *http.Request, ak, sk, bucket string) {
	if r.Header.Get("Date") == "" && r.Header.Get(v.Prefix+"date") == "" {
		r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	r.Header.Set("Authorization", v.Authorization(r, ak, sk, bucket))
}

// UnsignedPayload is the x-amz-content-sha256 of a SigV4 request whose
// body is not signed.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

const v4DateLayout = "20060102T150405Z"

// SignV4 signs r with AWS Signature Version 4 in header form at now:
// it sets x-amz-date and x-amz-content-sha256 (payload: the body's hex
// SHA-256, or UnsignedPayload) and signs host and every header r has.
func SignV4(r *http.Request, ak, sk, region, payload string, now time.Time) {
	amzDate := now.UTC().Format(v4DateLayout)
	r.Header.Set("x-amz-date", amzDate)
	r.Header.Set("x-amz-content-sha256", payload)
	signed := []string{"host"}
	for name := range r.Header {
		signed = append(signed, strings.ToLower(name))
	}
	slices.Sort(signed)
	sig := V4Signature(sk, region, amzDate, CanonicalRequestV4(r, signed, payload))
	r.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, SignedHeaders=%s, Signature=%s",
		ak, amzDate[:8], region, strings.Join(signed, ";"), sig))
}

// CanonicalRequestV4 is SigV4's canonical request of r that signs the
// headers named in signed (lower-case, sorted) and payload: the method, the
// path as sent, the query (names and values re-encoded, sorted), the
// signed headers' values (trimmed, inner spaces folded) and payload.
func CanonicalRequestV4(r *http.Request, signed []string, payload string) string {
	var headers strings.Builder
	for _, h := range signed {
		headers.WriteString(h + ":" + canonicalHeaderV4(r, h) + "\n")
	}
	return strings.Join([]string{r.Method, r.URL.EscapedPath(), canonicalQueryV4(r.URL.RawQuery), headers.String(),
		strings.Join(signed, ";"), payload}, "\n")
}

// canonicalHeaderV4 is the value of header name in a canonical request.
func canonicalHeaderV4(r *http.Request, name string) string {
	switch name {
	case "host":
		return cmp.Or(r.Host, r.URL.Host)
	case "content-length":
		return strconv.FormatInt(r.ContentLength, 10)
	}
	vals := slices.Clone(r.Header.Values(name))
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalQueryV4 decodes raw and encodes it again with URIEncode, pairs
// sorted by name, then value.
func canonicalQueryV4(raw string) string {
	var pairs [][2]string
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		pairs = append(pairs, [2]string{URIEncode(k, false), URIEncode(v, false)})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + "=" + p[1]
	}
	return strings.Join(out, "&")
}

// V4Signature is the hex SigV4 signature by sk of canonicalRequest, sent
// at amzDate (x-amz-date), in the scope DAY/region/s3/aws4_request.
func V4Signature(sk, region, amzDate, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	scope := amzDate[:8] + "/" + region + "/s3/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + sk)
	for _, s := range []string{amzDate[:8], region, "s3", "aws4_request", toSign} {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(s))
		key = mac.Sum(nil)
	}
	return hex.EncodeToString(key)
}

// URIEncode is SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~
// (and '/' when keepSlash) as %XX.
func URIEncode(s string, keepSlash bool) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', strings.IndexByte("-_.~", c) >= 0,
			c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
