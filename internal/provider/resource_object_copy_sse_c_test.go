package provider

import (
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// testAccObjectCopyConfig_sseC uploads source to srcKey encrypted with the
// SSE-C key srcSSE and copies it to key, following the upload's etag: the
// copy reads the source with readKey and encrypts the copy with dstSSE.
func testAccObjectCopyConfig_sseC(srv *testServer, srcKey, source, srcSSE, key, readKey, dstSSE string, args ...acctest.Arg) string {
	return srv.providerConfig() +
		acctest.ObjectBlock("src", obslocaltest.Bucket, srcKey, source, acctest.Attr("part_size", testPartSize), acctest.Attr("sse_c_key", srcSSE)) +
		acctest.CopyBlock("test", obslocaltest.Bucket, key, obslocaltest.Bucket, srcKey, append([]acctest.Arg{
			acctest.Attr("source_etag", acctest.Expr(srcName+".etag")),
			acctest.Attr("source_sse_c_key", readKey),
			acctest.Attr("sse_c_key", dstSSE),
		}, args...)...)
}

// rawGet is a GET of bucket/key from the local server with the SSE-C key
// sseKey ("" for none), signed by the test kit rather than sent by the
// provider's client: its status, OBS error code and body.
func (s *testServer) rawGet(t *testing.T, key, sseKey string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+"/"+obslocaltest.Bucket+"/"+key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sseKey != "" {
		raw, err := base64.StdEncoding.DecodeString(sseKey)
		if err != nil {
			t.Fatal("the test's SSE-C key is not base64")
		}
		sum := md5.Sum(raw)
		req.Header.Set("x-obs-server-side-encryption-customer-algorithm", "AES256")
		req.Header.Set("x-obs-server-side-encryption-customer-key", sseKey)
		req.Header.Set("x-obs-server-side-encryption-customer-key-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	acctest.OBSSignature.Sign(req, s.client.AccessKey, s.client.SecretKey, "")
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.SelfSignedCert().CertPool(), MinVersion: tls.VersionTLS12}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Code string }
	if resp.StatusCode != http.StatusOK {
		_ = xml.Unmarshal(body, &e)
	}
	return resp.StatusCode, e.Code, body
}

// checkSSECObject asserts, from outside the provider, that key holds bytes
// of SHA-256 sum encrypted with the SSE-C key right: a GET with right
// returns them, a GET without a key is refused (400 InvalidRequest) and one
// with the key wrong is denied (403 AccessDenied), and the server recorded
// right's MD5 as the object's key.
func checkSSECObject(t *testing.T, srv *testServer, key, sum, right, wrong string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if status, code, body := srv.rawGet(t, key, right); status != http.StatusOK || sha256Hex(body) != sum {
			return fmt.Errorf("GET %s with its SSE-C key: %d %s, SHA-256 %s, want 200 and %s", key, status, code, sha256Hex(body), sum)
		}
		if status, code, _ := srv.rawGet(t, key, ""); status != http.StatusBadRequest || code != "InvalidRequest" {
			return fmt.Errorf("GET %s without an SSE-C key: %d %s, want 400 InvalidRequest", key, status, code)
		}
		if status, code, _ := srv.rawGet(t, key, wrong); status != http.StatusForbidden || code != "AccessDenied" {
			return fmt.Errorf("GET %s with another SSE-C key: %d %s, want 403 AccessDenied", key, status, code)
		}
		return checkSSECKey(srv, key, right)(s)
	}
}

// checkKeysOnlyAt asserts where the state holds each SSE-C key: exactly at
// the attributes listed for it (address.attribute), nowhere else. The
// copy's keys are not write-only, so Terraform keeps them in state, in
// their own (sensitive) attributes. No key is printed.
func checkKeysOnlyAt(keys map[string][]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for key, want := range keys {
			var got []string
			for _, m := range s.Modules {
				for addr, r := range m.Resources {
					for name, v := range r.Primary.Attributes {
						if strings.Contains(v, key) {
							got = append(got, addr+"."+name)
						}
					}
				}
			}
			slices.Sort(got)
			want = slices.Sorted(slices.Values(want))
			if !slices.Equal(got, want) {
				return fmt.Errorf("state holds an SSE-C key at %v, want exactly %v", got, want)
			}
		}
		return nil
	}
}

