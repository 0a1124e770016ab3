//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

type methodResult struct {
	name                       string
	mbps                       float64 // median, 10^6 bytes per second
	clientCPUPerGiB, srvPerGiB float64 // median CPU-seconds per GiB
	runs                       []sample
}

type throughput struct {
	netBPS   int64 // per-connection limit the server imposed; 0 on the bare loopback
	partSize int64
	methods  []methodResult // ceiling, engine, SDK, ceiling + Content-MD5
}

type memResult struct {
	partSize int64
	peaks    []int64
	walls    []time.Duration
}

type report struct {
	cfg              config
	started          time.Time
	elapsed          time.Duration
	terraformVersion string
	loadStart        string

	throughput []throughput
	network    *throughput // the same comparison, network-bound
	resume     []resumeResult
	sha256sum  []time.Duration
	openssl    []time.Duration
	hashOurs   []time.Duration
	resolveHit []time.Duration
	memory     []memResult
	plan1      []time.Duration
	planN      []time.Duration
}

func summarize(name string, s []sample, size int64) methodResult {
	var mbps, ccpu, scpu []float64
	gibs := float64(size) / gib
	for _, x := range s {
		mbps = append(mbps, float64(size)/x.wall.Seconds()/1e6)
		ccpu = append(ccpu, x.clientCPU.Seconds()/gibs)
		scpu = append(scpu, x.serverCPU.Seconds()/gibs)
	}
	return methodResult{name: name, mbps: median(mbps), clientCPUPerGiB: median(ccpu), srvPerGiB: median(scpu), runs: s}
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type row struct{ section, what, result, target, status string }

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func (r *report) rows() []row {
	c := r.cfg
	var rows []row
	for _, tp := range r.comparisons() {
		rows = append(rows, tp.rows(c)...)
	}
	if len(r.hashOurs) > 0 {
		sumMBps := float64(c.hashSize) / median(r.sha256sum).Seconds() / 1e6
		oursMBps := float64(c.hashSize) / median(r.hashOurs).Seconds() / 1e6
		rows = append(rows,
			row{"2", fmt.Sprintf("plan-time hashing of %s (hashSource, page cache warm)", fmtBytes(c.hashSize)),
				fmt.Sprintf("%.0f MB/s = %.0f%% of sha256sum", oursMBps, 100*oursMBps/sumMBps), "≥ 90% of sha256sum", passMiss(oursMBps >= 0.9*sumMBps)},
			row{"2", "sha256sum of the same file", fmt.Sprintf("%.0f MB/s", sumMBps), "", ""},
		)
		if len(r.openssl) > 0 {
			sslMBps := float64(c.hashSize) / median(r.openssl).Seconds() / 1e6
			rows = append(rows, row{"2", "`openssl dgst -sha256` of the same file (for reference)",
				fmt.Sprintf("%.0f MB/s (ours = %.0f%% of it)", sslMBps, 100*oursMBps/sslMBps), "", ""})
		}
		rows = append(rows,
			row{"2", "second plan of the unchanged file: provider work (resolveSource, fingerprint hit)",
				fmtDur(median(r.resolveHit)), "< 50 ms per resource", passMiss(median(r.resolveHit) < 50*time.Millisecond)},
			row{"2", "second plan of the unchanged file: whole `terraform plan`, 1 resource (refresh included)",
				fmtDur(median(r.plan1)), "(fixed terraform cost; see 5)", ""},
		)
	}
	var peaks []int64
	for _, m := range r.memory {
		p := median(m.peaks)
		peaks = append(peaks, p)
		rows = append(rows, row{"3", fmt.Sprintf("peak RSS of the provider, terraform apply of %s, %s parts, concurrency %d",
			fmtBytes(c.hashSize), fmtBytes(m.partSize), c.memConc),
			fmt.Sprintf("%.1f MiB (max of runs %.1f MiB)", float64(p)/mib, float64(slices.Max(m.peaks))/mib),
			"< 128 MiB", passMiss(slices.Max(m.peaks) < 128*mib)})
	}
	if len(peaks) == 2 {
		grow := float64(peaks[0]-peaks[1]) / mib
		rows = append(rows, row{"3", fmt.Sprintf("peak RSS growth, %s → %s parts", fmtBytes(r.memory[1].partSize), fmtBytes(r.memory[0].partSize)),
			fmt.Sprintf("%+.1f MiB", grow), "< 16 MiB (no part buffering)", passMiss(grow < 16)})
	}
	if len(r.resume) > 0 {
		var ratios, bounds, at []float64
		ok := true
		for _, x := range r.resume {
			ratios, bounds, at = append(ratios, x.ratio), append(bounds, x.bound), append(at, x.interruptedAt)
			ok = ok && x.ratio <= x.bound
		}
		rows = append(rows, row{"4", fmt.Sprintf("resume of %s, %s parts, %d workers, interrupted at %.0f%%: bytes sent ÷ bytes missing",
			fmtBytes(c.size), fmtBytes(c.resumePartSize), c.conc, 100*median(at)),
			fmt.Sprintf("%.3f (worst %.3f)", median(ratios), slices.Max(ratios)),
			fmt.Sprintf("≤ %.3f = 1 + %d×%s ÷ missing", median(bounds), c.conc, fmtBytes(c.resumePartSize)), passMiss(ok)})
	}
	if len(r.planN) > 0 {
		pn := median(r.planN)
		per := pn / time.Duration(c.planN)
		rows = append(rows, row{"5", fmt.Sprintf("`terraform plan` of %d unchanged %s resources (refresh included)", c.planN, fmtBytes(c.planFileSize)),
			fmt.Sprintf("%s total, %s per resource (marginal over 1 resource: %s)", fmtDur(pn), fmtDur(per),
				fmtDur(max(0, (pn-median(r.plan1))/time.Duration(max(c.planN-1, 1))))),
			"< 50 ms per resource", passMiss(per < 50*time.Millisecond)})
	}
	return rows
}

// throughputReading explains the throughput rows from this run's numbers:
// what the engine's integrity check costs where the CPU is the limit, and
// where the link is.
func (r *report) throughputReading(w func(string, ...any)) {
	if len(r.throughput) == 0 {
		return
	}
	w("## Reading the throughput rows\n\n")
	for _, tp := range r.comparisons() {
		ceil, eng, sdk, ceilMD5 := tp.methods[0], tp.methods[1], tp.methods[2], tp.methods[3]
		where := "On the bare loopback"
		if tp.netBPS > 0 {
			where = fmt.Sprintf("With %.0f MB/s per connection (network-bound)", float64(tp.netBPS)/1e6)
		}
		cores := func(m methodResult) float64 { return (m.clientCPUPerGiB + m.srvPerGiB) * m.mbps * 1e6 / gib }
		w("- %s, %s parts: the ceiling kept %.1f of %d cores busy and the engine %.1f. The engine spent %.2f client\n",
			where, fmtBytes(tp.partSize), cores(ceil), runtime.NumCPU(), cores(eng), eng.clientCPUPerGiB-ceil.clientCPUPerGiB)
		w("  CPU-s/GiB more than the ceiling (the MD5 of every part) and reached %.0f%% of the ceiling, %.2f× the SDK's\n",
			100*eng.mbps/ceil.mbps, eng.mbps/sdk.mbps)
		w("  UploadFile (which sends no checksum) and %.0f%% of the ceiling's loop sending the same Content-MD5.\n", 100*eng.mbps/ceilMD5.mbps)
	}
	w("\nWhere client and server together need both cores, every CPU-second the client spends on MD5 is taken from\n")
	w("the server, so no engine that checks every part can reach the no-checksum ceiling there; the engine's own\n")
	w("orchestration costs nothing (compare it with *ceiling + Content-MD5*, which hashes with `crypto/md5`; the engine\n")
	w("is ahead of it because it hashes many parts at once on SIMD lanes, at a fraction of the CPU). Where the link is\n")
	w("the limit, hashing ahead of sending hides the MD5 entirely.\n\n")
}

// comparisons are the throughput comparisons in table order.
func (r *report) comparisons() []throughput {
	if r.network == nil {
		return r.throughput
	}
	return append(slices.Clone(r.throughput), *r.network)
}

// regime names the conditions of a comparison.
func (tp throughput) regime() string {
	if tp.netBPS == 0 {
		return "bare loopback"
	}
	return fmt.Sprintf("network-bound (%.0f MB/s per connection)", float64(tp.netBPS)/1e6)
}

// rows are the table rows of one throughput comparison.
func (tp throughput) rows(c config) []row {
	ceil, eng, sdk, ceilMD5 := tp.methods[0], tp.methods[1], tp.methods[2], tp.methods[3]
	pre := fmt.Sprintf("upload %s, %s parts, %d workers: ", fmtBytes(c.size), fmtBytes(tp.partSize), c.conc)
	if tp.netBPS > 0 {
		pre = tp.regime() + ", " + pre
	}
	cpu := func(m methodResult) string {
		return fmt.Sprintf("CPU-s/GiB client %.2f, server %.2f", m.clientCPUPerGiB, m.srvPerGiB)
	}
	return []row{
		{"1", pre + "ceiling (bare parallel UploadPart)", fmt.Sprintf("%.0f MB/s; %s", ceil.mbps, cpu(ceil)), "", ""},
		{"1", pre + "engine", fmt.Sprintf("%.0f MB/s = %.0f%% of ceiling; %s", eng.mbps, 100*eng.mbps/ceil.mbps, cpu(eng)),
			"≥ 90% of ceiling", passMiss(eng.mbps >= 0.9*ceil.mbps)},
		{"1", pre + "SDK UploadFile", fmt.Sprintf("%.0f MB/s (engine %.2f×); %s", sdk.mbps, eng.mbps/sdk.mbps, cpu(sdk)),
			"engine ahead", passMiss(eng.mbps > sdk.mbps)},
		{"1", pre + "ceiling + Content-MD5 (for reference: the same loop hashing each part first)",
			fmt.Sprintf("%.0f MB/s = %.0f%% of ceiling (engine = %.0f%% of it); %s", ceilMD5.mbps, 100*ceilMD5.mbps/ceil.mbps, 100*eng.mbps/ceilMD5.mbps, cpu(ceilMD5)), "", ""},
	}
}

func (r *report) table() string {
	rows := r.rows()
	head := row{"#", "measurement", fmt.Sprintf("result (median of %d)", r.cfg.runs), "target", "status"}
	var b strings.Builder
	b.WriteString("| " + head.section + " | " + head.what + " | " + head.result + " | " + head.target + " | " + head.status + " |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, x := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", x.section, x.what, x.result, x.target, x.status)
	}
	return b.String()
}

