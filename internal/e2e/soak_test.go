//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// The terraform soak: the built provider through the real terraform binary,
// cycle after cycle. Each cycle, drawn from its own seed (soakSeed + cycle
// index), starts an upload, interrupts it at a random moment (SIGINT once or
// twice, SIGKILL of terraform or of the provider, a server restart, the
// source rewritten in place), may
// abort the open upload behind the provider's back, restart the server and
// change the source, injects random faults and applies until the apply
// succeeds. After every cycle the object holds exactly the file's bytes with
// the multipart ETag of its parts, state agrees, the plan is empty, no
// upload is left open, and the bytes sent beyond the object's size stay
// within one part per worker per interruption (plus what injected faults
// destroyed). A destroy at the end leaves no object and no open upload.
//
// SOAK_CYCLES (default soakSliceCycles) and SOAK_SEED (default
// soakSliceSeed; random when only SOAK_CYCLES is set) steer it; a failing
// cycle prints the command that replays it.

const (
	// The make-test slice, seeds 3298-3302: SIGINT once and twice and
	// SIGKILL of terraform and of the provider each followed by a new file
	// or part size (superseded uploads to abort), a rewrite of the source
	// before parts yet to be read, an upload aborted behind the provider's
	// back, a server restart, a lost Initiate answer, storms.
	soakSliceSeed   = 3298
	soakSliceCycles = 5
	// soakAttempts bounds the applies after an interruption.
	soakAttempts = 6
	// soakMoment bounds the wait for an interruption's moment.
	soakMoment = 60 * time.Second
	// soakOrphan bounds how long a provider may outlive terraform.
	soakOrphan = 30 * time.Second
	soakKey    = "soak/data.bin"
	soakSource = "data.bin"
)

func TestTerraformSoak(t *testing.T) {
	t.Parallel()
	seed, cycles := soakSettings(t)
	row := record(t, "terraform soak: randomized interruptions and faults",
		"after every cycle the object holds the file's bytes with the ETag of its parts, the plan is empty, no upload is open, "+
			"bytes re-sent ≤ one part per worker per interruption (+ what injected faults destroyed); destroy leaves nothing")
	counts := runSoak(t, seed, cycles)
	report := counts.report(seed, cycles)
	t.Log("\n" + report)
	if err := acctest.WriteSoakReport("terraform", report); err != nil {
		t.Error(err)
	}
	row.observe("%s", strings.ReplaceAll(counts.summary(seed), "\n", "; "))
}

// Seeds whose cycle once broke an invariant, each run alone (as its replay
// command does) with the final destroy of seed+1.
var soakRegressionSeeds = []struct {
	seed  uint64
	found string
}{
	{162, "SIGINT twice, restart, the file rewritten in place (same size): the resumed upload completed an object whose tf-source-sha256 named the old content"},
	{140, "SIGKILL of the provider, then a new file size: the killed run's upload stayed open after the next apply succeeded"},
	{152, "SIGKILL of the provider before any part: the killed run's empty upload stayed open after the next apply succeeded"},
	{101, "SIGKILL of terraform once the object was assembled: the next refresh took the object into state but destroy kept it as another writer's"},
	{127, "SIGKILL of the provider once the object was assembled, then a new part_size: state kept the old part_count"},
	{198, "SIGKILL of the provider once a created object was assembled: the next create sent the whole file again"},
	{88049, "SIGINT while the server stored a single PUT: the next refresh took the object into state but destroy kept it as another writer's (a race: about one run in three)"},
}

func TestTerraformSoakRegressions(t *testing.T) {
	t.Parallel()
	for _, tc := range soakRegressionSeeds {
		t.Run(fmt.Sprintf("seed_%d", tc.seed), func(t *testing.T) {
			t.Parallel()
			t.Log(tc.found)
			if c := runSoak(t, tc.seed, 1); t.Failed() {
				t.Log("\n" + c.report(tc.seed, 1))
			}
		})
	}
}

