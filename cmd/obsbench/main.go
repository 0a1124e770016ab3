//go:build linux

// Command obsbench measures the provider side by side with its limit and its
// alternatives against the local OBS server (cmd/obslocal, started as a
// separate process on loopback), prints one table and writes
// docs/benchmarks.md. It is run by `make bench` (scripts/bench.sh), which
// builds the binaries it needs:
//
//	obsbench -obslocal BIN -provider-dir DIR -provider-test BIN -peers BIN [-versitygw BIN] -terraform BIN -out docs/benchmarks.md
//
// Sizes and repetitions come from the environment (BENCH_SIZE, BENCH_HASH_SIZE,
// BENCH_RUNS, BENCH_CONCURRENCY, BENCH_PART_SIZES, BENCH_PLAN_RESOURCES,
// BENCH_PLAN_FILE_SIZE, BENCH_ROWS); see scripts/bench.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

type config struct {
	obslocal, providerDir, providerTest, terraform, out, command string
	peers, versitygw                                             string

	size, hashSize, planFileSize int64 // bytes
	runs, conc, memConc, planN   int
	partSizes                    []int64
	memPartSizes                 []int64
	resumePartSize               int64
	rows                         map[int]bool // rows of the table to measure (BENCH_ROWS)
	netBPS                       int64        // per-connection limit of the network-bound run (BENCH_NET_MBPS)
	netPartSize                  int64        // part size of the network-bound, versitygw and end-to-end comparisons
}

// measures reports whether row n of the table is to be measured.
func (c config) measures(n int) bool { return c.rows[n] }

func main() {
	log.SetFlags(0)
	log.SetPrefix("obsbench: ")
	var c config
	flag.StringVar(&c.obslocal, "obslocal", "", "cmd/obslocal binary (required)")
	flag.StringVar(&c.providerDir, "provider-dir", "", "directory holding the terraform-provider-obs binary (required)")
	flag.StringVar(&c.providerTest, "provider-test", "", "test binary of internal/provider (go test -c; required)")
	flag.StringVar(&c.terraform, "terraform", "terraform", "terraform binary")
	flag.StringVar(&c.peers, "peers", "", "the peers binary (cmd/obsbench/peers, its own module; required for rows 1 and 6)")
	flag.StringVar(&c.versitygw, "versitygw", "", "versitygw binary (empty: no versitygw comparison)")
	flag.StringVar(&c.out, "out", "", "markdown report to write (empty: none)")
	flag.StringVar(&c.command, "command", "make bench", "the command line recorded in the report")
	flag.Parse()
	if c.obslocal == "" || c.providerDir == "" || c.providerTest == "" {
		flag.Usage()
		os.Exit(2)
	}
	var err error
	c.size = envSize("BENCH_SIZE", 1*gib)
	c.hashSize = envSize("BENCH_HASH_SIZE", 2*gib)
	c.planFileSize = envSize("BENCH_PLAN_FILE_SIZE", 64*mib)
	c.runs = envInt("BENCH_RUNS", 3)
	c.conc = envInt("BENCH_CONCURRENCY", 4)
	c.memConc = 8
	c.planN = envInt("BENCH_PLAN_RESOURCES", 100)
	if c.partSizes, err = sizeList(envStr("BENCH_PART_SIZES", "9MiB,16MiB,64MiB")); err != nil {
		log.Fatal(err)
	}
	c.memPartSizes = []int64{64 * mib, 9 * mib}
	c.resumePartSize = 9 * mib
	c.netBPS = int64(envInt("BENCH_NET_MBPS", 50)) * 1e6
	c.netPartSize = 16 * mib
	if c.rows, err = rowSet(envStr("BENCH_ROWS", "1,2,3,4,5,6,7")); err != nil {
		log.Fatal(err)
	}
	if c.peers == "" && (c.measures(1) || c.measures(6)) {
		log.Fatal("-peers is required for rows 1 and 6")
	}

	rep, err := run(c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(rep.table())
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(rep.markdown()), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", c.out)
	}
}

