package provider

import (
	"context"
	"testing"
)

// The upload that completed a key stays journaled as completed, so that an
// object assembled from it is known as ours after a killed run; a destroy
// forgets it.
func TestJournalRemembersCompletedUpload(t *testing.T) {
	const bucket, key = "b", "journal/completed.bin"
	journalUpload(bucket, key, "U1", "D1")
	if o, ok := journaled(bucket, key, "U1"); !ok || o != "D1" {
		t.Fatalf("an initiated upload: journaled %v with options %q, want D1", ok, o)
	}
	// Nothing but U1 is journaled: no request is made.
	if w := abortJournaled(context.Background(), nil, bucket, key, "U1", "D1"); len(w) != 0 {
		t.Fatalf("warnings %q", w)
	}
	if o, ok := journaled(bucket, key, "U1"); !ok || o != "D1" {
		t.Fatalf("the upload that completed the key: journaled %v with options %q, want D1", ok, o)
	}
	if _, ok := journaled(bucket, key, "U2"); ok {
		t.Fatal("an upload never journaled is reported journaled")
	}
	abortJournaled(context.Background(), nil, bucket, key, "", "")
	if _, ok := journaled(bucket, key, "U1"); ok {
		t.Fatal("a destroy left the completed upload journaled")
	}
}
