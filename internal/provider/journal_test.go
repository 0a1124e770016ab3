package provider

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// abortClient aborts every upload but those in fail, and records the calls;
// the journal calls nothing else.
type abortClient struct {
	obs.Client
	fail    map[string]bool
	aborted []string
}

func (c *abortClient) AbortMultipartUpload(_ context.Context, _, _, id string) error {
	if c.fail[id] {
		return errors.New("abort refused")
	}
	c.aborted = append(c.aborted, id)
	return nil
}

// The journal finds the newest record of a copy's source version and
// layout; abortJournaled keeps the records of the uploads it could not
// abort, for the next time.
func TestJournalRecords(t *testing.T) {
	t.Parallel()
	const bucket, key = "journal-bucket", "journal/records.bin"
	freshJournal(bucket, key)
	v1 := upload.ObjectVersion{Bucket: "src", Key: "a.bin", ETag: "etag-1"}
	v2 := upload.ObjectVersion{Bucket: "src", Key: "a.bin", ETag: "etag-2"}
	rec := func(id string, v upload.ObjectVersion) *upload.Record {
		return &upload.Record{UploadID: id, PartSize: 5 << 20, Size: 48 << 20, Copy: &v}
	}
	journalRecord(bucket, key, rec("old-v1", v1))
	journalRecord(bucket, key, rec("v2", v2))
	journalUpload(bucket, key, "plain", "")
	journalRecord(bucket, key, rec("new-v1", v1))
	of := func(v upload.ObjectVersion) func(*upload.Record) bool {
		return func(r *upload.Record) bool {
			return r.Copy != nil && *r.Copy == v && r.PartSize == 5<<20 && r.Size == 48<<20
		}
	}
	if r := journaledRecord(bucket, key, of(v1)); r == nil || r.UploadID != "new-v1" || *r.Copy != v1 || len(r.Parts) != 0 {
		t.Fatalf("record of v1: %+v, want the newest, new-v1", r)
	}
	if r := journaledRecord(bucket, key, of(upload.ObjectVersion{Bucket: "src", Key: "a.bin", ETag: "etag-3"})); r != nil {
		t.Fatalf("record of an unjournaled version: %+v", r)
	}

	c := &abortClient{fail: map[string]bool{"old-v1": true}}
	if w := abortJournaled(context.Background(), c, bucket, key, completion{UploadID: "v2"}); len(w) != 1 {
		t.Fatalf("warnings %q, want one for old-v1", w)
	}
	slices.Sort(c.aborted)
	if !slices.Equal(c.aborted, []string{"new-v1", "plain"}) {
		t.Fatalf("aborted %v", c.aborted)
	}
	if r := journaledRecord(bucket, key, of(v1)); r == nil || r.UploadID != "old-v1" {
		t.Fatalf("after the aborts, record of v1: %+v, want old-v1 kept with its record", r)
	}
	if r := journaledRecord(bucket, key, of(v2)); r != nil {
		t.Fatalf("the kept upload v2 is still journaled: %+v", r)
	}

	// A run aborts only the uploads journaled before it started: one
	// journaled since may be another run's, in flight.
	before := journaledUploads(bucket, key)
	journalRecord(bucket, key, rec("concurrent", v2))
	c = &abortClient{}
	if w := abortJournaledOf(context.Background(), c, bucket, key, completion{UploadID: "mine"}, before); len(w) != 0 || !slices.Equal(c.aborted, []string{"old-v1"}) {
		t.Fatalf("aborted %v (warnings %q), want only old-v1", c.aborted, w)
	}
	if got := journaledUploads(bucket, key); !slices.Equal(got, []string{"concurrent"}) {
		t.Fatalf("journal holds %v, want the concurrent upload", got)
	}
}

// The upload that completed a key stays journaled as completed, so that an
// object assembled from it is known as ours after a killed run; a destroy
// forgets it.
func TestJournalRemembersCompletedUpload(t *testing.T) {
	const bucket, key = "b", "journal/completed.bin"
	freshJournal(bucket, key)
	journalUpload(bucket, key, "U1", "D1")
	if o, ok := journaled(bucket, key, "U1"); !ok || o != "D1" {
		t.Fatalf("an initiated upload: journaled %v with options %q, want D1", ok, o)
	}
	// Nothing but U1 is journaled: no request is made.
	if w := abortJournaled(context.Background(), nil, bucket, key, completion{UploadID: "U1", Options: "D1"}); len(w) != 0 {
		t.Fatalf("warnings %q", w)
	}
	if o, ok := journaled(bucket, key, "U1"); !ok || o != "D1" {
		t.Fatalf("the upload that completed the key: journaled %v with options %q, want D1", ok, o)
	}
	if _, ok := journaled(bucket, key, "U2"); ok {
		t.Fatal("an upload never journaled is reported journaled")
	}
	abortJournaled(context.Background(), nil, bucket, key, completion{})
	if _, ok := journaled(bucket, key, "U1"); ok {
		t.Fatal("a destroy left the completed upload journaled")
	}
}

// A single PUT has no upload ID: the journal knows it by its content's
// SHA-256 from before it starts, and keeps the one that completed the key.
func TestJournalRemembersPuts(t *testing.T) {
	const bucket, key = "b", "journal/put.bin"
	freshJournal(bucket, key)
	journalPut(bucket, key, "S1")
	journalPut(bucket, key, "S2")
	if !journaledPut(bucket, key, "S1") || !journaledPut(bucket, key, "S2") || journaledPut(bucket, key, "S3") {
		t.Fatal("started PUTs are not journaled by their SHA-256")
	}
	abortJournaled(context.Background(), nil, bucket, key, completion{PutSHA256: "S2"})
	if journaledPut(bucket, key, "S1") || !journaledPut(bucket, key, "S2") {
		t.Fatal("after S2 completed the key, want only S2 journaled")
	}
	abortJournaled(context.Background(), nil, bucket, key, completion{})
	if journaledPut(bucket, key, "S2") {
		t.Fatal("a destroy left the completed PUT journaled")
	}
}

// Once the object is deleted, what completed the key is forgotten: an
// object put there later is not this machine's by that record. Open
// uploads stay journaled.
func TestJournalForgetsCompletedOnDelete(t *testing.T) {
	const bucket, key, key2 = "b", "journal/forget.bin", "journal/forget2.bin"
	freshJournal(bucket, key, key2)
	journalPut(bucket, key, "S1")
	abortJournaled(context.Background(), nil, bucket, key, completion{PutSHA256: "S1"})
	journalUpload(bucket, key, "open", "D1")
	forgetCompleted(bucket, key)
	if journaledPut(bucket, key, "S1") {
		t.Fatal("a deleted PUT's content is still journaled")
	}
	if o, ok := journaled(bucket, key, "open"); !ok || o != "D1" {
		t.Fatal("forgetting the completed object dropped an open upload")
	}

	journalUpload(bucket, key2, "U1", "D1")
	abortJournaled(context.Background(), nil, bucket, key2, completion{UploadID: "U1", Options: "D1"})
	forgetCompleted(bucket, key2)
	if _, ok := journaled(bucket, key2, "U1"); ok {
		t.Fatal("a deleted object's upload is still journaled as completed")
	}
}

// freshJournal removes the journals of bucket's keys, so that a test starts
// from none (go test -count runs it again in the same cache).
func freshJournal(bucket string, keys ...string) {
	for _, k := range keys {
		_ = os.Remove(journalPath(bucket, k))
	}
}
