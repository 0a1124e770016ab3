package upload

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// The engine soak: seeded iterations against the local OBS server over real
// HTTP. Each draws a file, a part size, a concurrency and a schedule of
// faults, interruptions and source changes (soak_schedule_test.go), runs
// Upload and resumes it — from the returned record, or by discovery when
// the "killed" run's record is lost — until it succeeds, playing the
// caller's role of aborting superseded uploads, and checks the invariants
// after every run and at the end:
//   - an object, when there is one, holds exactly one version of the file
//     (never mixed or wrong bytes), with the ETag of its parts;
//   - a run that returns no error leaves the object holding the file as it
//     found it, with the ETag of the parts sent (the multipart formula),
//     assembled by the upload it names, and returns no record; a run during
//     which the file changed as one of its parts completed never succeeds;
//   - a returned record lists only parts the server holds, as recorded;
//   - a cancelled run returns within 2 s;
//   - after success no upload stays open, once the caller has aborted those
//     it was told of (records of failed runs, Output.Abandoned) — except the
//     uploads of "killed" runs discovery could not prove ours, and empty
//     uploads whose Initiate response was lost (both for a lifecycle rule);
//   - the part and PUT bytes the server received beyond the file are at most
//     one part per worker per interruption (a failed run, a restart) and one
//     part per fault on a part, counted afresh when the upload is lost by
//     design (expired, the file or the part size changed);
//   - no goroutine outlives the iteration.
//
// A replay of one seed (-soak.iterations=1) logs what every run did.
//
// Without settings it runs a short fixed slice (part of the ordinary test
// run). SOAK_ITERATIONS, SOAK_SECONDS and SOAK_SEED, or the flags below,
// steer a long run (make soak); with SOAK_REPORT_DIR set, it writes its
// figures to $SOAK_REPORT_DIR/engine.md (acctest.SoakReportDirEnv).

var (
	soakSeedFlag       = flag.Int64("soak.seed", 0, "engine soak: seed of the first iteration (default $SOAK_SEED; 1 for the short slice, else from the clock)")
	soakIterationsFlag = flag.Int("soak.iterations", 0, "engine soak: number of iterations (default $SOAK_ITERATIONS)")
	soakSecondsFlag    = flag.Int("soak.seconds", 0, "engine soak: stop starting iterations after this many seconds (default $SOAK_SECONDS)")
)

// soakSliceIterations is the short slice run when nothing is set.
const soakSliceIterations = 80

type soakSettings struct {
	seed       int64
	iterations int // 0: until duration
	duration   time.Duration
}

func soakSettingsFrom(t *testing.T) soakSettings {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	num := func(name, env string, fv int64) (int64, bool) {
		if set[name] {
			return fv, true
		}
		if v := os.Getenv(env); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: %v", env, v, err)
			}
			return n, true
		}
		return 0, false
	}
	seed, seedSet := num("soak.seed", "SOAK_SEED", *soakSeedFlag)
	iters, _ := num("soak.iterations", "SOAK_ITERATIONS", int64(*soakIterationsFlag))
	secs, _ := num("soak.seconds", "SOAK_SECONDS", int64(*soakSecondsFlag))
	st := soakSettings{seed: seed, iterations: int(iters), duration: time.Duration(secs) * time.Second}
	if iters == 0 && secs == 0 {
		st.iterations = soakSliceIterations
		if !seedSet {
			st.seed = 1
		}
	} else if !seedSet {
		st.seed = 1 + time.Now().UnixNano()%1_000_000_000
	}
	return st
}

// soakServer starts the local OBS server of one iteration.
func soakServer(t *testing.T) (*obslocal.Server, obs.Client) { return newLocalClient(t) }

func soakReplay(seed any) string {
	return fmt.Sprintf("go test -count=1%s ./internal/upload -run 'TestEngineSoak$' -soak.seed=%v -soak.iterations=1 -v", soakRaceFlag, seed)
}

