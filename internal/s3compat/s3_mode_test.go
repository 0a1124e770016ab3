package s3compat

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// Object properties reach versitygw under their S3 names: content type,
// x-amz-meta-* metadata, storage class WARM as STANDARD_IA, canned ACL as
// x-amz-acl, tags as x-amz-tagging (read back with GetObjectTagging);
// content type and metadata come back unchanged on import.
// (versitygw answers GetObjectAcl with 501 NotImplemented, so the ACL is
// checked on the request.)
func TestS3Compat_headerMapping(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	key := "mapped/report.txt"
	const size = 2*testPartSize + testPartSize/2
	src, sum := acctest.WriteSource(t, t.TempDir(), "report.txt", size, 4)
	cfg := g.providerConfig() + acctest.ObjectBlock("test", gwBucket, key, src,
		acctest.Attr("part_size", testPartSize),
		acctest.Attr("content_type", "text/plain; charset=utf-8"),
		acctest.Attr("storage_class", "WARM"),
		acctest.Attr("acl", "public-read"),
		acctest.Attr("metadata", map[string]string{"owner": "team-a", "purpose": "s3-compat"}),
		acctest.Attr("tags", map[string]string{"env": "test", "team": "a b"}),
	)

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeTestCheckFunc(
					checkObject(t, g, key, &sum),
					func(*terraform.State) error {
						// What the provider sent: S3 names and x-amz- headers.
						var initiate *proxiedRequest
						for _, r := range g.proxy.seen() {
							if r.Method == "POST" && r.Query.Has("uploads") {
								initiate = &r
							}
						}
						if initiate == nil {
							return fmt.Errorf("no InitiateMultipartUpload request seen by the proxy")
						}
						return compareHeaders("InitiateMultipartUpload request", initiate.Header, map[string]string{
							"Content-Type":                "text/plain; charset=utf-8",
							"X-Amz-Storage-Class":         "STANDARD_IA",
							"X-Amz-Acl":                   "public-read",
							"X-Amz-Meta-Owner":            "team-a",
							"X-Amz-Meta-Purpose":          "s3-compat",
							"X-Amz-Meta-Tf-Source-Sha256": sum,
							"X-Amz-Tagging":               "env=test&team=a%20b",
						})
					},
					func(*terraform.State) error {
						resp, body := g.direct.do(t, "GET", gwBucket, key, url.Values{"tagging": {""}}, nil, nil)
						if resp.StatusCode != http.StatusOK {
							return fmt.Errorf("GET ?tagging: %s: %s", resp.Status, body)
						}
						for _, want := range []string{"<Key>env</Key><Value>test</Value>", "<Key>team</Key><Value>a b</Value>"} {
							if !strings.Contains(string(body), want) {
								return fmt.Errorf("object tags %s lack %s", body, want)
							}
						}
						return nil
					},
					func(*terraform.State) error {
						// What versitygw stored. Its posix backend accepts a
						// storage class but always reports STANDARD, so the
						// class is checked on the request above.
						return compareHeaders("HEAD "+key, g.head(t, key), map[string]string{
							"Content-Type":                "text/plain; charset=utf-8",
							"Content-Length":              fmt.Sprint(size),
							"X-Amz-Meta-Owner":            "team-a",
							"X-Amz-Meta-Purpose":          "s3-compat",
							"X-Amz-Meta-Tf-Source-Sha256": sum,
						})
					},
				),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				// Import reads content type and metadata back. acl is not
				// readable from HEAD; storage_class comes back as STANDARD
				// because versitygw's posix backend does not keep it.
				ResourceName:            resName,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateId:           gwBucket + "/" + key,
				ImportStateVerifyIgnore: []string{"concurrency", "part_size", "timeouts", "acl", "storage_class", "tags"},
			},
		},
	})
}

// compareHeaders reports every header of want that h lacks or differs in.
func compareHeaders(what string, h map[string][]string, want map[string]string) error {
	var errs []string
	for k, v := range want {
		var got string
		if vs := h[k]; len(vs) > 0 {
			got = vs[0]
		}
		if got != v {
			errs = append(errs, fmt.Sprintf("%s = %q, want %q", k, got, v))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("%s:\n  %s\nall headers: %v", what, strings.Join(errs, "\n  "), h)
	}
	return nil
}

// expires is OBS-only: with SigV4 it is a plan-time error, before any request.
func TestS3Compat_expiresRejectedAtPlan(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	src, _ := acctest.WriteSource(t, t.TempDir(), "data.bin", 1024, 5)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:      g.providerConfig() + acctest.ObjectBlock("test", gwBucket, "expiring.bin", src, acctest.Attr("expires", 7)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)expires needs the OBS signature.*x-obs-expires is an OBS-only header`),
			},
		},
	})
	if seen := g.proxy.seen(); len(seen) != 0 {
		t.Errorf("a rejected plan sent %d request(s) to the server: %+v", len(seen), seen)
	}
}

// A wrong secret key is a clear 403 SignatureDoesNotMatch with advice, and
// no request is repeated: 403 is never retried, even with the default max_retries (5).
func TestS3Compat_wrongSecretKey(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	src, _ := acctest.WriteSource(t, t.TempDir(), "data.bin", 3*testPartSize, 6)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: g.providerConfigWithSecret("not-the-secret-key", -1) +
					acctest.ObjectBlock("test", gwBucket, "denied.bin", src, acctest.Attr("part_size", testPartSize)),
				ExpectError: regexp.MustCompile(`(?s)403 SignatureDoesNotMatch.*secret key does not match`),
			},
		},
	})
	// Today the engine treats a failed look-up of open uploads as "none" and
	// goes on to initiate one, which is denied too: two requests, each sent
	// once. A retry storm would repeat them (1 + max_retries times each).
	seen := g.proxy.seen()
	t.Logf("requests with the wrong key: %+v", seen)
	count := map[string]int{}
	for _, r := range seen {
		count[r.Method+" "+r.Path+"?"+r.Query.Encode()]++
	}
	for req, n := range count {
		if n > 1 {
			t.Errorf("%s sent %d times with a wrong secret key: a 403 must not be retried", req, n)
		}
	}
	if len(seen) > 2 {
		t.Errorf("want at most 2 requests (list open uploads, initiate) with a wrong secret key, got %d: %+v", len(seen), seen)
	}
	if ups := g.listUploads(t); len(ups) != 0 {
		t.Errorf("open uploads after a denied create: %+v", ups)
	}
	if _, status := g.object(t, "denied.bin"); status != http.StatusNotFound {
		t.Errorf("GET denied.bin: HTTP %d, want 404", status)
	}
}