// An SSE-C source copied to an SSE-C copy under another key, in one
// CopyObject and in parts (Upload Part - Copy): the copy holds the
// source's bytes under key B only, the server recorded B, nothing passed
// through the client, the plan after apply is empty, and the keys are kept
// in state only in their own sensitive attributes.
func TestObjectCopy_sseC(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		size     int
		partSize int64 // the copy's
		parts    int64 // part copies; 0 for one CopyObject
	}{
		{"single request", 250 * 1024, 1 << 20, 0},
		{"in parts", 3*testPartSize + 7, testPartSize, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := newSSECTestServer(t)
			src, sum := acctest.WriteSource(t, t.TempDir(), "data.bin", c.size, 41)
			srcKey, key := "sse-c/src.bin", "sse-c/copy.bin"
			a, b := testSSECKey(0xa1), testSSECKey(0xb2)
			cfg := testAccObjectCopyConfig_sseC(srv, srcKey, src, a, key, a, b, acctest.Attr("part_size", c.partSize))
			copyRequests := func(want int64) resource.TestCheckFunc {
				return func(*terraform.State) error {
					if n := srv.Stats().Ops[obslocal.OpCopyObject].Requests; n != want {
						return fmt.Errorf("%d CopyObject requests, want %d", n, want)
					}
					return nil
				}
			}
			single := int64(0)
			if c.parts == 0 {
				single = 1
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: srv.providerFactories(),
				CheckDestroy: func(*terraform.State) error {
					if srv.objectSHA256(key) != "" || srv.objectSHA256(srcKey) != "" {
						return fmt.Errorf("objects left after destroy")
					}
					return checkNoOpenUploads(srv)(nil)
				},
				Steps: []resource.TestStep{
					{
						Config: cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionCreate),
							plancheck.ExpectSensitiveValue(copyName, tfjsonpath.New("sse_c_key")),
							plancheck.ExpectSensitiveValue(copyName, tfjsonpath.New("source_sse_c_key")),
						}},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectSensitiveValue(copyName, tfjsonpath.New("sse_c_key")),
							statecheck.ExpectSensitiveValue(copyName, tfjsonpath.New("source_sse_c_key")),
							statecheck.ExpectKnownValue(copyName, tfjsonpath.New("size"), knownvalue.Int64Exact(int64(c.size))),
							statecheck.ExpectKnownValue(copyName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(c.parts)),
							statecheck.ExpectKnownValue(copyName, tfjsonpath.New("source_sha256"), knownvalue.StringExact(sum)),
							statecheck.CompareValuePairs(srcName, tfjsonpath.New("etag"), copyName, tfjsonpath.New("source_etag"), compare.ValuesSame()),
						},
						Check: resource.ComposeTestCheckFunc(
							checkSSECObject(t, srv, srcKey, sum, a, b),
							checkSSECObject(t, srv, key, sum, b, a),
							checkCopiedServerSide(srv, c.parts), copyRequests(single), checkNoOpenUploads(srv),
							checkKeysOnlyAt(map[string][]string{
								a: {srcName + ".sse_c_key", copyName + ".source_sse_c_key"},
								b: {copyName + ".sse_c_key"},
							})),
					},
					{
						// Refresh and plan read both objects with their keys:
						// nothing changes, nothing is copied.
						PreConfig: func() { srv.ResetStats() },
						Config:    cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectEmptyPlan(),
						}},
						Check: resource.ComposeTestCheckFunc(checkCopiedServerSide(srv, 0), copyRequests(0), checkSSECKey(srv, key, b)),
					},
					{
						// Import has no key to read the copy with: the error
						// says so and what to do instead.
						ResourceName:  copyName,
						ImportState:   true,
						ImportStateId: obslocaltest.Bucket + "/" + key,
						ExpectError:   regexp.MustCompile(`(?s)SSE-C.*without\s+its\s+key.*Instead\s+of\s+importing`),
					},
				},
			})
		})
	}
}

