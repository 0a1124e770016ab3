// Package upload is the transfer engine: it plans parts, sends them
// concurrently with Content-MD5, reconciles an earlier upload with the server
// and resumes it, and completes the object with its ETag verified. It talks to
// OBS only through obs.Client and knows nothing of Terraform.
package upload

import (
	"errors"
	"fmt"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// ErrSourceChanged reports that the source file changed during the upload
// (size, modification or change time, inode, or the bytes of a part). The
// engine never completes an upload once it has seen this.
var ErrSourceChanged = errors.New("source file changed during upload")

// CompletedPart is a part the server holds: number, size and ETag.
type CompletedPart struct {
	Number int
	Size   int64
	ETag   string
}

// Record describes a multipart upload in progress, for the caller to keep
// (Terraform private state) and hand back in Input.Record to resume it.
type Record struct {
	UploadID string
	PartSize int64
	Size     int64
	// Source is the fingerprint of the file the parts were read from.
	Source Fingerprint
	// Copy, for a server-side copy, is the source object version the
	// parts were copied from (Source is then zero).
	Copy *ObjectVersion
	// Parts are the completed parts, ascending by number.
	Parts []CompletedPart
	// Options is a digest of the object options (metadata, content type,
	// ACL, ...) the upload was initiated with; completing the upload gives
	// the object those, so a record whose digest differs from the input's
	// is not resumed. "" when unknown (a discovered upload, or a record
	// kept before records had it).
	Options string
}

// Progress is reported each time a part completes and on every tick of
// Input.Ticks.
type Progress struct {
	// BytesDone and PartsDone count the parts the server holds, sent by
	// this run or reused.
	BytesDone, BytesTotal int64
	PartsDone, PartsTotal int
	// BytesInFlight is how much of the parts in flight has been written to
	// the connection so far. A retried part counts from where its earlier
	// attempts got, so BytesDone+BytesInFlight never decreases.
	BytesInFlight int64
	// BytesPerSecond is the rate at which this run writes part bodies to
	// the connection, counted as they are written (reused parts excluded,
	// retried attempts included).
	BytesPerSecond float64
	// ETA is the estimated time left at that rate (0 when unknown).
	ETA time.Duration
	// Tick is set when the report is for a tick of Input.Ticks rather than
	// for a completed part.
	Tick bool
}

// Logger receives the engine's log lines with key/value pairs. A nil Logger
// discards them.
type Logger interface {
	Info(msg string, kv ...any)
	Warn(msg string, kv ...any)
	Debug(msg string, kv ...any)
}

type nopLogger struct{}

func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Debug(string, ...any) {}

// Input describes one upload (Upload) or server-side copy (Copy).
type Input struct {
	Bucket, Key string
	// Path is the source file of an upload.
	Path string
	// Copy is the source object of a copy, whose byte ranges are the parts.
	Copy *CopySource
	// Expected, when set, is the fingerprint the source must have at the
	// start and throughout; otherwise the fingerprint at the start is used.
	Expected *Fingerprint
	// PartSize is the requested part size; 0 means DefaultPartSize.
	PartSize int64
	// PartMD5s, when set, are the MD5s of the file's parts computed ahead
	// (SumFile, at plan time). When they were computed for the file's
	// fingerprint at the start and for the upload's layout, every part is
	// sent with its sum from them and the file is read once, to send it,
	// and a resume proves the parts already on the server with them;
	// otherwise they are ignored and the engine hashes the parts itself.
	// A stale sum of a part it sends cannot slip through: the server
	// rejects a part whose bytes do not match its Content-MD5, and the
	// engine then re-hashes the part to tell a changed file from a
	// corrupted transfer. A part kept on resume rests on the fingerprint,
	// as the plan's SHA-256 of an unchanged file does.
	PartMD5s *PartSums
	// Concurrency is the number of parts in flight for this upload
	// (default 4); Budget may bound it further.
	Concurrency int
	Options     obs.ObjectOptions
	// Record is an earlier upload to resume (from Terraform private state).
	Record *Record
	// Discover, when there is no usable record, looks for an open upload
	// for the key that is provably ours and resumes it.
	Discover bool
	// Initiated, when set, is called with the record of a new multipart
	// upload (its options digest included) as soon as it is initiated,
	// before any part is sent, so that the caller can remember the upload
	// even if its process is killed before Upload returns (the provider's
	// journal aborts it once superseded). A resumed upload is not reported.
	Initiated func(Record)
	// Putting, when set, is called once before the first request of a
	// single PUT (an upload smaller than one part): such an object has no
	// upload ID, so the caller remembers it by its content beforehand, in
	// case its process is killed before the PUT's answer.
	Putting func()
	// Budget is a worker budget shared across uploads; nil is unlimited.
	Budget *Budget
	// Bandwidth is a cap on the bytes per second written, shared across
	// uploads; nil is unlimited. MaxBandwidth, when positive, is this
	// upload's own cap in bytes per second: the tighter of the two holds.
	Bandwidth    *Bandwidth
	MaxBandwidth int64
	// OnProgress is called (never concurrently) as parts complete and on
	// every value received from Ticks; it must return quickly.
	OnProgress func(Progress)
	// Ticks, when set, makes OnProgress report on every value received
	// while the upload runs (the provider passes a 5-second ticker's
	// channel), so that progress shows while parts are still in flight.
	Ticks  <-chan time.Time
	Logger Logger
	// PartTimeout returns the deadline of one attempt to send a part of
	// size bytes; nil means 2 minutes plus 1 second per MiB.
	PartTimeout func(size int64) time.Duration
}

// Output describes a finished (or, on error, a partial) upload.
type Output struct {
	ETag, VersionID string
	// UploadID is the multipart upload used ("" for a single PUT).
	UploadID string
	Layout   Layout
	// Resumed: an existing upload was continued (from Record or found by
	// discovery). Discovered: it was found by discovery.
	Resumed, Discovered bool
	// Restarted: the recorded upload no longer existed (NoSuchUpload), so
	// another upload was used.
	Restarted bool
	// Abandoned is a recorded upload that does not fit the file any more
	// (different size or part size) or was initiated with other object
	// options. It was left untouched; the caller
	// should Abort it.
	Abandoned string
	// PartsSent and BytesSent count what this run sent (for a copy, what
	// the server copied: no object data pass through the client);
	// PartsReused the parts already on the server.
	PartsSent, PartsReused int
	BytesSent              int64
	// Notices are sentences worth showing to a person.
	Notices []string
}

// PartError is the failure of one part of a multipart upload.
type PartError struct {
	UploadID   string
	PartNumber int
	Err        error
}

func (e *PartError) Error() string {
	return fmt.Sprintf("part %d of multipart upload %s: %v", e.PartNumber, e.UploadID, e.Err)
}

func (e *PartError) Unwrap() error { return e.Err }
