package provider

import (
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// terraformCLI runs the real terraform binary with the provider built from
// this module, through a CLI configuration of its own whose dev_overrides
// point at it (no terraform init), and a provider cache directory of its own.
type terraformCLI struct {
	t   *testing.T
	tf  string
	env []string
}

// newTerraformCLI builds the provider (with the caller's go build cache)
// and writes its CLI configuration.
func newTerraformCLI(t *testing.T) *terraformCLI {
	t.Helper()
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform not on PATH (make test installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := acctest.BuildProvider(t.Context(), filepath.Join("..", ".."), bin); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(dir, "terraformrc")
	if err := acctest.WriteCLIConfig(cliConfig, bin); err != nil {
		t.Fatal(err)
	}
	return &terraformCLI{t: t, tf: tf, env: acctest.TerraformEnv(cliConfig, filepath.Join(dir, "cache"))}
}

// setenv sets the environment variable name to value for the commands
// that follow, replacing an earlier value.
func (c *terraformCLI) setenv(name, value string) {
	c.env = append(slices.DeleteFunc(c.env, func(kv string) bool { return strings.HasPrefix(kv, name+"=") }), name+"="+value)
}

// command is terraform args in dir, not started.
func (c *terraformCLI) command(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(c.tf, args...)
	cmd.Dir = dir
	cmd.Env = slices.Clone(c.env)
	return cmd
}

// run runs terraform args[0] -no-color args[1:] in dir and returns its
// output (stdout and stderr) and exit code.
func (c *terraformCLI) run(dir string, args ...string) (string, int) {
	c.t.Helper()
	out, err := c.command(dir, append([]string{args[0], "-no-color"}, args[1:]...)...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	default:
		c.t.Fatalf("terraform %v: %v", args, err)
		return "", -1
	}
}

// writeConfig writes hcl to dir/main.tf.
func (c *terraformCLI) writeConfig(dir, hcl string) {
	c.t.Helper()
	if err := acctest.WriteConfig(dir, hcl); err != nil {
		c.t.Fatal(err)
	}
}

// cliProviderConfig is the terraform block and the provider block for the
// local server as the built provider reaches it: by address (it has no
// dialer of the tests'), so requests go path-style.
func (s *testServer) cliProviderConfig() string {
	return acctest.TerraformBlock() + acctest.ProviderBlock(append(s.providerArgs(s.URL()), acctest.Attr("path_style", true))...)
}
