package acctest

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A quoted string reads back as itself: escapes, no template interpolation.
func TestQuoteRoundTrips(t *testing.T) {
	for _, s := range []string{
		"", "plain", `C:\dir\file.bin`, `say "hi"`, "line1\nline2\r\n\ttab", "bell\a",
		"${var.x} and %{ if true }", "$$ %% $ % {}", "café ☕",
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(Quote(s)), "q.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("Quote(%q) = %s: %v", s, Quote(s), diags)
			continue
		}
		v, diags := expr.Value(nil)
		if diags.HasErrors() || v.AsString() != s {
			t.Errorf("Quote(%q) = %s reads back as %#v (%v)", s, Quote(s), v, diags)
		}
	}
}

func TestBlock(t *testing.T) {
	got := ObjectBlock("test", "b", "k", "/src/data.bin",
		Attr("part_size", 5<<20), Attr("concurrency", int64(2)), Attr("server_side_encryption_enabled", true),
		Raw("timeouts = {\n  create = \"1m\"\n}"),
		Attr("count", Expr("2")), Attr("metadata", map[string]string{"b": "2", "a": "1"}),
		Attr("grants", []string{"x", "y"}), Attr("tags", map[string]string{}))
	want := `
resource "obs_object_multipart" "test" {
  bucket                         = "b"
  key                            = "k"
  source                         = "/src/data.bin"
  part_size                      = 5242880
  concurrency                    = 2
  server_side_encryption_enabled = true
  timeouts = {
    create = "1m"
  }
  count    = 2
  metadata = { "a" = "1", "b" = "2" }
  grants   = ["x", "y"]
  tags     = {}
}
`
	if got != want {
		t.Errorf("ObjectBlock =\n%s\nwant\n%s", got, want)
	}
	if _, diags := hclsyntax.ParseConfig([]byte(TerraformBlock()+ProviderBlock(Attr("region", "r"))+got), "main.tf", hcl.InitialPos); diags.HasErrors() {
		t.Errorf("not valid HCL: %v", diags)
	}
}
