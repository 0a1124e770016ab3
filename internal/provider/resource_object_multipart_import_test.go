package provider

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

const mib = 1 << 20

// importCases are objects of three parts uploaded with part sizes people
// use. For 5 and 8 MiB other part sizes give the same three parts too (6 MiB;
// the default 9 MiB), and InferPartSize picks those; so only what the object
// records, or the configuration, tells them apart. For 64 MiB the inference
// finds the size.
var importCases = []struct {
	name     string
	partSize int64
	size     int
	inferred bool // InferPartSize(size, 3) == partSize
}{
	{"5MiB", 5 * mib, 2*5*mib + 5*mib/2, false},
	{"8MiB", 8 * mib, 2*8*mib + 4*mib, false},
	{"64MiB", 64 * mib, 2*64*mib + 1*mib, true},
}

func testAccObjectMultipartConfig_partSize(srv *testServer, key, source string, partSize int64) string {
	return srv.providerConfig() + fmt.Sprintf(`
resource "obs_object_multipart" "test" {
  bucket    = %q
  key       = %q
  source    = %q
  part_size = %d
}
`, testBucket, key, hcl(source), partSize)
}

// An object this provider uploaded with 5, 8 or 64 MiB parts, imported into
// the same configuration, gives the same state (terraform import) and an
// import block plans nothing else: part_size comes back as configured.
func TestObjectMultipart_importMatchingConfig(t *testing.T) {
	for _, c := range importCases {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t)
			src, _ := writeSource(t, t.TempDir(), "data.bin", c.size, 21)
			key := "import/" + c.name + ".bin"
			cfg := testAccObjectMultipartConfig_partSize(srv, key, src, c.partSize)
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: srv.providerFactories(),
				Steps: []resource.TestStep{
					{
						Config: cfg,
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(resName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(3)),
							statecheck.ExpectKnownValue(resName, tfjsonpath.New("effective_part_size"), knownvalue.Int64Exact(c.partSize)),
						},
					},
					{
						// terraform import: every attribute as the apply left it.
						ResourceName:      resName,
						ImportState:       true,
						ImportStateVerify: true,
					},
					{
						// An import block: the import is a no-op.
						ResourceName:    resName,
						ImportState:     true,
						ImportStateKind: resource.ImportBlockWithID,
						ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectEmptyPlan(),
							plancheck.ExpectKnownValue(resName, tfjsonpath.New("part_size"), knownvalue.Int64Exact(c.partSize)),
						}},
					},
				},
			})
		})
	}
}

// An object another tool uploaded in 5, 8 or 64 MiB parts, imported into a
// configuration with its file: the plan records the source without sending
// anything, proved by the ETag recomputed with the configured part size (or,
// with part_size unset, the one inferred from the size and part count), and
// the next plan is empty.
func TestObjectMultipart_importForeignMultipart(t *testing.T) {
	for _, c := range importCases {
		for _, configured := range []bool{true, false} {
			if !configured && !c.inferred {
				continue
			}
			name := c.name + "/part_size_unset"
			if configured {
				name = c.name + "/part_size_set"
			}
			t.Run(name, func(t *testing.T) {
				if got := upload.InferPartSize(int64(c.size), 3); got == c.partSize != c.inferred {
					t.Fatalf("%d bytes in 3 parts infer %d; the case says inferred = %v", c.size, got, c.inferred)
				}
				srv := startServer(t)
				src, sum := writeSource(t, t.TempDir(), "data.bin", c.size, 22)
				key := "foreign/" + c.name + ".bin"
				uploadAsAnotherTool(t, srv, key, src, c.partSize)
				partSize := ""
				if configured {
					partSize = fmt.Sprintf("part_size = %d", c.partSize)
				}
				cfg := srv.providerConfig() + fmt.Sprintf(`
import {
  to = obs_object_multipart.test
  id = "%s/%s"
}

resource "obs_object_multipart" "test" {
  bucket = %q
  key    = %q
  source = %q
  %s
}
`, testBucket, key, testBucket, key, hcl(src), partSize)
				resource.UnitTest(t, resource.TestCase{
					ProtoV6ProviderFactories: srv.providerFactories(),
					Steps: []resource.TestStep{
						{
							PreConfig: func() { srv.ResetStats() },
							Config:    cfg,
							ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
								plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
								plancheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.NotNull()),
								plancheck.ExpectKnownValue(resName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(3)),
								plancheck.ExpectKnownValue(resName, tfjsonpath.New("effective_part_size"), knownvalue.Int64Exact(c.partSize)),
							}},
							Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum), func(*terraform.State) error {
								st := srv.Stats()
								if n := st.Ops[obslocal.OpPutObject].Requests + st.Ops[obslocal.OpUploadPart].Requests; n != 0 {
									return fmt.Errorf("identical foreign object was sent again (%d requests)", n)
								}
								return nil
							}),
						},
						{
							Config:           cfg,
							ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
						},
					},
				})
			})
		}
	}
}

