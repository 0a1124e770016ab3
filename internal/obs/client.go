package obs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	sdk "github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// Config configures a Client. Endpoint, AccessKey and SecretKey are required.
type Config struct {
	// Endpoint is the full URL of the OBS endpoint, e.g.
	// https://obs.cn-north-4.myhuaweicloud.com or http://127.0.0.1:9000.
	Endpoint string
	// Region is used for SigV4 signing.
	Region        string
	AccessKey     string
	SecretKey     string
	SecurityToken string
	// Signature is the signing scheme; "" means SignatureOBS. See
	// FallsBackToV2 for when the OBS signature is sent as V2.
	Signature Signature
	PathStyle bool
	// Insecure skips TLS certificate verification.
	Insecure bool
	// CACertPEM is an extra CA bundle trusted besides the system roots.
	CACertPEM []byte
	// MaxRetries is how many times a failed request is retried (after the
	// first attempt) when the failure is retryable. The SDK's own retries are
	// always off.
	MaxRetries int
	// MaxConns sizes the shared connection pool (idle connections kept per
	// host); 0 means 16. Set it to the number of concurrent requests.
	MaxConns int
	// UserAgent replaces the SDK's User-Agent when set.
	UserAgent string

	// DialContext replaces the network dialer (tests route *.obs.local to
	// loopback with it).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// RetryBaseDelay and RetryMaxDelay shape the backoff; 0 means 200ms and
	// 20s.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
}

const defaultMaxConns = 16

// FallsBackToV2 reports whether cfg asks for the OBS signature (or leaves
// it unset) but its requests are signed with AWS signature V2, which OBS
// also accepts: the SDK signs so for path-style addressing and for an
// endpoint whose host is an IP address.
func FallsBackToV2(cfg Config) bool {
	if cfg.Signature != "" && cfg.Signature != SignatureOBS {
		return false
	}
	if cfg.PathStyle {
		return true
	}
	_, host, err := parseEndpoint(cfg.Endpoint)
	return err == nil && net.ParseIP(host) != nil
}

// client implements Client over the official SDK.
type client struct {
	endpoint       string
	ak, sk, token  string
	signature      sdk.SignatureType
	region         string
	pathStyle      bool
	userAgent      string
	transport      *http.Transport
	maxRetries     int
	retryBaseDelay time.Duration
	retryMaxDelay  time.Duration
	secrets        []string
	now            func() time.Time
}

var _ Client = (*client)(nil)

// New validates cfg and returns a Client. It never panics; every problem is
// an error that names the setting.
func New(cfg Config) (Client, error) {
	endpoint, _, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.AccessKey) == "" {
		return nil, errors.New("access key is required")
	}
	if cfg.SecretKey == "" {
		return nil, errors.New("secret key is required")
	}
	var sig sdk.SignatureType
	switch cfg.Signature {
	case "", SignatureOBS:
		sig = sdk.SignatureObs
	case SignatureV2:
		sig = sdk.SignatureV2
	case SignatureV4:
		sig = sdk.SignatureV4
	default:
		return nil, fmt.Errorf("signature %q is not one of %q, %q, %q", cfg.Signature, SignatureOBS, SignatureV2, SignatureV4)
	}
	region := strings.TrimSpace(cfg.Region)
	if sig == sdk.SignatureV4 && region == "" {
		return nil, errors.New("region is required for v4 signing")
	}
	if FallsBackToV2(cfg) {
		// What the SDK does anyway; knowing it here keeps our own
		// headers' prefix right.
		sig = sdk.SignatureV2
	}
	if cfg.MaxRetries < 0 {
		return nil, fmt.Errorf("max retries must be >= 0, got %d", cfg.MaxRetries)
	}
	if cfg.MaxConns < 0 {
		return nil, fmt.Errorf("max connections must be >= 0, got %d", cfg.MaxConns)
	}
	if cfg.RetryBaseDelay < 0 || cfg.RetryMaxDelay < 0 {
		return nil, errors.New("retry delays must be >= 0")
	}
	tr, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	c := &client{
		endpoint:       endpoint,
		ak:             strings.TrimSpace(cfg.AccessKey),
		sk:             cfg.SecretKey,
		token:          cfg.SecurityToken,
		signature:      sig,
		region:         region,
		pathStyle:      cfg.PathStyle,
		userAgent:      cfg.UserAgent,
		transport:      tr,
		maxRetries:     cfg.MaxRetries,
		retryBaseDelay: cfg.RetryBaseDelay,
		retryMaxDelay:  cfg.RetryMaxDelay,
		secrets:        []string{cfg.SecretKey, cfg.SecurityToken},
		now:            time.Now,
	}
	if c.retryBaseDelay == 0 {
		c.retryBaseDelay = defaultRetryBaseDelay
	}
	if c.retryMaxDelay == 0 {
		c.retryMaxDelay = defaultRetryMaxDelay
	}
	if c.retryMaxDelay < c.retryBaseDelay {
		c.retryMaxDelay = c.retryBaseDelay
	}
	return c, nil
}

