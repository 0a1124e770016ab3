package upload

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
)

// The engine soak's schedule: everything one iteration does, drawn from its
// seed alone, so that a seed replays the same file sizes, part sizes,
// faults, interruptions and source changes. Only the interleaving with the
// engine's goroutines differs between runs.

// Fault kinds, as counted in the soak's report.
const (
	faultInternalError = "500 InternalError"
	faultUnavailable   = "503 ServiceUnavailable/SlowDown"
	faultBadDigest     = "400 BadDigest"
	faultDenied        = "403 AccessDenied"
	faultReset         = "reset after N body bytes"
	faultLatency       = "latency"
	faultThrottle      = "throttled body"
	faultDrop          = "response dropped after the operation"
	faultDeadline      = "latency past the part deadline"
)

// Interruptions and changes, during an attempt or between two.
const (
	eventCancel  = "cancellation"
	eventRestart = "server restart"
	eventExpire  = "upload expired (aborted behind the engine's back)"
	eventMutate  = "source file changed"
	eventKill    = "record lost (run killed): discovery"
	eventResize  = "part size changed"
	// eventKillDone: the killed run's Complete had taken effect; with its
	// record lost, the next run sends the whole file again.
	eventKillDone = "record lost after the run's Complete took effect (whole file sent again)"
)

// Ways the source file changes.
const (
	mutateRewrite  = "rewrite a range in place"
	mutateAppend   = "append"
	mutateTruncate = "truncate"
	mutateReplace  = "replace (new inode)"
	mutateTouch    = "touch (same bytes, new mtime)"
)

type soakIteration struct {
	seed        int64
	size        int64
	concurrency int
	attempts    []soakAttempt
}

// soakAttempt is one call of Upload and what happens before and during it.
type soakAttempt struct {
	// Before the attempt.
	lostRecord bool          // the previous run was killed: resume by discovery
	restart    bool          // the server restarts between the runs
	expire     bool          // the open uploads of the key expire
	mutate     *soakMutation // the source file changes
	partSize   int64         // the part size asked for (may differ from the last attempt's)
	discover   bool          // Input.Discover (always set when there is no record)

	faults      []soakFault
	triggers    []soakTrigger
	partTimeout time.Duration // 0: a generous deadline
	calm        bool          // no faults, no interruptions: the run must succeed
}

type soakFault struct {
	kind  string
	fault obslocal.Fault
}

// soakTrigger fires during an attempt: when the attempt's afterParts-th
// part completes, or after delay when afterParts is 0.
type soakTrigger struct {
	kind       string
	afterParts int
	delay      time.Duration
	mutation   *soakMutation
}

type soakMutation struct {
	kind string
	seed uint64 // draws the range and the new bytes from the file as it is then
}

var soakPartSizes = []int64{MinPartSize, MinPartSize, MinPartSize + 4093, 128 << 10, 256 << 10}

func drawIteration(seed int64) soakIteration {
	r := rand.New(rand.NewPCG(uint64(seed), 0x736f616b))
	partSize := soakPartSizes[r.IntN(len(soakPartSizes))]
	it := soakIteration{seed: seed, size: drawSize(r, partSize), concurrency: 1 + r.IntN(6)}
	parts := max(1, int((it.size+partSize-1)/partSize))
	single := it.size < partSize
	faulty := 1 + r.IntN(4)
	for i := range faulty + 2 {
		a := soakAttempt{partSize: partSize, discover: r.IntN(5) != 0, calm: i >= faulty}
		if i > 0 && i <= faulty {
			a.lostRecord = r.IntN(4) == 0
			a.restart = r.IntN(12) == 0
			a.expire = r.IntN(8) == 0
			if r.IntN(6) == 0 {
				a.mutate = drawMutation(r)
			}
			if r.IntN(15) == 0 {
				partSize = soakPartSizes[r.IntN(len(soakPartSizes))]
				a.partSize = partSize
			}
		}
		if !a.calm {
			deadline := false
			for range r.IntN(4) {
				f := drawFault(r, parts, partSize, single)
				if f.kind == faultDeadline {
					deadline = true
				}
				a.faults = append(a.faults, f)
			}
			if deadline {
				// Throttled parts must not hit the short deadline too.
				a.partTimeout = 400 * time.Millisecond
				for i, f := range a.faults {
					if f.kind == faultThrottle {
						a.faults[i] = soakFault{kind: faultLatency, fault: obslocal.Fault{Op: f.fault.Op, Times: 2, Latency: 2 * time.Millisecond}}
					}
				}
			}
			for range r.IntN(3) {
				a.triggers = append(a.triggers, drawTrigger(r, parts))
			}
		}
		it.attempts = append(it.attempts, a)
	}
	return it
}

