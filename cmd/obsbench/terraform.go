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

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
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
	if err := acctest.WriteCLIConfig(cli, providerDir); err != nil {
		return nil, err
	}
	cache := filepath.Join(work, "xdg-cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	return &tf{bin: bin, env: acctest.TerraformEnv(cli, cache), cache: cache}, nil
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

// providerBlock configures the provider for the server (plain HTTP), with
// maxParts parts in flight and any further provider arguments.
func (s *server) providerBlock(maxParts int, more ...acctest.Arg) string {
	return acctest.TerraformBlock() + acctest.ProviderBlock(append([]acctest.Arg{
		acctest.Attr("endpoint", "http://127.0.0.1:"+s.port()),
		acctest.Attr("region", "local-1"),
		acctest.Attr("access_key", accessKey),
		acctest.Attr("secret_key", secretKey),
		acctest.Attr("path_style", true),
		acctest.Attr("max_concurrent_parts", maxParts),
	}, more...)...)
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
			conf := srv.providerBlock(conc) + acctest.ObjectBlock("o", bucket, key, path,
				acctest.Attr("part_size", ps), acctest.Attr("concurrency", conc))
			if err := acctest.WriteConfig(dir, conf); err != nil {
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
