package s3compat

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// A create whose part 4 has its connection reset mid-body (on every attempt)
// fails, keeps its upload open on versitygw, and the next apply sends only
// the missing parts, found by listing the upload on the server.
func TestS3Compat_resumeAfterConnectionReset(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	const (
		failPart = 4
		size     = 6*testPartSize + 5000
	)
	key := "resume/create.bin"
	src, sum := acctest.WriteSource(t, t.TempDir(), "data.bin", size, 7)
	cfg := testAccObjectMultipartConfig_basic(g, key, src, 1)
	var missing int64
	var wantParts []int

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkNoOpenUploads(t, g),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					g.proxy.reset()
					g.proxy.resetPart(failPart, 1<<20)
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Progress is kept.*Run terraform apply again to resume`),
			},
			{
				PreConfig: func() {
					// The fault really fired, and was retried: the obs layer
					// makes 1 + max_retries (1) attempts, the engine up to 3
					// rounds of those, so 2 to 6 resets.
					var resets int
					for _, r := range g.proxy.seen() {
						if r.Reset && r.partNumber() == failPart {
							resets++
						}
					}
					t.Logf("part %d was cut off %d times", failPart, resets)
					if resets < 2 || resets > 6 {
						t.Fatalf("part %d was reset %d times, want 2..6; requests: %+v", failPart, resets, g.proxy.seen())
					}
					g.proxy.clearFaults()

					ups := g.listUploads(t)
					if len(ups) != 1 || ups[0].Key != key {
						t.Fatalf("want 1 open upload of %s after the failed create, got %+v", key, ups)
					}
					parts := g.listParts(t, key, ups[0].UploadID)
					have := map[int]bool{}
					missing = size
					for _, p := range parts {
						have[p.Number] = true
						missing -= p.Size
					}
					if len(parts) != failPart-1 {
						t.Fatalf("server holds parts %+v, want 1..%d (concurrency 1, part %d cut off)", parts, failPart-1, failPart)
					}
					wantParts = nil
					for n := 1; n <= 7; n++ {
						if !have[n] {
							wantParts = append(wantParts, n)
						}
					}
					g.proxy.reset()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeTestCheckFunc(
					checkObject(t, g, key, &sum),
					checkNoOpenUploads(t, g),
					func(*terraform.State) error {
						sent, parts := partBytes(g.proxy)
						if sent != missing || !slices.Equal(parts, wantParts) {
							return fmt.Errorf("resumed create sent parts %v (%d bytes), want exactly the missing parts %v (%d bytes)",
								parts, sent, wantParts, missing)
						}
						return nil
					},
				),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}
