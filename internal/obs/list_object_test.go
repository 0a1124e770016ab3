package obs_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// ListObject finds exactly the key asked for, among keys it prefixes and
// keys with spaces (which SigV4 lists under a shorter prefix), in every
// signing mode; it needs no SSE-C key, and a missing key is a 404. The
// server speaks HTTPS, which SSE-C requires.
func TestLocalServerListObject(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, m := range itModes {
		t.Run(m.String(), func(t *testing.T) {
			s, cfg := obslocaltest.Start(t, append([]obslocaltest.Option{obslocaltest.WithSelfSignedTLS()}, itServer...)...)
			c := localClient(t, s, cfg, m, obslocaltest.SecretKey)
			ctx := context.Background()
			for _, k := range []string{"dir/a", "dir/a b", "dir/a b/c", "dir/a bc", "dir/ab"} {
				if err := s.PutObjectData(obslocaltest.Bucket, k, []byte(k)); err != nil {
					t.Fatal(err)
				}
			}
			data := []byte("encrypted with a customer key")
			sum := md5.Sum(data)
			if _, err := c.PutObject(ctx, obs.PutObjectInput{Bucket: obslocaltest.Bucket, Key: "dir/a b/sse-c", Body: bytes.NewReader(data),
				Size: int64(len(data)), ContentMD5: sum[:], Options: obs.ObjectOptions{SSEC: &obs.SSECustomerKey{KeyBase64: key}}}); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"dir/a", "dir/a b", "dir/a b/c", "dir/ab", "dir/a b/sse-c"} {
				info, err := c.ListObject(ctx, obslocaltest.Bucket, k)
				if err != nil {
					t.Fatalf("ListObject(%q): %v", k, err)
				}
				size := int64(len(k))
				if k == "dir/a b/sse-c" {
					size = int64(len(data))
				}
				_, want, err := s.ObjectSHA256(obslocaltest.Bucket, k)
				if err != nil {
					t.Fatal(err)
				}
				if info.Size != size || `"`+info.ETag+`"` != want.ETag || info.LastModified.IsZero() || info.StorageClass == "" {
					t.Errorf("ListObject(%q) = %+v; want size %d, ETag %s", k, info, size, want.ETag)
				}
			}
			if _, err := c.HeadObject(ctx, obs.HeadInput{Bucket: obslocaltest.Bucket, Key: "dir/a b/sse-c"}); err == nil {
				t.Error("HEAD of an SSE-C object without its key succeeded; ListObject would not be needed")
			}
			for _, k := range []string{"dir/a ", "dir/", "dir/a b/c/d", "zzz"} {
				if _, err := c.ListObject(ctx, obslocaltest.Bucket, k); !obs.IsNotFound(err) {
					t.Errorf("ListObject(%q) of a missing key: %v, want a 404", k, err)
				}
			}
		})
	}
}
