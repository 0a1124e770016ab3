//go:build linux

package e2e

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// Terraform is killed alone (OOM, a runner that kills only its child) while
// the provider has nothing to do: the provider notices that Terraform is
// gone and exits instead of idling forever.
func TestProviderExitsWhenTerraformDies(t *testing.T) {
	t.Parallel()
	row := record(t, "SIGKILL to terraform alone while the provider is idle",
		"the orphaned provider exits within a few seconds instead of running forever")
	e := newEnv(t)
	key := "orphan/data.bin"
	src, _ := e.writeSource("data.bin", 3*faultPartSize, 11)
	// The provider stays open, idle, while the provisioner runs: a second
	// object waits for it.
	e.writeConfig(e.providerBlock() + objectBlock("o", key, src, faultPartSize, 2) + `
resource "terraform_data" "wait" {
  depends_on = [obs_object_multipart.o]
  provisioner "local-exec" {
    command = "sleep 120"
  }
}
` + objectBlock("after", key+".after", src, faultPartSize, 2, acctest.Raw("depends_on = [terraform_data.wait]")))
	p := e.start(applyArgs()...)
	t.Cleanup(func() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }) // the sleep
	waitFor(t, "the provisioner to run after the upload", runTimeout, func() bool {
		return strings.Contains(p.out.String(), "terraform_data.wait: Provisioning with 'local-exec'")
	})
	provs := providerPIDs(p.cmd.Process.Pid)
	if len(provs) == 0 {
		t.Fatalf("no provider process under terraform:\n%s", p.out.String())
	}
	p.signal(t, syscall.SIGKILL, false)
	p.wait(t)
	killed := time.Now()
	alive := func() bool {
		for _, pid := range provs {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				return true
			}
		}
		return false
	}
	for alive() {
		if time.Since(killed) > 10*time.Second {
			t.Fatalf("provider process(es) %v still run %s after terraform was killed", provs, time.Since(killed).Round(time.Second))
		}
		time.Sleep(10 * time.Millisecond)
	}
	row.observe("the provider exited %d ms after terraform was killed", time.Since(killed).Milliseconds())
}