// runSoak runs cycles cycles from seed, then the final step, and returns
// the figures.
func runSoak(t *testing.T, seed uint64, cycles int) *soakCounts {
	s := &soak{t: t, e: newEnv(t, obslocaltest.WithDataDir(t.TempDir())), seed: seed, counts: newSoakCounts()}
	for i := range cycles {
		if !s.cycle(i, drawSchedule(seed+uint64(i))) {
			return s.counts
		}
	}
	s.destroy(drawFinal(seed + uint64(cycles)))
	return s.counts
}

// soakSettings reads SOAK_SEED and SOAK_CYCLES.
func soakSettings(t *testing.T) (seed uint64, cycles int) {
	seed, cycles = soakSliceSeed, soakSliceCycles
	if v := os.Getenv("SOAK_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SOAK_CYCLES=%q: want a positive integer", v)
		}
		cycles = n
		seed = rand.Uint64() >> 16 // short enough to type
	}
	if v := os.Getenv("SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: want an unsigned integer", v)
		}
		seed = n
	}
	return seed, cycles
}

func replayCommand(seed uint64, cycles int) string {
	return fmt.Sprintf("SOAK_SEED=%d SOAK_CYCLES=%d go test -count=1 ./internal/e2e -run 'TestTerraformSoak$' -v", seed, cycles)
}

// soak is one run.
type soak struct {
	t      *testing.T
	e      *env
	seed   uint64
	counts *soakCounts

	// What the world holds between cycles.
	inState  bool    // terraform state has the resource
	cur      content // the source's content
	curSum   string  // its SHA-256
	partSize int
	conc     int
	retries  int
	// allowed are the SHA-256s the object may hold during the cycle: the
	// contents the source held in it and before ("" for none).
	allowed map[string]bool
	// sent counts the part and PUT body bytes the servers received since
	// the cycle's last reset, across restarts.
	sent int64
	// violations of the current cycle.
	violations []string
}

// violate records a broken invariant of the current cycle.
func (s *soak) violate(format string, args ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, args...)
	s.violations = append(s.violations, msg)
	s.t.Errorf("invariant violated: %s", msg)
}

// writeSource writes c to the source and the configuration for it.
func (s *soak) writeSource(c content, partSize int) {
	_, sum := s.e.writeSource(soakSource, c.size, c.dataSeed)
	s.cur, s.curSum, s.partSize = c, sum, partSize
	s.allowed[sum] = true
	s.writeConfig()
}

func (s *soak) writeConfig() {
	src := filepath.Join(s.e.dir, soakSource)
	s.e.writeConfig(s.e.providerBlock(acctest.Attr("max_retries", s.retries)) +
		objectBlock("o", soakKey, src, s.partSize, s.conc))
}

// bodyBytes is what the current server received in part and PUT bodies.
func (s *soak) bodyBytes() int64 {
	st := s.e.srv.Stats()
	return st.Ops[obslocal.OpUploadPart].BodyBytes + st.Ops[obslocal.OpPutObject].BodyBytes
}

func (s *soak) resetSent() {
	s.e.srv.ResetStats()
	s.sent = 0
}

// restart restarts the server, keeping its byte count.
func (s *soak) restart() {
	s.sent += s.bodyBytes()
	s.e.restartServer()
	s.counts.restarts++
}

func (s *soak) sentBytes() int64 { return s.sent + s.bodyBytes() }

// checkObject fails the cycle if the object holds bytes the source never
// held during it (a mix, or wrong bytes).
func (s *soak) checkObject(when string) {
	s.t.Helper()
	sum := s.e.objectSHA256(soakKey)
	if !s.allowed[sum] {
		s.violate("%s: the object holds bytes (SHA-256 %q) the source never held", when, sum)
	}
}

// finished waits until nothing of a terraform command's process group is
// left (a provider that outlives terraform must not keep uploading), and
// then until the server has handled every request: one a killed process
// had sent in full is still read from the connection's buffers and takes
// effect late, which would look like a write after the next apply.
func (s *soak) finished(p *tfProc, when string) {
	s.t.Helper()
	if !groupGone(p.cmd.Process.Pid, soakOrphan) {
		s.violate("%s: a provider process still runs %s after terraform exited", when, soakOrphan)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		groupGone(p.cmd.Process.Pid, soakOrphan)
	}
	waitFor(s.t, "the server to finish the requests of "+when, soakOrphan, func() bool { return s.e.srv.Stats().InFlight == 0 })
}

