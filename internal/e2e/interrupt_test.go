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
	src, sum := e.writeSource("data.bin", slowSize, 1)
	e.writeConfig(e.providerBlock() + objectBlock("o", key, src, slowPartSize, slowConcurrency))
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
	have := e.openParts()
	if have == 0 {
		e.t.Fatalf("no open upload with parts after the interruption: %+v", e.srv.OpenUploads(testBucket))
	}
	missing := int64(slowSize - have*slowPartSize)
	e.srv.ResetStats()
	r := e.apply()
	expectOutput(e.t, r, patterns...)
	sent := e.partBytes()
	limit := missing + slowConcurrency*slowPartSize
	row.observe("%d of %d parts on the server after the interruption; the next apply sent %d KiB (missing %d KiB, limit %d KiB)",
		have, slowParts, sent/1024, missing/1024, limit/1024)
	if sent > limit {
		e.t.Fatalf("resumed apply sent %d part bytes; only %d were missing (limit %d with one part per worker): %s", sent, missing, limit, r)
	}
	if n := e.requests(obslocal.OpInitiateMultipartUpload); n != 0 {
		e.t.Fatalf("resumed apply initiated %d new multipart upload(s)", n)
	}
	e.expectObject(key, sum)
	e.expectNoOpenUploads()
	e.expectEmptyPlan()
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
	p.signal(t, syscall.SIGKILL, true)
	r := p.wait(t)
	if r.exitCode == 0 {
		t.Fatalf("killed apply exited 0: %s", r)
	}
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
	missing := int64(slowSize - have*slowPartSize)
	r := p.wait(t)
	runs := 1
	if r.exitCode != 0 {
		t.Logf("the apply during the restart failed; applying again: %s", r)
		r = e.apply()
		runs++
	}
	sent := e.partBytes()
	limit := missing + slowConcurrency*slowPartSize
	row.observe("restart with %d of %d parts stored; %d apply run(s); %d KiB sent after the restart (missing %d KiB, limit %d KiB)",
		have, slowParts, runs, sent/1024, missing/1024, limit/1024)
	if sent > limit {
		t.Fatalf("after the restart %d part bytes were sent; only %d were missing (limit %d): %s", sent, missing, limit, r)
	}
	if n := e.requests(obslocal.OpInitiateMultipartUpload); n != 0 {
		t.Fatalf("after the restart %d new multipart upload(s) were initiated", n)
	}
	e.expectObject(key, sum)
	e.expectNoOpenUploads()
	e.expectEmptyPlan()
}

// Destroy after an interrupted create aborts the open upload it recorded.
func TestDestroyAfterInterrupt(t *testing.T) {
	t.Parallel()
	row := record(t, "terraform destroy after an interrupted apply",
		"destroy aborts the recorded open upload: no object and no open upload remain")
	e := newEnv(t)
	key := "interrupt/destroy.bin"
	p, _ := startSlowUpload(e, key, 2)
	p.signal(t, syscall.SIGINT, false)
	if r := p.wait(t); r.exitCode == 0 {
		t.Fatalf("interrupted apply exited 0: %s", r)
	}
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
