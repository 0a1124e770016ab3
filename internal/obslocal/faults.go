package obslocal

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Op names one OBS operation, for fault matching and statistics.
type Op string

// Operations the server implements.
const (
	OpCreateBucket            Op = "CreateBucket"
	OpHeadBucket              Op = "HeadBucket"
	OpDeleteBucket            Op = "DeleteBucket"
	OpPutObject               Op = "PutObject"
	OpGetObject               Op = "GetObject"
	OpHeadObject              Op = "HeadObject"
	OpDeleteObject            Op = "DeleteObject"
	OpInitiateMultipartUpload Op = "InitiateMultipartUpload"
	OpUploadPart              Op = "UploadPart"
	// OpCopyObject is PUT with a copy-source header: a server-side copy of
	// a whole object (at most 5 GB) into a new object.
	OpCopyObject Op = "CopyObject"
	// OpUploadPartCopy is PUT ?partNumber&uploadId with a copy-source
	// header: a part copied server-side from a byte range of an object.
	OpUploadPartCopy          Op = "UploadPartCopy"
	OpListParts               Op = "ListParts"
	OpListMultipartUploads    Op = "ListMultipartUploads"
	OpListObjects             Op = "ListObjects"
	OpCompleteMultipartUpload Op = "CompleteMultipartUpload"
	OpAbortMultipartUpload    Op = "AbortMultipartUpload"
	// OpUnknown is any request the server does not implement.
	OpUnknown Op = "Unknown"
)

var allOps = []Op{OpCreateBucket, OpHeadBucket, OpDeleteBucket, OpPutObject, OpGetObject, OpHeadObject,
	OpDeleteObject, OpInitiateMultipartUpload, OpUploadPart, OpCopyObject, OpUploadPartCopy, OpListParts,
	OpListMultipartUploads, OpListObjects, OpCompleteMultipartUpload, OpAbortMultipartUpload, OpUnknown}

// Fault describes a misbehaviour injected into requests of one operation.
// Faults apply only to requests that pass authentication. Several faults
// may match one request: latency and throttling add up; of Status, Reset and
// DropResponse the first matching fault wins.
type Fault struct {
	Op         Op
	After      int // let this many matching requests through first
	Times      int // how many to affect (0 → 1, -1 → all)
	PartNumber int // UploadPart and UploadPartCopy only: match this part number (0 → any)
	// Status and Code: respond with this error (e.g. 503 "SlowDown") without
	// performing the operation. The request body is read and discarded first.
	// Status 200 answers 200 with the error body, as OBS answers a copy
	// that fails after it started.
	Status int
	Code   string
	// Reset: read ResetAfterBytes body bytes, then reset the TCP connection
	// (SO_LINGER 0) without responding.
	ResetAfterBytes int64
	Reset           bool
	Latency         time.Duration // added before handling
	BytesPerSecond  int64         // throttle request body reads
	// DropResponse: perform the operation fully, then close the connection
	// without responding.
	DropResponse bool
}

type faultState struct {
	Fault
	id      int
	seen    int
	applied int
}

type faultSet struct {
	mu     sync.Mutex
	nextID int
	faults []*faultState
}

func (fs *faultSet) add(f Fault) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	if f.Times == 0 {
		f.Times = 1
	}
	fs.faults = append(fs.faults, &faultState{Fault: f, id: fs.nextID})
	return fs.nextID
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	fs.faults = nil
	fs.mu.Unlock()
}

// match returns the combined effect of the faults matching a request.
func (fs *faultSet) match(op Op, partNumber int) (eff Fault, ok bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	action := false
	for _, f := range fs.faults {
		if f.Op != op || (f.PartNumber != 0 && f.PartNumber != partNumber) {
			continue
		}
		f.seen++
		if f.seen <= f.After || (f.Times >= 0 && f.applied >= f.Times) {
			continue
		}
		f.applied++
		ok = true
		eff.Latency += f.Latency
		if f.BytesPerSecond > 0 && (eff.BytesPerSecond == 0 || f.BytesPerSecond < eff.BytesPerSecond) {
			eff.BytesPerSecond = f.BytesPerSecond
		}
		if action {
			continue
		}
		switch {
		case f.Status != 0:
			eff.Status, eff.Code, action = f.Status, f.Code, true
		case f.Reset:
			eff.Reset, eff.ResetAfterBytes, action = true, f.ResetAfterBytes, true
		case f.DropResponse:
			eff.DropResponse, action = true, true
		}
	}
	return eff, ok
}

