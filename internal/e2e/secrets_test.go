package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// secretVariants returns the forms in which a secret could leak.
func secretVariants(name, s string) map[string]string {
	b := []byte(s)
	return map[string]string{
		name:               s,
		name + " (base64)": base64.StdEncoding.EncodeToString(b),
		name + " (b64url)": base64.RawURLEncoding.EncodeToString(b),
		name + " (hex)":    hex.EncodeToString(b),
		name + " (HEX)":    strings.ToUpper(hex.EncodeToString(b)),
	}
}

// With TF_LOG=TRACE, through a plan, a failed apply, a resumed apply and a
// destroy, neither the secret key, the security token nor the SSE-C key
// appears in the log, the output or a diagnostic. The server speaks HTTPS:
// SSE-C is refused over plain HTTP.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const token = "e2e-security-token-Zk9QcWx0TmVWZXJMZWFr"
	sseKey := acctest.PseudoRandom(32, 424242)
	sseKeyB64 := base64.StdEncoding.EncodeToString(sseKey)
	row := record(t, "secrets with TF_LOG=TRACE (secret key, security token, SSE-C key)",
		"none of them, nor their base64/hex forms, appears in the TRACE log, plan/apply/destroy output or diagnostics")
	e := newHTTPSEnv(t, obslocaltest.WithSecurityToken(token))
	logPath := filepath.Join(t.TempDir(), "terraform.log")
	e.tfEnv = append(e.tfEnv, "TF_LOG=TRACE", "TF_LOG_PATH="+logPath)
	key := "secrets/data.bin"
	src, sum := e.writeSource("data.bin", faultSize, 9)
	e.writeConfig(e.providerBlock(acctest.Attr("security_token", token)) +
		objectBlock("o", key, src, faultPartSize, 2, acctest.Attr("sse_c_key", sseKeyB64)))

	var outputs []tfResult
	r := e.run("plan", "-input=false", "-no-color")
	if r.exitCode != 0 {
		t.Fatalf("plan failed: %s", r)
	}
	outputs = append(outputs, r)
	// A failing apply puts the upload, its error and its diagnostics in the log.
	// (At initiation: a failed SSE-C upload is left open, see TestSSECFailedCreate.)
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpInitiateMultipartUpload, Status: 403, Code: "AccessDenied", Times: -1})
	outputs = append(outputs, e.applyFails())
	e.srv.ClearFaults()
	outputs = append(outputs, e.apply())
	e.expectObject(key, sum)
	e.expectNoOpenUploads()
	r = e.run("destroy", "-auto-approve", "-input=false", "-no-color")
	if r.exitCode != 0 {
		t.Fatalf("destroy failed: %s", r)
	}
	outputs = append(outputs, r)
	e.expectNoObject(key)
	e.expectNoOpenUploads()

	logData, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(logData) < 10000 || !strings.Contains(string(logData), "[TRACE]") {
		t.Fatalf("the TRACE log has %d bytes: logging did not work, so the search proves nothing", len(logData))
	}
	// The provider's own records (its upload log line, the source path) are
	// in the log, so a leak through them would be found.
	if !strings.Contains(string(logData), "uploaded OBS object") || !strings.Contains(string(logData), src) {
		t.Fatalf("the provider's own log lines are not in the TRACE log: the search is not looking at provider logs")
	}
	haystacks := map[string]string{"TRACE log": string(logData)}
	for _, r := range outputs {
		haystacks["terraform "+strings.Join(r.args, " ")+" output"] = r.output
	}
	needles := map[string]string{}
	for _, v := range []map[string]string{
		secretVariants("secret key", obslocaltest.SecretKey),
		secretVariants("security token", token),
		secretVariants("SSE-C key", string(sseKey)),
	} {
		for k, s := range v {
			needles[k] = s
		}
	}
	needles["SSE-C key (as configured)"] = sseKeyB64
	var leaks []string
	for where, text := range haystacks {
		for what, s := range needles {
			if strings.Contains(text, s) {
				leaks = append(leaks, what+" in "+where)
			}
		}
	}
	row.observe("searched %d KiB of TRACE log and %d command outputs for %d secret forms: %d found", len(logData)/1024, len(outputs), len(needles), len(leaks))
	if len(leaks) > 0 {
		t.Fatalf("secrets leaked: %s", strings.Join(leaks, "; "))
	}
}

// A failed SSE-C create: its parts cannot be proven ours (with SSE-C a part's
// ETag is not its MD5), so the next apply starts a new upload — and must not
// leave the first one open.
func TestSSECFailedCreate(t *testing.T) {
	t.Parallel()
	row := record(t, "failed create of an SSE-C object, then apply again",
		"the next apply uploads the object (parts of an SSE-C upload cannot be proven ours by MD5) and leaves no upload open")
	e := newHTTPSEnv(t) // SSE-C needs HTTPS
	key := "secrets/ssec.bin"
	src, sum := e.writeSource("data.bin", faultSize, 10)
	e.writeConfig(e.providerBlock() + objectBlock("o", key, src, faultPartSize, 1,
		acctest.Attr("sse_c_key", base64.StdEncoding.EncodeToString(acctest.PseudoRandom(32, 7)))))
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 4, Status: 403, Code: "AccessDenied", Times: -1})
	e.applyFails()
	e.srv.ClearFaults()
	r := e.apply()
	e.expectObject(key, sum)
	open := e.srv.OpenUploads(testBucket)
	row.observe("the next apply stored the object and left %d upload(s) open", len(open))
	if len(open) != 0 {
		t.Fatalf("after a failed create with sse_c_key and a successful retry, %d upload(s) are still open: %+v\n%s", len(open), open, r)
	}
}
