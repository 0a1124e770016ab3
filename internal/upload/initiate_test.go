package upload

import (
	"context"
	"slices"
	"testing"
)

// Initiated hears of a new upload before its first part is sent, with its
// options digest, and of nothing else: a resumed upload is not reported again.
func TestInitiatedBeforeFirstPart(t *testing.T) {
	f := newFake()
	path, data := writeFile(t, 3*MinPartSize, 31)
	in := input(path, MinPartSize)
	var reported []string
	partsAtReport := -1
	var options string
	in.Initiated = func(r Record) {
		reported = append(reported, r.UploadID)
		options = r.Options
		f.mu.Lock()
		partsAtReport = len(f.partAttempts)
		f.mu.Unlock()
	}
	_, rec, _, _ := cancelAfter(t, f, in, 1)
	if rec == nil || !slices.Equal(reported, []string{rec.UploadID}) {
		t.Fatalf("reported %v, want the initiated upload %+v", reported, rec)
	}
	if options == "" || options != rec.Options || options != OptionsDigest(in.Options) {
		t.Fatalf("reported options %q, record %q, want %q", options, rec.Options, OptionsDigest(in.Options))
	}
	if partsAtReport != 0 {
		t.Fatalf("reported after %d part request(s), want before the first", partsAtReport)
	}

	reported = nil
	in.Record = rec
	out, _, err := Upload(context.Background(), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(reported) != 0 {
		t.Fatalf("resuming %s reported %v", rec.UploadID, reported)
	}
	checkObject(t, f, out, path, data)
}

// Putting hears of a single PUT once, before its first request, and of no
// multipart upload.
func TestPuttingBeforeSinglePut(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want int
	}{{"single PUT", MinPartSize / 2, 1}, {"multipart", 3 * MinPartSize, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			path, data := writeFile(t, tc.size, 32)
			in := input(path, MinPartSize)
			calls, putsAtCall := 0, -1
			in.Putting = func() {
				calls++
				putsAtCall = f.callCount("PutObject")
			}
			out, _, err := Upload(context.Background(), f, in)
			if err != nil {
				t.Fatal(err)
			}
			checkObject(t, f, out, path, data)
			if calls != tc.want || calls == 1 && putsAtCall != 0 {
				t.Fatalf("Putting called %d times (want %d), after %d PutObject request(s)", calls, tc.want, putsAtCall)
			}
		})
	}
}
