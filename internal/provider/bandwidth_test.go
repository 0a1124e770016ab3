package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// testAccObjectMultipartConfig_maxBandwidth caps the provider at provider
// and the object at object bytes per second (0: not set).
func testAccObjectMultipartConfig_maxBandwidth(srv *testServer, key, source string, provider, object int64) string {
	var extra []acctest.Arg
	if provider > 0 {
		extra = append(extra, acctest.Attr("max_bandwidth", provider))
	}
	p := srv.providerConfig(extra...)
	r := ""
	if object > 0 {
		r = fmt.Sprintf("  max_bandwidth = %d\n", object)
	}
	return p + fmt.Sprintf(`
resource "obs_object_multipart" "test" {
  bucket      = %q
  key         = %q
  source      = %q
  part_size   = %d
  concurrency = 2
%s}
`, obslocaltest.Bucket, key, source, testPartSize, r)
}

// A cap below 1 KiB/s is an error on the provider and on the object.
// Capped by both, the upload completes; the object's cap is a transfer
// setting, so changing it sends no byte again.
func TestObjectMultipart_maxBandwidth(t *testing.T) {
	srv := newTestServer(t)
	src, sum := acctest.WriteSource(t, t.TempDir(), "capped.bin", 350*1024, 4)
	key := "capped.bin"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{
				Config:      testAccObjectMultipartConfig_maxBandwidth(srv, key, src, 8<<20, 1023),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`max_bandwidth\s+value\s+must\s+be\s+at\s+least\s+1024`),
			},
			{
				Config:      testAccObjectMultipartConfig_maxBandwidth(srv, key, src, 1000, 0),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`max_bandwidth\s+value\s+must\s+be\s+at\s+least\s+1024`),
			},
			{
				Config: testAccObjectMultipartConfig_maxBandwidth(srv, key, src, 8<<20, 4<<20),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("max_bandwidth"), knownvalue.Int64Exact(4<<20)),
				},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum), checkNoOpenUploads(srv)),
			},
			{
				PreConfig: func() { srv.ResetStats() },
				Config:    testAccObjectMultipartConfig_maxBandwidth(srv, key, src, 8<<20, 2<<20),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.NotNull()),
				}},
				Check: func(*terraform.State) error {
					if n := srv.partBytes(); n != 0 {
						return fmt.Errorf("changing max_bandwidth re-sent %d bytes", n)
					}
					return nil
				},
			},
			{
				Config:                  testAccObjectMultipartConfig_maxBandwidth(srv, key, src, 8<<20, 2<<20),
				ResourceName:            resName,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return obslocaltest.Bucket + "/" + key, nil },
				ImportStateVerifyIgnore: []string{"concurrency", "part_size", "timeouts", "max_bandwidth"},
			},
		},
	})
}