func TestEngineSoak(t *testing.T) {
	cfg := soakSettingsFrom(t)
	dir := t.TempDir()
	rep := newSoakReport(cfg.seed)
	rep.trace = cfg.iterations == 1 // a replay: show what each run did
	start := time.Now()
	// The figures are logged and written however the soak ends, a Fatal
	// of the soak itself included.
	defer func() {
		rep.elapsed = time.Since(start)
		md := rep.markdown()
		t.Log("\n" + md)
		if err := acctest.WriteSoakReport("engine", md); err != nil {
			t.Errorf("writing the soak report: %v", err)
		}
	}()
	for i := 0; cfg.iterations == 0 || i < cfg.iterations; i++ {
		if cfg.duration > 0 && time.Since(start) >= cfg.duration {
			break
		}
		seed := cfg.seed + int64(i)
		if vs := runSoakIteration(t, dir, drawIteration(seed), rep); len(vs) > 0 {
			rep.violations += len(vs)
			rep.seeds = append(rep.seeds, seed)
			t.Errorf("seed %d: %d invariant violation(s):\n  %s\nreplay: %s", seed, len(vs), strings.Join(vs, "\n  "), soakReplay(seed))
			if len(rep.seeds) >= 5 {
				t.Log("stopping after 5 failing seeds")
				break
			}
		}
		rep.lastSeed = seed
		rep.iterations++
	}
}

// soakIter is the state of one iteration.
type soakIter struct {
	t    *testing.T
	it   soakIteration
	rep  *soakReport
	s    *obslocal.Server
	c    obs.Client
	path string

	// srvMu keeps restarts apart from the server's out-of-band methods.
	srvMu sync.Mutex
	// mutMu keeps changes of the file apart from each other.
	mutMu sync.Mutex

	mu         sync.Mutex // guards what triggers change during a run
	versions   [][]byte   // every content the file had; the last is the current one
	partSize   int64      // of the current run
	partSizes  map[int64]bool
	epochBase  int64 // body bytes the server had received when the epoch began
	epochBound int64 // bytes the epoch may re-send
	// lastRunCost is what the parts in flight at the end of the last
	// failed run may still add.
	lastRunCost int64
	violations  []string

	runVersion   int             // the version of the file the last run uploaded (or started with)
	journal      map[string]bool // uploads the caller aborts after success (the provider's journal)
	seen         map[string]bool // every upload ID the engine reported
	dropped      map[string]bool // uploads whose record was lost with a killed run
	initiateLoss bool            // an Initiate's response may have been lost
}

// fatal stops the soak on a failure of the soak itself (not of the engine).
func (si *soakIter) fatal(format string, args ...any) {
	si.t.Helper()
	si.t.Fatalf("seed %d: %s\nreplay: %s", si.it.seed, fmt.Sprintf(format, args...), soakReplay(si.it.seed))
}

func (si *soakIter) violate(format string, args ...any) {
	si.mu.Lock()
	si.violations = append(si.violations, fmt.Sprintf(format, args...))
	si.mu.Unlock()
}

func runSoakIteration(t *testing.T, dir string, it soakIteration, rep *soakReport) []string {
	t.Helper()
	md5Server() // its goroutines live as long as the process: not a leak
	goroutines := runtime.NumGoroutine()
	si := &soakIter{t: t, it: it, rep: rep, path: filepath.Join(dir, fmt.Sprintf("src-%d", it.seed)),
		partSizes: map[int64]bool{}, journal: map[string]bool{}, seen: map[string]bool{}, dropped: map[string]bool{}}
	si.s, si.c = soakServer(t)
	data := soakBytes(uint64(it.seed), it.size)
	if err := os.WriteFile(si.path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	si.versions = [][]byte{data}
	si.run()
	if err := si.s.Close(); err != nil {
		t.Fatalf("closing the server: %v", err)
	}
	_ = os.Remove(si.path)
	if n, ok := settleGoroutines(goroutines); !ok {
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		si.violate("goroutine leak: %d before the iteration, %d after\n%s", goroutines, n, b.String())
	}
	rep.mu.Lock()
	rep.maxSize = max(rep.maxSize, it.size)
	rep.maxConcurrent = max(rep.maxConcurrent, int64(it.concurrency))
	if it.size < it.attempts[0].partSize {
		rep.singlePutSizes++
	}
	rep.mu.Unlock()
	return si.violations
}

// settleGoroutines polls until at most n goroutines run, for up to 10 s.
func settleGoroutines(n int) (int, bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := runtime.NumGoroutine()
		if got <= n {
			return got, true
		}
		if time.Now().After(deadline) {
			return got, false
		}
		time.Sleep(time.Millisecond)
	}
}

