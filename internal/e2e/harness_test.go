package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// testBucket is the bucket of every test's server.
const testBucket = obslocaltest.Bucket

// runTimeout bounds one terraform command.
const runTimeout = 2 * time.Minute

// env is one test's world: a local OBS server, a terraform working
// directory and the environment terraform runs with.
type env struct {
	t       *testing.T
	srv     *obslocal.Server
	srvOpts []obslocaltest.Option // how srv was started
	dir     string                // terraform working directory (sources live here too)
	tfEnv   []string              // extra environment for terraform
	tls     *tlsSetup             // set by newHTTPSEnv; nil for plain HTTP
}

// newEnv starts a local OBS server for the test, with the standard
// credential and bucket as opts change them.
func newEnv(t *testing.T, opts ...obslocaltest.Option) *env {
	t.Helper()
	if setupSkip != "" {
		t.Skip(setupSkip)
	}
	e := &env{t: t, dir: t.TempDir()}
	e.srv, _ = obslocaltest.Start(t, opts...)
	// A restart comes back on the same address.
	e.srvOpts = append(slices.Clip(opts), obslocaltest.WithAddr(e.srv.Addr()))
	return e
}

// restartServer stops the server (dropping connections in flight) and starts
// it again on the same address and data directory.
func (e *env) restartServer() {
	e.t.Helper()
	_ = e.srv.Close()
	e.srv, _ = obslocaltest.Start(e.t, e.srvOpts...)
}

// providerBlock is the terraform and provider configuration for the local
// server, with extra arguments in the provider block.
func (e *env) providerBlock(extra ...acctest.Arg) string {
	args := append(e.connection(),
		acctest.Attr("access_key", obslocaltest.AccessKey),
		acctest.Attr("secret_key", obslocaltest.SecretKey))
	return acctest.TerraformBlock() + acctest.ProviderBlock(append(args, extra...)...)
}

// objectBlock is one obs_object_multipart resource in testBucket, with extra
// arguments.
func objectBlock(name, key, source string, partSize, concurrency int, extra ...acctest.Arg) string {
	return acctest.ObjectBlock(name, testBucket, key, source,
		append([]acctest.Arg{acctest.Attr("part_size", partSize), acctest.Attr("concurrency", concurrency)}, extra...)...)
}

// writeConfig writes main.tf.
func (e *env) writeConfig(hcl string) {
	e.t.Helper()
	if err := acctest.WriteConfig(e.dir, hcl); err != nil {
		e.t.Fatal(err)
	}
}

// writeSource writes n pseudo-random bytes (from seed) to name in the
// working directory and returns the path and the hex SHA-256.
func (e *env) writeSource(name string, n int, seed uint32) (string, string) {
	e.t.Helper()
	return acctest.WriteSource(e.t, e.dir, name, n, seed)
}

// tfResult is a finished terraform command.
type tfResult struct {
	args     []string
	output   string // stdout and stderr, interleaved
	exitCode int
	elapsed  time.Duration
}

func (r tfResult) String() string {
	return fmt.Sprintf("terraform %s (exit %d after %s):\n%s", strings.Join(r.args, " "), r.exitCode, r.elapsed.Round(time.Millisecond), r.output)
}

// tfProc is a running terraform command.
type tfProc struct {
	cmd   *exec.Cmd
	out   *acctest.SyncBuffer
	start time.Time
	done  chan struct{}
	res   tfResult
}

// environ is the environment of a terraform command: the dev_overrides CLI
// config, a private cache directory (the provider's hash cache) and
// e.tfEnv.
func (e *env) environ() []string {
	return append(acctest.TerraformEnv(cliConfigFile, filepath.Join(e.dir, ".cache")), e.tfEnv...)
}

// start starts terraform in its own process group (so that the group, the
// provider included, can be killed).
func (e *env) start(args ...string) *tfProc {
	e.t.Helper()
	cmd := exec.Command("terraform", args...)
	cmd.Dir = e.dir
	cmd.Env = e.environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &tfProc{cmd: cmd, out: &acctest.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("starting terraform: %v", err)
	}
	go func() {
		err := cmd.Wait()
		p.res = tfResult{args: args, output: p.out.String(), elapsed: time.Since(p.start)}
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			p.res.exitCode = ee.ExitCode()
		default:
			p.res.exitCode = -1
		}
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// wait waits for the command to end (killing its group after runTimeout).
func (p *tfProc) wait(t *testing.T) tfResult {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(runTimeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		t.Fatalf("terraform did not finish within %s:\n%s", runTimeout, p.out.String())
	}
	return p.res
}

// run runs a terraform command to completion.
func (e *env) run(args ...string) tfResult {
	e.t.Helper()
	return e.start(args...).wait(e.t)
}

func applyArgs(extra ...string) []string {
	return append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, extra...)
}

