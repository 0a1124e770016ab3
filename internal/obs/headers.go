package obs

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	sdk "github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// amzDateFormat is the ISO 8601 basic format SigV4 expects in x-amz-date.
const amzDateFormat = "20060102T150405Z"

// headerFunc adds request headers once the SDK knows which prefix the
// request uses (isObs: x-obs-, otherwise x-amz-).
type headerFunc func(headers map[string][]string, isObs bool) error

// asExtension converts f to the SDK's unexported extension-header type,
// inferred from like (a value returned by sdk.WithCustomHeader). This lets
// one extension set several headers with the prefix the SDK chose, which
// matters because the SDK silently switches OBS signing to V2 for path-style
// and IP-address endpoints.
func asExtension[T ~func(map[string][]string, bool) error](like T, f headerFunc) T {
	_ = like
	return T(f)
}

// extension wraps f as an SDK extension option.
func extension(f headerFunc) any {
	return asExtension(sdk.WithCustomHeader("", ""), f)
}

// prefix returns the vendor header prefix for the request.
func prefix(isObs bool) string {
	if isObs {
		return "x-obs-"
	}
	return "x-amz-"
}

// sseC is a validated SSE-C key: the SDK header and nothing printable.
type sseC struct {
	key    string // base64, secret
	keyMD5 string // base64 MD5 of the raw key
}

// parseSSEC validates an SSE-C key. The error never contains the key.
func parseSSEC(k *SSECustomerKey) (*sseC, error) {
	if k == nil {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(k.KeyBase64)
	if err != nil {
		return nil, errors.New("SSE-C key is not valid base64")
	}
	if len(raw) != 32 {
		return nil, fmt.Errorf("SSE-C key must be 256 bits (32 bytes), got %d bytes", len(raw))
	}
	sum := md5.Sum(raw)
	return &sseC{key: k.KeyBase64, keyMD5: base64.StdEncoding.EncodeToString(sum[:])}, nil
}

func (s *sseC) header() sdk.ISseHeader {
	if s == nil {
		return nil
	}
	return sdk.SseCHeader{Encryption: "AES256", Key: s.key, KeyMD5: s.keyMD5}
}

// objectSettings is ObjectOptions translated for the SDK: the fields the SDK
// models, plus a header function for those it lacks (tagging, object lock,
// grants in the right form).
type objectSettings struct {
	op      sdk.ObjectOperationInput
	http    sdk.HttpHeader
	headers headerFunc
	ssec    *sseC
}

// translateOptions validates o and maps it onto the SDK's input types.
func translateOptions(bucket, key string, o ObjectOptions) (objectSettings, error) {
	var s objectSettings
	if o.SSEKMS && o.SSEC != nil {
		return s, errors.New("SSE-KMS and SSE-C are mutually exclusive")
	}
	if !o.SSEKMS && o.SSEKMSKeyID != "" {
		return s, errors.New("an SSE-KMS key ID needs SSE-KMS enabled")
	}
	if o.ExpiresDays < 0 {
		return s, fmt.Errorf("expires days must be >= 0, got %d", o.ExpiresDays)
	}
	if (o.ObjectLockMode == "") != o.ObjectLockRetainUntil.IsZero() {
		return s, errors.New("object lock mode and retain-until date must be set together")
	}
	ssec, err := parseSSEC(o.SSEC)
	if err != nil {
		return s, err
	}
	s.ssec = ssec
	s.op = sdk.ObjectOperationInput{
		Bucket:                  bucket,
		Key:                     key,
		ACL:                     sdk.AclType(o.ACL),
		StorageClass:            sdk.StorageClassType(o.StorageClass),
		WebsiteRedirectLocation: o.WebsiteRedirectLocation,
		Expires:                 o.ExpiresDays,
		Metadata:                o.Metadata,
	}
	switch {
	case o.SSEKMS:
		s.op.SseHeader = sdk.SseKmsHeader{Key: o.SSEKMSKeyID}
	case ssec != nil:
		s.op.SseHeader = ssec.header()
	}
	s.http = sdk.HttpHeader{ContentType: o.ContentType, ContentEncoding: o.ContentEncoding}

	tagging := encodeTags(o.Tags)
	grants := o.Grants
	lockMode := o.ObjectLockMode
	lockUntil := ""
	if !o.ObjectLockRetainUntil.IsZero() {
		lockUntil = o.ObjectLockRetainUntil.UTC().Format(time.RFC3339)
	}
	s.headers = func(h map[string][]string, isObs bool) error {
		p := prefix(isObs)
		if tagging != "" {
			h[p+"tagging"] = []string{tagging}
		}
		if lockMode != "" {
			h[p+"object-lock-mode"] = []string{lockMode}
			h[p+"object-lock-retain-until-date"] = []string{lockUntil}
		}
		for name, ids := range map[string][]string{
			"grant-read":         grants.Read,
			"grant-read-acp":     grants.ReadACP,
			"grant-write-acp":    grants.WriteACP,
			"grant-full-control": grants.FullControl,
		} {
			if v := grantValue(ids, isObs); v != "" {
				h[p+name] = []string{v}
			}
		}
		return nil
	}
	return s, nil
}

// encodeTags renders tags as OBS expects in x-obs-tagging: percent-encoded
// key=value pairs joined by &, sorted by key. A space is sent as %20, never
// as "+", which a server decoding strictly would keep as a plus sign.
func encodeTags(tags map[string]string) string {
	if len(tags) == 0 {
		return ""
	}
	v := url.Values{}
	for k, val := range tags {
		v.Set(k, val)
	}
	// QueryEscape turns a literal "+" into %2B, so every "+" left is a space.
	return strings.ReplaceAll(v.Encode(), "+", "%20")
}

// grantValue renders domain IDs as a grant header value: OBS wants
// "ID=domainID" entries separated by commas; the S3-compatible headers use
// "id=domainID". An entry that already contains "=" is sent as given.
func grantValue(ids []string, isObs bool) string {
	if len(ids) == 0 {
		return ""
	}
	label := "id="
	if isObs {
		label = "ID="
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !strings.Contains(id, "=") {
			id = label + id
		}
		out = append(out, id)
	}
	return strings.Join(out, ",")
}

// unquoteETag strips the quotes servers put around ETags.
func unquoteETag(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// quoteETag puts the quotes back, as CompleteMultipartUpload expects.
func quoteETag(s string) string {
	s = unquoteETag(s)
	return `"` + s + `"`
}

// contentMD5 base64-encodes a binary MD5 for the Content-MD5 header.
func contentMD5(sum []byte) (string, error) {
	if len(sum) == 0 {
		return "", nil
	}
	if len(sum) != md5.Size {
		return "", fmt.Errorf("content MD5 must be %d bytes, got %d", md5.Size, len(sum))
	}
	return base64.StdEncoding.EncodeToString(sum), nil
}

// sseName reports the encryption in a HEAD response as ObjectInfo.SSE.
func sseName(h sdk.ISseHeader) string {
	switch v := h.(type) {
	case sdk.SseCHeader:
		if v.Encryption == "" {
			return "AES256"
		}
		return v.Encryption
	case sdk.SseKmsHeader:
		// The SDK parses every x-obs-server-side-encryption (or
		// x-amz-server-side-encryption) as a KMS header: "kms" or
		// "aws:kms" is SSE-KMS, "AES256" server-managed keys.
		if v.Encryption == "" || strings.Contains(strings.ToLower(v.Encryption), "kms") {
			return "kms"
		}
		return "obs"
	}
	return ""
}
