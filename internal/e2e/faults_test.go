package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// A 1 MiB-ish object of 11 parts (the last one short) for the fault cases.
const (
	faultPartSize = 100 * 1024
	faultSize     = 10*faultPartSize + 12345
	faultParts    = 11
)

// Transient faults are absorbed by retries: the apply succeeds, the object
// is right, and the faults really happened.
func TestTransientFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		faults []obslocal.Fault
		// minErrors is how many error responses (resets included) the server
		// must have produced, to prove the fault was exercised.
		minErrors int64
		minTime   time.Duration
	}{
		{
			name: "503 SlowDown storm",
			faults: []obslocal.Fault{
				{Op: obslocal.OpUploadPart, Status: 503, Code: "SlowDown", Times: 12},
				{Op: obslocal.OpInitiateMultipartUpload, Status: 503, Code: "SlowDown", Times: 2},
				{Op: obslocal.OpCompleteMultipartUpload, Status: 503, Code: "SlowDown", Times: 2},
			},
			minErrors: 16,
		},
		{
			name: "500 InternalError",
			faults: []obslocal.Fault{
				{Op: obslocal.OpUploadPart, Status: 500, Code: "InternalError", Times: 6},
				{Op: obslocal.OpCompleteMultipartUpload, Status: 500, Code: "InternalError", Times: 1},
			},
			minErrors: 7,
		},
		{
			name: "connection reset mid-part",
			faults: []obslocal.Fault{
				{Op: obslocal.OpUploadPart, Reset: true, ResetAfterBytes: 40 * 1024, Times: 6},
			},
			minErrors: 6,
		},
		{
			name: "added latency",
			faults: []obslocal.Fault{
				{Op: obslocal.OpUploadPart, Latency: 300 * time.Millisecond, Times: -1},
				{Op: obslocal.OpCompleteMultipartUpload, Latency: 300 * time.Millisecond, Times: -1},
			},
			minTime: 3 * 300 * time.Millisecond, // 11 parts over 4 workers, then complete
		},
		{
			name: "throttled bandwidth",
			faults: []obslocal.Fault{
				{Op: obslocal.OpUploadPart, BytesPerSecond: 256 * 1024, Times: -1},
			},
			minTime: 1 * time.Second, // 3 rounds of 100 KiB parts at 256 KiB/s
		},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			row := record(t, tc.name, "the apply succeeds through retries; the object is complete and correct; no upload is left open")
			e := newEnv(t)
			key := "faults/data.bin"
			_, sum := e.writeObjectConfig(key, faultSize, 2, faultPartSize, 4)
			for _, f := range tc.faults {
				e.srv.Inject(f)
			}
			start := time.Now()
			e.apply()
			took := time.Since(start)
			var errs int64
			for _, s := range e.srv.Stats().Ops {
				errs += s.Errors
			}
			row.observe("%d injected error response(s) absorbed; apply took %.1f s; %d KiB of parts sent for a %d KiB object",
				errs, took.Seconds(), e.partBytes()/1024, faultSize/1024)
			if errs < tc.minErrors {
				t.Fatalf("only %d error responses, want ≥ %d: the fault was not exercised", errs, tc.minErrors)
			}
			if took < tc.minTime {
				t.Fatalf("apply took %s, want ≥ %s: the fault was not exercised", took, tc.minTime)
			}
			e.expectObject(key, sum)
			e.expectNoOpenUploads()
		})
	}
}