// uploadAsAnotherTool uploads the file at path to key in parts of partSize
// through the OBS client alone: no metadata of the provider's, the way
// another tool would.
func uploadAsAnotherTool(t *testing.T, srv *testServer, key, path string, partSize int64) {
	t.Helper()
	var d net.Dialer
	c, err := obs.New(obs.Config{
		Endpoint:  "http://" + testDomain + ":" + srv.port(),
		AccessKey: testAccessKey, SecretKey: testSecretKey,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, srv.Addr())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: testBucket, Key: key,
		Options: obs.ObjectOptions{ContentType: "application/octet-stream"}})
	if err != nil {
		t.Fatal(err)
	}
	var parts []obs.Part
	for off, n := int64(0), 1; off < int64(len(data)); off, n = off+partSize, n+1 {
		size := min(partSize, int64(len(data))-off)
		sum := md5.Sum(data[off : off+size])
		etag, err := c.UploadPart(ctx, obs.UploadPartInput{Bucket: testBucket, Key: key, UploadID: id, PartNumber: n,
			Body: bytes.NewReader(data), Offset: off, Size: size, ContentMD5: sum[:]})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, obs.Part{Number: n, ETag: etag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, obs.CompleteInput{Bucket: testBucket, Key: key, UploadID: id, Parts: parts}); err != nil {
		t.Fatal(err)
	}
}