// applyOnce runs one apply and checks what it left behind.
func (s *soak) applyOnce(when string, extra ...string) tfResult {
	s.t.Helper()
	p := s.e.start(applyArgs(extra...)...)
	r := p.wait(s.t)
	s.finished(p, when)
	s.checkObject(when)
	s.counts.applies++
	return r
}

// cycle runs one cycle and reports whether the run may go on.
func (s *soak) cycle(i int, sc cycleSchedule) (ok bool) {
	t := s.t
	s.violations = nil
	s.allowed = map[string]bool{"": !s.inState || sc.trigger == replace}
	if s.inState {
		s.allowed[s.curSum] = true
	}
	s.conc, s.retries = sc.concurrency, sc.maxRetries
	t.Logf("cycle %d: %s", i, sc)
	start := time.Now()
	defer func() {
		s.counts.cycles++
		if len(s.violations) > 0 {
			s.counts.violations += len(s.violations)
			t.Errorf("cycle %d (seed %d) broke %d invariant(s). Replay it: %s\nReplay the run up to it: %s",
				i, sc.seed, len(s.violations), replayCommand(sc.seed, 1), replayCommand(s.seed, i+1))
			ok = false
			return
		}
		t.Logf("cycle %d settled in %.1f s", i, time.Since(start).Seconds())
	}()

	var extra []string
	switch {
	case !s.inState && sc.trigger == newContent:
		s.setup(sc)
		if len(s.violations) > 0 {
			return false
		}
	case s.inState && sc.trigger == replace:
		extra = []string{"-replace=obs_object_multipart.o"}
	}
	s.counts.triggers[sc.trigger]++
	s.writeSource(sc.content, sc.partSize)
	s.resetSent()

	landed := s.interrupted(sc, extra)
	if len(s.violations) > 0 {
		return false
	}
	s.between(sc)
	failed, succeeded := s.applyUntilSuccess(sc)
	if !succeeded {
		return false
	}
	s.inState = true
	s.settled(sc, landed, failed)
	return len(s.violations) == 0
}

// setup makes an empty state hold the prior content, cleanly.
func (s *soak) setup(sc cycleSchedule) {
	s.writeSource(sc.prior, sc.partSize)
	if r := s.applyOnce("setup apply"); r.exitCode != 0 {
		s.violate("setup apply failed: %s", r)
		return
	}
	s.inState = true
	s.counts.setups++
}