// A source_sse_c_key that is not the source's key: a plan that reads the
// source with it fails on source_sse_c_key, and so does an apply that
// writes the source first; a copy without source_sse_c_key fails at plan
// with the hint to set it. Nothing is copied, and no object or open upload
// is left at the destination.
func TestObjectCopy_sseCWrongSourceKey(t *testing.T) {
	t.Parallel()
	srv := newSSECTestServer(t)
	dir := t.TempDir()
	src, _ := acctest.WriteSource(t, dir, "a.bin", 3*testPartSize+7, 42)
	later, _ := acctest.WriteSource(t, dir, "b.bin", 3*testPartSize+9, 43)
	a, b, wrong := testSSECKey(0xa1), testSSECKey(0xb2), testSSECKey(0xc3)
	upload := srv.providerConfig() + acctest.ObjectBlock("src", obslocaltest.Bucket, "sse-c/a.bin", src,
		acctest.Attr("part_size", testPartSize), acctest.Attr("sse_c_key", a))
	copyOf := func(srcKey, srcRef string) string {
		return acctest.CopyBlock("test", obslocaltest.Bucket, "sse-c/dst.bin", obslocaltest.Bucket, srcKey,
			acctest.Attr("source_etag", acctest.Expr(srcRef+".etag")), acctest.Attr("part_size", testPartSize),
			acctest.Attr("source_sse_c_key", wrong), acctest.Attr("sse_c_key", b))
	}
	nothingCopied := func(*terraform.State) error {
		if srv.objectSHA256("sse-c/dst.bin") != "" {
			return fmt.Errorf("an object was written at the destination")
		}
		// An upload the copy initiated would be open: it could not copy.
		st := srv.Stats().Ops
		if n := st[obslocal.OpCopyObject].Requests + st[obslocal.OpUploadPartCopy].Requests; n != 0 {
			return fmt.Errorf("%d copy requests", n)
		}
		return checkNoOpenUploads(srv)(nil)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{Config: upload},
			{
				PreConfig:   func() { srv.ResetStats() },
				Config:      upload + copyOf("sse-c/a.bin", srcName),
				ExpectError: regexp.MustCompile(`(?s)Error running pre-apply plan.*source_sse_c_key.*not\s+the\s+key`),
			},
			{Config: upload, Check: nothingCopied},
			{
				// Without a source key OBS refuses to read an SSE-C source.
				PreConfig: func() { srv.ResetStats() },
				Config: upload + acctest.CopyBlock("test", obslocaltest.Bucket, "sse-c/dst.bin", obslocaltest.Bucket, "sse-c/a.bin",
					acctest.Attr("source_etag", acctest.Expr(srcName+".etag")), acctest.Attr("sse_c_key", b)),
				ExpectError: regexp.MustCompile(`(?s)Error running pre-apply plan.*encrypted\s+with\s+SSE-C.*set\s+source_sse_c_key`),
			},
			{Config: upload, Check: nothingCopied},
			{
				// The source is written in the apply: Terraform plans the
				// copy again once the upload's etag is known, and that plan
				// reads the source.
				PreConfig: func() { srv.ResetStats() },
				Config: upload + acctest.ObjectBlock("later", obslocaltest.Bucket, "sse-c/b.bin", later,
					acctest.Attr("part_size", testPartSize), acctest.Attr("sse_c_key", a)) +
					copyOf("sse-c/b.bin", "obs_object_multipart.later"),
				ExpectError: regexp.MustCompile(`(?s)Error running apply.*source_sse_c_key.*not\s+the\s+key`),
			},
			{
				Config: upload,
				Check: func(s *terraform.State) error {
					if _, ok := s.RootModule().Resources[copyName]; ok {
						return fmt.Errorf("the failed copy is in state")
					}
					return nothingCopied(s)
				},
			},
		},
	})
}

// A source_sse_c_key for a source that is not encrypted with SSE-C: OBS
// refuses a copy that sends a source key for such a source, so the plan,
// which reads the source's encryption, fails on source_sse_c_key, for a
// copy in one request and in parts alike; nothing is copied.
func TestObjectCopy_sseCKeyForPlainSource(t *testing.T) {
	t.Parallel()
	srv := newSSECTestServer(t)
	small := bytes.Repeat([]byte("plain source "), 1000)
	big := bytes.Repeat([]byte("plain source "), 30000) // 390000 bytes: 4 parts of testPartSize
	for key, data := range map[string][]byte{"plain/small.bin": small, "plain/big.bin": big} {
		if err := srv.PutObjectData(obslocaltest.Bucket, key, data); err != nil {
			t.Fatal(err)
		}
	}
	srv.ResetStats()
	step := func(srcKey string) resource.TestStep {
		return resource.TestStep{
			Config: testAccObjectCopyConfig_basic(srv, srcKey, "plain/dst.bin", acctest.Attr("part_size", testPartSize),
				acctest.Attr("source_sse_c_key", testSSECKey(0xa1)), acctest.Attr("sse_c_key", testSSECKey(0xb2))),
			ExpectError: regexp.MustCompile(`(?s)source_sse_c_key.*not\s+encrypted\s+with\s+SSE-C`),
		}
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy: func(*terraform.State) error {
			st := srv.Stats().Ops
			if n := st[obslocal.OpCopyObject].Requests + st[obslocal.OpUploadPartCopy].Requests + st[obslocal.OpInitiateMultipartUpload].Requests; n != 0 {
				return fmt.Errorf("%d copy or initiate requests", n)
			}
			if srv.objectSHA256("plain/dst.bin") != "" {
				return fmt.Errorf("an object was written at the destination")
			}
			return checkNoOpenUploads(srv)(nil)
		},
		Steps: []resource.TestStep{step("plain/small.bin"), step("plain/big.bin")},
	})
}

