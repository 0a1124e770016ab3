package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// Acceptance tests against real OBS. They run only with TF_ACC=1 (make
// testacc) and credentials in the environment: HW_ACCESS_KEY, HW_SECRET_KEY,
// HW_REGION_NAME (or HW_OBS_ENDPOINT), and OBS_TEST_BUCKET, an existing
// bucket the tests may write to under the prefix tf-acc/.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	for _, v := range []string{envAccessKey, envSecretKey, "OBS_TEST_BUCKET"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s must be set for acceptance tests against real OBS", v)
		}
	}
	if os.Getenv(envRegion) == "" && os.Getenv(envEndpoint) == "" {
		t.Fatalf("%s or %s must be set for acceptance tests against real OBS", envRegion, envEndpoint)
	}
}

func TestAccObjectMultipart_realOBS(t *testing.T) {
	t.Parallel()
	const partSize = 5 << 20 // the minimum of OBS 2.0 buckets
	dir := t.TempDir()
	src, sum1 := acctest.WriteSource(t, dir, "acc.bin", 3*partSize+12345, 11)
	var sum2 string
	key := fmt.Sprintf("tf-acc/%s.bin", t.Name())
	config := func() string {
		return acctest.ProviderBlock() + acctest.ObjectBlock("test", os.Getenv("OBS_TEST_BUCKET"), key, src,
			acctest.Attr("part_size", partSize),
			acctest.Attr("metadata", map[string]string{"purpose": "terraform-provider-obs acceptance test"}))
	}
	etag := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProviderFactories(New("test")()),
		Steps: []resource.TestStep{
			{
				Config: config(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("source_sha256"), knownvalue.StringExact(sum1)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.StringRegexp(regexp.MustCompile(`-4$`))),
					etag.AddStateValue(resName, tfjsonpath.New("etag")),
				},
			},
			{
				Config:            config(),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{etag.AddStateValue(resName, tfjsonpath.New("etag"))},
			},
			{
				PreConfig: func() { _, sum2 = acctest.WriteSource(t, dir, "acc.bin", 2*partSize+1, 12) },
				Config:    config(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[resName].Primary.Attributes["source_sha256"]; got != sum2 {
						return fmt.Errorf("source_sha256 = %s, want %s", got, sum2)
					}
					return nil
				},
			},
			{
				ResourceName:            resName,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return os.Getenv("OBS_TEST_BUCKET") + "/" + key, nil },
				ImportStateVerifyIgnore: []string{"concurrency", "part_size", "timeouts", "effective_part_size"},
			},
		},
	})
}
