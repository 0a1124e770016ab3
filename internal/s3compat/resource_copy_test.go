package s3compat

import (
	"fmt"
	"net/http"
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

// copyRequests counts the copy requests the proxy saw (x-amz-copy-source):
// part copies (with a range) and whole-object copies. A copy request that
// carried a body fails the test.
func copyRequests(t *testing.T, p *faultProxy) (parts, whole int) {
	t.Helper()
	for _, r := range p.seen() {
		if r.Header.Get("X-Amz-Copy-Source") == "" {
			continue
		}
		if r.BodyBytes != 0 || r.Header.Get("X-Amz-Copy-Source-If-Match") == "" {
			t.Errorf("copy request %s %s?%s: %d body bytes, headers %v", r.Method, r.Path, r.Query, r.BodyBytes, r.Header)
		}
		if r.Header.Get("X-Amz-Copy-Source-Range") != "" {
			parts++
		} else {
			whole++
		}
	}
	return parts, whole
}

// obs_object_copy against versitygw with SigV4: an upload and two copies of
// it following its etag, one in parts of 5 MiB (S3's UploadPartCopy, the
// copy's ETag the upload's own) and one in a single CopyObject; the bytes
// checked by GET, an empty plan, a changed file copied again, destroy.
func TestS3Compat_objectCopy(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	dir := t.TempDir()
	src, sum := acctest.WriteSource(t, dir, "app.bin", 2*testPartSize+1, 31)
	cfg := g.providerConfig() +
		acctest.ObjectBlock("src", gwBucket, "builds/app.bin", src, acctest.Attr("part_size", testPartSize)) +
		acctest.CopyBlock("parts", gwBucket, "releases/parts.bin", gwBucket, "builds/app.bin",
			acctest.Attr("source_etag", acctest.Expr("obs_object_multipart.src.etag")),
			acctest.Attr("part_size", testPartSize), acctest.Attr("concurrency", 2)) +
		acctest.CopyBlock("whole", gwBucket, "releases/whole.bin", gwBucket, "builds/app.bin",
			acctest.Attr("source_etag", acctest.Expr("obs_object_multipart.src.etag")),
			acctest.Attr("part_size", 4*testPartSize))
	checkCopies := func(wantParts int) resource.TestCheckFunc {
		return resource.ComposeTestCheckFunc(
			checkObject(t, g, "releases/parts.bin", &sum), checkObject(t, g, "releases/whole.bin", &sum), checkNoOpenUploads(t, g),
			func(*terraform.State) error {
				if parts, whole := copyRequests(t, g.proxy); parts != wantParts || whole != 1 {
					return fmt.Errorf("the proxy saw %d part copies and %d whole copies, want %d and 1", parts, whole, wantParts)
				}
				return nil
			})
	}

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy: func(s *terraform.State) error {
			for _, k := range []string{"releases/parts.bin", "releases/whole.bin"} {
				if _, status := g.object(t, k); status != http.StatusNotFound {
					return fmt.Errorf("GET %s after destroy: HTTP %d, want 404", k, status)
				}
			}
			return checkNoOpenUploads(t, g)(s)
		},
		Steps: []resource.TestStep{
			{
				PreConfig: g.proxy.reset,
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("obs_object_multipart.src", tfjsonpath.New("etag"),
						"obs_object_copy.parts", tfjsonpath.New("etag"), compare.ValuesSame()),
					statecheck.ExpectKnownValue("obs_object_copy.parts", tfjsonpath.New("part_count"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("obs_object_copy.whole", tfjsonpath.New("part_count"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue("obs_object_copy.whole", tfjsonpath.New("source_sha256"), knownvalue.StringExact(sum)),
				},
				Check: checkCopies(3),
			},
			{
				PreConfig:        g.proxy.reset,
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				PreConfig: func() {
					_, sum = acctest.WriteSource(t, dir, "app.bin", testPartSize+12345, 32)
					g.proxy.reset()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("obs_object_copy.parts", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("obs_object_copy.whole", plancheck.ResourceActionUpdate),
				}},
				Check: checkCopies(2),
			},
		},
	})
}