func (r *report) markdown() string {
	c := r.cfg
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("<!-- Generated by scripts/bench.sh (cmd/obsbench); do not edit. Regenerate with `make bench`. -->\n\n")
	w("Measured side by side in one run against the local OBS server (`cmd/obslocal`, a separate process on loopback,\n")
	w("storing parts on disk). Each figure is the median of %d runs; MB/s is 10^6 bytes per second. Only ratios measured\n", c.runs)
	w("in the same run are meaningful: client and server share the machine's cores.\n\n")
	w("- Command: `%s`\n", c.command)
	w("- Date: %s (took %s)\n", r.started.Format(time.RFC3339), r.elapsed.Round(time.Second))
	w("- Machine: %d CPUs (`nproc`), %s, Linux %s; %s; %s\n", runtime.NumCPU(), cpuModel(), readTrim("/proc/sys/kernel/osrelease"),
		runtime.Version(), firstLine(r.terraformVersion))
	w("- Load average at start: %s (the machine may be shared; see the per-run numbers below)\n", r.loadStart)
	w("- Parameters: BENCH_SIZE=%s BENCH_HASH_SIZE=%s BENCH_RUNS=%d BENCH_CONCURRENCY=%d BENCH_PART_SIZES=%s BENCH_PLAN_RESOURCES=%d BENCH_PLAN_FILE_SIZE=%s\n\n",
		joinSizes([]int64{c.size}), joinSizes([]int64{c.hashSize}), c.runs, c.conc, joinSizes(c.partSizes), c.planN, joinSizes([]int64{c.planFileSize}))
	w("## Results\n\n")
	b.WriteString(r.table())
	w("\n## How each row is measured\n\n")
	w("1. **Upload throughput.** One %s file of random bytes, page cache warm, uploaded to the same server by four\n", fmtBytes(c.size))
	w("   methods, interleaved and rotated each run; every method initiates, sends all parts and completes, and the object\n")
	w("   is checked (HEAD size) and deleted after each run. *Ceiling*: `internal/obs` UploadPart of pre-sliced parts by\n")
	w("   %d errgroup workers, no hashing, no Content-MD5. *Engine*: `upload.Upload`, which sends every part with its\n", c.conc)
	w("   Content-MD5 (the server rejects a corrupted part) and hashes parts ahead of the workers sending them, up to 16\n")
	w("   at a time on the SIMD lanes of `github.com/minio/md5-simd` (each byte is read twice, once to hash and once to\n")
	w("   send). *SDK UploadFile*: `obs.UploadFileInput` with the same part size\n")
	w("   and `TaskNum`, `EnableCheckpoint: false`; it sends no checksum. *Ceiling + Content-MD5*: the ceiling's loop, each\n")
	w("   worker hashing its part before sending it — the simplest way to send the same integrity check as the engine.\n")
	w("   All sign with the native OBS signature. Client CPU is getrusage of the benchmark process; server CPU is\n")
	w("   utime+stime of the obslocal process, both per GiB uploaded. The *network-bound* rows repeat the comparison with\n")
	w("   %s parts while the server reads every UploadPart body at no more than %.0f MB/s per connection\n", fmtBytes(c.netPartSize), float64(c.netBPS)/1e6)
	w("   (`BENCH_NET_MBPS`), as a link to a remote OBS would: there the CPU has room and the link is the limit.\n")
	w("2. **Hashing.** `BenchmarkHashSource` in `internal/provider/hash_bench_test.go` calls the provider's own\n")
	w("   `hashSource` on a %s file; `sha256sum` hashes the same file; runs interleaved after one warming read.\n", fmtBytes(c.hashSize))
	w("   `BenchmarkResolveSourceFingerprintHit` calls `resolveSource` with the record private state holds and fails if a\n")
	w("   byte is hashed. The whole-`terraform plan` row is the wall time of `terraform plan` in the 1-resource directory\n")
	w("   of row 3 right after its apply (process start-up, provider start, refresh HEAD and ModifyPlan).\n")
	w("3. **Memory.** `terraform apply` with the built provider (dev_overrides for registry.terraform.io/obsprovider/obs),\n")
	w("   fresh state each run; VmHWM of every `terraform-provider-obs` child of terraform is sampled every 20 ms and the\n")
	w("   largest is reported. The apply includes plan-time hashing of the file.\n")
	w("4. **Resume.** The engine is cancelled once half the bytes are done; the server's parts are listed (*missing* =\n")
	w("   file size − bytes the server holds), then the engine resumes from the record it returned. *Sent* is the\n")
	w("   UploadPart body bytes the server received during the resumed run (admin endpoint `/__obslocal/stats`).\n")
	w("5. **Plan scale.** %d resources, each a distinct %s file, applied once; then `terraform plan` is timed (exit code 0:\n", c.planN, fmtBytes(c.planFileSize))
	w("   no changes). The marginal figure subtracts the 1-resource plan of row 2.\n\n")

	r.throughputReading(w)
	w("## Part size\n\n")
	w("| part size | engine MB/s | engine %% of ceiling | engine client CPU-s/GiB | worst-case resend on resume (%d workers) | parts for 1 GiB | largest file before the part size grows |\n", c.conc)
	w("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, tp := range r.throughput {
		eng, ceil := tp.methods[1], tp.methods[0]
		w("| %s | %.0f | %.0f%% | %.2f | %s | %d | %s |\n", fmtBytes(tp.partSize), eng.mbps, 100*eng.mbps/ceil.mbps, eng.clientCPUPerGiB,
			fmtBytes(int64(c.conc)*tp.partSize), (gib+tp.partSize-1)/tp.partSize, fmtBytes(10000*tp.partSize))
	}
	for _, m := range r.memory {
		w("\nPeak provider RSS with %s parts: %.1f MiB.", fmtBytes(m.partSize), float64(median(m.peaks))/mib)
	}
	w("\n\n## Per-run numbers\n\n")
	for _, tp := range r.comparisons() {
		for _, m := range tp.methods {
			pre := ""
			if tp.netBPS > 0 {
				pre = tp.regime() + ", "
			}
			w("- %s%s parts, %s:", pre, fmtBytes(tp.partSize), m.name)
			for _, s := range m.runs {
				w(" %.0f MB/s (client %.2f s, server %.2f s);", float64(c.size)/s.wall.Seconds()/1e6, s.clientCPU.Seconds(), s.serverCPU.Seconds())
			}
			w("\n")
		}
	}
	w("- hashSource: %s\n- sha256sum: %s\n- openssl dgst -sha256: %s\n- resolveSource hit: %s\n", durs(r.hashOurs), durs(r.sha256sum), durs(r.openssl), durs(r.resolveHit))
	for _, m := range r.memory {
		w("- apply with %s parts: peak RSS", fmtBytes(m.partSize))
		for i, p := range m.peaks {
			w(" %.1f MiB (apply %s);", float64(p)/mib, fmtDur(m.walls[i]))
		}
		w("\n")
	}
	w("- resume:")
	for _, x := range r.resume {
		w(" interrupted at %.0f%%, missing %s, sent %s, ratio %.3f (bound %.3f);", 100*x.interruptedAt, fmtBytes(x.missing), fmtBytes(x.sent), x.ratio, x.bound)
	}
	w("\n- plan, 1 resource: %s\n- plan, %d resources: %s\n", durs(r.plan1), c.planN, durs(r.planN))
	return b.String()
}

