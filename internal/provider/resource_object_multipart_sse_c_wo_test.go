package provider

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// testSSECKey returns a base64 SSE-C key made of b.
func testSSECKey(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

// newSSECTestServer starts the local server over HTTPS, which SSE-C needs
// (the provider refuses an SSE-C key with an http:// endpoint, the server
// an SSE-C request over plain HTTP).
func newSSECTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServer(t, obslocaltest.WithSelfSignedTLS())
}

func testAccObjectMultipartConfig_sseCWO(srv *testServer, key, source, sseKey string, version int) string {
	return srv.providerConfig() + acctest.ObjectBlock("test", obslocaltest.Bucket, key, source,
		acctest.Attr("part_size", testPartSize),
		acctest.Attr("sse_c_key_wo", sseKey),
		acctest.Attr("sse_c_key_wo_version", version))
}

// checkSSECKey asserts the object is stored encrypted with the SSE-C key.
func checkSSECKey(srv *testServer, key, sseKey string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, info, err := srv.ObjectSHA256(obslocaltest.Bucket, key)
		if err != nil {
			return err
		}
		raw, _ := base64.StdEncoding.DecodeString(sseKey)
		sum := md5.Sum(raw)
		got := strings.Join(info.Headers["x-obs-server-side-encryption-customer-key-md5"], ",") //nolint:staticcheck // obslocal keeps x- names as stored, lower-case
		if want := base64.StdEncoding.EncodeToString(sum[:]); got != want {
			return fmt.Errorf("object %s has SSE-C key MD5 %q, want %q", key, got, want)
		}
		return nil
	}
}

// checkStateLacks asserts no attribute in state holds s.
func checkStateLacks(s string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		for _, m := range st.Modules {
			for addr, r := range m.Resources {
				for k, v := range r.Primary.Attributes {
					if strings.Contains(v, s) {
						return fmt.Errorf("%s.%s holds the write-only key", addr, k)
					}
				}
			}
		}
		return nil
	}
}

// An object uploaded with a write-only SSE-C key: the key is used, never
// stored; refresh (which has no key) keeps the plan empty; a new key with a
// new version uploads again; a new key alone goes unnoticed; destroy
// deletes the object without the key.
func TestObjectMultipart_sseCKeyWriteOnly(t *testing.T) {
	t.Parallel()
	srv := newSSECTestServer(t)
	src, sum := acctest.WriteSource(t, t.TempDir(), "data.bin", 3*testPartSize+7, 31)
	key := "sse-c/wo.bin"
	k1, k2, k3 := testSSECKey(1), testSSECKey(2), testSSECKey(3)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy: func(*terraform.State) error {
			if srv.objectSHA256(key) != "" {
				return fmt.Errorf("object still exists after destroy")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: testAccObjectMultipartConfig_sseCWO(srv, key, src, k1, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("sse_c_key_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("sse_c_key_wo_version"), knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum), checkSSECKey(srv, key, k1), checkStateLacks(k1)),
			},
			{
				// Refresh lists the object instead of HEAD, which needs the key.
				PreConfig: func() { srv.ResetStats() },
				Config:    testAccObjectMultipartConfig_sseCWO(srv, key, src, k1, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: func(*terraform.State) error {
					if n := srv.Stats().Ops[obslocal.OpListObjects].Requests; n == 0 {
						return fmt.Errorf("refresh did not list the object")
					}
					return nil
				},
			},
			{
				Config: testAccObjectMultipartConfig_sseCWO(srv, key, src, k2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(resName, tfjsonpath.New("etag")),
				}},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum), checkSSECKey(srv, key, k2), checkStateLacks(k2)),
			},
			{
				// Terraform cannot see a write-only value change: the
				// version is what tells.
				Config: testAccObjectMultipartConfig_sseCWO(srv, key, src, k3, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: checkSSECKey(srv, key, k2),
			},
		},
	})
}

