package s3compat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// logPlan is a plan check that logs each resource change (for diagnosis).
type logPlan struct{ t *testing.T }

func (l logPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, _ *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		before, _ := json.Marshal(rc.Change.Before)
		after, _ := json.Marshal(rc.Change.After)
		l.t.Logf("%s %v\n  before: %s\n  after:  %s", rc.Address, rc.Change.Actions, before, after)
	}
}

// Destroy deletes an object the resource uploaded with multipart.
func TestS3Compat_destroyMultipartObject(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	key := "destroy/multi.bin"
	src, sum := acctest.WriteSource(t, t.TempDir(), "data.bin", 2*testPartSize+1, 9)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy: func(*terraform.State) error {
			if _, status := g.object(t, key); status != http.StatusNotFound {
				return fmt.Errorf("GET after destroy: HTTP %d, want 404", status)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: testAccObjectMultipartConfig_basic(g, key, src, 2), Check: checkObject(t, g, key, &sum)},
		},
	})
}

// An object imported with an import block, and a configuration matching it,
// plans empty — as it does against the local OBS server.
func TestS3Compat_importThenEmptyPlan(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	key := "import/data.bin"
	src, sum := acctest.WriteSource(t, t.TempDir(), "data.bin", 10<<20+1, 8)
	seed := g.providerConfig() + acctest.ObjectBlock("seed", gwBucket, key, src)
	imported := seed + acctest.Block("import",
		acctest.Attr("to", acctest.Expr(resName)),
		acctest.Attr("id", "obs://"+gwBucket+"/"+key),
	) + acctest.ObjectBlock("test", gwBucket, key, src)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{Config: seed, Check: checkObject(t, g, key, &sum)},
			{
				Config: imported,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					logPlan{t},
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}
