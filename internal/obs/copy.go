package obs

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// copySettings is a validated CopySource for the SDK.
type copySettings struct {
	src     CopySource
	ifMatch string // quoted, or ""
	ssec    *sseC
}

func checkSource(src CopySource) (copySettings, error) {
	switch {
	case strings.TrimSpace(src.Bucket) == "":
		return copySettings{}, errors.New("source bucket is empty")
	case strings.TrimSpace(src.Key) == "":
		return copySettings{}, errors.New("source key is empty")
	}
	ssec, err := parseSSEC(src.SSEC)
	if err != nil {
		return copySettings{}, fmt.Errorf("source: %w", err)
	}
	cs := copySettings{src: src, ssec: ssec}
	if src.IfMatch != "" {
		cs.ifMatch = quoteETag(src.IfMatch)
	}
	return cs, nil
}

// sourceHeader is the SDK header of the source's SSE-C key, or nil.
func (cs copySettings) sourceHeader() sdk.ISseHeader {
	if cs.ssec == nil {
		return nil
	}
	return cs.ssec.header()
}

// CopyObject implements Client.
func (c *client) CopyObject(ctx context.Context, in CopyObjectInput) (CopyObjectOutput, error) {
	t := target{"CopyObject", in.Bucket, in.Key}
	if err := checkObject(t, in.Bucket, in.Key); err != nil {
		return CopyObjectOutput{}, err
	}
	cs, err := checkSource(in.Source)
	if err != nil {
		return CopyObjectOutput{}, t.err(err)
	}
	o := in.Options
	if !in.ReplaceMetadata && (o.ContentType != "" || o.ContentEncoding != "" || len(o.Metadata) > 0) {
		return CopyObjectOutput{}, t.err(errors.New("content type, content encoding and metadata are copied from the source unless they are replaced"))
	}
	if !in.ReplaceTags && len(o.Tags) > 0 {
		return CopyObjectOutput{}, t.err(errors.New("tags are copied from the source unless they are replaced"))
	}
	s, err := translateOptions(in.Bucket, in.Key, o)
	if err != nil {
		return CopyObjectOutput{}, t.err(err)
	}
	directive := sdk.CopyMetadata
	if in.ReplaceMetadata {
		directive = sdk.ReplaceMetadata
	}
	headers := func(h map[string][]string, isObs bool) error {
		if in.ReplaceTags {
			h[prefix(isObs)+"tagging-directive"] = []string{"REPLACE"}
		}
		return s.headers(h, isObs)
	}
	out, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.CopyObjectOutput, error) {
		out, err := cl.CopyObject(&sdk.CopyObjectInput{
			ObjectOperationInput: s.op,
			HttpHeader:           s.http,
			CopySourceBucket:     cs.src.Bucket,
			CopySourceKey:        cs.src.Key,
			CopySourceVersionId:  cs.src.VersionID,
			CopySourceIfMatch:    cs.ifMatch,
			SourceSseHeader:      cs.sourceHeader(),
			MetadataDirective:    directive,
		}, c.ext(headers))
		return out, copyOutcome(out != nil && out.ETag == "", err)
	})
	if err != nil {
		return CopyObjectOutput{}, err
	}
	return CopyObjectOutput{
		ETag:            unquoteETag(out.ETag),
		VersionID:       out.VersionId,
		SourceVersionID: out.CopySourceVersionId,
		LastModified:    out.LastModified.UTC(),
	}, nil
}

// UploadPartCopy implements Client.
func (c *client) UploadPartCopy(ctx context.Context, in UploadPartCopyInput) (string, error) {
	t := target{"UploadPartCopy", in.Bucket, in.Key}
	if err := checkUpload(t, in.Bucket, in.Key, in.UploadID); err != nil {
		return "", err
	}
	if in.PartNumber < 1 || in.PartNumber > 10000 {
		return "", t.err(fmt.Errorf("part number %d is outside 1..10000", in.PartNumber))
	}
	if in.Offset < 0 || in.Size < 1 {
		return "", t.err(fmt.Errorf("part %d: offset %d must be >= 0 and size %d >= 1", in.PartNumber, in.Offset, in.Size))
	}
	cs, err := checkSource(in.Source)
	if err != nil {
		return "", t.err(err)
	}
	ssec, err := parseSSEC(in.SSEC)
	if err != nil {
		return "", t.err(err)
	}
	// The range and the condition go in as headers: the SDK has no field
	// for the condition, and drops a range of one byte (first == last).
	rng := fmt.Sprintf("bytes=%d-%d", in.Offset, in.Offset+in.Size-1)
	headers := func(h map[string][]string, isObs bool) error {
		p := prefix(isObs)
		h[p+"copy-source-range"] = []string{rng}
		if cs.ifMatch != "" {
			h[p+"copy-source-if-match"] = []string{cs.ifMatch}
		}
		return nil
	}
	out, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.CopyPartOutput, error) {
		out, err := cl.CopyPart(&sdk.CopyPartInput{
			Bucket:              in.Bucket,
			Key:                 in.Key,
			UploadId:            in.UploadID,
			PartNumber:          in.PartNumber,
			CopySourceBucket:    cs.src.Bucket,
			CopySourceKey:       cs.src.Key,
			CopySourceVersionId: cs.src.VersionID,
			SseHeader:           ssec.header(),
			SourceSseHeader:     cs.sourceHeader(),
		}, c.ext(headers))
		return out, copyOutcome(out != nil && out.ETag == "", err)
	})
	if err != nil {
		return "", err
	}
	return unquoteETag(out.ETag), nil
}

// errCopyFailed is a copy answered 200 whose body holds no copy result
// with an ETag. OBS answers a copy with 200 once it starts copying and
// reports the outcome in the body: such a copy failed, and may succeed if
// sent again (IsRetryable).
var errCopyFailed = errors.New("OBS answered 200 without a copy result: the copy failed")

// copyOutcome is the error of a copy attempt. The SDK reports a 200 answer
// holding an error body as an ObsError with status 200 (CopyObject) or as
// an XML decoding error (CopyPart), and one without an ETag as success;
// all three are errCopyFailed.
func copyOutcome(noETag bool, err error) error {
	var oe sdk.ObsError
	var ue xml.UnmarshalError
	switch {
	case err == nil && noETag:
		return errCopyFailed
	case errors.As(err, &oe) && oe.StatusCode >= 200 && oe.StatusCode < 300:
		return fmt.Errorf("%w (request ID %s)", errCopyFailed, oe.RequestId)
	case errors.As(err, &ue):
		return fmt.Errorf("%w: %w", errCopyFailed, err)
	}
	return err
}
