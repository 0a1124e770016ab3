//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// gatewayRegion is the region versitygw is started with (SigV4 scope).
const gatewayRegion = "us-east-1"

// gateway is versitygw (an independent S3 server, posix backend on disk)
// running as a separate process on loopback: the server the peers are
// measured against with their default settings, which obslocal does not
// all accept (minio-go signs streaming SigV4 chunks over plain HTTP).
type gateway struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{} // closed once the process has exited
}

func startGateway(bin, dataDir string) (*gateway, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--access", accessKey, "--secret", secretKey, "--region", gatewayRegion,
		"--port", addr, "--quiet", "posix", dataDir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &gateway{cmd: cmd, addr: addr, exited: make(chan struct{})}
	var werr error
	go func() { werr = cmd.Wait(); close(g.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return g, nil
		}
		select {
		case <-g.exited:
			return nil, fmt.Errorf("versitygw exited: %w", werr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			g.stop()
			return nil, fmt.Errorf("versitygw not accepting connections on %s after 15s: %w", addr, err)
		}
	}
}

func (g *gateway) endpoint() string { return "http://" + g.addr }

func (g *gateway) cpu() time.Duration { return procCPU(g.cmd.Process.Pid) }

func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(15 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// newGatewayClient is our OBS client layer as the provider configures it
// for an S3-compatible server: SigV4 (unsigned payload, Content-MD5 per
// part) over path-style addressing.
func newGatewayClient(g *gateway, conns int) (obs.Client, error) {
	return obs.New(obs.Config{
		Endpoint: g.endpoint(), Region: gatewayRegion, AccessKey: accessKey, SecretKey: secretKey,
		Signature: obs.SignatureV4, PathStyle: true, MaxConns: conns, MaxRetries: 1,
	})
}