// drawSize: empty, below one part, exact multiples of the part size, one
// byte either side of a part, and odd sizes.
func drawSize(r *rand.Rand, ps int64) int64 {
	switch r.IntN(8) {
	case 0:
		return 0
	case 1:
		return 1 + r.Int64N(ps-1)
	case 2, 3:
		return ps * (1 + r.Int64N(12))
	case 4:
		return ps - 1 + 2*r.Int64N(2)
	default:
		return ps*r.Int64N(14) + 1 + r.Int64N(ps-1)
	}
}

func drawMutation(r *rand.Rand) *soakMutation {
	kinds := []string{mutateRewrite, mutateRewrite, mutateAppend, mutateTruncate, mutateReplace, mutateTouch}
	return &soakMutation{kind: kinds[r.IntN(len(kinds))], seed: r.Uint64()}
}

var (
	soakControlOps = []obslocal.Op{obslocal.OpInitiateMultipartUpload, obslocal.OpCompleteMultipartUpload,
		obslocal.OpListParts, obslocal.OpListMultipartUploads, obslocal.OpHeadObject}
	soakStatusCodes = []struct {
		kind   string
		status int
		code   string
	}{
		{faultInternalError, 500, "InternalError"},
		{faultUnavailable, 503, "ServiceUnavailable"},
		{faultUnavailable, 503, "SlowDown"},
	}
)

// drawFault draws one fault for an upload of parts parts of ps bytes (a
// single PUT when single).
func drawFault(r *rand.Rand, parts int, ps int64, single bool) soakFault {
	data := obslocal.OpUploadPart
	if single {
		data = obslocal.OpPutObject
	}
	anyOp := func() obslocal.Op {
		if r.IntN(2) == 0 {
			return data
		}
		return soakControlOps[r.IntN(len(soakControlOps))]
	}
	f := obslocal.Fault{Op: anyOp(), After: r.IntN(3), Times: 1 + r.IntN(3)}
	if f.Op == obslocal.OpUploadPart && r.IntN(2) == 0 {
		f.PartNumber = 1 + r.IntN(parts)
	}
	kind := ""
	switch r.IntN(10) {
	case 0, 1:
		sc := soakStatusCodes[r.IntN(len(soakStatusCodes))]
		kind, f.Status, f.Code = sc.kind, sc.status, sc.code
	case 2:
		kind, f.Op, f.Status, f.Code = faultBadDigest, data, 400, "BadDigest"
		f.PartNumber = 0
	case 3:
		kind, f.Status, f.Code, f.Times = faultDenied, 403, "AccessDenied", 1
	case 4, 5:
		kind, f.Reset = faultReset, true
		if f.Op == data {
			f.ResetAfterBytes = r.Int64N(ps)
		}
	case 6:
		kind, f.Latency = faultLatency, time.Duration(1+r.IntN(20))*time.Millisecond
		if r.IntN(3) == 0 {
			f.Times, f.Latency = -1, time.Duration(1+r.IntN(3))*time.Millisecond
		}
	case 7:
		kind, f.Op, f.BytesPerSecond = faultThrottle, data, int64(2+r.IntN(15))<<20
		if r.IntN(3) == 0 {
			f.Times = -1
		}
	case 8:
		kind, f.DropResponse = faultDrop, true
		if f.Op == obslocal.OpListMultipartUploads || f.Op == obslocal.OpHeadObject {
			f.Op = obslocal.OpCompleteMultipartUpload
		}
	default:
		if single {
			kind, f.Op, f.Latency = faultLatency, data, 5*time.Millisecond
			break
		}
		kind, f.Op, f.Latency, f.Times = faultDeadline, obslocal.OpUploadPart, 600*time.Millisecond, 1
		f.PartNumber = 1 + r.IntN(parts)
	}
	return soakFault{kind: kind, fault: f}
}