// apply runs terraform apply and fails the test unless it succeeds.
func (e *env) apply(extra ...string) tfResult {
	e.t.Helper()
	r := e.run(applyArgs(extra...)...)
	if r.exitCode != 0 {
		e.t.Fatalf("apply failed: %s", r)
	}
	return r
}

// applyFails runs terraform apply and fails the test unless it fails.
func (e *env) applyFails(extra ...string) tfResult {
	e.t.Helper()
	r := e.run(applyArgs(extra...)...)
	if r.exitCode == 0 {
		e.t.Fatalf("apply succeeded, want failure: %s", r)
	}
	return r
}

// expectEmptyPlan runs terraform plan -detailed-exitcode and fails the test
// unless the plan is empty.
func (e *env) expectEmptyPlan() {
	e.t.Helper()
	r := e.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if r.exitCode != 0 {
		e.t.Fatalf("want an empty plan (exit 0): %s", r)
	}
}

// waitFor polls cond every 10 ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", deadline, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openParts returns the number of parts in the single open upload of the
// bucket (0 when there is none).
func (e *env) openParts() int {
	ups := e.srv.OpenUploads(testBucket)
	if len(ups) != 1 {
		return 0
	}
	return ups[0].Parts
}

// objectSHA256 returns the stored object's SHA-256, or "" when absent.
func (e *env) objectSHA256(key string) string {
	e.t.Helper()
	sum, _, err := e.srv.ObjectSHA256(testBucket, key)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		e.t.Fatalf("reading object %s: %v", key, err)
	}
	return sum
}

// expectObject fails the test unless the object holds bytes with SHA-256 want.
func (e *env) expectObject(key, want string) {
	e.t.Helper()
	if got := e.objectSHA256(key); got != want {
		e.t.Fatalf("object %s: SHA-256 %q, want %q", key, got, want)
	}
}

// expectNoObject fails the test if the object exists.
func (e *env) expectNoObject(key string) {
	e.t.Helper()
	if got := e.objectSHA256(key); got != "" {
		e.t.Fatalf("object %s exists (SHA-256 %s), want none", key, got)
	}
}

// expectNoOpenUploads fails the test if any multipart upload is open.
func (e *env) expectNoOpenUploads() {
	e.t.Helper()
	if ups := e.srv.OpenUploads(testBucket); len(ups) != 0 {
		e.t.Fatalf("%d open upload(s) left: %+v", len(ups), ups)
	}
}

func (e *env) partBytes() int64 { return e.srv.Stats().Ops[obslocal.OpUploadPart].BodyBytes }

func (e *env) requests(op obslocal.Op) int64 { return e.srv.Stats().Ops[op].Requests }

// totalRequests counts every request the server received.
func (e *env) totalRequests() int64 {
	var n int64
	for _, s := range e.srv.Stats().Ops {
		n += s.Requests
	}
	return n
}

// expectOutput fails the test unless every pattern matches r's output.
func expectOutput(t *testing.T, r tfResult, patterns ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(r.output), " ") // terraform wraps diagnostics
	for _, p := range patterns {
		if re := regexp.MustCompile(p); !re.MatchString(r.output) && !re.MatchString(flat) {
			t.Fatalf("output does not match %q: %s", p, r)
		}
	}
}

// errorCount counts the error diagnostics in terraform's output.
func errorCount(out string) int {
	return len(regexp.MustCompile(`(?m)^(│ )?Error: `).FindAllString(out, -1))
}

// interrupt sends sig to terraform alone (SIGINT, as a CI runner's cancel
// does) or to its whole process group (SIGKILL: the provider dies too).
func (p *tfProc) signal(t *testing.T, sig syscall.Signal, group bool) {
	t.Helper()
	pid := p.cmd.Process.Pid
	if group {
		pid = -pid
	}
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill %d %v: %v", pid, sig, err)
	}
}

// writeObjectConfig writes n pseudo-random bytes (from seed) to data.bin and
// the configuration of one object "o" at key that uploads them in parts of
// partSize with concurrency workers; it returns the source's path and hex
// SHA-256.
func (e *env) writeObjectConfig(key string, n int, seed uint32, partSize, concurrency int) (string, string) {
	e.t.Helper()
	src, sum := e.writeSource("data.bin", n, seed)
	e.writeConfig(e.providerBlock() + objectBlock("o", key, src, partSize, concurrency))
	return src, sum
}

// expectSettled fails the test unless the object holds bytes with SHA-256
// want, no multipart upload is open and the next plan is empty.
func (e *env) expectSettled(key, want string) {
	e.t.Helper()
	e.expectObject(key, want)
	e.expectNoOpenUploads()
	e.expectEmptyPlan()
}

// interrupt signals terraform as signal does, waits for it to end and fails
// the test if it exited 0.
func (p *tfProc) interrupt(t *testing.T, sig syscall.Signal, group bool) tfResult {
	t.Helper()
	p.signal(t, sig, group)
	r := p.wait(t)
	if r.exitCode == 0 {
		t.Fatalf("apply exited 0 after %v: %s", sig, r)
	}
	return r
}
