//go:build linux

package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
)

// The terraform soak's schedule: what one cycle does, drawn from its seed
// alone, so that a seed names the same cycle on every run.

// interruptKind is how an apply is interrupted.
type interruptKind string

const (
	sigintOnce   interruptKind = "SIGINT to terraform"
	sigintTwice  interruptKind = "SIGINT twice to terraform"
	killTF       interruptKind = "SIGKILL to terraform alone"
	killProvider interruptKind = "SIGKILL to the provider alone"
	restartOBS   interruptKind = "server restart"
	// rewrite rewrites the source in place (same size, new bytes) while its
	// parts are being sent: the apply must fail without completing.
	rewrite interruptKind = "source rewritten mid-upload"
)

var interruptKinds = []interruptKind{sigintOnce, sigintTwice, killTF, killProvider, restartOBS}

// trigger is what makes the cycle upload.
type trigger string

const (
	// newContent: the source changes and the object is updated in place.
	// On an empty state a clean apply of the prior content comes first.
	newContent trigger = "update to new content"
	// replace: the source changes and apply -replace deletes the object and
	// creates it again (on an empty state: a plain create).
	replace trigger = "replace with new content"
)

// sourceChange is how the source or its configuration changes between the
// interrupted apply and the applies that follow it.
type sourceChange string

const (
	keepSource    sourceChange = ""
	newBytes      sourceChange = "new bytes, same size"
	newSize       sourceChange = "new bytes, new size"
	newPartSize   sourceChange = "new part_size"
	sourceChanges              = 3
)

// content is one version of the source file.
type content struct {
	size     int
	dataSeed uint32 // acctest.WriteSource's seed
}

// soakFault is a fault injected into the applies after the interruption.
type soakFault struct {
	kind string // for the counters: "503 SlowDown", "reset", "drop", ...
	f    obslocal.Fault
}

func (f soakFault) String() string {
	s := fmt.Sprintf("%s on %s", f.kind, f.f.Op)
	if f.f.PartNumber != 0 {
		s += fmt.Sprintf(" part %d", f.f.PartNumber)
	}
	if f.f.Latency > 0 {
		s += " " + f.f.Latency.String()
	}
	if f.f.Reset {
		s += fmt.Sprintf(" after %d bytes", f.f.ResetAfterBytes)
	}
	return s + fmt.Sprintf(" (after %d, %d times)", f.f.After, f.f.Times)
}

// bodyWaste is at most how many request body bytes the fault makes the
// provider send again: a part (or single PUT) body per application for an
// error, a reset or a lost response on a request that carries one.
func (f soakFault) bodyWaste(partSize int64) int64 {
	if f.f.Op != obslocal.OpUploadPart && f.f.Op != obslocal.OpPutObject {
		return 0
	}
	if f.f.Status == 0 && !f.f.Reset && !f.f.DropResponse {
		return 0
	}
	return int64(f.f.Times) * partSize
}

// cycleSchedule is everything one cycle does, drawn from its seed.
type cycleSchedule struct {
	seed        uint64
	trigger     trigger
	prior       content // the object's content before an update when the state is empty
	content     content // the source during the interrupted apply
	partSize    int
	concurrency int
	// The interrupted apply: part uploads (or the single PUT) are slowed to
	// partBps, and kind interrupts it once atParts parts of the new upload
	// are on the server (0: once it is initiated) or, with atComplete, once
	// the object has been assembled and the provider is waiting for HEAD.
	kind       interruptKind
	atParts    int
	atComplete bool
	partBps    int64
	// Between the interrupted apply and the next.
	expire     bool // abort the open upload behind the provider's back (NoSuchUpload)
	restart    bool // restart the server
	change     sourceChange
	after      content // the source after change (== content when change is keepSource or newPartSize)
	afterPart  int     // part_size after change
	faults     []soakFault
	maxRetries int    // provider max_retries
	rewritten  uint32 // the data seed of the rewrite (kind rewrite)
}

// Part sizes the soak draws: obslocal, like OBS, takes parts of 100 KiB and
// more (all but the last).
var soakPartSizes = []int{100 << 10, 128 << 10, 160 << 10, 256 << 10}

// soakRand is the generator of one cycle: its draws depend on the seed only.
func soakRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// drawContent draws a source size for partSize: mostly a few parts (exact
// multiples and odd sizes), sometimes below one part (a single PUT) or
// empty.
func drawContent(r *rand.Rand, partSize int) content {
	c := content{dataSeed: r.Uint32()}
	switch p := r.IntN(100); {
	case p < 3:
		c.size = 0
	case p < 12:
		c.size = 1 + r.IntN(partSize-1)
	case p < 40:
		c.size = (2 + r.IntN(5)) * partSize
	default:
		c.size = (2+r.IntN(5))*partSize + 1 + r.IntN(partSize-1)
	}
	return c
}

