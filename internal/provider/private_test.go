package provider

import (
	"reflect"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// A record survives private state whole, the digest of its object options
// included: without it the next apply would resume an upload initiated with
// other metadata.
func TestUploadRecordRoundTrip(t *testing.T) {
	rec := &upload.Record{
		UploadID: "U1", PartSize: upload.MinPartSize, Size: 3*upload.MinPartSize - 7,
		Source:  upload.Fingerprint{Size: 3*upload.MinPartSize - 7, ModTimeNs: 1, ChangeTimeNs: 2, Inode: 3, Device: 4},
		Parts:   []upload.CompletedPart{{Number: 1, Size: upload.MinPartSize, ETag: "0123456789abcdef0123456789abcdef"}, {Number: 3, Size: upload.MinPartSize - 7, ETag: "opaque-etag"}},
		Options: "5e2d5923d9727714daec193f3b65d671",
	}
	enc, err := encodeUpload("b", "k", rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := enc.decode()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("decoded %+v, want %+v", got, rec)
	}
}