// Transfer settings and timeouts are not stored on the object: import
// records the defaults, so a configuration that sets others plans an update
// that changes only them, and its apply sends nothing.
func TestObjectMultipart_importTransferSettings(t *testing.T) {
	srv := startServer(t)
	src, _ := writeSource(t, t.TempDir(), "data.bin", 3*testPartSize, 23)
	key := "import/settings.bin"
	seed := srv.providerConfig() + fmt.Sprintf(`
resource "obs_object_multipart" "seed" {
  bucket      = %q
  key         = %q
  source      = %q
  part_size   = %d
  concurrency = 8
  timeouts = {
    create = "1h"
  }
}
`, testBucket, key, hcl(src), testPartSize)
	imported := seed + fmt.Sprintf(`
import {
  to = obs_object_multipart.test
  id = "%s/%s"
}

resource "obs_object_multipart" "test" {
  bucket      = %q
  key         = %q
  source      = %q
  part_size   = %d
  concurrency = 8
  timeouts = {
    create = "1h"
  }
}
`, testBucket, key, testBucket, key, hcl(src), testPartSize)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{Config: seed},
			{
				PreConfig: func() { srv.ResetStats() },
				Config:    imported,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.NotNull()),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("concurrency"), knownvalue.Int64Exact(8)),
				}},
				Check: func(*terraform.State) error {
					st := srv.Stats()
					if n := st.Ops[obslocal.OpPutObject].Requests + st.Ops[obslocal.OpUploadPart].Requests + st.Ops[obslocal.OpInitiateMultipartUpload].Requests; n != 0 {
						return fmt.Errorf("an update of transfer settings sent %d upload requests", n)
					}
					return nil
				},
			},
			{
				Config:           imported,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// cliRun runs the terraform binary with a CLI config of its own.
type cliRun struct {
	t        *testing.T
	tf, rc   string
	extraEnv []string
}

// run runs terraform in dir and returns its output and exit code.
func (c cliRun) run(dir string, args ...string) (string, int) {
	c.t.Helper()
	cmd := exec.Command(c.tf, append([]string{args[0], "-no-color"}, args[1:]...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"TF_CLI_CONFIG_FILE=" + c.rc, "TF_IN_AUTOMATION=1"}, c.extraEnv...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	default:
		c.t.Fatalf("terraform %v: %v", args, err)
		return "", -1
	}
}

// newCLI builds the provider and writes a CLI config whose dev_overrides
// point terraform at it.
func newCLI(t *testing.T) cliRun {
	t.Helper()
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform not on PATH (make test installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-obs"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rc := filepath.Join(dir, "terraformrc")
	mustWrite(t, rc, fmt.Sprintf(`provider_installation {
  dev_overrides { "registry.terraform.io/obsprovider/obs" = %q }
  direct {}
}
`, bin))
	return cliRun{t: t, tf: tf, rc: rc, extraEnv: []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}}
}

// cliProviderConfig addresses the local server by IP (the built provider
// has no dialer of the tests'), so requests go path-style.
func (s *testServer) cliProviderConfig() string {
	return fmt.Sprintf(`terraform {
  required_providers {
    obs = { source = "obsprovider/obs" }
  }
}

provider "obs" {
  endpoint    = "http://%s"
  path_style  = true
  region      = "local-1"
  access_key  = %q
  secret_key  = %q
  max_retries = 1
}
`, s.Addr(), testAccessKey, testSecretKey)
}

// Through the terraform binary: an object uploaded in 8 MiB parts, then
// (1) terraform import into the same configuration and
// (2) plan -generate-config-out with an import block, whose generated block
// is valid and, with the file in place, plans nothing but the import; after
// each, plan -detailed-exitcode exits 0.
func TestObjectMultipart_importThroughCLI(t *testing.T) {
	cli := newCLI(t)
	srv := startServer(t)
	root := t.TempDir()
	src, _ := writeSource(t, root, "data.bin", 2*8*mib+4*mib, 24)
	key := "cli/data.bin"
	block := fmt.Sprintf(`
resource "obs_object_multipart" "img" {
  bucket    = %q
  key       = %q
  source    = %q
  part_size = %d
}
`, testBucket, key, hcl(src), 8*mib)

	seed := filepath.Join(root, "seed")
	mustWrite(t, filepath.Join(seed, "main.tf"), srv.cliProviderConfig()+block)
	if out, code := cli.run(seed, "apply", "-auto-approve", "-input=false"); code != 0 {
		t.Fatalf("seed apply exited %d:\n%s", code, out)
	}

	imp := filepath.Join(root, "import")
	mustWrite(t, filepath.Join(imp, "main.tf"), srv.cliProviderConfig()+block)
	if out, code := cli.run(imp, "import", "-input=false", "obs_object_multipart.img", testBucket+"/"+key); code != 0 {
		t.Fatalf("terraform import exited %d:\n%s", code, out)
	}
	if out, code := cli.run(imp, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		t.Fatalf("plan after terraform import exited %d, want 0 (no changes):\n%s", code, out)
	}

	gen := filepath.Join(root, "generate")
	mustWrite(t, filepath.Join(gen, "main.tf"), srv.cliProviderConfig()+fmt.Sprintf(`
import {
  to = obs_object_multipart.img
  id = "%s/%s"
}
`, testBucket, key))
	out, code := cli.run(gen, "plan", "-input=false", "-generate-config-out=generated.tf")
	generated, err := os.ReadFile(filepath.Join(gen, "generated.tf"))
	if code != 0 || err != nil {
		t.Fatalf("plan -generate-config-out exited %d (%v):\n%s", code, err, out)
	}
	for _, want := range []string{fmt.Sprintf("source                        = %q", src), "part_size                     = 8388608", "concurrency                   = 4"} {
		if !strings.Contains(string(generated), want) {
			t.Errorf("generated configuration lacks %s:\n%s", want, generated)
		}
	}
	// With the generated block in place the plan imports and changes
	// nothing; a pending import makes -detailed-exitcode exit 2.
	out, code = cli.run(gen, "plan", "-detailed-exitcode", "-input=false")
	if code != 2 || !strings.Contains(out, "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.") {
		t.Fatalf("plan with the generated configuration exited %d, want 2 with only the import:\n%s", code, out)
	}
	if out, code := cli.run(gen, "apply", "-auto-approve", "-input=false"); code != 0 {
		t.Fatalf("apply of the import exited %d:\n%s", code, out)
	}
	if out, code := cli.run(gen, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		t.Fatalf("plan after the import apply exited %d, want 0 (no changes):\n%s", code, out)
	}
}