func run(c config) (*report, error) {
	start := time.Now()
	work, err := os.MkdirTemp("", "obsbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	rep := &report{cfg: c, started: start.UTC(), loadStart: readTrim("/proc/loadavg")}

	progress("writing source files")
	upSrc := filepath.Join(work, "upload.bin")
	hashSrc := filepath.Join(work, "hash.bin")
	if _, err := acctest.WriteRandomFile(upSrc, c.size, 1); err != nil {
		return nil, err
	}
	if c.measures(2) || c.measures(3) {
		if _, err := acctest.WriteRandomFile(hashSrc, c.hashSize, 2); err != nil {
			return nil, err
		}
		if err := syncFile(hashSrc); err != nil {
			return nil, err
		}
	}
	if err := syncFile(upSrc); err != nil {
		return nil, err
	}
	data, where, err := serverDataRoot(work)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(data)
	rep.serverData = where

	srv, err := startServer(c.obslocal, filepath.Join(data, "obslocal"), "")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	cl, err := newClient(srv, 2*c.memConc)
	if err != nil {
		return nil, err
	}
	local, ms, err := obslocalMethods(c, srv, cl)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	var t *tf
	if c.measures(3) || c.measures(5) || c.measures(6) || c.measures(7) {
		if t, err = newTF(c.terraform, c.providerDir, work); err != nil {
			return nil, err
		}
		rep.terraformVersion = commandOutput(c.terraform, "version")
	}
	e2e := []method{terraformMethod(t, srv, work), peerMethod(c.peers, local, mAWS, true), peerMethod(c.peers, local, mMinio, true)}

	// 1. Upload throughput, methods interleaved and rotated each run: first
	// on the bare loopback (CPU-bound), then with every connection throttled
	// by the server (network-bound). 6. The whole terraform apply against
	// the peers as whole processes, in both conditions.
	for _, ps := range c.partSizes {
		if !c.measures(1) {
			break
		}
		tp, err := compare(ctx, local, ms, c, upSrc, ps, 0)
		if err != nil {
			return nil, err
		}
		rep.throughput = append(rep.throughput, tp)
	}
	if c.measures(6) {
		tp, err := compare(ctx, local, e2e, c, upSrc, c.netPartSize, 0)
		if err != nil {
			return nil, err
		}
		rep.e2e = append(rep.e2e, tp)
	}
	if (c.measures(1) || c.measures(6)) && c.netBPS > 0 {
		if err := srv.throttleParts(c.netBPS); err != nil {
			return nil, err
		}
		if c.measures(1) {
			tp, err := compare(ctx, local, ms, c, upSrc, c.netPartSize, c.netBPS)
			if err != nil {
				return nil, err
			}
			rep.network = &tp
		}
		if c.measures(6) {
			tp, err := compare(ctx, local, e2e, c, upSrc, c.netPartSize, c.netBPS)
			if err != nil {
				return nil, err
			}
			rep.e2e = append(rep.e2e, tp)
		}
		if err := srv.clearFaults(); err != nil {
			return nil, err
		}
	}
	// 1. The bare-loopback comparison again over HTTPS, against a second
	// obslocal serving TLS, so that every client's CPU includes TLS.
	if c.measures(1) {
		tp, err := compareHTTPS(ctx, c, filepath.Join(data, "obslocal-https"), filepath.Join(work, "obslocal-tls"), upSrc)
		if err != nil {
			return nil, err
		}
		rep.https = &tp
	}
	// 1. The peers with their default settings against versitygw, beside
	// the engine signing SigV4 as the provider does for S3-compatible
	// servers.
	if c.measures(1) && c.versitygw != "" {
		tp, err := compareGateway(ctx, c, filepath.Join(data, "versitygw"), upSrc)
		if err != nil {
			return nil, err
		}
		rep.gateway = &tp
	}

	// 4. Resume efficiency (engine-level cancel at 50%).
	for r := range c.runs {
		if !c.measures(4) {
			break
		}
		progress("resume: run %d/%d", r+1, c.runs)
		res, err := resumeOnce(srv, cl, upSrc, fmt.Sprintf("resume/%d", r), c.size, c.resumePartSize, c.conc)
		if err != nil {
			return nil, err
		}
		rep.resume = append(rep.resume, res)
	}

	// 7. The bandwidth cap: uploads sharing one max_bandwidth, through the
	// engine each run, then once through terraform and the provider.
	if c.measures(7) {
		capBPS := bandwidthCap(c.size, bandwidthUploads)
		for r := range c.runs {
			progress("bandwidth cap: %d engine uploads of %s sharing %s/s, run %d/%d", bandwidthUploads, fmtBytes(c.size), fmtBytes(capBPS), r+1, c.runs)
			res, err := measureBandwidthCap(ctx, cl, upSrc, fmt.Sprintf("bw/%d", r), c.size, c.netPartSize, c.conc, bandwidthUploads, capBPS)
			if err != nil {
				return nil, err
			}
			rep.bandwidth = append(rep.bandwidth, res)
		}
		progress("bandwidth cap: terraform apply of %d resources of %s, provider max_bandwidth = %s/s", bandwidthUploads, fmtBytes(c.size), fmtBytes(capBPS))
		res, err := applyBandwidthCap(ctx, t, srv, cl, filepath.Join(work, "bandwidth"), upSrc, "bw-tf", c.size, c.netPartSize, c.conc, bandwidthUploads, capBPS)
		if err != nil {
			return nil, err
		}
		rep.bandwidthTF = append(rep.bandwidthTF, res)
	}

	// 2. Plan-time hashing vs sha256sum, page cache warm, interleaved.
	for r := range c.runs {
		if !c.measures(2) {
			break
		}
		if r == 0 {
			if err := warm(hashSrc); err != nil {
				return nil, err
			}
		}
		progress("hashing: run %d/%d", r+1, c.runs)
		d, err := timeCmd("sha256sum", hashSrc)
		if err != nil {
			return nil, err
		}
		rep.sha256sum = append(rep.sha256sum, d)
		if _, err := exec.LookPath("openssl"); err == nil {
			d, err := timeCmd("openssl", "dgst", "-sha256", hashSrc)
			if err != nil {
				return nil, err
			}
			rep.openssl = append(rep.openssl, d)
		}
		ns, err := goBench(c.providerTest, hashSrc, c.netPartSize, "BenchmarkHashSource", "1x")
		if err != nil {
			return nil, err
		}
		rep.hashOurs = append(rep.hashOurs, ns)
		if ns, err = goBench(c.providerTest, hashSrc, c.netPartSize, "BenchmarkHashSourceSHA256Only", "1x"); err != nil {
			return nil, err
		}
		rep.hashSHAOnly = append(rep.hashSHAOnly, ns)
		ns, err = goBench(c.providerTest, hashSrc, c.netPartSize, "BenchmarkResolveSourceFingerprintHit", "1000x")
		if err != nil {
			return nil, err
		}
		rep.resolveHit = append(rep.resolveHit, ns.wall)
	}

	if !c.measures(3) && !c.measures(5) {
		rep.elapsed = time.Since(start)
		return rep, nil
	}
	// 3. Peak RSS of the provider during a real terraform apply; then the
	// plan of the unchanged file (1 resource).
	for _, ps := range c.memPartSizes {
		if !c.measures(3) {
			break
		}
		var m memResult
		m.partSize = ps
		for r := range c.runs {
			progress("memory: terraform apply of %s with %s parts, concurrency %d, run %d/%d", fmtBytes(c.hashSize), fmtBytes(ps), c.memConc, r+1, c.runs)
			dir := filepath.Join(work, fmt.Sprintf("mem-%d-%d", ps, r))
			key := fmt.Sprintf("mem/%d/%d", ps, r)
			conf := srv.providerBlock(c.memConc) + acctest.ObjectBlock("o", bucket, key, hashSrc,
				acctest.Attr("part_size", ps), acctest.Attr("concurrency", c.memConc))
			if err := acctest.WriteConfig(dir, conf); err != nil {
				return nil, err
			}
			res, err := t.run(dir, true, "apply", "-auto-approve", "-input=false", "-no-color")
			if err != nil {
				return nil, err
			}
			if res.peakRSS == 0 {
				return nil, fmt.Errorf("no terraform-provider-obs process was seen during the apply in %s", dir)
			}
			m.peaks = append(m.peaks, res.peakRSS)
			m.walls = append(m.walls, res.wall)
			m.cpus = append(m.cpus, res.cpu)
			if ps == c.memPartSizes[len(c.memPartSizes)-1] && r == 0 {
				for p := range c.runs {
					progress("second plan of the unchanged %s file, run %d/%d", fmtBytes(c.hashSize), p+1, c.runs)
					pr, err := t.run(dir, false, "plan", "-detailed-exitcode", "-input=false", "-no-color")
					if err != nil {
						return nil, err
					}
					if pr.exitCode != 0 {
						return nil, fmt.Errorf("the plan of the unchanged file in %s is not empty", dir)
					}
					rep.plan1 = append(rep.plan1, pr.wall)
				}
			}
			if err := cl.DeleteObject(ctx, bucket, key); err != nil {
				return nil, err
			}
		}
		rep.memory = append(rep.memory, m)
	}

	// 5. Plan of many unchanged resources (fingerprint hits from private state).
	if !c.measures(5) {
		rep.elapsed = time.Since(start)
		return rep, nil
	}
	progress("plan scale: writing %d files of %s and applying", c.planN, fmtBytes(c.planFileSize))
	dir := filepath.Join(work, "scale")
	srcDir := filepath.Join(work, "scale-src")
	if err := os.MkdirAll(srcDir, 0o755); err != nil {
		return nil, err
	}
	for i := range c.planN {
		if err := sparseFile(filepath.Join(srcDir, fmt.Sprintf("f%03d.bin", i)), c.planFileSize, i); err != nil {
			return nil, err
		}
	}
	conf := srv.providerBlock(c.memConc) + acctest.ResourceBlock("o",
		acctest.Attr("count", c.planN),
		acctest.Attr("bucket", bucket),
		acctest.Attr("key", acctest.Expr(`format("scale/%03d.bin", count.index)`)),
		acctest.Attr("source", acctest.Expr(`format("%s/f%03d.bin", `+acctest.Quote(srcDir)+`, count.index)`)),
	)
	if err := acctest.WriteConfig(dir, conf); err != nil {
		return nil, err
	}
	if _, err := t.run(dir, false, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return nil, err
	}
	for r := range c.runs {
		progress("plan scale: plan of %d unchanged resources, run %d/%d", c.planN, r+1, c.runs)
		pr, err := t.run(dir, false, "plan", "-detailed-exitcode", "-input=false", "-no-color")
		if err != nil {
			return nil, err
		}
		if pr.exitCode != 0 {
			return nil, fmt.Errorf("the plan of %d unchanged resources is not empty", c.planN)
		}
		rep.planN = append(rep.planN, pr.wall)
	}
	rep.elapsed = time.Since(start)
	return rep, nil
}

// compare uploads the file to tg with every method c.runs times,
// interleaved and rotated each run, and summarizes each method.
func compare(ctx context.Context, tg *target, ms []method, c config, path string, ps, netBPS int64) (throughput, error) {
	tp := throughput{target: tg.name, scheme: tg.scheme(), partSize: ps, netBPS: netBPS}
	samples := make([][]sample, len(ms))
	for r := range c.runs {
		for i := range ms {
			k := (i + r) % len(ms)
			progress("%s, %s: %s, %s parts, run %d/%d", tp.server(), tp.regime(), ms[k].name, fmtBytes(ps), r+1, c.runs)
			key := fmt.Sprintf("tp/%s/%d/%d/%d/%d", tg.name, netBPS, ps, k, r)
			s, err := measure(ctx, tg, ms[k], path, key, c.size, ps, c.conc)
			if err != nil {
				return throughput{}, err
			}
			samples[k] = append(samples[k], s)
		}
	}
	for k := range ms {
		tp.methods = append(tp.methods, summarize(ms[k].key, ms[k].name, samples[k], c.size))
	}
	return tp, nil
}

// compareHTTPS starts a second obslocal serving HTTPS with a self-signed
// certificate and compares there as on the bare loopback over HTTP, with
// c.netPartSize parts: the OBS client and the SDK trust its CA, the peers
// are given the CA file.
func compareHTTPS(ctx context.Context, c config, dataDir, tlsDir, path string) (throughput, error) {
	srv, err := startServer(c.obslocal, dataDir, tlsDir)
	if err != nil {
		return throughput{}, err
	}
	defer srv.stop()
	cl, err := newClient(srv, 2*c.conc)
	if err != nil {
		return throughput{}, err
	}
	tg, ms, err := obslocalMethods(c, srv, cl)
	if err != nil {
		return throughput{}, err
	}
	return compare(ctx, tg, ms, c, path, c.netPartSize, 0)
}

// obslocalMethods are obslocal as a target reached through cl, and the
// methods of a comparison there: ours and the SDK's (obsMethods), then the
// peers.
func obslocalMethods(c config, srv *server, cl obs.Client) (*target, []method, error) {
	ms, err := obsMethods(srv, cl, c.conc)
	if err != nil {
		return nil, nil, err
	}
	tg := srv.target(cl)
	return tg, append(ms, peerMethod(c.peers, tg, mAWS, false), peerMethod(c.peers, tg, mMinio, false)), nil
}

// compareGateway starts versitygw and compares there, with c.netPartSize
// parts: the ceiling and the engine through our client signing SigV4, and
// the peers with their default settings.
func compareGateway(ctx context.Context, c config, dataDir, path string) (throughput, error) {
	g, err := startGateway(c.versitygw, dataDir)
	if err != nil {
		return throughput{}, err
	}
	defer g.stop()
	cl, err := newGatewayClient(g, 2*c.conc)
	if err != nil {
		return throughput{}, err
	}
	tg := &target{name: "versitygw", endpoint: g.endpoint(), region: gatewayRegion, cl: cl, cpu: g.cpu}
	if err := createBucket(c.peers, tg); err != nil {
		return throughput{}, err
	}
	ms := []method{ceilingMethod(cl), engineMethod(cl, true), engineMethod(cl, false),
		peerMethod(c.peers, tg, mAWS, false), peerMethod(c.peers, tg, mMinio, false)}
	return compare(ctx, tg, ms, c, path, c.netPartSize, 0)
}

func progress(format string, args ...any) {
	log.Printf(format, args...)
}

// sparseFile makes a file of size bytes that is zero but for its first
// bytes, which make each file's content distinct.
func sparseFile(path string, size int64, i int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "file %d\n", i); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func envStr(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	v := envStr(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		log.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func envSize(name string, def int64) int64 {
	v := envStr(name, "")
	if v == "" {
		return def
	}
	n, err := parseSize(v)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	return n
}

// parseSize parses "2GiB", "512MiB", "100KiB" or a number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"GiB", gib}, {"MiB", mib}, {"KiB", kib}, {"G", gib}, {"M", mib}, {"K", kib}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.n
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a size (e.g. 2GiB, 512MiB, 1048576)", s)
	}
	return n * mult, nil
}

// rowSet parses BENCH_ROWS, a comma-separated list of table rows (1-7).
func rowSet(s string) (map[int]bool, error) {
	rows := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 7 {
			return nil, fmt.Errorf("BENCH_ROWS=%q: want row numbers 1 to 7, comma-separated", s)
		}
		rows[n] = true
	}
	return rows, nil
}

func sizeList(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		n, err := parseSize(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