// interrupted runs the cycle's interrupted apply. It returns whether the
// interruption landed: the apply had not finished (a restart always lands).
func (s *soak) interrupted(sc cycleSchedule, extra []string) (landed bool) {
	t, e := s.t, s.e
	single := sc.content.size < sc.partSize
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, BytesPerSecond: sc.partBps, Times: -1})
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpPutObject, BytesPerSecond: sc.partBps, Times: -1})
	if sc.atComplete {
		// The provider HEADs the object after Complete: hold it there.
		e.srv.Inject(obslocal.Fault{Op: obslocal.OpHeadObject, Latency: time.Second, Times: -1})
	}
	p := e.start(applyArgs(extra...)...)
	moment := func() bool {
		switch {
		case single:
			return e.requests(obslocal.OpPutObject) > 0
		case sc.atComplete:
			return e.objectSHA256(soakKey) == s.curSum
		}
		ups := e.srv.OpenUploads(testBucket)
		for _, u := range ups {
			if u.Parts >= sc.atParts {
				return true
			}
		}
		return false
	}
	if !s.awaitMoment(p, moment) {
		if len(s.violations) == 0 {
			s.counts.missed[sc.kind]++
			t.Logf("the apply ended before the interruption's moment: exit %d", p.res.exitCode)
			s.finished(p, "interrupted apply")
			s.checkObject("interrupted apply")
			s.counts.applies++
		}
		return false
	}
	pid, restarted := p.cmd.Process.Pid, false
	switch sc.kind {
	case sigintOnce:
		_ = syscall.Kill(pid, syscall.SIGINT)
	case sigintTwice:
		_ = syscall.Kill(pid, syscall.SIGINT)
		_ = syscall.Kill(pid, syscall.SIGINT) // terraform may be gone already
	case killTF:
		_ = syscall.Kill(pid, syscall.SIGKILL)
	case killProvider:
		pids := providerPIDs(pid) // none when terraform has already stopped it: the apply is done
		if len(pids) == 0 {
			t.Logf("no provider process left to kill under terraform %d", pid)
		}
		for _, c := range pids {
			_ = syscall.Kill(c, syscall.SIGKILL)
		}
	case restartOBS:
		s.restart()
		restarted = true
	case rewrite:
		s.writeSource(content{size: sc.content.size, dataSeed: sc.rewritten}, sc.partSize)
	}
	r := p.wait(t)
	s.finished(p, "interrupted apply")
	s.checkObject("interrupted apply")
	s.counts.applies++
	landed = r.exitCode != 0 || restarted
	if landed {
		s.counts.interruptions[sc.kind]++
	} else {
		s.counts.late[sc.kind]++
	}
	t.Logf("%s: terraform exit %d", sc.kind, r.exitCode)
	if sc.kind == sigintOnce && landed && !strings.Contains(r.output, "Interrupt received") {
		s.violate("SIGINT: terraform did not report the interrupt: %s", r)
	}
	if sc.kind == rewrite && landed && !strings.Contains(r.output, "The source file changed while it was being uploaded") {
		s.violate("the source was rewritten mid-upload and the apply failed for another reason: %s", r)
	}
	e.srv.ClearFaults()
	return landed
}