// The write-only key conflicts with sse_c_key, needs its version, is
// validated like sse_c_key without echoing the value, and is refused with
// an http:// endpoint like sse_c_key.
func TestObjectMultipart_sseCKeyWriteOnlyValidation(t *testing.T) {
	t.Parallel()
	https, plain := newSSECTestServer(t), newTestServer(t)
	src, _ := acctest.WriteSource(t, t.TempDir(), "data.bin", 1000, 32)
	for _, c := range []struct {
		name  string
		srv   *testServer
		attrs []acctest.Arg
		want  string
	}{
		{"both keys", https, []acctest.Arg{acctest.Attr("sse_c_key", testSSECKey(1)), acctest.Attr("sse_c_key_wo", testSSECKey(2)), acctest.Attr("sse_c_key_wo_version", 1)}, `(?s)sse_c_key.*cannot be configured together|(?s)Invalid Attribute Combination`},
		{"no version", https, []acctest.Arg{acctest.Attr("sse_c_key_wo", testSSECKey(1))}, `(?s)sse_c_key_wo_version.*must be specified|Invalid Attribute Combination`},
		{"version alone", https, []acctest.Arg{acctest.Attr("sse_c_key_wo_version", 1)}, `Invalid Attribute Combination`},
		{"bad key", https, []acctest.Arg{acctest.Attr("sse_c_key_wo", "bm90LWEta2V5"), acctest.Attr("sse_c_key_wo_version", 1)}, `(?s)sse_c_key_wo must be a base64-encoded 256-bit`},
		{"with kms", https, []acctest.Arg{acctest.Attr("sse_c_key_wo", testSSECKey(1)), acctest.Attr("sse_c_key_wo_version", 1), acctest.Attr("server_side_encryption", "kms")}, `(?s)Invalid Attribute Combination`},
		{"over http", plain, []acctest.Arg{acctest.Attr("sse_c_key_wo", testSSECKey(1)), acctest.Attr("sse_c_key_wo_version", 1)}, `(?s)SSE-C needs HTTPS.*endpoint\s+is\s+http://.*sse_c_key_wo`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: c.srv.providerFactories(),
				Steps: []resource.TestStep{{
					Config:      c.srv.providerConfig() + acctest.ObjectBlock("test", obslocaltest.Bucket, "v.bin", src, c.attrs...),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(c.want),
				}},
			})
		})
	}
}

// A Terraform without write-only arguments (before 1.11) that sends
// sse_c_key_wo gets an error on the attribute. Terraform 1.5.7 is not on
// this machine, so the provider server is called as such a Terraform would,
// with the client capability off.
func TestObjectMultipart_sseCKeyWriteOnlyNeedsTerraform111(t *testing.T) {
	t.Parallel()
	srv, err := acctest.ProviderFactories(New("test")())["obs"]()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := schemas.ResourceSchemas["obs_object_multipart"].ValueType().(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals["bucket"] = tftypes.NewValue(tftypes.String, obslocaltest.Bucket)
	vals["key"] = tftypes.NewValue(tftypes.String, "k")
	vals["source"] = tftypes.NewValue(tftypes.String, "/dev/null")
	vals["sse_c_key_wo"] = tftypes.NewValue(tftypes.String, testSSECKey(1))
	vals["sse_c_key_wo_version"] = tftypes.NewValue(tftypes.Number, 1)
	cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	for _, allowed := range []bool{false, true} {
		resp, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{
			TypeName: "obs_object_multipart", Config: &cfg,
			ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: allowed},
		})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, d := range resp.Diagnostics {
			if strings.Contains(d.Detail, testSSECKey(1)) || strings.Contains(d.Summary, testSSECKey(1)) {
				t.Errorf("a diagnostic shows the key: %s: %s", d.Summary, d.Detail)
			}
			if d.Severity == tfprotov6.DiagnosticSeverityError && d.Attribute != nil &&
				d.Attribute.Equal(tftypes.NewAttributePath().WithAttributeName("sse_c_key_wo")) &&
				strings.Contains(d.Detail, "Terraform 1.11 and later") {
				found = true
			}
		}
		if found == allowed {
			t.Errorf("write-only allowed = %v: error on sse_c_key_wo naming Terraform 1.11 = %v; diagnostics %+v", allowed, found, resp.Diagnostics)
		}
	}
}