func drawSchedule(seed uint64) cycleSchedule {
	r := soakRand(seed)
	s := cycleSchedule{seed: seed, trigger: newContent}
	if r.IntN(4) == 0 {
		s.trigger = replace
	}
	s.partSize = soakPartSizes[r.IntN(len(soakPartSizes))]
	s.concurrency = 1 + r.IntN(3)
	s.maxRetries = 2 + r.IntN(3)
	s.prior = drawContent(r, s.partSize)
	s.content = drawContent(r, s.partSize)
	s.kind = interruptKinds[r.IntN(len(interruptKinds))]
	parts := max(1, (s.content.size+s.partSize-1)/s.partSize)
	if s.content.size >= s.partSize {
		s.atParts = r.IntN(parts)
		s.atComplete = r.IntN(6) == 0
	}
	// A part takes 0.25 to 0.5 s to arrive: interruptions land mid-part.
	s.partBps = int64(s.partSize) * int64(2+r.IntN(3))

	s.expire = r.IntN(7) == 0
	s.restart = s.kind != restartOBS && r.IntN(7) == 0
	s.after, s.afterPart = s.content, s.partSize
	if r.IntN(3) == 0 {
		switch r.IntN(sourceChanges) {
		case 0:
			s.change = newBytes
			s.after = content{size: s.content.size, dataSeed: r.Uint32()}
		case 1:
			s.change = newSize
			s.after = drawContent(r, s.partSize)
		default:
			s.change = newPartSize
			s.afterPart = soakPartSizes[(indexOf(soakPartSizes, s.partSize)+1+r.IntN(len(soakPartSizes)-1))%len(soakPartSizes)]
		}
	}
	for range r.IntN(4) {
		s.faults = append(s.faults, drawFault(r, s.afterPart))
	}
	// Drawn last, so that the draws above are those of the schedules
	// before this kind existed.
	//
	// A rewrite must change bytes the provider has yet to read. Parts start
	// in waves of concurrency (a wave's parts end together), and a part's
	// body is read at once into the connection's buffers, so the rewrite
	// comes before a wave that starts after the next one: the file needs
	// more parts than one wave.
	if r.IntN(6) == 0 && s.content.size >= s.partSize && !s.atComplete && parts > s.concurrency {
		s.kind, s.restart = rewrite, s.restart || s.kind == restartOBS
		s.rewritten = r.Uint32()
		s.atParts = min(s.atParts, max(0, parts-2*s.concurrency))
	}
	// A storm: the first fault outlasts the retries of one apply, so that
	// the next apply has to carry on (drawn last, like the rewrite).
	if i := slices.IndexFunc(s.faults, func(f soakFault) bool { return f.f.Status != 0 }); i >= 0 && r.IntN(2) == 0 {
		s.faults[i].f.Times = 4 * (s.maxRetries + 1)
		s.faults[i].kind += " storm"
	}
	return s
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// drawFault draws one fault from what obslocal can inject.
func drawFault(r *rand.Rand, partSize int) soakFault {
	pick := func(ops ...obslocal.Op) obslocal.Op { return ops[r.IntN(len(ops))] }
	f := obslocal.Fault{After: r.IntN(3), Times: 1 + r.IntN(3)}
	var kind string
	switch r.IntN(6) {
	case 0, 1:
		codes := []struct {
			status int
			code   string
		}{{503, "SlowDown"}, {503, "ServiceUnavailable"}, {500, "InternalError"}}
		c := codes[r.IntN(len(codes))]
		f.Op = pick(obslocal.OpUploadPart, obslocal.OpUploadPart, obslocal.OpPutObject, obslocal.OpInitiateMultipartUpload,
			obslocal.OpCompleteMultipartUpload, obslocal.OpListParts, obslocal.OpListMultipartUploads, obslocal.OpHeadObject)
		f.Status, f.Code = c.status, c.code
		kind = fmt.Sprintf("%d %s", c.status, c.code)
	case 2:
		f.Op = pick(obslocal.OpUploadPart, obslocal.OpUploadPart, obslocal.OpPutObject)
		f.Reset, f.ResetAfterBytes = true, int64(1+r.IntN(partSize-1))
		f.Times = 1 + r.IntN(2)
		kind = "reset mid-body"
	case 3:
		f.Op = pick(obslocal.OpUploadPart, obslocal.OpCompleteMultipartUpload, obslocal.OpListParts, obslocal.OpHeadObject)
		f.Latency = time.Duration(20+r.IntN(280)) * time.Millisecond
		f.Times = 1 + r.IntN(5)
		kind = "latency"
	default:
		f.Op = pick(obslocal.OpUploadPart, obslocal.OpCompleteMultipartUpload, obslocal.OpCompleteMultipartUpload,
			obslocal.OpPutObject, obslocal.OpInitiateMultipartUpload)
		f.DropResponse, f.Times = true, 1
		kind = "response dropped"
	}
	return soakFault{kind: kind, f: f}
}

func (s cycleSchedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %s; %d bytes (data seed %d) in parts of %d KiB, concurrency %d, max_retries %d; ",
		s.seed, s.trigger, s.content.size, s.content.dataSeed, s.partSize>>10, s.concurrency, s.maxRetries)
	moment := fmt.Sprintf("once %d part(s) are stored", s.atParts)
	switch {
	case s.atComplete:
		moment = "once the object is assembled"
	case s.content.size < s.partSize:
		moment = "during the single PUT"
	}
	fmt.Fprintf(&b, "%s %s (parts at %d KiB/s)", s.kind, moment, s.partBps>>10)
	if s.kind == rewrite {
		fmt.Fprintf(&b, " with data seed %d", s.rewritten)
	}
	if s.expire {
		b.WriteString("; then the open upload is aborted behind its back")
	}
	if s.restart {
		b.WriteString("; then the server restarts")
	}
	if s.change != keepSource {
		fmt.Fprintf(&b, "; then %s (%d bytes, data seed %d, parts of %d KiB)", s.change, s.after.size, s.after.dataSeed, s.afterPart>>10)
	}
	for _, f := range s.faults {
		b.WriteString("; fault: " + f.String())
	}
	return b.String()
}