// call runs one SDK operation under the retry policy. The SDK recovers its
// own panics into a nil output with a nil error; call reports that as an
// error, so callers get an output or an error.
func call[T any](ctx context.Context, c *client, t target, op func(cl *sdk.ObsClient) (*T, error)) (*T, error) {
	var out *T
	err := c.do(ctx, t, func(cl *sdk.ObsClient) error {
		o, err := op(cl)
		if err == nil && o == nil {
			return errNilOutput
		}
		out = o
		return err
	})
	return out, err
}

// parseEndpoint checks that raw is an http(s) URL with a host and nothing
// else, and returns it without a trailing slash, plus its host name.
func parseEndpoint(raw string) (endpoint, host string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", errors.New("endpoint is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("endpoint %q is not a valid URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", fmt.Errorf("endpoint %q must start with https:// or http://", raw)
	}
	if u.Hostname() == "" {
		return "", "", fmt.Errorf("endpoint %q has no host", raw)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("endpoint %q must be scheme://host[:port] only (no path, query or user info)", raw)
	}
	if strings.Contains(u.Hostname(), ":") {
		return "", "", fmt.Errorf("endpoint %q: IPv6 addresses are not supported by the OBS SDK; use a host name", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("endpoint %q has an invalid port", raw)
		}
	}
	return u.Scheme + "://" + u.Host, u.Hostname(), nil
}

// CheckEndpoint reports what is wrong with an endpoint URL, or nil: it must
// be http(s)://host[:port] and nothing else.
func CheckEndpoint(raw string) error {
	_, _, err := parseEndpoint(raw)
	return err
}

// newTransport builds the one http.Transport every request shares.
func newTransport(cfg Config) (*http.Transport, error) {
	tlsConfig := &tls.Config{InsecureSkipVerify: cfg.Insecure} //nolint:gosec // opt-in via the insecure setting
	if len(cfg.CACertPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, errors.New("CA bundle contains no PEM certificates")
		}
		tlsConfig.RootCAs = pool
	}
	conns := cfg.MaxConns
	if conns == 0 {
		conns = defaultMaxConns
	}
	dial := cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dial,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: 15 * time.Second,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		// Keep Content-Length and ETag of HEAD responses exactly as sent.
		DisableCompression: true,
	}, nil
}

// newSDK returns an SDK client bound to ctx. It is cheap (no I/O); one is made
// per attempt so that every request honours its own context.
func (c *client) newSDK(ctx context.Context) (*sdk.ObsClient, error) {
	return sdk.New(c.ak, c.sk, c.endpoint,
		sdk.WithHttpTransport(c.transport),
		sdk.WithRequestContext(ctx),
		sdk.WithMaxRetryCount(0),
		sdk.WithSignature(c.signature),
		sdk.WithPathStyle(c.pathStyle),
		sdk.WithRegion(c.region),
		sdk.WithSecurityToken(c.token),
		sdk.WithUserAgent(c.userAgent),
	)
}

// ext returns the per-request extension: x-amz-date for SigV4 (the SDK
// omits it and S3-compatible servers reject requests without it) and any
// extra headers. It is built per attempt so the date is fresh.
func (c *client) ext(extra headerFunc) any {
	date := ""
	if c.signature == sdk.SignatureV4 {
		date = c.now().UTC().Format(amzDateFormat)
	}
	return extension(func(h map[string][]string, isObs bool) error {
		if date != "" {
			h["x-amz-date"] = []string{date}
		}
		if extra != nil {
			return extra(h, isObs)
		}
		return nil
	})
}