// Complete succeeds on the server but its response is lost: the provider
// must see the object was assembled from its upload, not upload again or
// loop on errors.
func TestCompleteResponseLost(t *testing.T) {
	t.Parallel()
	row := record(t, "CompleteMultipartUpload's response lost",
		"the provider detects the object was assembled from its upload: no second upload, no error loop, empty plan afterwards")
	e := newEnv(t)
	key := "faults/complete-lost.bin"
	_, sum := e.writeObjectConfig(key, faultSize, 3, faultPartSize, 4)
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpCompleteMultipartUpload, DropResponse: true})
	r := e.run(applyArgs()...)
	runs := 1
	if r.exitCode != 0 {
		t.Logf("first apply failed, applying again: %s", r)
		e.apply()
		runs++
	}
	st := e.srv.Stats()
	row.observe("%d apply run(s); %d initiate, %d complete request(s); %d KiB of parts sent for a %d KiB object",
		runs, st.Ops[obslocal.OpInitiateMultipartUpload].Requests, st.Ops[obslocal.OpCompleteMultipartUpload].Requests,
		st.Ops[obslocal.OpUploadPart].BodyBytes/1024, faultSize/1024)
	if n := st.Ops[obslocal.OpInitiateMultipartUpload].Requests; n != 1 {
		t.Fatalf("%d multipart uploads initiated, want 1 (no duplicate upload)", n)
	}
	if n := st.Ops[obslocal.OpUploadPart].BodyBytes; n != faultSize {
		t.Fatalf("%d part bytes sent, want exactly %d (no duplicate upload)", n, faultSize)
	}
	if n := st.Ops[obslocal.OpCompleteMultipartUpload].Requests; n > 4 {
		t.Fatalf("%d complete requests: an error loop", n)
	}
	e.expectSettled(key, sum)
}

// An open upload removed between runs (a lifecycle rule, another tool's
// abort): the next apply starts over, says so, and succeeds.
func TestUploadExpiredBetweenRuns(t *testing.T) {
	t.Parallel()
	row := record(t, "open upload expired/aborted between runs (NoSuchUpload)",
		"the next apply warns that the upload cannot be resumed, starts a new one and succeeds")
	e := newEnv(t)
	key := "faults/expired.bin"
	_, sum := e.writeObjectConfig(key, faultSize, 4, faultPartSize, 1)
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 5, Status: 403, Code: "AccessDenied", Times: -1})
	r := e.applyFails()
	expectOutput(t, r, `Progress is kept`, `Run terraform apply again to resume`)
	e.srv.ClearFaults()
	ups := e.srv.OpenUploads(testBucket)
	if len(ups) != 1 || ups[0].Parts == 0 {
		t.Fatalf("want one open upload with parts after the failed apply, got %+v", ups)
	}
	if err := e.srv.ExpireUpload(testBucket, key, ups[0].UploadID); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetStats()
	r = e.apply()
	expectOutput(t, r, `Warning: Upload of OBS object `+testBucket+`/`+key+` cannot be resumed`, `no longer exists`, `starts a new upload`)
	row.observe("%d parts expired; the next apply warned, initiated %d new upload and sent %d KiB (whole object %d KiB)",
		ups[0].Parts, e.requests(obslocal.OpInitiateMultipartUpload), e.partBytes()/1024, faultSize/1024)
	e.expectSettled(key, sum)
}

// The source changes after a saved plan: the apply refuses, and the old
// object stays as it was.
func TestSourceChangedAfterPlan(t *testing.T) {
	t.Parallel()
	row := record(t, "source modified between plan and apply (saved plan file)",
		"apply refuses (terraform's own error naming the changed source_sha256); nothing is sent; the object keeps its old bytes; nothing is left open")
	e := newEnv(t)
	key := "source/after-plan.bin"
	_, sum1 := e.writeObjectConfig(key, faultSize, 5, faultPartSize, 4)
	e.apply()
	e.expectObject(key, sum1)
	e.writeSource("data.bin", faultSize, 6)
	if r := e.run("plan", "-out=tfplan", "-input=false", "-no-color"); r.exitCode != 0 {
		t.Fatalf("plan failed: %s", r)
	}
	e.writeSource("data.bin", faultSize, 7)
	e.srv.ResetStats()
	r := e.run("apply", "-input=false", "-no-color", "tfplan")
	if r.exitCode == 0 {
		t.Fatalf("apply of a stale plan succeeded: %s", r)
	}
	row.observe("exit %d, %d error diagnostic(s), %d part bytes sent; the object kept its old SHA-256",
		r.exitCode, errorCount(r.output), e.partBytes())
	e.expectObject(key, sum1)
	e.expectNoOpenUploads()
	if n := e.partBytes(); n != 0 {
		t.Fatalf("%d part bytes sent for a stale plan", n)
	}
	if strings.Contains(r.output, "Provider produced inconsistent final plan") {
		// Terraform re-plans a saved plan at apply time without telling the
		// provider, so the provider cannot word this refusal itself:
		// Terraform reports the changed source_sha256.
		expectOutput(t, r, `source_sha256`)
		row.observe("limitation: the refusal is terraform's own \"Provider produced inconsistent final plan\" naming source_sha256 (the README's troubleshooting explains it)")
		return
	}
	expectOutput(t, r, `changed after the plan was made`, `run plan and apply again`)
}

