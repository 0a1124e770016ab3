package e2e

import (
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// Interruption cases share one shape: a slow multipart upload of 16 parts of
// 256 KiB (each part throttled to about one second), interrupted once a few
// parts are on the server, then an apply that must send only what is missing.
const (
	slowPartSize    = 256 * 1024
	slowParts       = 16
	slowSize        = slowPartSize * slowParts
	slowConcurrency = 2
)

// startSlowUpload writes the source and config, throttles part uploads and
// starts an apply; it returns once at least minParts parts are on the server.
func startSlowUpload(e *env, key string, minParts int) (*tfProc, string) {
	e.t.Helper()
	_, sum := e.writeObjectConfig(key, slowSize, 1, slowPartSize, slowConcurrency)
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, BytesPerSecond: slowPartSize, Times: -1})
	p := e.start(applyArgs()...)
	waitFor(e.t, "parts to reach the server", 60*time.Second, func() bool {
		select {
		case <-p.done:
			e.t.Fatalf("apply ended before it was interrupted: %s", p.res)
		default:
		}
		return e.openParts() >= minParts
	})
	return p, sum
}

// resumeAndCheck clears the faults, applies again and checks that the apply
// sent no more than the missing parts plus one part per worker (a part in
// flight at the interruption), and that the object is complete and correct.
func resumeAndCheck(e *env, key, sum string, row *caseRow, patterns ...string) {
	e.t.Helper()
	e.srv.ClearFaults()
	// Requests of the interrupted run may still be in the server's hands
	// (a throttled body, a refusal being counted): let them end, so that
	// what follows counts the next apply alone.
	e.srv.WaitIdle()
	have := e.openParts()
	if have == 0 {
		e.t.Fatalf("no open upload with parts after the interruption: %+v", e.srv.OpenUploads(testBucket))
	}
	missing, limit := resumeLimit(have)
	e.srv.ResetStats()
	r := e.apply()
	expectOutput(e.t, r, patterns...)
	row.observe("%d of %d parts on the server after the interruption; the next apply sent %d KiB (missing %d KiB, limit %d KiB)",
		have, slowParts, e.partBytes()/1024, missing/1024, limit/1024)
	e.expectResumed(key, sum, r, missing, limit)
}

// resumeLimit is what may be sent to resume the slow upload when have of
// its parts are on the server: the missing bytes, and at most that plus one
// part per worker (a part in flight at the interruption).
func resumeLimit(have int) (missing, limit int64) {
	missing = int64(slowSize - have*slowPartSize)
	return missing, missing + slowConcurrency*slowPartSize
}

// expectResumed fails the test unless, since the server's statistics were
// last reset, no more than limit part bytes were sent and no multipart
// upload was initiated, and the object is complete and correct with nothing
// left open and an empty plan. r is the last apply.
func (e *env) expectResumed(key, sum string, r tfResult, missing, limit int64) {
	e.t.Helper()
	if sent := e.partBytes(); sent > limit {
		e.t.Fatalf("the resumed upload sent %d part bytes; only %d were missing (limit %d with one part per worker): %s", sent, missing, limit, r)
	}
	if n := e.requests(obslocal.OpInitiateMultipartUpload); n != 0 {
		e.t.Fatalf("the resumed upload initiated %d new multipart upload(s)", n)
	}
	e.expectSettled(key, sum)
}

// SIGINT (a cancelled CI job): terraform stops within seconds, the provider
// records progress, and the next apply resumes.
func TestInterruptSIGINT(t *testing.T) {
	t.Parallel()
	row := record(t, "SIGINT to terraform mid-upload",
		"terraform exits non-zero within seconds; the next apply resumes and sends only the missing parts (+ at most one part per worker)")
	e := newEnv(t)
	key := "interrupt/sigint.bin"
	p, sum := startSlowUpload(e, key, 4)
	sent := time.Now()
	p.signal(t, syscall.SIGINT, false)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("terraform still running 15 s after SIGINT:\n%s", p.out.String())
	}
	r := p.res
	took := time.Since(sent)
	row.observe("exit %d, %d ms after SIGINT", r.exitCode, took.Milliseconds())
	if r.exitCode == 0 {
		t.Fatalf("interrupted apply exited 0: %s", r)
	}
	if took > 5*time.Second {
		t.Fatalf("terraform took %s to exit after SIGINT, want a few seconds: %s", took, r)
	}
	expectOutput(t, r, `The upload was interrupted`, `Run terraform apply again to resume`)
	resumeAndCheck(e, key, sum, row, `Resuming upload \S+: \d+ of 16 parts already uploaded`)
}

// SIGKILL of terraform and the provider: nothing is saved, so the next apply
// must find the open upload on the server and prove it is ours.
func TestInterruptSIGKILL(t *testing.T) {
	t.Parallel()
	row := record(t, "SIGKILL to terraform and the provider mid-upload (nothing saved)",
		"the next apply discovers the open upload on the server, proves its parts are ours (MD5) and resumes")
	e := newEnv(t)
	key := "interrupt/sigkill.bin"
	p, sum := startSlowUpload(e, key, 4)
	p.interrupt(t, syscall.SIGKILL, true)
	resumeAndCheck(e, key, sum, row, `resuming upload \S+ found on the server: \d+ of 16 parts already present`)
}

// The server goes away mid-upload and comes back with its data: the upload
// continues (within the same apply or the next) without starting over.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	row := record(t, "OBS server restarted mid-upload",
		"the upload continues after the restart with the parts already stored; the object is complete and correct")
	e := newEnv(t, obslocaltest.WithDataDir(t.TempDir()))
	key := "restart/data.bin"
	p, sum := startSlowUpload(e, key, slowParts/2)
	old := e.srv
	e.restartServer() // faults do not survive: the rest is fast
	have := 0
	if ups := old.OpenUploads(testBucket); len(ups) == 1 {
		have = ups[0].Parts
	}
	missing, limit := resumeLimit(have)
	r := p.wait(t)
	runs := 1
	if r.exitCode != 0 {
		t.Logf("the apply during the restart failed; applying again: %s", r)
		r = e.apply()
		runs++
	}
	row.observe("restart with %d of %d parts stored; %d apply run(s); %d KiB sent after the restart (missing %d KiB, limit %d KiB)",
		have, slowParts, runs, e.partBytes()/1024, missing/1024, limit/1024)
	e.expectResumed(key, sum, r, missing, limit)
}

// Destroy after an interrupted create aborts the open upload it recorded.
func TestDestroyAfterInterrupt(t *testing.T) {
	t.Parallel()
	row := record(t, "terraform destroy after an interrupted apply",
		"destroy aborts the recorded open upload: no object and no open upload remain")
	e := newEnv(t)
	key := "interrupt/destroy.bin"
	p, _ := startSlowUpload(e, key, 2)
	p.interrupt(t, syscall.SIGINT, false)
	e.srv.ClearFaults()
	before := len(e.srv.OpenUploads(testBucket))
	r := e.run("destroy", "-auto-approve", "-input=false", "-no-color")
	if r.exitCode != 0 {
		t.Fatalf("destroy failed: %s", r)
	}
	row.observe("%d open upload(s) before destroy, %d after; %d abort request(s)", before,
		len(e.srv.OpenUploads(testBucket)), e.requests(obslocal.OpAbortMultipartUpload))
	if before != 1 {
		t.Fatalf("want 1 open upload after the interruption, got %d", before)
	}
	e.expectNoOpenUploads()
	e.expectNoObject(key)
}