// Through the terraform binary with a trace log: an SSE-C copy in parts,
// an empty plan after it, and a plan with a wrong source key. No key is in
// terraform's output or the trace log (provider and SDK logs included);
// the state file keeps the keys, which are not write-only.
func TestObjectCopy_sseCKeysNotLogged(t *testing.T) {
	t.Parallel()
	cli := newTerraformCLI(t)
	srv := newSSECTestServer(t)
	root := t.TempDir()
	src, sum := acctest.WriteSource(t, root, "data.bin", 3*testPartSize+7, 44)
	work := filepath.Join(root, "work")
	logFile := filepath.Join(root, "trace.log")
	cli.setenv("TF_LOG", "TRACE")
	cli.setenv("TF_LOG_PATH", logFile)
	a, b, wrong := testSSECKey(0xa4), testSSECKey(0xb5), testSSECKey(0xc6)
	// The keys come from sensitive variables: a diagnostic quotes the
	// configuration's source line, which would show a literal key.
	vars := ""
	for _, name := range []string{"key_a", "key_b", "read_key"} {
		vars += acctest.Block("variable "+acctest.Quote(name), acctest.Attr("type", acctest.Expr("string")), acctest.Attr("sensitive", true))
	}
	cli.writeConfig(work, srv.cliProviderConfig()+vars+
		acctest.ObjectBlock("src", obslocaltest.Bucket, "cli/src.bin", src,
			acctest.Attr("part_size", testPartSize), acctest.Attr("sse_c_key", acctest.Expr("var.key_a")))+
		acctest.CopyBlock("test", obslocaltest.Bucket, "cli/copy.bin", obslocaltest.Bucket, "cli/src.bin",
			acctest.Attr("source_etag", acctest.Expr(srcName+".etag")), acctest.Attr("part_size", testPartSize),
			acctest.Attr("source_sse_c_key", acctest.Expr("var.read_key")), acctest.Attr("sse_c_key", acctest.Expr("var.key_b"))))
	cli.setenv("TF_VAR_key_a", a)
	cli.setenv("TF_VAR_key_b", b)
	cli.setenv("TF_VAR_read_key", a)
	var outputs []string
	out, code := cli.run(work, "apply", "-auto-approve", "-input=false")
	if code != 0 {
		t.Fatalf("apply exited %d:\n%s", code, out)
	}
	outputs = append(outputs, out)
	if err := checkSSECObject(t, srv, "cli/copy.bin", sum, b, a)(nil); err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats().Ops[obslocal.OpUploadPartCopy].Requests; n != 4 {
		t.Fatalf("%d part copies, want 4", n)
	}
	out, code = cli.run(work, "plan", "-input=false", "-detailed-exitcode")
	if code != 0 {
		t.Fatalf("plan after apply exited %d (2: changes):\n%s", code, out)
	}
	outputs = append(outputs, out)
	cli.setenv("TF_VAR_read_key", wrong)
	out, code = cli.run(work, "plan", "-input=false")
	if code != 1 || !regexp.MustCompile(`(?s)source_sse_c_key.*not\s+the\s+key`).MatchString(out) {
		t.Fatalf("plan with a wrong source key exited %d, want 1 and an error on source_sse_c_key:\n%s", code, out)
	}
	outputs = append(outputs, out)

	trace, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(work, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string][]byte{"trace log": trace}
	for i, o := range outputs {
		texts[fmt.Sprintf("terraform output %d", i+1)] = []byte(o)
	}
	for name, text := range texts {
		for _, k := range []string{a, b, wrong} {
			raw, _ := base64.StdEncoding.DecodeString(k)
			if bytes.Contains(text, []byte(k)) || bytes.Contains(text, raw) {
				t.Errorf("%s holds an SSE-C key", name)
			}
		}
	}
	for _, k := range []string{a, b} {
		if !bytes.Contains(state, []byte(k)) {
			t.Error("the state file does not keep the keys of sse_c_key and source_sse_c_key")
		}
	}
}
