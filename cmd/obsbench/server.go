//go:build linux

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
)

const (
	accessKey = "BENCHAK0123456789"
	secretKey = "bench-secret-key"
	bucket    = "bench"
	domain    = "obs.local"
)

// server is cmd/obslocal running as a separate process, so that the client's
// CPU time (getrusage of this process) excludes the server's.
type server struct {
	cmd    *exec.Cmd
	addr   string // 127.0.0.1:PORT
	scheme string // "http", or "https" with a self-signed certificate
	// caFile and caPEM are the CA of the server's certificate (https).
	caFile      string
	caPEM       []byte
	adminClient *http.Client // for the admin endpoint, trusting the CA
}

// startServer starts obslocal storing its data in dataDir. With tlsDir set
// it serves HTTPS with a certificate of a new CA, which it writes to
// tlsDir/ca.pem before it reports its address.
func startServer(bin, dataDir, tlsDir string) (*server, error) {
	args := []string{"-listen", "127.0.0.1:0", "-data", dataDir,
		"-access-key", accessKey, "-secret-key", secretKey, "-bucket", bucket, "-domain", domain}
	if tlsDir != "" {
		args = append(args, "-tls-self-signed", tlsDir)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	want := "http"
	if tlsDir != "" {
		want = "https"
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() { // drain
		}
	}()
	select {
	case l, ok := <-line:
		u, found := strings.CutPrefix(l, "obslocal listening on ")
		if ok && found {
			s.scheme, s.addr, found = strings.Cut(u, "://")
		}
		if !ok || !found || s.scheme != want {
			s.stop()
			return nil, fmt.Errorf("obslocal did not report its address (got %q)", l)
		}
	case <-time.After(15 * time.Second):
		s.stop()
		return nil, fmt.Errorf("obslocal did not start within 15s")
	}
	s.adminClient = http.DefaultClient
	if tlsDir != "" {
		s.caFile = filepath.Join(tlsDir, obslocal.CAFile)
		if s.caPEM, err = os.ReadFile(s.caFile); err != nil {
			s.stop()
			return nil, err
		}
		s.adminClient = &http.Client{Transport: &http.Transport{TLSClientConfig: s.tlsConfig()}}
	}
	return s, nil
}

// tlsConfig is a client configuration trusting the server's CA; nil over
// plain HTTP.
func (s *server) tlsConfig() *tls.Config {
	if s.caPEM == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.caPEM)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.addr)
	return p
}

// dial sends every connection to the server, so clients can use the
// virtual-hosted name BUCKET.obs.local and sign with the native OBS signature.
func (s *server) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, s.addr)
}

// cpu returns the server process's user+system CPU time.
func (s *server) cpu() time.Duration { return procCPU(s.cmd.Process.Pid) }

func (s *server) stats() (obslocal.Stats, error) {
	var st obslocal.Stats
	resp, err := s.adminClient.Get(s.scheme + "://" + s.addr + "/__obslocal/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("stats: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (s *server) partBytes() (int64, error) {
	st, err := s.stats()
	return st.Ops[obslocal.OpUploadPart].BodyBytes, err
}

// throttleParts makes the server read every UploadPart body at no more than
// bps bytes per second, as a network link would.
func (s *server) throttleParts(bps int64) error {
	body := fmt.Sprintf(`{"Op":%q,"Times":-1,"BytesPerSecond":%d}`, obslocal.OpUploadPart, bps)
	return s.admin(http.MethodPost, "/__obslocal/faults", body)
}

func (s *server) clearFaults() error { return s.admin(http.MethodDelete, "/__obslocal/faults", "") }

func (s *server) admin(method, path, body string) error {
	req, err := http.NewRequest(method, s.scheme+"://"+s.addr+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := s.adminClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return nil
}

func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// clockTick is USER_HZ, 100 on every Linux architecture Go supports.
const clockTick = 100

// procCPU reads utime+stime of a process from /proc/PID/stat (0 on error).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := statFields(string(b))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * time.Second / clockTick
}

// statFields returns the fields of /proc/PID/stat after "(comm)", so that
// index 0 is the state, 1 the parent PID, 11 utime and 12 stime.
func statFields(s string) []string {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// procComm returns the command name and parent PID of a process.
func procComm(pid int) (string, int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return "", 0
	}
	f := statFields(s)
	if len(f) < 2 {
		return "", 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return s[i+1 : j], ppid
}

// vmHWM returns the peak resident set size of a process in bytes (0 once it
// has exited).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A target is a server that a comparison's methods upload to.
type target struct {
	name string // for the report
	// endpoint and region are what the peers sign for (SigV4, path style).
	endpoint, region string
	// cl checks and deletes each uploaded object.
	cl  obs.Client
	cpu func() time.Duration // the server process's CPU time
	// caFile is the CA the peers trust besides the system roots (https).
	caFile string
	// minioUnsigned: minio-go must sign UNSIGNED-PAYLOAD, the server
	// rejecting its default streaming SigV4 chunks. awsWhenRequired: the
	// aws manager must send no checksum it is not required to, the server
	// rejecting the aws-chunked bodies it sends trailing CRC32s in over
	// HTTPS.
	minioUnsigned, awsWhenRequired bool
}

// scheme is the URL scheme of the target's endpoint, for the report.
func (tg *target) scheme() string {
	scheme, _, _ := strings.Cut(tg.endpoint, "://")
	return strings.ToUpper(scheme)
}

// target is obslocal as the peers reach it: path style on its loopback
// address; obslocal checks no SigV4 region unless told one.
func (s *server) target(cl obs.Client) *target {
	return &target{name: "obslocal", endpoint: s.scheme + "://" + s.addr, region: gatewayRegion, cl: cl, cpu: s.cpu,
		caFile: s.caFile, minioUnsigned: true, awsWhenRequired: s.scheme == "https"}
}

// selfReadBytes is rchar of /proc/self/io: the bytes this process has read
// through read(2) and pread(2); -1 when unknown.
func selfReadBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}