// soakBytes returns n pseudo-random bytes drawn from seed.
func soakBytes(seed uint64, n int64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 0x62797465))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (si *soakIter) current() []byte {
	si.mu.Lock()
	defer si.mu.Unlock()
	return si.versions[len(si.versions)-1]
}

// sent is the request body bytes the server received for parts and PUTs.
func (si *soakIter) sent() int64 {
	st := si.s.Stats()
	return st.Ops[obslocal.OpUploadPart].BodyBytes + st.Ops[obslocal.OpPutObject].BodyBytes
}

// interruptCost is what one interruption may cost: a part per worker of the
// current layout. Call with si.mu held.
func (si *soakIter) interruptCostLocked() int64 {
	l, err := PlanParts(int64(len(si.versions[len(si.versions)-1])), si.partSize)
	if err != nil {
		return 0
	}
	if l.SinglePut {
		return l.Size
	}
	return int64(min(si.it.concurrency, l.Parts)) * l.PartSize
}

func (si *soakIter) charge(n int64) {
	si.mu.Lock()
	si.epochBound += n
	si.mu.Unlock()
}

// newEpoch starts counting re-sent bytes afresh: what was sent before is
// lost by design (the upload expired, or the file or part size changed).
// The parts in flight when the epoch begins — during a run, or at the end
// of the failed run before it, whose requests may still be arriving — may
// land in it: one interruption.
func (si *soakIter) newEpoch(during bool) {
	sent := si.sent()
	si.mu.Lock()
	defer si.mu.Unlock()
	si.epochBase, si.epochBound = sent, si.lastRunCost
	if during {
		si.epochBound = si.interruptCostLocked()
	}
}

func (si *soakIter) restart() {
	si.srvMu.Lock()
	defer si.srvMu.Unlock()
	if err := si.s.Restart(); err != nil {
		si.violate("server restart failed: %v", err)
	}
}

// expire removes the key's open uploads behind the engine's back, as a
// lifecycle rule or another client's abort would.
func (si *soakIter) expire(during bool) {
	si.srvMu.Lock()
	for _, u := range si.s.OpenUploads(obslocaltest.Bucket) {
		if u.Key == testKey {
			_ = si.s.ExpireUpload(obslocaltest.Bucket, testKey, u.UploadID)
		}
	}
	si.srvMu.Unlock()
	si.newEpoch(during)
}

// mutate changes the source file and records its new content.
func (si *soakIter) mutate(m *soakMutation, during bool) {
	si.mutMu.Lock()
	defer si.mutMu.Unlock()
	old := si.current()
	r := rand.New(rand.NewPCG(m.seed, 0x6d757461))
	kind := m.kind
	if len(old) == 0 && (kind == mutateRewrite || kind == mutateTruncate) {
		kind = mutateAppend
	}
	next := bytes.Clone(old)
	var err error
	switch kind {
	case mutateRewrite:
		off := r.Int64N(int64(len(old)))
		n := 1 + r.Int64N(min(int64(len(old))-off, 64<<10))
		for i := off; i < off+n; i++ {
			next[i] ^= byte(1 + r.IntN(255))
		}
		err = writeAt(si.path, next[off:off+n], off)
	case mutateAppend:
		extra := soakBytes(r.Uint64(), 1+r.Int64N(200<<10))
		next = append(next, extra...)
		err = writeAt(si.path, extra, int64(len(old)))
	case mutateTruncate:
		next = next[:r.Int64N(int64(len(old)))]
		err = os.Truncate(si.path, int64(len(next)))
	case mutateReplace:
		size := int64(len(old))
		if r.IntN(2) == 0 {
			size = r.Int64N(size + 300<<10)
		}
		next = soakBytes(r.Uint64(), size)
		tmp := si.path + ".new"
		if err = os.WriteFile(tmp, next, 0o600); err == nil {
			err = os.Rename(tmp, si.path)
		}
	case mutateTouch:
		now := time.Now()
		err = os.Chtimes(si.path, now, now)
	}
	if err != nil {
		si.violate("the soak could not change the source (%s): %v", kind, err)
		return
	}
	// The new epoch begins once the file holds its new content: parts sent
	// while it was being written were read from the old one.
	si.newEpoch(during)
	si.mu.Lock()
	si.versions = append(si.versions, next)
	si.mu.Unlock()
}

