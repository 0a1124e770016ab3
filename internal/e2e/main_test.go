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

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

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
		if err := writeDocs(resilienceDoc, code); err != nil {
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
	if err := acctest.BuildProvider(ctx, moduleDir, binDir); err != nil {
		return err
	}
	cliConfigFile = filepath.Join(tmp, "terraformrc")
	if err := acctest.WriteCLIConfig(cliConfigFile, binDir); err != nil {
		return err
	}
	out, err := exec.Command("terraform", "version").Output()
	if err != nil {
		return fmt.Errorf("terraform version: %w", err)
	}
	terraformVersion = strings.TrimSpace(string(bytes.SplitN(out, []byte("\n"), 2)[0]))
	return nil
}