// Through the terraform binary: the write-only key, given as an ephemeral
// variable, is in no state file, saved plan (raw bytes and every file inside
// it), `terraform show -json` or trace log. (Terraform saves the value of a
// variable that is not ephemeral in plan files, whatever the provider does.)
func TestObjectMultipart_sseCKeyWriteOnlyNeverStored(t *testing.T) {
	t.Parallel()
	cli := newTerraformCLI(t)
	srv := newSSECTestServer(t)
	root := t.TempDir()
	src, _ := acctest.WriteSource(t, root, "data.bin", 2*testPartSize+3, 33)
	work := filepath.Join(root, "work")
	logFile := filepath.Join(root, "trace.log")
	cli.setenv("TF_LOG", "TRACE")
	cli.setenv("TF_LOG_PATH", logFile)
	k1, k2 := testSSECKey(4), testSSECKey(5)
	write := func(sseKey string, version int) {
		cli.writeConfig(work, srv.cliProviderConfig()+`
variable "sse_c_key" {
  type      = string
  sensitive = true
  ephemeral = true # a plain variable's value is saved in plan files
}
`+acctest.ObjectBlock("test", obslocaltest.Bucket, "wo/data.bin", src,
			acctest.Attr("part_size", testPartSize),
			acctest.Attr("sse_c_key_wo", acctest.Expr("var.sse_c_key")),
			acctest.Attr("sse_c_key_wo_version", version)))
		cli.setenv("TF_VAR_sse_c_key", sseKey)
	}
	write(k1, 1)
	if out, code := cli.run(work, "apply", "-auto-approve", "-input=false"); code != 0 {
		t.Fatalf("apply exited %d:\n%s", code, out)
	}
	if err := checkSSECKey(srv, "wo/data.bin", k1)(nil); err != nil {
		t.Fatal(err)
	}
	write(k2, 2)
	if out, code := cli.run(work, "plan", "-input=false", "-out=tfplan"); code != 0 {
		t.Fatalf("plan exited %d:\n%s", code, out)
	}
	shown, code := cli.run(work, "show", "-json", "tfplan")
	if code != 0 || !strings.Contains(shown, `"sse_c_key_wo_version":2`) {
		t.Fatalf("show -json exited %d, or does not plan version 2:\n%s", code, shown)
	}
	if out, code := cli.run(work, "apply", "-input=false", "tfplan"); code != 0 {
		t.Fatalf("apply of the saved plan exited %d:\n%s", code, out)
	}
	if err := checkSSECKey(srv, "wo/data.bin", k2)(nil); err != nil {
		t.Fatal(err)
	}

	texts := map[string][]byte{"terraform show -json tfplan": []byte(shown)}
	for _, name := range []string{"terraform.tfstate", "terraform.tfstate.backup", "tfplan"} {
		b, err := os.ReadFile(filepath.Join(work, name))
		if err != nil {
			t.Fatal(err)
		}
		texts[name] = b
	}
	trace, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	texts["trace.log"] = trace
	zr, err := zip.NewReader(bytes.NewReader(texts["tfplan"]), int64(len(texts["tfplan"])))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		texts["tfplan:"+f.Name] = b
	}
	for name, b := range texts {
		for _, k := range []string{k1, k2} {
			raw, _ := base64.StdEncoding.DecodeString(k)
			if bytes.Contains(b, []byte(k)) || bytes.Contains(b, raw) {
				t.Errorf("%s holds an SSE-C key", name)
			}
		}
	}
	if !bytes.Contains(texts["terraform.tfstate"], []byte(`"sse_c_key_wo_version": 2`)) {
		t.Errorf("state does not record the key version:\n%s", texts["terraform.tfstate"])
	}
}
