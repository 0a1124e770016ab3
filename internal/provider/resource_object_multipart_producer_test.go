package provider

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// testAccObjectMultipartConfig_producer builds the file in the same apply: a
// terraform_data resource's local-exec provisioner copies prebuilt to out.
// The object's source is the literal path, or, with fromOutput, the
// producer's output, which stays unknown until the producer is applied.
func testAccObjectMultipartConfig_producer(srv *testServer, key, prebuilt, out string, fromOutput bool) string {
	source := acctest.Quote(out)
	if fromOutput {
		source = "terraform_data.build.output"
	}
	return srv.providerConfig() + fmt.Sprintf(`
resource "terraform_data" "build" {
  input = %q

  provisioner "local-exec" {
    command     = "mkdir -p \"$(dirname \"$OUT\")\" && cp \"$SRC\" \"$OUT\""
    environment = { SRC = %q, OUT = self.input }
  }
}

resource "obs_object_multipart" "test" {
  bucket    = %q
  key       = %q
  source    = %s
  part_size = %d
}
`, out, prebuilt, obslocaltest.Bucket, key, source, testPartSize)
}

// A source file that another resource creates in the same apply: a literal
// path fails at plan, because the file is not there yet; the producer's
// output leaves source unknown at plan, so the file is hashed and uploaded
// at apply, and the next plan is empty.
func TestObjectMultipart_sourceBuiltInSameApply(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	prebuilt, sum := acctest.WriteSource(t, dir, "prebuilt.bin", 3*testPartSize+17, 21)
	out := filepath.Join(dir, "build", "app.bin")
	key := "build/app.bin"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{
				Config:      testAccObjectMultipartConfig_producer(srv, key, prebuilt, out, false),
				ExpectError: regexp.MustCompile(`(?s)Cannot read the source file.*does not exist`),
			},
			{
				Config: testAccObjectMultipartConfig_producer(srv, key, prebuilt, out, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue(resName, tfjsonpath.New("source")),
					plancheck.ExpectUnknownValue(resName, tfjsonpath.New("source_sha256")),
					plancheck.ExpectUnknownValue(resName, tfjsonpath.New("size")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("source"), knownvalue.StringExact(out)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("source_sha256"), knownvalue.StringExact(sum)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(4)),
				},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum), checkNoOpenUploads(srv)),
			},
			{
				Config: testAccObjectMultipartConfig_producer(srv, key, prebuilt, out, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}
