package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
)

// The promote case: one configuration uploads a build artifact of 48 MiB in
// parts of 5 MiB and copies it server-side to its release key, the copy
// following the upload through source_etag.
const (
	promoteSize     = 48 << 20
	promotePartSize = 5 << 20
	promoteParts    = 10 // 9 of 5 MiB and one of 3 MiB
	buildKey        = "builds/123/app.bin"
	releaseKey      = "releases/v1.4/app.bin"
)

func promoteConfig(e *env, src string) string {
	return e.providerBlock() + objectBlock("build", buildKey, src, promotePartSize, 4) +
		acctest.CopyBlock("release", testBucket, releaseKey, testBucket, buildKey,
			acctest.Attr("source_etag", acctest.Expr("obs_object_multipart.build.etag")),
			acctest.Attr("part_size", promotePartSize), acctest.Attr("concurrency", 2))
}

// openPartsOf returns the parts of the single open upload of key (0 when
// there is none).
func (e *env) openPartsOf(key string) int {
	n, parts := 0, 0
	for _, u := range e.srv.OpenUploads(testBucket) {
		if u.Key == key {
			n, parts = n+1, u.Parts
		}
	}
	if n != 1 {
		return 0
	}
	return parts
}

// expectCopiedServerSide fails the test unless, since the statistics were
// last reset, the copy made parts part copies and no copy request carried
// object data, and the uploads sent exactly uploaded body bytes.
func (e *env) expectCopiedServerSide(parts, uploaded int64) {
	e.t.Helper()
	st := e.srv.Stats().Ops
	pc, co := st[obslocal.OpUploadPartCopy], st[obslocal.OpCopyObject]
	if pc.Requests != parts || pc.BodyBytes != 0 || co.BodyBytes != 0 {
		e.t.Fatalf("part copies %+v, copies %+v: want %d part copies without bodies", pc, co, parts)
	}
	if got := st[obslocal.OpUploadPart].BodyBytes + st[obslocal.OpPutObject].BodyBytes; got != uploaded {
		e.t.Fatalf("%d object bytes went through the client, want only the upload's %d", got, uploaded)
	}
}

// The acceptance scenario of obs_object_copy through the real terraform
// binary: create both, the copy equal to the source without a byte through
// the client; an empty plan; a rewritten file updates both; SIGINT in the
// middle of the copy, after which the next apply copies only the missing
// parts; destroy leaves nothing.
func TestCopyPromote(t *testing.T) {
	t.Parallel()
	row := record(t, "obs_object_copy promoting an upload of the same configuration; SIGINT mid-copy",
		"the copy holds the upload's bytes with none through the client; it follows the upload when the file changes; "+
			"after an interruption the next apply copies only the missing parts; destroy leaves no object and no open upload")
	e := newEnv(t)
	src, sum := e.writeSource("app.bin", promoteSize, 1)
	e.writeConfig(promoteConfig(e, src))

	e.apply()
	e.expectObject(buildKey, sum)
	e.expectObject(releaseKey, sum)
	e.expectCopiedServerSide(promoteParts, promoteSize)
	if c := e.srv.Stats().Ops[obslocal.OpUploadPartCopy].CopiedBytes; c != promoteSize {
		t.Fatalf("the server copied %d bytes, want %d", c, promoteSize)
	}
	e.expectNoOpenUploads()
	e.expectEmptyPlan()

	// The file changes: the plan shows both updating, the apply copies the
	// new upload.
	_, sum = e.writeSource("app.bin", promoteSize, 2)
	r := e.run("plan", "-input=false", "-no-color")
	expectOutput(t, r, `obs_object_multipart\.build will be updated in-place`, `obs_object_copy\.release will be updated in-place`)
	e.srv.ResetStats()
	e.apply()
	e.expectObject(buildKey, sum)
	e.expectObject(releaseKey, sum)
	e.expectCopiedServerSide(promoteParts, promoteSize)
	e.expectNoOpenUploads()
	e.expectEmptyPlan()

	// SIGINT while the copy runs (each part copy held back a second): the
	// upload completes, the copy is interrupted with its parts kept.
	_, sum = e.writeSource("app.bin", promoteSize, 3)
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPartCopy, Latency: time.Second, Times: -1})
	p := e.start(applyArgs()...)
	waitFor(t, "part copies to reach the server", 60*time.Second, func() bool {
		select {
		case <-p.done:
			t.Fatalf("apply ended before it was interrupted: %s", p.res)
		default:
		}
		return e.openPartsOf(releaseKey) >= 3
	})
	r = p.interrupt(t, syscall.SIGINT, false)
	expectOutput(t, r, `The copy was interrupted`, `Run terraform apply again to resume`)
	e.expectObject(buildKey, sum)
	// Part copies the server had started finish on their own.
	waitFor(t, "part copies in flight to end", 30*time.Second, func() bool { return e.srv.Stats().ConcurrentParts == 0 })
	e.srv.ClearFaults()
	have := e.openPartsOf(releaseKey)
	if have == 0 || have == promoteParts {
		t.Fatalf("want an open copy with some of its %d parts after the interruption, got %+v", promoteParts, e.srv.OpenUploads(testBucket))
	}
	e.srv.ResetStats()
	r = e.apply()
	expectOutput(t, r, fmt.Sprintf(`Resuming upload \S+: %d of %d parts already uploaded`, have, promoteParts))
	row.observe("%d of %d parts copied when interrupted; the next apply made %d part copies and sent %d object bytes",
		have, promoteParts, e.requests(obslocal.OpUploadPartCopy), e.partBytes())
	e.expectCopiedServerSide(int64(promoteParts-have), 0)
	if n := e.requests(obslocal.OpInitiateMultipartUpload); n != 0 {
		t.Fatalf("the resumed copy initiated %d new upload(s): %s", n, r)
	}
	e.expectObject(releaseKey, sum)
	e.expectNoOpenUploads()
	e.expectEmptyPlan()

	r = e.run("destroy", "-auto-approve", "-input=false", "-no-color")
	if r.exitCode != 0 {
		t.Fatalf("destroy failed: %s", r)
	}
	e.expectNoObject(releaseKey)
	e.expectNoObject(buildKey)
	e.expectNoOpenUploads()
}

