package provider

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"net"
	"os"
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
