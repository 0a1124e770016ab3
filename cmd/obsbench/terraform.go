//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tf runs terraform with the built provider through dev_overrides, with its
// own CLI configuration and hash-cache directory.
type tf struct {
	bin   string
	env   []string
	cache string // XDG_CACHE_HOME of the provider (its hash cache)
}

func newTF(bin, providerDir, work string) (*tf, error) {
	cli := filepath.Join(work, "terraformrc")
	conf := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/obsprovider/obs" = %q
  }
  direct {}
}
`, providerDir)
	if err := os.WriteFile(cli, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cache := filepath.Join(work, "xdg-cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "XDG_CACHE_HOME="+cache,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_LOG=")
	return &tf{bin: bin, env: env, cache: cache}, nil
}

type tfRun struct {
	wall     time.Duration
	cpu      time.Duration // terraform's CPU time and that of the provider processes it waited for
	peakRSS  int64         // largest VmHWM of any provider process (bytes)
	exitCode int
}

// run runs terraform in dir. With sample set, it polls the VmHWM of every
// provider process terraform starts.
func (t *tf) run(dir string, sample bool, args ...string) (tfRun, error) {
	var res tfRun
	cmd := exec.Command(t.bin, args...)
	cmd.Dir, cmd.Env = dir, t.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if sample {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				for _, pid := range providerChildren(cmd.Process.Pid) {
					res.peakRSS = max(res.peakRSS, vmHWM(pid))
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
	}
	err := cmd.Wait()
	res.wall = time.Since(t0)
	if cmd.ProcessState != nil {
		// wait4 reports the child's usage with that of the children it
		// waited for: terraform waits for its provider processes.
		res.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	close(stop)
	wg.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.exitCode = ee.ExitCode()
		err = nil
	}
	if err != nil {
		return res, err
	}
	if res.exitCode != 0 && !(res.exitCode == 2 && len(args) > 0 && args[0] == "plan") {
		return res, fmt.Errorf("terraform %s in %s exited %d:\n%s", strings.Join(args, " "), dir, res.exitCode, lastLines(out.String(), 30))
	}
	return res, nil
}

// providerChildren lists the children of pid whose command name starts with
// terraform-provider-obs (truncated by the kernel to 15 characters).
func providerChildren(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, ppid := procComm(p); ppid == pid && strings.HasPrefix("terraform-provider-obs", comm) && strings.HasPrefix(comm, "terraform-prov") {
			pids = append(pids, p)
		}
	}
	return pids
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func (s *server) providerBlock(maxParts int) string {
	return fmt.Sprintf(`terraform {
  required_providers {
    obs = { source = "obsprovider/obs" }
  }
}

provider "obs" {
  endpoint             = "http://127.0.0.1:%s"
  region               = "local-1"
  access_key           = %q
  secret_key           = %q
  path_style           = true
  max_concurrent_parts = %d
}
`, s.port(), accessKey, secretKey, maxParts)
}

// writeWorkdir writes main.tf into a new directory.
func writeWorkdir(dir, conf string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "main.tf"), []byte(conf), 0o644)
}

// forgetHashes empties the provider's hash cache, so that the next plan
// hashes its sources again.
func (t *tf) forgetHashes() error {
	return os.RemoveAll(filepath.Join(t.cache, "terraform-provider-obs", "sha256"))
}

// terraformMethod is a whole `terraform apply` of one new resource: plan
// (which hashes the file: SHA-256 and part MD5s, the hash cache emptied
// first), refresh-free create through the built provider, state written.
// Its sample is terraform's wall time and the CPU time of terraform and the
// provider processes together.
func terraformMethod(t *tf, srv *server, work string) method {
	return method{key: mTerraform, name: "terraform apply of one new resource (plan hashing included)",
		run: func(_ context.Context, path, key string, _, ps int64, conc int) (sample, error) {
			dir := filepath.Join(work, "e2e", strings.ReplaceAll(key, "/", "-"))
			conf := srv.providerBlock(conc) + fmt.Sprintf(`
resource "obs_object_multipart" "o" {
  bucket      = %q
  key         = %q
  source      = %q
  part_size   = %d
  concurrency = %d
}
`, bucket, key, path, ps, conc)
			if err := writeWorkdir(dir, conf); err != nil {
				return sample{}, err
			}
			if err := t.forgetHashes(); err != nil {
				return sample{}, err
			}
			res, err := t.run(dir, false, "apply", "-auto-approve", "-input=false", "-no-color")
			if err != nil {
				return sample{}, err
			}
			return sample{wall: res.wall, clientCPU: res.cpu, clientRead: -1}, nil
		}}
}