func drawTrigger(r *rand.Rand, parts int) soakTrigger {
	kinds := []string{eventCancel, eventCancel, eventCancel, eventRestart, eventRestart, eventExpire, eventMutate, eventMutate}
	tg := soakTrigger{kind: kinds[r.IntN(len(kinds))]}
	if tg.kind == eventMutate {
		tg.mutation = drawMutation(r)
	}
	if r.IntN(2) == 0 {
		tg.afterParts = 1 + r.IntN(parts)
	} else {
		tg.delay = time.Duration(r.Int64N(int64(40 * time.Millisecond)))
	}
	return tg
}

// TestEngineSoakSchedule: a seed draws the same schedule every time (so a
// printed seed replays it), and the seeds of the short slice draw every
// size class, fault kind, interruption and change of the source.
func TestEngineSoakSchedule(t *testing.T) {
	seen := map[string]bool{}
	for seed := int64(1); seed <= soakSliceIterations; seed++ {
		it := drawIteration(seed)
		if !reflect.DeepEqual(it, drawIteration(seed)) {
			t.Fatalf("seed %d drew two different schedules", seed)
		}
		ps := it.attempts[0].partSize
		switch {
		case it.size == 0:
			seen["empty file"] = true
		case it.size < ps:
			seen["below one part"] = true
		case it.size%ps == 0:
			seen["exact multiple of the part size"] = true
		default:
			seen["odd size"] = true
		}
		for _, a := range it.attempts {
			for _, f := range a.faults {
				seen[f.kind] = true
				if f.fault.DropResponse && f.fault.Op == obslocal.OpCompleteMultipartUpload {
					seen["Complete's response dropped"] = true
				}
			}
			for _, tg := range a.triggers {
				when := " after a delay"
				if tg.afterParts > 0 {
					when = " when a part completes"
				}
				seen[tg.kind+when] = true
				if tg.mutation != nil {
					seen[tg.mutation.kind] = true
				}
			}
			if a.mutate != nil {
				seen[a.mutate.kind] = true
			}
			seen[eventKill] = seen[eventKill] || a.lostRecord
			seen[eventRestart] = seen[eventRestart] || a.restart
			seen[eventExpire] = seen[eventExpire] || a.expire
			seen[eventResize] = seen[eventResize] || a.partSize != it.attempts[0].partSize
		}
	}
	want := []string{"empty file", "below one part", "exact multiple of the part size", "odd size",
		faultInternalError, faultUnavailable, faultBadDigest, faultDenied, faultReset, faultLatency, faultThrottle,
		faultDrop, faultDeadline, "Complete's response dropped",
		eventCancel + " after a delay", eventCancel + " when a part completes",
		eventRestart + " after a delay", eventRestart + " when a part completes",
		eventExpire + " after a delay", eventExpire + " when a part completes",
		eventMutate + " after a delay", eventMutate + " when a part completes",
		mutateRewrite, mutateAppend, mutateTruncate, mutateReplace, mutateTouch,
		eventKill, eventRestart, eventExpire, eventResize}
	for _, k := range want {
		if !seen[k] {
			t.Errorf("the short slice (seeds 1–%d) never draws %q", soakSliceIterations, k)
		}
	}
}
