package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// Every invalid attribute value gets a plan-time error that names the
// attribute.
func TestObjectMultipart_invalidAttributes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	src, _ := acctest.WriteSource(t, dir, "ok.bin", 1000, 9)
	unreadable, _ := acctest.WriteSource(t, dir, "secret.bin", 10, 9)
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	bigMeta := strings.Repeat("x", 8*1024)
	cases := []struct {
		name, attrs string
		want        string
	}{
		{"bucket uppercase", `bucket = "Bad_Bucket"`, `bucket`},
		{"bucket too short", `bucket = "ab"`, `bucket`},
		{"key empty", `key = ""`, `key`},
		{"key too long", fmt.Sprintf(`key = "%s"`, strings.Repeat("k", 1025)), `key`},
		{"key too long in bytes", fmt.Sprintf(`key = "%s"`, strings.Repeat("\u00e9", 513)), `key string length must be between 1 and 1024, got: 1026`},
		{"source missing", `source = ` + acctest.Quote(dir+"/nope.bin"), `(?s)source.*does not exist`},
		{"source directory", `source = ` + acctest.Quote(dir), `(?s)source.*is a directory`},
		{"part_size too small", `part_size = 1024`, `part_size`},
		{"part_size too large", `part_size = 6000000000`, `part_size`},
		{"concurrency zero", `concurrency = 0`, `concurrency`},
		{"concurrency too high", `concurrency = 10001`, `concurrency`},
		{"max_bandwidth too low", `max_bandwidth = 1023`, `max_bandwidth value must be at least 1024`},
		{"acl", `acl = "public"`, `acl`},
		{"storage_class", `storage_class = "GLACIER"`, `storage_class`},
		{"metadata name", `metadata = { "Bad Name" = "v" }`, `Invalid metadata name`},
		{"metadata reserved", `metadata = { "tf-source-sha256" = "v" }`, `Reserved metadata name`},
		{"metadata non-ascii", `metadata = { "name" = "caf\u00e9" }`, `not US-ASCII`},
		{"metadata too large", `metadata = { "big" = "` + bigMeta + `" }`, `Metadata too large`},
		{"tags too many", `tags = { ` + manyTags(11) + ` }`, `tags`},
		{"tag key too long", `tags = { "` + strings.Repeat("t", 129) + `" = "v" }`, `tags`},
		{"website redirect scheme", `website_redirect_location = "ftp://x"`, `website_redirect_location`},
		{"website redirect too long", `website_redirect_location = "/` + strings.Repeat("r", 2048) + `"`, `website_redirect_location`},
		{"expires negative", `expires = -1`, `expires`},
		{"sse value", `server_side_encryption = "aes"`, `server_side_encryption`},
		{"kms key without sse", `kms_key_id = "key-1"`, `kms_key_id`},
		{"sse-c not base64", `sse_c_key = "not-a-key"`, `Invalid SSE-C key`},
		{"sse-c short", `sse_c_key = "c2hvcnQ="`, `Invalid SSE-C key`},
		{"sse-c over http", `sse_c_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="`, `(?s)SSE-C needs HTTPS.*endpoint is http://.*sse_c_key`},
		{"sse-c with kms", `sse_c_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" ` + "\n" + `server_side_encryption = "kms"`, `sse_c_key`},
		{"lock mode", `object_lock_mode = "GOVERNANCE"` + "\n" + `object_lock_retain_until_date = "2030-01-01T00:00:00Z"`, `object_lock_mode`},
		{"lock mode alone", `object_lock_mode = "COMPLIANCE"`, `object_lock_retain_until_date`},
		{"lock date alone", `object_lock_retain_until_date = "2030-01-01T00:00:00Z"`, `object_lock_mode`},
		{"lock date format", `object_lock_mode = "COMPLIANCE"` + "\n" + `object_lock_retain_until_date = "2030-01-01"`, `object_lock_retain_until_date`},
		{"grant id", `grants = { read = ["not a domain id!"] }`, `grants`},
		{"content_type newline", `content_type = "text/plain\nX: y"`, `content_type`},
		{"timeouts", `timeouts = { create = "forever" }`, `"forever" must be a string containing a sequence`},
	}
	if os.Geteuid() != 0 { // root reads any file
		cases = append(cases, struct{ name, attrs, want string }{"source unreadable", `source = ` + acctest.Quote(unreadable), `(?s)source.*permission denied`})
	}
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{
			Config:      invalidConfig(srv, src, tc.attrs),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
		})
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: srv.providerFactories(), Steps: steps})
}

// invalidConfig is a valid resource with attrs overriding or adding
// arguments.
func invalidConfig(srv *testServer, src, attrs string) string {
	var args []acctest.Arg
	for _, a := range [][2]string{{"bucket", obslocaltest.Bucket}, {"key", "k.bin"}, {"source", src}} {
		if !strings.HasPrefix(attrs, a[0]+" ") {
			args = append(args, acctest.Attr(a[0], a[1]))
		}
	}
	return srv.providerConfig() + acctest.ResourceBlock("test", append(args, acctest.Raw(attrs))...)
}

func manyTags(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"k%d" = "v"`, i))
	}
	return strings.Join(parts, ", ")
}

// The plain-HTTP refusal of sse_c_key depends on the endpoint alone: with
// an https:// endpoint the same configuration plans.
func TestObjectMultipart_sseCOverHTTPSPlans(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	src, _ := acctest.WriteSource(t, t.TempDir(), "ok.bin", 1000, 9)
	config := invalidConfig(srv, src, `sse_c_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="`)
	https := strings.Replace(config, `"http://`, `"https://`, 1)
	if https == config {
		t.Fatalf("no http:// endpoint to replace in:\n%s", config)
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: srv.providerFactories(), Steps: []resource.TestStep{{
		Config:             https,
		PlanOnly:           true,
		ExpectNonEmptyPlan: true,
	}}})
}
