package provider

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"os"
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

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
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
	return srv.providerConfig() + acctest.ObjectBlock("test", obslocaltest.Bucket, key, source, acctest.Attr("part_size", partSize))
}

// importBlock is an import block of the object bucket/key into
// obs_object_multipart.name.
func importBlock(name, key string) string {
	return acctest.Block("import", acctest.Attr("to", acctest.Expr("obs_object_multipart."+name)),
		acctest.Attr("id", obslocaltest.Bucket+"/"+key))
}

// An object this provider uploaded with 5, 8 or 64 MiB parts, imported into
// the same configuration, gives the same state (terraform import) and an
// import block plans nothing else: part_size comes back as configured.
func TestObjectMultipart_importMatchingConfig(t *testing.T) {
	t.Parallel()
	for _, c := range importCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t)
			src, _ := acctest.WriteSource(t, t.TempDir(), "data.bin", c.size, 21)
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
	t.Parallel()
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
				t.Parallel()
				if got := upload.InferPartSize(int64(c.size), 3); got == c.partSize != c.inferred {
					t.Fatalf("%d bytes in 3 parts infer %d; the case says inferred = %v", c.size, got, c.inferred)
				}
				srv := newTestServer(t)
				src, sum := acctest.WriteSource(t, t.TempDir(), "data.bin", c.size, 22)
				key := "foreign/" + c.name + ".bin"
				uploadAsAnotherTool(t, srv, key, src, c.partSize)
				var partSize []acctest.Arg
				if configured {
					partSize = append(partSize, acctest.Attr("part_size", c.partSize))
				}
				cfg := srv.providerConfig() + importBlock("test", key) +
					acctest.ObjectBlock("test", obslocaltest.Bucket, key, src, partSize...)
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
	c, err := obs.New(srv.client)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: obslocaltest.Bucket, Key: key,
		Options: obs.ObjectOptions{ContentType: "application/octet-stream"}})
	if err != nil {
		t.Fatal(err)
	}
	var parts []obs.Part
	for off, n := int64(0), 1; off < int64(len(data)); off, n = off+partSize, n+1 {
		size := min(partSize, int64(len(data))-off)
		sum := md5.Sum(data[off : off+size])
		etag, err := c.UploadPart(ctx, obs.UploadPartInput{Bucket: obslocaltest.Bucket, Key: key, UploadID: id, PartNumber: n,
			Body: bytes.NewReader(data), Offset: off, Size: size, ContentMD5: sum[:]})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, obs.Part{Number: n, ETag: etag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, obs.CompleteInput{Bucket: obslocaltest.Bucket, Key: key, UploadID: id, Parts: parts}); err != nil {
		t.Fatal(err)
	}
}

// Transfer settings and timeouts are not stored on the object: import
// records the defaults, so a configuration that sets others plans an update
// that changes only them, and its apply sends nothing.
func TestObjectMultipart_importTransferSettings(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	src, _ := acctest.WriteSource(t, t.TempDir(), "data.bin", 3*testPartSize, 23)
	key := "import/settings.bin"
	settings := []acctest.Arg{
		acctest.Attr("part_size", testPartSize),
		acctest.Attr("concurrency", 8),
		acctest.Raw("timeouts = {\n  create = \"1h\"\n}"),
	}
	seed := srv.providerConfig() + acctest.ObjectBlock("seed", obslocaltest.Bucket, key, src, settings...)
	imported := seed + importBlock("test", key) + acctest.ObjectBlock("test", obslocaltest.Bucket, key, src, settings...)
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

// Through the terraform binary: an object uploaded in 8 MiB parts, then
// (1) terraform import into the same configuration and
// (2) plan -generate-config-out with an import block, whose generated block
// is valid and, with the file in place, plans nothing but the import; after
// each, plan -detailed-exitcode exits 0.
func TestObjectMultipart_importThroughCLI(t *testing.T) {
	t.Parallel()
	cli := newTerraformCLI(t)
	srv := newTestServer(t)
	root := t.TempDir()
	src, _ := acctest.WriteSource(t, root, "data.bin", 2*8*mib+4*mib, 24)
	key := "cli/data.bin"
	block := acctest.ObjectBlock("img", obslocaltest.Bucket, key, src, acctest.Attr("part_size", 8*mib))

	seed := filepath.Join(root, "seed")
	cli.writeConfig(seed, srv.cliProviderConfig()+block)
	if out, code := cli.run(seed, "apply", "-auto-approve", "-input=false"); code != 0 {
		t.Fatalf("seed apply exited %d:\n%s", code, out)
	}

	imp := filepath.Join(root, "import")
	cli.writeConfig(imp, srv.cliProviderConfig()+block)
	if out, code := cli.run(imp, "import", "-input=false", "obs_object_multipart.img", obslocaltest.Bucket+"/"+key); code != 0 {
		t.Fatalf("terraform import exited %d:\n%s", code, out)
	}
	if out, code := cli.run(imp, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		t.Fatalf("plan after terraform import exited %d, want 0 (no changes):\n%s", code, out)
	}

	gen := filepath.Join(root, "generate")
	cli.writeConfig(gen, srv.cliProviderConfig()+importBlock("img", key))
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