// awaitMoment polls moment until it holds (true) or terraform ends first
// (false); a moment that never comes is a violation.
func (s *soak) awaitMoment(p *tfProc, moment func() bool) bool {
	end := time.Now().Add(soakMoment)
	for !moment() {
		select {
		case <-p.done:
			return false
		default:
		}
		if time.Now().After(end) {
			s.violate("the interruption's moment did not come within %s:\n%s", soakMoment, p.out.String())
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// between does what happens between the interrupted apply and the next:
// the open upload aborted behind the provider's back, a server restart, a
// changed source.
func (s *soak) between(sc cycleSchedule) {
	if sc.expire {
		for _, u := range s.e.srv.OpenUploads(testBucket) {
			if err := s.e.srv.ExpireUpload(testBucket, u.Key, u.UploadID); err != nil {
				s.t.Fatal(err)
			}
			s.counts.expired++
		}
	}
	if sc.restart {
		s.restart()
	}
	switch sc.change {
	case keepSource:
	case newPartSize:
		s.partSize = sc.afterPart
		s.writeConfig()
	default:
		s.writeSource(sc.after, sc.afterPart)
	}
	if sc.change != keepSource {
		s.counts.changes[sc.change]++
	}
}

// applyUntilSuccess injects the cycle's faults and applies until an apply
// succeeds; it returns how many failed.
func (s *soak) applyUntilSuccess(sc cycleSchedule) (failed int, ok bool) {
	for _, f := range sc.faults {
		s.e.srv.Inject(f.f)
		s.counts.faults[f.kind]++
	}
	for n := 1; n <= soakAttempts; n++ {
		r := s.applyOnce(fmt.Sprintf("apply %d after the interruption", n))
		if r.exitCode == 0 {
			s.counts.maxAttempts = max(s.counts.maxAttempts, n)
			return failed, true
		}
		failed++
		s.t.Logf("apply %d after the interruption failed (exit %d): %s", n, r.exitCode, lastLines(r.output, 12))
	}
	s.violate("no apply succeeded in %d attempts after the interruption", soakAttempts)
	return failed, false
}

// settled checks the invariants once the cycle's apply succeeded.
func (s *soak) settled(sc cycleSchedule, landed bool, failed int) {
	t, e := s.t, s.e
	e.srv.ClearFaults()
	sum, info, err := e.srv.ObjectSHA256(testBucket, soakKey)
	if err != nil {
		s.violate("after success: reading the object: %v", err)
		return
	}
	if sum != s.curSum {
		s.violate("after success: the object's SHA-256 is %s, the file's %s", sum, s.curSum)
	}
	if got := info.Metadata["tf-source-sha256"]; got != s.curSum {
		s.violate("after success: the object's metadata names SHA-256 %s, the file's is %s", got, s.curSum)
	}
	// The object keeps its parts when only part_size changed: its ETag is
	// that of the part size state records.
	attrs := s.state()
	cut, _ := attrs["effective_part_size"].(float64)
	l, err := upload.PlanParts(int64(s.cur.size), int64(cut))
	if err != nil {
		s.violate("after success: state records effective_part_size %v: %v", attrs["effective_part_size"], err)
		return
	}
	want, err := upload.FileETag(filepath.Join(e.dir, soakSource), l)
	if err != nil {
		t.Fatal(err)
	}
	etag := strings.Trim(info.ETag, `"`)
	if etag != want {
		s.violate("after success: the object's ETag is %s; the file in parts of %d (effective_part_size) gives %s", etag, int64(cut), want)
	}
	if n, _ := attrs["part_count"].(float64); int(n) != partCount(l) {
		s.violate("after success: state records part_count %v, the object has %d parts", attrs["part_count"], partCount(l))
	}
	if attrs["etag"] != etag || attrs["source_sha256"] != s.curSum || attrs["size"] != float64(s.cur.size) {
		s.violate("after success: state has etag %v, source_sha256 %v, size %v; the object %s, the file %s, %d bytes",
			attrs["etag"], attrs["source_sha256"], attrs["size"], etag, s.curSum, s.cur.size)
	}
	s.expectNoOpenUploads(sc, landed)
	if r := e.run("plan", "-detailed-exitcode", "-input=false", "-no-color"); r.exitCode != 0 {
		s.violate("after success: the plan is not empty: %s", r)
	}

	// Bytes sent beyond the object's size: one part per worker per
	// interruption (the interrupted apply and each failed one), plus what
	// injected faults destroyed. Only measurable when the object holds
	// what the interrupted apply was sending.
	if sc.expire || sc.change != keepSource || sc.kind == rewrite {
		return
	}
	interruptions := int64(failed)
	if landed {
		interruptions++
	}
	bound := interruptions * int64(s.conc) * int64(s.partSize)
	for _, f := range sc.faults {
		bound += f.bodyWaste(int64(s.partSize))
	}
	sent := s.sentBytes()
	resent := max(0, sent-int64(s.cur.size))
	s.counts.measured++

	s.counts.resent += resent
	s.counts.bound += bound
	t.Logf("bytes: %d sent for a %d-byte object: %d re-sent, bound %d (%d interruption(s) × %d worker(s) × %d + faults)",
		sent, s.cur.size, resent, bound, interruptions, s.conc, s.partSize)
	if resent > bound {
		s.violate("%d bytes re-sent, bound %d: %d interruption(s) × %d worker(s) × %d-byte parts + injected faults",
			resent, bound, interruptions, s.conc, s.partSize)
	}
}

// expectNoOpenUploads fails the cycle if an upload is left open, but for
// the documented exception: an empty upload whose Initiate response was
// lost (the provider never learnt its ID), at most one per fault that drops
// it and one for an interruption that came as the upload was initiated.
// Those are aborted here, as a bucket lifecycle rule would.
func (s *soak) expectNoOpenUploads(sc cycleSchedule, landed bool) {
	lost := 0
	if landed && sc.atParts == 0 && !sc.atComplete && sc.content.size >= sc.partSize {
		lost++
	}
	for _, f := range sc.faults {
		if f.f.Op == obslocal.OpInitiateMultipartUpload && f.f.DropResponse {
			lost += f.f.Times
		}
	}
	var left []obslocal.UploadInfo
	for _, u := range s.e.srv.OpenUploads(testBucket) {
		if u.Parts == 0 && lost > 0 {
			lost--
			if err := s.e.srv.ExpireUpload(testBucket, u.Key, u.UploadID); err != nil {
				s.t.Fatal(err)
			}
			s.counts.lostInitiates++
			continue
		}
		left = append(left, u)
	}
	if len(left) != 0 {
		s.violate("after success: %d upload(s) left open: %+v", len(left), left)
	}
}

// state returns the resource's attributes from terraform.tfstate.
func (s *soak) state() map[string]any {
	b, err := os.ReadFile(filepath.Join(s.e.dir, "terraform.tfstate"))
	if err != nil {
		s.t.Fatalf("reading state: %v", err)
	}
	var st struct {
		Resources []struct {
			Instances []struct {
				Attributes map[string]any `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		s.t.Fatalf("parsing state: %v", err)
	}
	if len(st.Resources) != 1 || len(st.Resources[0].Instances) != 1 {
		return nil
	}
	return st.Resources[0].Instances[0].Attributes
}

// finalStep is how the run ends: optionally an update interrupted by
// SIGINT, then destroy.
type finalStep struct {
	seed        uint64
	interrupted bool
	c           content
	atParts     int
}

func drawFinal(seed uint64) finalStep {
	r := soakRand(seed)
	f := finalStep{seed: seed, interrupted: r.IntN(2) == 0}
	parts := 2 + r.IntN(4)
	f.c = content{size: parts * soakPartSizes[0], dataSeed: r.Uint32()}
	f.atParts = r.IntN(parts - 1) // one worker: a part is still to be sent

	return f
}

// destroy ends the run: nothing may be left, object or open upload.
func (s *soak) destroy(f finalStep) {
	t, e := s.t, s.e
	s.violations = nil
	if f.interrupted && s.inState {
		t.Logf("final step (seed %d): an update interrupted by SIGINT once %d part(s) are stored, then destroy", f.seed, f.atParts)
		s.allowed = map[string]bool{s.curSum: true}
		s.conc = 1
		s.writeSource(f.c, soakPartSizes[0])
		e.srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, BytesPerSecond: 2 * int64(soakPartSizes[0]), Times: -1})
		p := e.start(applyArgs()...)
		if s.awaitMoment(p, func() bool {
			for _, u := range e.srv.OpenUploads(testBucket) {
				if u.Parts >= f.atParts {
					return true
				}
			}
			return false
		}) {
			_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGINT)
		} else {
			s.counts.missed[sigintOnce]++
		}
		r := p.wait(t)
		t.Logf("final update: terraform exit %d", r.exitCode)
		if r.exitCode != 0 {
			s.counts.interruptions[sigintOnce]++
		}
		if r.exitCode == 0 {
			s.counts.late[sigintOnce]++ // the parts in flight were the last ones
		}
		s.finished(p, "interrupted final update")
		e.srv.ClearFaults()
	} else {
		t.Logf("final step (seed %d): destroy", f.seed)
	}
	r := e.run("destroy", "-auto-approve", "-input=false", "-no-color")
	if r.exitCode != 0 {
		s.violate("destroy failed: %s", r)
	}
	if sum := e.objectSHA256(soakKey); sum != "" {
		_, info, _ := e.srv.ObjectSHA256(testBucket, soakKey)
		s.violate("after destroy: the object is still there (SHA-256 %s, ETag %s, from upload %q): %s", sum, info.ETag, info.UploadID, r)
	}
	if ups := e.srv.OpenUploads(testBucket); len(ups) != 0 {
		s.violate("after destroy: %d upload(s) left open: %+v", len(ups), ups)
	}
	s.counts.violations += len(s.violations)
	if len(s.violations) > 0 {
		t.Errorf("the final step (seed %d) broke %d invariant(s). Replay the run: %s", f.seed, len(s.violations), replayCommand(s.seed, s.counts.cycles))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// partCount is the part count state records: 0 for a single PUT.
func partCount(l upload.Layout) int {
	if l.SinglePut {
		return 0
	}
	return l.Parts
}
