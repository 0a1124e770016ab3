// Command obslocal runs the local OBS-compatible server for humans and the
// demo:
//
//	go run ./cmd/obslocal -listen 127.0.0.1:9000 -data DIR -access-key AK -secret-key SK [-security-token T] [-bucket NAME]...
//	    [-tls-cert FILE -tls-key FILE | -tls-self-signed DIR]
//
// It prints exactly one line, "obslocal listening on http://ADDR" (https://
// with TLS), to stdout when ready, and stops gracefully on SIGINT or
// SIGTERM. With -tls-self-signed, DIR/ca.pem (the CA to trust), cert.pem and
// key.pem are written before that line. Faults, counters and the accepted
// security token are driven through the loopback-only admin endpoint:
//
//	curl -X POST   http://ADDR/__obslocal/faults -d '{"Op":"UploadPart","After":2,"Status":503,"Code":"SlowDown"}'
//	curl -X DELETE http://ADDR/__obslocal/faults
//	curl           http://ADDR/__obslocal/stats
//	curl -X POST   http://ADDR/__obslocal/stats/reset
//	curl -X POST   http://ADDR/__obslocal/security-token -d '{"AccessKey":"AK","SecurityToken":"T2"}'
//	curl -X POST   http://ADDR/__obslocal/sparse-object -d '{"Bucket":"b","Key":"big","Size":6442450944,"PartSize":67108864}'
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var (
		listen  = flag.String("listen", "127.0.0.1:9000", "address to listen on")
		data    = flag.String("data", "", "data directory (kept across restarts); empty: a temporary directory removed on exit")
		ak      = flag.String("access-key", "", "access key to accept (required)")
		sk      = flag.String("secret-key", "", "secret key of -access-key (required)")
		token   = flag.String("security-token", "", "security token: makes the key temporary, every request must carry it")
		domain  = flag.String("domain", "obs.local", "virtual-host base domain: Host BUCKET.DOMAIN:PORT addresses BUCKET")
		region  = flag.String("region", "", "region required in SigV4 credential scopes (empty: any)")
		minPart = flag.Int64("min-part-size", 100*1024, "minimum size of every part but the last (OBS 3.0: 100 KiB; OBS 2.0: 5 MiB)")
		verbose = flag.Bool("v", false, "log every request to stderr")
		tlsCert = flag.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain); needs -tls-key")
		tlsKey  = flag.String("tls-key", "", "PEM private key of -tls-cert")
		selfDir = flag.String("tls-self-signed", "", "serve HTTPS with a new CA and certificate for 127.0.0.1, localhost, -domain and *.-domain, written to DIR/ca.pem, cert.pem, key.pem")
		buckets multiFlag
	)
	flag.Var(&buckets, "bucket", "bucket to create at start if missing (repeatable)")
	flag.Parse()
	if *ak == "" || *sk == "" {
		fmt.Fprintln(os.Stderr, "obslocal: -access-key and -secret-key are required")
		flag.Usage()
		os.Exit(2)
	}
	if (*tlsCert == "") != (*tlsKey == "") || (*tlsCert != "" && *selfDir != "") {
		fmt.Fprintln(os.Stderr, "obslocal: -tls-cert and -tls-key go together, and exclude -tls-self-signed")
		flag.Usage()
		os.Exit(2)
	}
	cfg := obslocal.Config{
		Addr:        *listen,
		DataDir:     *data,
		Credentials: []obslocal.Credential{{AccessKey: *ak, SecretKey: *sk, SecurityToken: *token}},
		Buckets:     buckets,
		Domain:      *domain,
		Region:      *region,
		MinPartSize: *minPart,
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	if *verbose {
		cfg.Logf = logger.Printf
	}
	if *tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			logger.Fatalf("obslocal: loading -tls-cert/-tls-key: %v", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	cfg.SelfSignedTLS = *selfDir != ""
	srv, err := obslocal.Start(cfg)
	if err != nil {
		logger.Fatal(err)
	}
	if cfg.SelfSignedTLS {
		if err := srv.SelfSignedCert().WriteFiles(*selfDir); err != nil {
			_ = srv.Close()
			logger.Fatalf("obslocal: writing the certificates: %v", err)
		}
	}
	fmt.Printf("obslocal listening on %s\n", srv.URL())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	stop()
	shCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shCtx); err != nil {
		logger.Printf("obslocal: shutdown: %v", err)
	}
}
