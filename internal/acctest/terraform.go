package acctest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ProviderAddress is the provider's source address (main.go).
const ProviderAddress = "registry.terraform.io/obsprovider/obs"

// BuildProvider builds the provider of the module in moduleDir into
// binDir/terraform-provider-obs. The go command runs with the caller's
// XDG_CACHE_HOME, not the one Main sets, so that it finds its build cache
// (os.UserCacheDir()/go-build by default) instead of compiling everything.
func BuildProvider(ctx context.Context, moduleDir, binDir string) error {
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, "terraform-provider-obs"), ".")
	build.Dir = moduleDir
	if callerCacheHome != nil {
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
				build.Env = append(build.Env, kv)
			}
		}
		build.Env = append(build.Env, callerCacheHome...)
	}
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the provider in %s: %w\n%s", moduleDir, err, out)
	}
	return nil
}

// WriteCLIConfig writes a terraform CLI configuration to path whose
// dev_overrides point terraform at the provider binary in binDir, so that no
// terraform init is needed.
func WriteCLIConfig(path, binDir string) error {
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    %s = %s
  }
  direct {}
}
`, Quote(ProviderAddress), Quote(binDir))
	return os.WriteFile(path, []byte(cfg), 0o644)
}

// TerraformEnv is the environment of a terraform command run with the CLI
// configuration cliConfig: this process's, without any TF_ or HW_ variable
// (the caller's credentials, logging or CLI configuration) or
// XDG_CACHE_HOME, plus non-interactive settings and cacheDir as the
// provider's cache directory.
func TerraformEnv(cliConfig, cacheDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_") || strings.HasPrefix(kv, "HW_") || strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"XDG_CACHE_HOME="+cacheDir,
	)
}

// WriteConfig writes hcl to dir/main.tf, creating dir if needed.
func WriteConfig(dir, hcl string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "main.tf"), []byte(hcl), 0o644)
}
