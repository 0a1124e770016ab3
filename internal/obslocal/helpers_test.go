package obslocal_test

import (
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

const minPart = 100 * 1024

// loopbackTransport sends every connection to the server, whatever the host
// name (so "bucket.obs.local:PORT" works without DNS), trusting the CA of a
// self-signed server.
func loopbackTransport(s *obslocal.Server) *http.Transport {
	tr := &http.Transport{DialContext: obslocaltest.DialContext(s.Addr()), MaxIdleConnsPerHost: 16}
	if c := s.SelfSignedCert(); c != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: c.CertPool()}
	}
	return tr
}

type sdkMode string

const (
	sdkOBS sdkMode = "obs-vhost"
	sdkV2  sdkMode = "v2-path"
	sdkV4  sdkMode = "v4-vhost"
)

func sdkClient(t testing.TB, s *obslocal.Server, mode sdkMode, ak, sk, token string) *obs.ObsClient {
	t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr())
	scheme, _, _ := strings.Cut(s.URL(), "://")
	host := scheme + "://obs.local:" + port
	tr := loopbackTransport(s)
	var c *obs.ObsClient
	var err error
	switch mode {
	case sdkOBS:
		c, err = obs.New(ak, sk, host, obs.WithHttpTransport(tr), obs.WithMaxRetryCount(0),
			obs.WithSecurityToken(token), obs.WithSignature(obs.SignatureObs))
	case sdkV2:
		c, err = obs.New(ak, sk, s.URL(), obs.WithHttpTransport(tr), obs.WithMaxRetryCount(0),
			obs.WithSecurityToken(token), obs.WithSignature(obs.SignatureV2), obs.WithPathStyle(true))
	case sdkV4:
		c, err = obs.New(ak, sk, host, obs.WithHttpTransport(tr), obs.WithMaxRetryCount(0),
			obs.WithSecurityToken(token), obs.WithSignature(obs.SignatureV4), obs.WithRegion("region-1"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// amzDate is the per-call x-amz-date the SDK needs for SigV4 (it signs
// without one otherwise); the OBS and V2 signers drop it.
func amzDate() any {
	return obs.WithCustomHeader("x-amz-date", time.Now().UTC().Format("20060102T150405Z"))
}

func partBody(n int, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(n*31 + i*7)
	}
	return b
}

func md5b64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func obsErr(t testing.TB, err error) obs.ObsError {
	t.Helper()
	var oe obs.ObsError
	if !errors.As(err, &oe) {
		t.Fatalf("want obs.ObsError, got %T %v", err, err)
	}
	return oe
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func multipartETag(parts [][]byte) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts)) + `"`
}
