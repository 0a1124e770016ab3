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
	journalUpload(bucket, key, "U1")
	if !journaled(bucket, key, "U1") {
		t.Fatal("an initiated upload is not journaled")
	}
	// Nothing but U1 is journaled: no request is made.
	if w := abortJournaled(context.Background(), nil, bucket, key, "U1"); len(w) != 0 {
		t.Fatalf("warnings %q", w)
	}
	if !journaled(bucket, key, "U1") {
		t.Fatal("the upload that completed the key is forgotten")
	}
	if journaled(bucket, key, "U2") {
		t.Fatal("an upload never journaled is reported journaled")
	}
	abortJournaled(context.Background(), nil, bucket, key, "")
	if journaled(bucket, key, "U1") {
		t.Fatal("a destroy left the completed upload journaled")
	}
}