// OpStats counts the requests of one operation.
type OpStats struct {
	Requests  int64
	Errors    int64 // responses with status ≥ 400, resets included
	BodyBytes int64 // request body bytes received (0 for copies: they send none)
	// CopiedBytes are the bytes CopyObject and UploadPartCopy copied from
	// their sources, server-side.
	CopiedBytes int64
}

// Stats is a snapshot of the server's counters. The concurrent parts are
// UploadPart and UploadPartCopy requests in progress.
type Stats struct {
	Ops                 map[Op]OpStats
	PeakConcurrentParts int
	ConcurrentParts     int
	// InFlight counts the requests being handled (admin requests
	// excluded): one whose client died keeps being handled until the
	// server has read what the client had sent.
	InFlight int
	// How the requests arrived (admin requests excluded, refused ones
	// included): by Host header as sent, lower-cased ("b.obs.local:PORT"
	// for virtual-hosted addressing); by signature scheme, the first word
	// of the Authorization header ("OBS", "AWS" for V2, "AWS4-HMAC-SHA256",
	// "" when unsigned, "other"); and how many carried a security token.
	Hosts             map[string]int64
	Signatures        map[string]int64
	WithSecurityToken int64
}

type opCounters struct {
	requests, errors, bodyBytes, copiedBytes atomic.Int64
}

type counters struct {
	ops       map[Op]*opCounters // fixed at construction, read-only map
	parts     atomic.Int64
	peakParts atomic.Int64
	inFlight  atomic.Int64
	arrivals  *arrivals
}

func newCounters() *counters {
	c := &counters{ops: make(map[Op]*opCounters, len(allOps)), arrivals: newArrivals()}
	for _, op := range allOps {
		c.ops[op] = &opCounters{}
	}
	return c
}

func (c *counters) op(op Op) *opCounters {
	if oc, ok := c.ops[op]; ok {
		return oc
	}
	return c.ops[OpUnknown]
}

func (c *counters) partStarted() {
	n := c.parts.Add(1)
	for {
		p := c.peakParts.Load()
		if n <= p || c.peakParts.CompareAndSwap(p, n) {
			return
		}
	}
}

func (c *counters) partDone() { c.parts.Add(-1) }

func (c *counters) snapshot() Stats {
	st := Stats{Ops: make(map[Op]OpStats, len(c.ops))}
	for op, oc := range c.ops {
		st.Ops[op] = OpStats{Requests: oc.requests.Load(), Errors: oc.errors.Load(), BodyBytes: oc.bodyBytes.Load(),
			CopiedBytes: oc.copiedBytes.Load()}
	}
	st.PeakConcurrentParts = int(c.peakParts.Load())
	st.ConcurrentParts = int(c.parts.Load())
	st.InFlight = int(c.inFlight.Load())
	c.arrivals.snapshot(&st)
	return st
}

func (c *counters) reset() {
	for _, oc := range c.ops {
		oc.requests.Store(0)
		oc.errors.Store(0)
		oc.bodyBytes.Store(0)
		oc.copiedBytes.Store(0)
	}
	c.peakParts.Store(c.parts.Load())
	c.arrivals.reset()
}

// countingReader adds every byte read to a counter.
type countingReader struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// throttledReader limits reads to about bps bytes per second.
type throttledReader struct {
	r     io.ReadCloser
	bps   int64
	start time.Time
	n     int64
	done  <-chan struct{}
}

func (t *throttledReader) Read(p []byte) (int, error) {
	if t.start.IsZero() {
		t.start = time.Now()
	}
	chunk := t.bps / 20
	if chunk < 1 {
		chunk = 1
	}
	if int64(len(p)) > chunk {
		p = p[:chunk]
	}
	n, err := t.r.Read(p)
	t.n += int64(n)
	due := t.start.Add(time.Duration(float64(t.n) / float64(t.bps) * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-t.done:
			timer.Stop()
		}
	}
	return n, err
}

func (t *throttledReader) Close() error { return t.r.Close() }
