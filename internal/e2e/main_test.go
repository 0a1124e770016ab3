package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// providerAddress is the provider's source address (main.go).
const providerAddress = "registry.terraform.io/obsprovider/obs"

// Set up once by TestMain.
var (
	cliConfigFile    string // TF_CLI_CONFIG_FILE with dev_overrides
	terraformVersion string
	setupSkip        string // reason every test skips (no terraform on PATH)
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "obs-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	if _, err := exec.LookPath("terraform"); err != nil {
		setupSkip = "terraform is not on PATH (make terraform installs it)"
	} else if err := setup(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		return 1
	}
	code := m.Run()
	if os.Getenv("E2E_WRITE_DOCS") == "1" && setupSkip == "" {
		if err := writeDocs(code); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: writing docs:", err)
			return 1
		}
	}
	return code
}

// setup builds the provider binary into tmp/bin and writes a CLI
// configuration whose dev_overrides point terraform at it, so no
// `terraform init` is needed.
func setup(tmp string) error {
	moduleDir := os.Getenv("E2E_PROVIDER_DIR")
	if moduleDir == "" {
		moduleDir = filepath.Join("..", "..")
	}
	moduleDir, err := filepath.Abs(moduleDir)
	if err != nil {
		return err
	}
	binDir := filepath.Join(tmp, "bin")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, "terraform-provider-obs"), ".")
	build.Dir = moduleDir
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the provider in %s: %w\n%s", moduleDir, err, out)
	}
	cliConfigFile = filepath.Join(tmp, "terraformrc")
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    %q = %q
  }
  direct {}
}
`, providerAddress, binDir)
	if err := os.WriteFile(cliConfigFile, []byte(cfg), 0o644); err != nil {
		return err
	}
	out, err := exec.Command("terraform", "version").Output()
	if err != nil {
		return fmt.Errorf("terraform version: %w", err)
	}
	terraformVersion = strings.TrimSpace(string(bytes.SplitN(out, []byte("\n"), 2)[0]))
	return nil
}