func writeAt(path string, b []byte, off int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(b, off); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// versionOf returns the index of the version whose bytes hash to sum, or -1.
func (si *soakIter) versionOf(sum string) int {
	si.mu.Lock()
	defer si.mu.Unlock()
	for i := len(si.versions) - 1; i >= 0; i-- {
		h := sha256.Sum256(si.versions[i])
		if hex.EncodeToString(h[:]) == sum {
			return i
		}
	}
	return -1
}

// soakETag is the ETag OBS gives data uploaded in parts of partSize.
func soakETag(data []byte, partSize int64) string {
	l, err := PlanParts(int64(len(data)), partSize)
	if err != nil {
		return ""
	}
	if l.SinglePut {
		s := md5.Sum(data)
		return hex.EncodeToString(s[:])
	}
	etags := make([]string, l.Parts)
	for n := 1; n <= l.Parts; n++ {
		off, size := l.Part(n)
		s := md5.Sum(data[off : off+size])
		etags[n-1] = hex.EncodeToString(s[:])
	}
	etag, _ := multipartETag(etags)
	return etag
}

// run makes the iteration's runs until one succeeds.
func (si *soakIter) run() {
	var rec *Record
	var abandoned string // of the last failed run, journaled unless the run is "killed"
	for i, a := range si.it.attempts {
		if i > 0 {
			killed := a.lostRecord && (rec != nil || abandoned != "")
			for _, id := range []string{abandoned, recordID(rec)} {
				if id != "" {
					if killed {
						si.dropped[id] = true
					} else {
						si.journal[id] = true
					}
				}
			}
			if killed {
				rec = nil
				si.rep.event(eventKill + " (between runs)")
				if si.completedByDropped() {
					// No record and no open upload: the next run sends the
					// whole file again, by design.
					si.newEpoch(false)
					si.rep.event(eventKillDone)
				}
			}
			if a.restart {
				si.restart()
				si.rep.event(eventRestart + " (between runs)")
			}
			if a.expire {
				si.expire(false)
				si.rep.event(eventExpire + " (between runs)")
			}
			if a.mutate != nil {
				si.mutate(a.mutate, false)
				si.rep.event(eventMutate + ": " + a.mutate.kind + " (between runs)")
			}
		}
		si.mu.Lock()
		resized := i > 0 && a.partSize != si.partSize
		si.partSize = a.partSize
		si.partSizes[a.partSize] = true
		si.mu.Unlock()
		if resized {
			si.newEpoch(false)
			si.rep.event(eventResize + " (between runs)")
		}
		out, next, err := si.attempt(a, rec)
		if err == nil {
			if out.Abandoned != "" {
				si.journal[out.Abandoned] = true
			}
			si.finish(out)
			return
		}
		rec, abandoned = next, out.Abandoned
	}
	si.violate("no run of %d succeeded (the last %d were calm)", len(si.it.attempts), 2)
}

// completedByDropped reports whether the object was assembled by an upload
// whose record was lost.
func (si *soakIter) completedByDropped() bool {
	_, info, exists := si.object()
	return exists && info.UploadID != "" && si.dropped[info.UploadID]
}

func recordID(r *Record) string {
	if r == nil {
		return ""
	}
	return r.UploadID
}

// soakTriggers fires an attempt's triggers.
type soakTriggers struct {
	si        *soakIter
	cancel    context.CancelFunc
	list      []soakTrigger
	parts     atomic.Int32
	wg        sync.WaitGroup
	timers    []*time.Timer
	mu        sync.Mutex
	cancelled time.Time
	// mutated: the source changed when a part completed, so the run must not
	// succeed (multipart: the part's own check sees it).
	mutated bool
}

func (tr *soakTriggers) fire(tg soakTrigger, byProgress bool) {
	si := tr.si
	si.rep.event(tg.kind + " (during a run)")
	switch tg.kind {
	case eventCancel:
		si.mu.Lock()
		si.initiateLoss = true // the cancelled Initiate may have taken effect
		si.mu.Unlock()
		tr.mu.Lock()
		if tr.cancelled.IsZero() {
			tr.cancelled = time.Now()
		}
		tr.mu.Unlock()
		tr.cancel()
	case eventRestart:
		si.mu.Lock()
		si.initiateLoss = true
		si.epochBound += si.interruptCostLocked()
		si.mu.Unlock()
		if byProgress {
			tr.wg.Add(1)
			go func() { defer tr.wg.Done(); si.restart() }()
		} else {
			si.restart()
		}
	case eventExpire:
		si.expire(true)
	case eventMutate:
		si.mutate(tg.mutation, true)
		if byProgress {
			tr.mu.Lock()
			tr.mutated = true
			tr.mu.Unlock()
		}
	}
}

func (tr *soakTriggers) onProgress(Progress) {
	n := int(tr.parts.Add(1))
	for _, tg := range tr.list {
		if tg.afterParts == n {
			tr.fire(tg, true)
		}
	}
}

func (tr *soakTriggers) arm() {
	for _, tg := range tr.list {
		if tg.afterParts == 0 {
			tr.wg.Add(1)
			tr.timers = append(tr.timers, time.AfterFunc(tg.delay, func() { defer tr.wg.Done(); tr.fire(tg, false) }))
		}
	}
}

// disarm stops the timers that have not fired and waits for the rest.
func (tr *soakTriggers) disarm() {
	for _, t := range tr.timers {
		if t.Stop() {
			tr.wg.Done()
		}
	}
	tr.wg.Wait()
}

// attempt runs Upload once under the attempt's faults and triggers, then
// checks what the run left.
func (si *soakIter) attempt(a soakAttempt, rec *Record) (Output, *Record, error) {
	si.rep.mu.Lock()
	si.rep.attempts++
	si.rep.mu.Unlock()
	si.s.ClearFaults()
	for _, f := range a.faults {
		si.s.Inject(f.fault)
		si.rep.fault(f.kind)
		if f.fault.Op == obslocal.OpInitiateMultipartUpload && f.fault.DropResponse {
			si.mu.Lock()
			si.initiateLoss = true
			si.mu.Unlock()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &soakTriggers{si: si, cancel: cancel, list: a.triggers}
	partTimeout := 30 * time.Second
	if a.partTimeout > 0 {
		partTimeout = a.partTimeout
	}
	si.mu.Lock()
	startVersion := len(si.versions) - 1
	si.runVersion = startVersion
	si.mu.Unlock()
	in := Input{
		Bucket: obslocaltest.Bucket, Key: testKey, Path: si.path,
		PartSize: a.partSize, Concurrency: si.it.concurrency,
		Record: rec, Discover: a.discover || rec == nil,
		OnProgress:  tr.onProgress,
		PartTimeout: func(int64) time.Duration { return partTimeout },
	}
	tr.arm()
	out, next, err := Upload(ctx, si.c, in)
	returned := time.Now()
	tr.disarm()
	si.s.ClearFaults()
	si.s.WaitIdle()
	if si.rep.trace {
		si.traceRun(a, rec, out, next, err)
	}

	for _, id := range []string{out.UploadID, out.Abandoned, recordID(next)} {
		if id != "" {
			si.seen[id] = true
		}
	}
	if err != nil {
		si.rep.mu.Lock()
		si.rep.failedAttempts++
		si.rep.mu.Unlock()
		cost := si.interruptCost()
		si.charge(cost)
		si.mu.Lock()
		si.lastRunCost = cost
		si.mu.Unlock()
	}
	for _, f := range a.faults {
		if f.fault.Op == obslocal.OpUploadPart || f.fault.Op == obslocal.OpPutObject {
			if f.fault.Status != 0 || f.fault.Reset || f.fault.DropResponse || f.kind == faultDeadline {
				si.charge(int64(f.fault.Times) * si.partBytes())
			}
		}
	}
	if c := tr.cancelled; !c.IsZero() && returned.After(c) && returned.Sub(c) > 2*time.Second {
		si.violate("run returned %s after its context was cancelled (the bound is 2 s)", returned.Sub(c).Round(time.Millisecond))
	}
	si.checkRun(out, next, err, startVersion, tr.mutated)
	return out, next, err
}

// traceRun logs what one run was given, met and did.
func (si *soakIter) traceRun(a soakAttempt, rec *Record, out Output, next *Record, err error) {
	var b strings.Builder
	fmt.Fprintf(&b, "run: part size %d, concurrency %d, record %q, discover %v\n", a.partSize, si.it.concurrency, recordID(rec), a.discover || rec == nil)
	for _, f := range a.faults {
		fmt.Fprintf(&b, "  fault %s: %+v\n", f.kind, f.fault)
	}
	for _, tg := range a.triggers {
		fmt.Fprintf(&b, "  trigger %s after %d parts / %s %v\n", tg.kind, tg.afterParts, tg.delay, tg.mutation)
	}
	fmt.Fprintf(&b, "  → error %v\n  → upload %q, %d parts sent, %d reused, abandoned %q, record %q, notices %q\n",
		err, out.UploadID, out.PartsSent, out.PartsReused, out.Abandoned, recordID(next), out.Notices)
	sum, info, exists := si.object()
	si.mu.Lock()
	versions := len(si.versions)
	si.mu.Unlock()
	fmt.Fprintf(&b, "  → object exists %v (version %d of %d, assembled by %q); %d bytes of parts received so far",
		exists, si.versionOf(sum), versions, info.UploadID, si.sent())
	si.t.Log(b.String())
}

func (si *soakIter) interruptCost() int64 {
	si.mu.Lock()
	defer si.mu.Unlock()
	return si.interruptCostLocked()
}

// partBytes is the size of one part of the current layout.
func (si *soakIter) partBytes() int64 {
	si.mu.Lock()
	defer si.mu.Unlock()
	l, err := PlanParts(int64(len(si.versions[len(si.versions)-1])), si.partSize)
	if err != nil {
		return 0
	}
	if l.SinglePut {
		return l.Size
	}
	return l.PartSize
}

func (si *soakIter) object() (string, obslocal.ObjectInfo, bool) {
	si.srvMu.Lock()
	defer si.srvMu.Unlock()
	sum, info, err := si.s.ObjectSHA256(obslocaltest.Bucket, testKey)
	if errors.Is(err, os.ErrNotExist) {
		return "", info, false
	}
	if err != nil {
		si.fatal("reading the stored object: %v", err)
	}
	return sum, info, true
}

// checkRun checks what one run of Upload left.
func (si *soakIter) checkRun(out Output, rec *Record, err error, startVersion int, mutated bool) {
	sum, info, exists := si.object()
	si.mu.Lock()
	start := si.versions[startVersion]
	sizes := make([]int64, 0, len(si.partSizes))
	for ps := range si.partSizes {
		sizes = append(sizes, ps)
	}
	partSize := si.partSize
	si.mu.Unlock()
	if exists {
		v := si.versionOf(sum)
		if v < 0 {
			si.violate("the object (%d bytes) holds bytes of no version of the file: mixed or wrong", info.Size)
		} else {
			ok := false
			for _, ps := range sizes {
				ok = ok || normETag(info.ETag) == soakETag(si.versions[v], ps)
			}
			if !ok {
				si.violate("the object's ETag %s does not match its bytes (version %d) in any part size used", info.ETag, v)
			}
		}
		// A run may find the file already changed by a trigger that fired
		// before it opened it: any version from the one current when it
		// started on.
		if err == nil && v < startVersion {
			si.violate("the run succeeded but the object holds version %d of the file, the run started with version %d", v, startVersion)
		}
		if err == nil && v >= 0 {
			si.mu.Lock()
			si.runVersion, start = v, si.versions[v]
			si.mu.Unlock()
		}
	}
	if err != nil {
		si.checkRecord(rec)
		return
	}
	if rec != nil {
		si.violate("the run succeeded and returned a record (%s)", rec.UploadID)
	}
	if !exists {
		si.violate("the run returned no error but there is no object")
		return
	}
	if want := soakETag(start, partSize); out.ETag != want || normETag(info.ETag) != want {
		si.violate("ETag: output %s, stored %s, expected from the parts %s", out.ETag, info.ETag, want)
	}
	if mutated && !out.Layout.SinglePut {
		si.violate("the run completed although the source changed when one of its parts completed")
	}
	if !out.Layout.SinglePut {
		if info.UploadID != out.UploadID {
			si.violate("object assembled by upload %q, output says %q", info.UploadID, out.UploadID)
		}
		if n := out.PartsSent + out.PartsReused; n != out.Layout.Parts && n != 0 { // 0: it had already completed
			si.violate("output counts %d parts sent and %d reused of %d", out.PartsSent, out.PartsReused, out.Layout.Parts)
		}
	}
}

// checkRecord checks that a returned record lists only parts the server
// holds, as recorded.
func (si *soakIter) checkRecord(rec *Record) {
	if rec == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	parts, err := si.c.ListParts(ctx, obs.ListPartsInput{Bucket: obslocaltest.Bucket, Key: testKey, UploadID: rec.UploadID})
	if obs.IsNoSuchUpload(err) {
		return // expired, or completed
	}
	if err != nil {
		si.fatal("listing the parts of the recorded upload: %v", err)
	}
	held := map[int]obs.Part{}
	for _, p := range parts {
		held[p.Number] = p
	}
	for _, p := range rec.Parts {
		h, ok := held[p.Number]
		if !ok || normETag(h.ETag) != normETag(p.ETag) || h.Size != p.Size {
			si.violate("the record of upload %s lists part %d (%d bytes, %s); the server holds %+v", rec.UploadID, p.Number, p.Size, p.ETag, h)
		}
	}
}

// finish plays the caller after a successful run: it aborts the superseded
// uploads it was told of, then checks the final state.
func (si *soakIter) finish(out Output) {
	for id := range si.journal {
		if id == out.UploadID {
			continue
		}
		if err := Abort(context.Background(), si.c, obslocaltest.Bucket, testKey, id); err != nil && !obs.IsNoSuchUpload(err) {
			si.fatal("aborting superseded upload %s: %v", id, err)
		}
	}
	if disk, err := os.ReadFile(si.path); err != nil || !bytes.Equal(disk, si.current()) {
		si.fatal("the soak lost track of the file's content (%v)", err)
	}
	// The run uploaded the content it started with. (A change that lands
	// after its last check of the file, e.g. once a single PUT is done, is
	// for the next run.)
	si.mu.Lock()
	cur := si.versions[si.runVersion]
	si.mu.Unlock()
	sum, _, exists := si.object()
	want := sha256.Sum256(cur)
	if !exists || sum != hex.EncodeToString(want[:]) {
		si.violate("after success the object is not the content the run started with")
	}
	si.srvMu.Lock()
	ups := si.s.OpenUploads(obslocaltest.Bucket)
	si.srvMu.Unlock()
	si.mu.Lock()
	initiateLoss := si.initiateLoss
	si.mu.Unlock()
	for _, u := range ups {
		switch {
		case si.dropped[u.UploadID]:
			si.rep.mu.Lock()
			si.rep.killedLeft++
			si.rep.mu.Unlock()
		case !si.seen[u.UploadID] && u.Parts == 0 && initiateLoss:
			si.rep.mu.Lock()
			si.rep.initLeft++
			si.rep.mu.Unlock()
		default:
			si.violate("upload %s (%d parts) left open after success (named in an Output or Record: %v; in a Record or as Abandoned, so aborted by the caller: %v)",
				u.UploadID, u.Parts, si.seen[u.UploadID], si.journal[u.UploadID])
		}
	}
	si.mu.Lock()
	excess := si.sent() - si.epochBase - int64(len(cur))
	bound := si.epochBound
	si.mu.Unlock()
	si.rep.resend(si.it.seed, excess, bound)
	if excess > bound {
		si.violate("re-sent %d bytes beyond the file, bound %d", excess, bound)
	}
}