func checkObject(t target, bucket, key string) error {
	switch {
	case strings.TrimSpace(bucket) == "":
		return t.err(errors.New("bucket is empty"))
	case strings.TrimSpace(key) == "":
		return t.err(errors.New("key is empty"))
	}
	return nil
}

func checkUpload(t target, bucket, key, uploadID string) error {
	if err := checkObject(t, bucket, key); err != nil {
		return err
	}
	if uploadID == "" {
		return t.err(errors.New("upload ID is empty"))
	}
	return nil
}

// InitiateMultipartUpload implements Client.
func (c *client) InitiateMultipartUpload(ctx context.Context, in InitiateInput) (string, error) {
	t := target{"InitiateMultipartUpload", in.Bucket, in.Key}
	if err := checkObject(t, in.Bucket, in.Key); err != nil {
		return "", err
	}
	s, err := translateOptions(in.Bucket, in.Key, in.Options)
	if err != nil {
		return "", t.err(err)
	}
	var uploadID string
	err = c.do(ctx, t, func(cl *sdk.ObsClient) error {
		out, err := cl.InitiateMultipartUpload(&sdk.InitiateMultipartUploadInput{
			ObjectOperationInput: s.op,
			HttpHeader:           s.http,
		}, c.ext(s.headers))
		if err != nil {
			return err
		}
		if out == nil {
			return errNilOutput
		}
		if out.UploadId == "" {
			return errors.New("response has no upload ID")
		}
		uploadID = out.UploadId
		return nil
	})
	return uploadID, err
}

// UploadPart implements Client.
func (c *client) UploadPart(ctx context.Context, in UploadPartInput) (string, error) {
	t := target{"UploadPart", in.Bucket, in.Key}
	if err := checkUpload(t, in.Bucket, in.Key, in.UploadID); err != nil {
		return "", err
	}
	if in.PartNumber < 1 || in.PartNumber > 10000 {
		return "", t.err(fmt.Errorf("part number %d is outside 1..10000", in.PartNumber))
	}
	if in.Size < 0 || in.Offset < 0 {
		return "", t.err(fmt.Errorf("part %d: offset %d and size %d must be >= 0", in.PartNumber, in.Offset, in.Size))
	}
	if in.Body == nil && in.Size > 0 {
		return "", t.err(fmt.Errorf("part %d: body is nil", in.PartNumber))
	}
	md5b64, err := contentMD5(in.ContentMD5)
	if err != nil {
		return "", t.err(err)
	}
	ssec, err := parseSSEC(in.SSEC)
	if err != nil {
		return "", t.err(err)
	}
	var etag string
	err = c.do(ctx, t, func(cl *sdk.ObsClient) error {
		input := &sdk.UploadPartInput{
			Bucket:     in.Bucket,
			Key:        in.Key,
			PartNumber: in.PartNumber,
			UploadId:   in.UploadID,
			ContentMD5: md5b64,
			SseHeader:  ssec.header(),
		}
		if in.Size > 0 {
			// A fresh reader per attempt, and PartSize so the SDK sends
			// an exact Content-Length and streams instead of chunking.
			input.Body = bodySection(in.Body, in.Offset, in.Size)
			input.PartSize = in.Size
		}
		out, err := cl.UploadPart(input, c.ext(nil))
		if err != nil {
			return err
		}
		if out == nil {
			return errNilOutput
		}
		etag = unquoteETag(out.ETag)
		if etag == "" {
			return errors.New("response has no ETag")
		}
		return nil
	})
	return etag, err
}

