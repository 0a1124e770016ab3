package obs

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	sdk "github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// listPrefix is the prefix under which to list key. The SDK's SigV4 signs
// query values as url.QueryEscape writes them, with a space as "+", where
// SigV4 requires "%20": a request whose prefix or marker holds a space fails
// with SignatureDoesNotMatch. So in V4 mode list under the part of key
// before its first space, and filter for key itself.
func (c *client) listPrefix(key string) string {
	if c.signature == sdk.SignatureV4 {
		if i := strings.IndexByte(key, ' '); i >= 0 {
			return key[:i]
		}
	}
	return key
}

// ListObject implements Client.
func (c *client) ListObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	t := target{"ListObjects", bucket, key}
	if err := checkObject(t, bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	prefix := c.listPrefix(key)
	// Every other key under key sorts after key itself, so when the prefix
	// is the key its first entry is the answer.
	maxKeys := 1000
	if prefix == key {
		maxKeys = 1
	}
	marker := ""
	for {
		page, err := call(ctx, c, t, func(cl *sdk.ObsClient) (*sdk.ListObjectsOutput, error) {
			return cl.ListObjects(&sdk.ListObjectsInput{
				Bucket: bucket, Marker: marker,
				ListObjsInput: sdk.ListObjsInput{Prefix: prefix, MaxKeys: maxKeys},
			}, c.ext(nil))
		})
		if err != nil {
			return ObjectInfo{}, err
		}
		for _, o := range page.Contents {
			switch {
			case o.Key == key:
				return ObjectInfo{Size: o.Size, ETag: unquoteETag(o.ETag), StorageClass: string(o.StorageClass),
					LastModified: o.LastModified.UTC()}, nil
			case o.Key > key:
				return ObjectInfo{}, notListed(t)
			}
		}
		next := page.NextMarker
		if next == "" && len(page.Contents) > 0 {
			next = page.Contents[len(page.Contents)-1].Key
		}
		if !page.IsTruncated || next == marker || next > key {
			return ObjectInfo{}, notListed(t)
		}
		if c.signature == sdk.SignatureV4 && strings.ContainsRune(next, ' ') {
			return ObjectInfo{}, t.err(fmt.Errorf("more than one page of keys under %q and the next marker %q contains a space, "+
				"which the OBS SDK cannot sign with v4; use the obs or v2 signature", prefix, next))
		}
		marker = next
	}
}

// notListed is the error of a key the listing does not hold: a 404, like
// HEAD of a missing object.
func notListed(t target) *Error {
	return &Error{Op: t.op, Bucket: t.bucket, Key: t.key, StatusCode: http.StatusNotFound, Code: "NoSuchKey",
		Message: "the key is not listed in the bucket"}
}
