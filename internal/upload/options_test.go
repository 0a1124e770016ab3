package upload

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// A recorded upload initiated with other object options (here the source's
// checksum in the metadata, after the file changed in place) is not
// completed: the object would get the old options. It is abandoned for the
// caller to abort, and a new upload carries the new ones.
func TestResumeWithChangedOptionsAbandonsRecord(t *testing.T) {
	f := newFake()
	path, _ := writeFile(t, 4*MinPartSize, 41)
	in := input(path, MinPartSize)
	in.Options = obs.ObjectOptions{Metadata: map[string]string{"tf-source-sha256": "old"}}
	_, rec, _, _ := cancelAfter(t, f, in, 2)
	if rec == nil || rec.Options == "" {
		t.Fatalf("record %+v: want the digest of the options it was initiated with", rec)
	}

	in.Record = rec
	in.Options.Metadata = map[string]string{"tf-source-sha256": "new"}
	in.Discover = true
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Abandoned != rec.UploadID || out.Resumed || out.UploadID == rec.UploadID {
		t.Fatalf("output %+v: want the record abandoned and a new upload", out)
	}
	if len(out.Notices) != 1 || !strings.Contains(out.Notices[0], rec.UploadID) || !strings.Contains(out.Notices[0], "other object settings") {
		t.Fatalf("notices %q", out.Notices)
	}
	if ids := f.uploadIDs(testKey); !slices.Equal(ids, []string{rec.UploadID}) {
		t.Fatalf("open uploads %v: the abandoned one must be left for the caller", ids)
	}
}

// The same options, even in a new map, resume the recorded upload; so does
// a record without a digest (kept before records had one).
func TestResumeWithSameOptions(t *testing.T) {
	for _, keepDigest := range []bool{true, false} {
		f := newFake()
		path, data := writeFile(t, 4*MinPartSize, 42)
		in := input(path, MinPartSize)
		in.Options = obs.ObjectOptions{ContentType: "a/b", Metadata: map[string]string{"k": "v", "tf-source-sha256": "s"}}
		_, rec, _, _ := cancelAfter(t, f, in, 2)
		if !keepDigest {
			rec.Options = ""
		}
		in.Record = rec
		in.Options = obs.ObjectOptions{ContentType: "a/b", Metadata: map[string]string{"tf-source-sha256": "s", "k": "v"}}
		out, _, err := Upload(context.Background(), f, in)
		if err != nil {
			t.Fatal(err)
		}
		if !out.Resumed || out.UploadID != rec.UploadID || out.Abandoned != "" {
			t.Fatalf("digest kept %v: output %+v, want the recorded upload resumed", keepDigest, out)
		}
		checkObject(t, f, out, path, data)
	}
}