func durs(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmtDur(d))
	}
	return strings.Join(s, ", ")
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
}

func fmtBytes(n int64) string {
	switch {
	case n >= gib:
		return strings.TrimSuffix(strconv.FormatFloat(float64(n)/gib, 'f', 1, 64), ".0") + " GiB"
	case n >= mib:
		return strings.TrimSuffix(strconv.FormatFloat(float64(n)/mib, 'f', 1, 64), ".0") + " MiB"
	case n >= kib:
		return strings.TrimSuffix(strconv.FormatFloat(float64(n)/kib, 'f', 1, 64), ".0") + " KiB"
	}
	return fmt.Sprintf("%d B", n)
}

func joinSizes(s []int64) string {
	var out []string
	for _, n := range s {
		out = append(out, strings.ReplaceAll(fmtBytes(n), " ", ""))
	}
	return strings.Join(out, ",")
}

// warm reads a file once so that the hashing runs find it in the page cache.
func warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

func timeCmd(name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	err := cmd.Run()
	return time.Since(t0), err
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+([0-9.]+) ns/op`)

// goBench runs one benchmark of the provider's test binary on path and
// returns its ns/op.
func goBench(testBin, path, name, benchtime string) (float64, error) {
	cmd := exec.Command(testBin, "-test.run", "^$", "-test.bench", "^"+name+"$", "-test.benchtime", benchtime, "-test.count", "1")
	cmd.Env = append(os.Environ(), "OBS_BENCH_HASH_FILE="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if m := benchLine.FindStringSubmatch(sc.Text()); m != nil && strings.HasPrefix(m[1], name) {
			return strconv.ParseFloat(m[2], 64)
		}
	}
	return 0, fmt.Errorf("%s: no result in output:\n%s", name, out)
}

func commandOutput(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return strings.TrimSpace(string(out))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