// ListParts implements Client.
func (c *client) ListParts(ctx context.Context, in ListPartsInput) ([]Part, error) {
	t := target{"ListParts", in.Bucket, in.Key}
	if err := checkUpload(t, in.Bucket, in.Key, in.UploadID); err != nil {
		return nil, err
	}
	pageSize := in.PageSize
	if pageSize <= 0 || pageSize > 1000 {
		pageSize = 1000
	}
	var parts []Part
	marker := 0
	for {
		page, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.ListPartsOutput, error) {
			return cl.ListParts(&sdk.ListPartsInput{
				Bucket:           in.Bucket,
				Key:              in.Key,
				UploadId:         in.UploadID,
				MaxParts:         pageSize,
				PartNumberMarker: marker,
			}, c.ext(nil))
		})
		if err != nil {
			return nil, err
		}
		last := marker
		for _, p := range page.Parts {
			parts = append(parts, Part{
				Number:       p.PartNumber,
				Size:         p.Size,
				ETag:         unquoteETag(p.ETag),
				LastModified: p.LastModified.UTC(),
			})
			last = max(last, p.PartNumber)
		}
		if !page.IsTruncated {
			break
		}
		next := page.NextPartNumberMarker
		if next <= marker {
			next = last
		}
		if next <= marker {
			return nil, t.err(fmt.Errorf("server listed upload %s as truncated after part %d without progress", in.UploadID, marker))
		}
		marker = next
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	// A server that repeats a part across pages must not make us list it twice.
	out := parts[:0]
	for i, p := range parts {
		if i > 0 && p.Number == parts[i-1].Number {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// ListUploads implements Client.
func (c *client) ListUploads(ctx context.Context, bucket, key string) ([]Upload, error) {
	t := target{"ListMultipartUploads", bucket, key}
	if err := checkObject(t, bucket, key); err != nil {
		return nil, err
	}
	// The filter below keeps only key itself.
	prefix := c.listPrefix(key)
	var uploads []Upload
	keyMarker, idMarker := "", ""
	for {
		page, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.ListMultipartUploadsOutput, error) {
			return cl.ListMultipartUploads(&sdk.ListMultipartUploadsInput{
				Bucket:         bucket,
				Prefix:         prefix,
				MaxUploads:     1000,
				KeyMarker:      keyMarker,
				UploadIdMarker: idMarker,
			}, c.ext(nil))
		})
		if err != nil {
			return nil, err
		}
		pastKey := false
		for _, u := range page.Uploads {
			switch {
			case u.Key == key:
				uploads = append(uploads, Upload{Key: u.Key, UploadID: u.UploadId, Initiated: u.Initiated.UTC()})
			case u.Key > key:
				pastKey = true
			}
		}
		if !page.IsTruncated || pastKey {
			// Keys are listed in order and every key under the prefix
			// sorts after key itself: nothing more can match.
			break
		}
		nextKey, nextID := page.NextKeyMarker, page.NextUploadIdMarker
		if nextKey == "" && len(page.Uploads) > 0 {
			lastU := page.Uploads[len(page.Uploads)-1]
			nextKey, nextID = lastU.Key, lastU.UploadId
		}
		if nextKey > key {
			break
		}
		if c.signature == sdk.SignatureV4 && strings.ContainsRune(nextKey+nextID, ' ') {
			return nil, t.err(fmt.Errorf("more than one page of open uploads and the next marker %q contains a space, "+
				"which the OBS SDK cannot sign with v4; use the obs or v2 signature, or abort old uploads", nextKey))
		}
		if nextKey == keyMarker && nextID == idMarker {
			return nil, t.err(fmt.Errorf("server listed uploads as truncated without progress (key marker %q, upload ID marker %q)", keyMarker, idMarker))
		}
		keyMarker, idMarker = nextKey, nextID
	}
	sort.SliceStable(uploads, func(i, j int) bool { return uploads[i].Initiated.Before(uploads[j].Initiated) })
	return uploads, nil
}

// CompleteMultipartUpload implements Client.
func (c *client) CompleteMultipartUpload(ctx context.Context, in CompleteInput) (CompleteOutput, error) {
	t := target{"CompleteMultipartUpload", in.Bucket, in.Key}
	if err := checkUpload(t, in.Bucket, in.Key, in.UploadID); err != nil {
		return CompleteOutput{}, err
	}
	if len(in.Parts) == 0 {
		return CompleteOutput{}, t.err(errors.New("no parts to complete"))
	}
	parts := make([]sdk.Part, 0, len(in.Parts))
	for _, p := range in.Parts {
		parts = append(parts, sdk.Part{PartNumber: p.Number, ETag: quoteETag(p.ETag)})
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
	out, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.CompleteMultipartUploadOutput, error) {
		return cl.CompleteMultipartUpload(&sdk.CompleteMultipartUploadInput{
			Bucket:   in.Bucket,
			Key:      in.Key,
			UploadId: in.UploadID,
			// The SDK sorts this slice in place; give each attempt its own.
			Parts: append([]sdk.Part(nil), parts...),
		}, c.ext(nil))
	})
	if err != nil {
		return CompleteOutput{}, err
	}
	return CompleteOutput{ETag: unquoteETag(out.ETag), VersionID: out.VersionId}, nil
}