// The source changes while its parts are being sent: the upload stops and
// is never completed, so no object mixes old and new bytes.
func TestSourceChangedDuringUpload(t *testing.T) {
	t.Parallel()
	row := record(t, "source modified during upload",
		"the upload stops with an error that says the file changed; no object is completed from mixed bytes; the next apply uploads the new bytes")
	e := newEnv(t)
	key := "source/during.bin"
	p, _ := startSlowUpload(e, key, 2)
	// Same size, new bytes: only the fingerprint and content differ.
	_, sum2 := e.writeSource("data.bin", slowSize, 99)
	r := p.wait(t)
	if r.exitCode == 0 {
		t.Fatalf("apply succeeded although its source changed mid-upload: %s", r)
	}
	expectOutput(t, r, `The source file changed while it was being uploaded`, `Run plan and apply again`)
	if n := e.requests(obslocal.OpCompleteMultipartUpload); n != 0 {
		t.Fatalf("%d complete request(s) after the source changed", n)
	}
	e.expectNoObject(key)
	e.srv.ClearFaults()
	e.srv.ResetStats()
	r = e.apply()
	e.expectObject(key, sum2)
	open := e.srv.OpenUploads(testBucket)
	row.observe("exit %d, %d error diagnostic(s), no complete request, no object; the next apply stored the new bytes and left %d upload(s) open",
		p.res.exitCode, errorCount(p.res.output), len(open))
	if len(open) != 0 {
		t.Fatalf("the upload abandoned when the source changed mid-upload is still open after the next successful apply: %+v\n%s", open, r)
	}
}

// Errors that retrying cannot fix: one clear error, a handful of requests.
func TestPermanentErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		setup   func(e *env) (provider, bucket string)
		pattern string
	}{
		{
			name: "wrong secret key",
			setup: func(e *env) (string, string) {
				return strings.Replace(e.providerBlock(), obslocaltest.SecretKey, "not-the-right-secret-key", 1), testBucket
			},
			pattern: `SignatureDoesNotMatch.*The secret key does not match the access key\. Check secret_key`,
		},
		{
			name: "clock skew of 20 minutes",
			setup: func(e *env) (string, string) {
				e.srv.SetClockOffset(20 * time.Minute)
				return e.providerBlock(), testBucket
			},
			pattern: `RequestTimeTooSkewed.*clock differs from OBS's by more than 15 minutes\. Synchronise the clock`,
		},
		{
			name: "missing bucket",
			setup: func(e *env) (string, string) {
				return e.providerBlock(), "no-such-bucket"
			},
			pattern: `NoSuchBucket.*The bucket does not exist.*Check bucket, region and endpoint`,
		},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			row := record(t, tc.name, "one clear error that says what to fix, and no retry storm")
			e := newEnv(t)
			src, _ := e.writeSource("data.bin", faultSize, 8)
			prov, bucket := tc.setup(e)
			e.writeConfig(prov + strings.Replace(objectBlock("o", "errors/data.bin", src, faultPartSize, 4),
				`"`+testBucket+`"`, `"`+bucket+`"`, 1))
			r := e.applyFails()
			expectOutput(t, r, tc.pattern)
			n, reqs := errorCount(r.output), e.totalRequests()
			row.observe("exit %d, %d error diagnostic(s), %d request(s) to the server", r.exitCode, n, reqs)
			if n != 1 {
				t.Fatalf("%d error diagnostics, want 1: %s", n, r)
			}
			if reqs > 4 {
				t.Fatalf("%d requests for an error retries cannot fix: a retry storm", reqs)
			}
			e.expectNoOpenUploads()
			if _, err := os.Stat(src); err != nil {
				t.Fatal(err)
			}
		})
	}
}