// SIGKILL of terraform and the provider in the middle of a copy: nothing is
// saved, and a copied part cannot be checked against the source, so the
// next apply resumes only the upload this machine journaled when it
// initiated it for this source version, copying only the missing parts.
func TestCopySIGKILL(t *testing.T) {
	t.Parallel()
	row := record(t, "SIGKILL to terraform and the provider mid-copy (nothing saved)",
		"the next apply resumes the copy's upload from the journal entry written when it was initiated and copies only the missing parts")
	e := newEnv(t)
	const parts, partSize = 16, 256 << 10
	data := acctest.PseudoRandom(parts*partSize, 4)
	if err := e.srv.PutObjectData(testBucket, "staging/disk.img", data); err != nil {
		t.Fatal(err)
	}
	key := "releases/disk.img"
	e.writeConfig(e.providerBlock() + acctest.CopyBlock("release", testBucket, key, testBucket, "staging/disk.img",
		acctest.Attr("part_size", partSize), acctest.Attr("concurrency", 2)))
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPartCopy, Latency: time.Second, Times: -1})
	p := e.start(applyArgs()...)
	waitFor(t, "part copies to reach the server", 60*time.Second, func() bool {
		select {
		case <-p.done:
			t.Fatalf("apply ended before it was killed: %s", p.res)
		default:
		}
		return e.openPartsOf(key) >= 3
	})
	p.interrupt(t, syscall.SIGKILL, true)
	waitFor(t, "part copies in flight to end", 30*time.Second, func() bool { return e.srv.Stats().ConcurrentParts == 0 })
	e.srv.ClearFaults()
	have := e.openPartsOf(key)
	e.srv.ResetStats()
	r := e.apply()
	row.observe("%d of %d parts copied when killed; the next apply made %d part copies", have, parts, e.requests(obslocal.OpUploadPartCopy))
	e.expectCopiedServerSide(int64(parts-have), 0)
	if n := e.requests(obslocal.OpInitiateMultipartUpload); n != 0 {
		t.Fatalf("the resumed copy initiated %d new upload(s): %s", n, r)
	}
	e.expectSettled(key, sha256Hex(data))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