// AbortMultipartUpload implements Client.
func (c *client) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	t := target{"AbortMultipartUpload", bucket, key}
	if err := checkUpload(t, bucket, key, uploadID); err != nil {
		return err
	}
	_, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.BaseModel, error) {
		return cl.AbortMultipartUpload(&sdk.AbortMultipartUploadInput{
			Bucket: bucket, Key: key, UploadId: uploadID,
		}, c.ext(nil))
	})
	return err
}

// HeadObject implements Client.
func (c *client) HeadObject(ctx context.Context, in HeadInput) (ObjectInfo, error) {
	t := target{"HeadObject", in.Bucket, in.Key}
	if err := checkObject(t, in.Bucket, in.Key); err != nil {
		return ObjectInfo{}, err
	}
	ssec, err := parseSSEC(in.SSEC)
	if err != nil {
		return ObjectInfo{}, t.err(err)
	}
	out, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.GetObjectMetadataOutput, error) {
		return cl.GetObjectMetadata(&sdk.GetObjectMetadataInput{
			Bucket: in.Bucket, Key: in.Key, VersionId: in.VersionID, SseHeader: ssec.header(),
		}, c.ext(nil))
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	return objectInfo(out), nil
}

// objectInfo maps a HEAD response. The SDK lower-cases response header
// names and strips their x-obs-/x-amz- prefix.
func objectInfo(out *sdk.GetObjectMetadataOutput) ObjectInfo {
	info := ObjectInfo{
		Size:                    out.ContentLength,
		ETag:                    unquoteETag(out.ETag),
		VersionID:               out.VersionId,
		ContentType:             out.ContentType,
		ContentEncoding:         out.ContentEncoding,
		StorageClass:            string(out.StorageClass),
		LastModified:            out.LastModified.UTC(),
		SSE:                     sseName(out.SseHeader),
		WebsiteRedirectLocation: out.WebsiteRedirectLocation,
	}
	for _, name := range []string{"uploadid", "x-obs-uploadid", "x-amz-uploadid"} {
		if v := out.ResponseHeaders[name]; len(v) > 0 && v[0] != "" {
			info.UploadID = v[0]
			break
		}
	}
	if len(out.Metadata) > 0 {
		info.Metadata = make(map[string]string, len(out.Metadata))
		for k, v := range out.Metadata {
			info.Metadata[strings.ToLower(k)] = v
		}
	}
	return info
}

// DeleteObject implements Client.
func (c *client) DeleteObject(ctx context.Context, bucket, key string) error {
	t := target{"DeleteObject", bucket, key}
	if err := checkObject(t, bucket, key); err != nil {
		return err
	}
	_, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.DeleteObjectOutput, error) {
		return cl.DeleteObject(&sdk.DeleteObjectInput{Bucket: bucket, Key: key}, c.ext(nil))
	})
	return err
}

// PutObject implements Client.
func (c *client) PutObject(ctx context.Context, in PutObjectInput) (PutObjectOutput, error) {
	t := target{"PutObject", in.Bucket, in.Key}
	if err := checkObject(t, in.Bucket, in.Key); err != nil {
		return PutObjectOutput{}, err
	}
	if in.Size < 0 {
		return PutObjectOutput{}, t.err(fmt.Errorf("size %d must be >= 0", in.Size))
	}
	if in.Body == nil && in.Size > 0 {
		return PutObjectOutput{}, t.err(errors.New("body is nil"))
	}
	md5b64, err := contentMD5(in.ContentMD5)
	if err != nil {
		return PutObjectOutput{}, t.err(err)
	}
	s, err := translateOptions(in.Bucket, in.Key, in.Options)
	if err != nil {
		return PutObjectOutput{}, t.err(err)
	}
	var res PutObjectOutput
	err = c.do(ctx, t, func(cl *sdk.ObsClient) error {
		input := &sdk.PutObjectInput{}
		input.ObjectOperationInput = s.op
		input.HttpHeader = s.http
		input.ContentMD5 = md5b64
		if in.Size > 0 {
			input.ContentLength = in.Size
			input.Body = bodySection(in.Body, 0, in.Size)
		}
		out, err := cl.PutObject(input, c.ext(s.headers))
		if err != nil {
			return err
		}
		if out == nil {
			return errNilOutput
		}
		res = PutObjectOutput{ETag: unquoteETag(out.ETag), VersionID: out.VersionId}
		return nil
	})
	return res, err
}
