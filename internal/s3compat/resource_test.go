package s3compat

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/provider"
)

const (
	// testPartSize is versitygw's minimum part size (like S3's): it
	// rejects smaller non-final parts with EntityTooSmall at completion.
	testPartSize = 5 << 20
	resName      = "obs_object_multipart.test"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// testProviderFactories serve a provider instance of the test's own.
func testProviderFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return acctest.ProviderFactories(provider.New("test")())
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func testAccObjectMultipartConfig_basic(g *gateway, key, source string, concurrency int) string {
	return g.providerConfig() + acctest.ObjectBlock("test", gwBucket, key, source,
		acctest.Attr("part_size", testPartSize), acctest.Attr("concurrency", concurrency))
}

// checkObject GETs the object from versitygw and compares its bytes with
// the source's, by their SHA-256 (*want, read when the check runs).
func checkObject(t *testing.T, g *gateway, key string, want *string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, status := g.object(t, key)
		if status != http.StatusOK {
			return fmt.Errorf("GET %s: HTTP %d", key, status)
		}
		if sum := sha256Hex(got); sum != *want {
			return fmt.Errorf("object %s: %d bytes with SHA-256 %s, want SHA-256 %s", key, len(got), sum, *want)
		}
		return nil
	}
}

func checkNoOpenUploads(t *testing.T, g *gateway) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if ups := g.listUploads(t); len(ups) != 0 {
			return fmt.Errorf("%d open upload(s) left: %+v", len(ups), ups)
		}
		return nil
	}
}

// partBytes sums the body bytes of the UploadPart requests the proxy saw,
// and returns the part numbers sent.
func partBytes(p *faultProxy) (int64, []int) {
	var n int64
	var parts []int
	for _, r := range p.seen() {
		if pn := r.partNumber(); pn > 0 {
			n += r.BodyBytes
			parts = append(parts, pn)
		}
	}
	sort.Ints(parts)
	return n, parts
}

// Create → empty plan → file changed → update → import → smaller file
// (single PUT) → destroy, all over SigV4 against versitygw, with the bytes
// checked by GET after each apply.
func TestS3Compat_lifecycle(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	dir := t.TempDir()
	key := "images/data.bin"
	src, sum := acctest.WriteSource(t, dir, "data.bin", 3*testPartSize+testPartSize/2, 1)
	etag := statecheck.CompareValue(compare.ValuesSame())
	cfg := testAccObjectMultipartConfig_basic(g, key, src, 2)

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy: func(s *terraform.State) error {
			if _, status := g.object(t, key); status != http.StatusNotFound {
				return fmt.Errorf("GET after destroy: HTTP %d, want 404", status)
			}
			return checkNoOpenUploads(t, g)(s)
		},
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("source_sha256"), knownvalue.StringExact(sum)),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(4)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("id"), knownvalue.StringExact(gwBucket+"/"+key)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("size"), knownvalue.Int64Exact(3*testPartSize+testPartSize/2)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{32}-4$`))),
					etag.AddStateValue(resName, tfjsonpath.New("etag")),
				},
				Check: resource.ComposeTestCheckFunc(checkObject(t, g, key, &sum), checkNoOpenUploads(t, g)),
			},
			{
				// Nothing changed: empty plan, nothing sent.
				PreConfig: g.proxy.reset,
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{etag.AddStateValue(resName, tfjsonpath.New("etag"))},
				Check: resource.ComposeTestCheckFunc(checkObject(t, g, key, &sum), func(*terraform.State) error {
					if n, parts := partBytes(g.proxy); n != 0 {
						return fmt.Errorf("unchanged object: parts %v (%d bytes) sent", parts, n)
					}
					return nil
				}),
			},
			{
				// Content changed: in-place update.
				PreConfig: func() { _, sum = acctest.WriteSource(t, dir, "data.bin", 4*testPartSize+3, 2) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(resName, tfjsonpath.New("etag")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{32}-5$`))),
				},
				Check: resource.ComposeTestCheckFunc(checkObject(t, g, key, &sum), checkNoOpenUploads(t, g)),
			},
			{
				ResourceName:      resName,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return "obs://" + gwBucket + "/" + key, nil },
				// storage_class: versitygw reports STANDARD for every object
				// and import copies it into state where the config has none
				// (see TestS3Compat_importThenEmptyPlan).
				ImportStateVerifyIgnore: []string{"concurrency", "part_size", "timeouts", "storage_class"},
			},
			{
				// Smaller than one part: a single PUT. It is what destroy then
				// deletes (see TestS3Compat_destroyMultipartObject).
				PreConfig: func() { _, sum = acctest.WriteSource(t, dir, "data.bin", 40*1024, 3) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{32}$`))),
				},
				Check: checkObject(t, g, key, &sum),
			},
		},
	})
}
