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
	key, name                  string
	mbps                       float64 // median, 10^6 bytes per second
	clientCPUPerGiB, srvPerGiB float64 // median CPU-seconds per GiB
	read                       float64 // median bytes the client read ÷ file size; < 0 when unknown
	firstPart                  time.Duration
	settings                   string // what a peer sent, as it reports it
	runs                       []sample
}

type throughput struct {
	target   string // the server: obslocal or versitygw
	scheme   string // HTTP or HTTPS
	netBPS   int64  // per-connection limit the server imposed; 0 on the bare loopback
	partSize int64
	methods  []methodResult
}

// method returns the result of the method with key k.
func (tp throughput) method(k string) (methodResult, bool) {
	for _, m := range tp.methods {
		if m.key == k {
			return m, true
		}
	}
	return methodResult{}, false
}

type memResult struct {
	partSize int64
	peaks    []int64
	walls    []time.Duration
	cpus     []time.Duration // terraform and its provider processes
}

// timed is a process's (or a benchmark's) wall time and CPU time.
type timed struct{ wall, cpu time.Duration }

type report struct {
	cfg              config
	started          time.Time
	elapsed          time.Duration
	terraformVersion string
	loadStart        string
	serverData       string // where the servers stored the objects (serverDataRoot)

	throughput  []throughput // obslocal, bare loopback, one per part size
	network     *throughput  // obslocal, network-bound
	https       *throughput  // obslocal over HTTPS, bare loopback
	gateway     *throughput  // versitygw, bare loopback
	e2e         []throughput // terraform apply against the peers' whole processes
	resume      []resumeResult
	sha256sum   []timed
	openssl     []timed
	hashOurs    []timed // SHA-256 and part MD5s
	hashSHAOnly []timed
	resolveHit  []time.Duration
	memory      []memResult
	plan1       []time.Duration
	planN       []time.Duration
	bandwidth   []bandwidthResult // engine uploads sharing one cap
	bandwidthTF []bandwidthResult // terraform apply with the provider's max_bandwidth
}

func summarize(key, name string, s []sample, size int64) methodResult {
	var mbps, ccpu, scpu, read []float64
	var first []time.Duration
	gibs := float64(size) / gib
	m := methodResult{key: key, name: name, runs: s}
	for _, x := range s {
		mbps = append(mbps, float64(size)/x.wall.Seconds()/1e6)
		ccpu = append(ccpu, x.clientCPU.Seconds()/gibs)
		scpu = append(scpu, x.serverCPU.Seconds()/gibs)
		read = append(read, float64(x.clientRead)/float64(size))
		first = append(first, x.firstPart)
		if x.settings != "" {
			m.settings = x.settings
		}
	}
	m.mbps, m.clientCPUPerGiB, m.srvPerGiB, m.read, m.firstPart = median(mbps), median(ccpu), median(scpu), median(read), median(first)
	return m
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

func medianTimed(ts []timed) timed {
	var w, c []time.Duration
	for _, t := range ts {
		w, c = append(w, t.wall), append(c, t.cpu)
	}
	return timed{median(w), median(c)}
}

// A row of the table; why, on a MISS row, says what the run's figures
// show about the miss.
type row struct{ section, what, result, target, status, why string }

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// Targets of the comparisons.
const (
	targetCeiling     = 0.95 // engine ÷ ceiling, bare loopback
	targetCeilingNet  = 0.90 // engine ÷ ceiling, network-bound
	targetSDK         = 1.0  // engine ÷ SDK UploadFile
	targetAWS         = 1.1  // engine ÷ aws manager, bare loopback
	targetMinio       = 1.0  // engine ÷ minio-go, bare loopback
	targetE2ENet      = 0.95 // terraform apply ÷ aws manager process, network-bound
	targetFirstPart   = 30 * time.Millisecond
	targetOpenSSL     = 1.1  // plan hashing ÷ openssl dgst -sha256
	targetMD5PlanCost = 0.10 // extra plan time of the part MD5s
	targetRSS         = 64 * mib
)

func cpuText(m methodResult) string {
	return fmt.Sprintf("CPU-s/GiB client %.2f, server %.2f", m.clientCPUPerGiB, m.srvPerGiB)
}

func readText(m methodResult) string {
	if m.read < 0 {
		return ""
	}
	return fmt.Sprintf("; client read %.2f× the file", m.read)
}

func (r *report) rows() []row {
	c := r.cfg
	var rows []row
	for _, tp := range r.comparisons() {
		rows = append(rows, tp.rows(c)...)
	}
	if len(r.hashOurs) > 0 {
		gibs := float64(c.hashSize) / gib
		rate := func(t timed) string {
			return fmt.Sprintf("%.0f MB/s; CPU-s/GiB %.2f", float64(c.hashSize)/t.wall.Seconds()/1e6, t.cpu.Seconds()/gibs)
		}
		ours, shaOnly, sum := medianTimed(r.hashOurs), medianTimed(r.hashSHAOnly), medianTimed(r.sha256sum)
		cost := ours.wall.Seconds()/shaOnly.wall.Seconds() - 1
		rows = append(rows, row{"2", fmt.Sprintf("plan-time hashing of %s, one pass: SHA-256 and the MD5 of every %s part (hashSource, page cache warm)",
			fmtBytes(c.hashSize), fmtBytes(c.netPartSize)), rate(ours), "", "", ""})
		if len(r.openssl) > 0 {
			ssl := medianTimed(r.openssl)
			ratio := ssl.wall.Seconds() / ours.wall.Seconds()
			rows[len(rows)-1].result += fmt.Sprintf(" = %.2f× `openssl dgst -sha256`", ratio)
			rows[len(rows)-1].target = fmt.Sprintf("≥ %.1f× openssl", targetOpenSSL)
			rows[len(rows)-1].status = passMiss(ratio >= targetOpenSSL)
			rows[len(rows)-1].why = whyHashing(ours, shaOnly, ssl)
		}
		rows = append(rows,
			row{"2", "the same pass without part MD5s (SHA-256 only)", rate(shaOnly), "", "", ""},
			row{"2", "plan time the part MD5s add", fmt.Sprintf("%+.1f%%", 100*cost), fmt.Sprintf("≤ %.0f%%", 100*targetMD5PlanCost), passMiss(cost <= targetMD5PlanCost), ""},
			row{"2", "sha256sum of the same file (for reference)", rate(sum), "", "", ""},
		)
		if len(r.openssl) > 0 {
			rows = append(rows, row{"2", "`openssl dgst -sha256` of the same file (for reference)", rate(medianTimed(r.openssl)), "", "", ""})
		}
		rows = append(rows,
			row{"2", "second plan of the unchanged file: provider work (resolveSource, fingerprint hit)",
				fmtDur(median(r.resolveHit)), "< 50 ms per resource", passMiss(median(r.resolveHit) < 50*time.Millisecond), ""},
		)
		if len(r.plan1) > 0 {
			rows = append(rows, row{"2", "second plan of the unchanged file: whole `terraform plan`, 1 resource (refresh included)",
				fmtDur(median(r.plan1)), "(fixed terraform cost; see 5)", "", ""})
		}
	}
	var peaks []int64
	for _, m := range r.memory {
		p := median(m.peaks)
		peaks = append(peaks, p)
		rows = append(rows, row{"3", fmt.Sprintf("peak RSS of the provider, terraform apply of %s (plan hashing included), %s parts, concurrency %d",
			fmtBytes(c.hashSize), fmtBytes(m.partSize), c.memConc),
			fmt.Sprintf("%.1f MiB (max of runs %.1f MiB); CPU-s/GiB terraform+provider %.2f", float64(p)/mib, float64(slices.Max(m.peaks))/mib,
				median(m.cpus).Seconds()/(float64(c.hashSize)/gib)),
			fmt.Sprintf("< %d MiB", targetRSS/mib), passMiss(slices.Max(m.peaks) < targetRSS), ""})
	}
	if len(peaks) == 2 {
		grow := float64(peaks[0]-peaks[1]) / mib
		rows = append(rows, row{"3", fmt.Sprintf("peak RSS growth, %s → %s parts", fmtBytes(r.memory[1].partSize), fmtBytes(r.memory[0].partSize)),
			fmt.Sprintf("%+.1f MiB", grow), "< 16 MiB (no part buffering)", passMiss(grow < 16), ""})
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
			fmt.Sprintf("≤ %.3f = 1 + %d×%s ÷ missing", median(bounds), c.conc, fmtBytes(c.resumePartSize)), passMiss(ok), ""})
	}
	if len(r.planN) > 0 {
		pn := median(r.planN)
		per := pn / time.Duration(c.planN)
		rows = append(rows, row{"5", fmt.Sprintf("`terraform plan` of %d unchanged %s resources (refresh included)", c.planN, fmtBytes(c.planFileSize)),
			fmt.Sprintf("%s total, %s per resource (marginal over 1 resource: %s)", fmtDur(pn), fmtDur(per),
				fmtDur(max(0, (pn-median(r.plan1))/time.Duration(max(c.planN-1, 1))))),
			"< 50 ms per resource", passMiss(per < 50*time.Millisecond), ""})
	}
	var hashMBps float64
	if len(r.hashOurs) > 0 {
		hashMBps = float64(c.hashSize) / medianTimed(r.hashOurs).wall.Seconds() / 1e6
	}
	for _, tp := range r.e2e {
		rows = append(rows, tp.e2eRows(c, hashMBps)...)
	}
	if len(r.bandwidth) > 0 {
		rows = append(rows, bandwidthRow(c, "engine (upload.Upload, one shared upload.Bandwidth)", r.bandwidth))
	}
	if len(r.bandwidthTF) > 0 {
		rows = append(rows, bandwidthRow(c, fmt.Sprintf("`terraform apply` of a saved plan, %d resources, provider", bandwidthUploads), r.bandwidthTF))
	}
	return rows
}

// comparisons are the upload comparisons in table order.
func (r *report) comparisons() []throughput {
	out := slices.Clone(r.throughput)
	if r.network != nil {
		out = append(out, *r.network)
	}
	if r.https != nil {
		out = append(out, *r.https)
	}
	if r.gateway != nil {
		out = append(out, *r.gateway)
	}
	return out
}

// regime names the conditions of a comparison.
func (tp throughput) regime() string {
	if tp.netBPS == 0 {
		return "bare loopback"
	}
	return fmt.Sprintf("network-bound (%.0f MB/s per connection)", float64(tp.netBPS)/1e6)
}

// server names the server and the scheme it was reached over.
func (tp throughput) server() string { return tp.target + " over " + tp.scheme }

func (tp throughput) prefix(c config) string {
	pre := fmt.Sprintf("%s, %s parts, %d workers, %s", fmtBytes(c.size), fmtBytes(tp.partSize), c.conc, tp.server())
	if tp.netBPS > 0 {
		pre += ", " + tp.regime()
	}
	return pre + ": "
}

// rows are the table rows of one throughput comparison: every method, each
// peer with the engine's ratio to it and that ratio's target. The targets
// are those of plain HTTP; over HTTPS the ratios are reported without.
func (tp throughput) rows(c config) []row {
	pre := "upload " + tp.prefix(c)
	loop := tp.netBPS == 0
	targets := tp.scheme == "HTTP"
	ceil, hasCeil := tp.method(mCeiling)
	eng, hasEng := tp.method(mEngine)
	ofCeil := func(m methodResult) string {
		if !hasCeil {
			return ""
		}
		return fmt.Sprintf(" = %.0f%% of ceiling", 100*m.mbps/ceil.mbps)
	}
	var rows []row
	for _, m := range tp.methods {
		x := row{section: "1", what: pre + m.name}
		switch m.key {
		case mCeiling:
			x.what = pre + "ceiling (bare parallel UploadPart, no checksum)"
			x.result = fmt.Sprintf("%.0f MB/s", m.mbps)
		case mEngine, mEngineHash:
			x.result = fmt.Sprintf("%.0f MB/s%s; first part %s after initiate", m.mbps, ofCeil(m), fmtDur(m.firstPart))
			if m.key == mEngine && hasCeil && targets {
				want := map[bool]float64{true: targetCeiling, false: targetCeilingNet}[loop]
				x.target, x.status = fmt.Sprintf("≥ %.0f%% of ceiling", 100*want), passMiss(m.mbps >= want*ceil.mbps)
				x.why = whyBehind(m, ceil, c.size, "the ceiling",
					"the engine's requests differ from the ceiling's only by the Content-MD5 of each part, which the server checks")
			}
		case mCeilingMD5:
			x.what = pre + "ceiling + Content-MD5 (for reference: the same loop hashing each part first)"
			x.result = fmt.Sprintf("%.0f MB/s%s", m.mbps, ofCeil(m))
		default: // the SDK and the peers: the engine's ratio to each
			x.result = fmt.Sprintf("%.0f MB/s", m.mbps)
			if hasEng {
				ratio := eng.mbps / m.mbps
				x.result += fmt.Sprintf(" (engine %.2f×)", ratio)
				want, ok := map[string]float64{mSDK: targetSDK, mAWS: targetAWS, mMinio: targetMinio}[m.key]
				if ok && targets && (loop || m.key == mSDK) {
					x.target, x.status = fmt.Sprintf("engine ≥ %.1f×", want), passMiss(ratio >= want)
					x.why = whyBehind(eng, m, c.size, m.name, "")
				}
			}
		}
		x.result += "; " + cpuText(m) + readText(m)
		rows = append(rows, x)
	}
	if hasEng && loop && targets && tp.target == "obslocal" {
		rows = append(rows, row{"1", pre + "first UploadPart after initiate, part MD5s from the plan", fmtDur(eng.firstPart),
			fmt.Sprintf("≤ %s", fmtDur(targetFirstPart)), passMiss(eng.firstPart > 0 && eng.firstPart <= targetFirstPart), ""})
		if eng.read >= 0 {
			rows = append(rows, row{"1", pre + "bytes the engine read ÷ file size, part MD5s from the plan (proved in TestPlannedMD5sReadEachByteOnce)",
				fmt.Sprintf("%.3f", eng.read), "1 (each byte read once)", passMiss(eng.read < 1.01), ""})
		}
	}
	return rows
}

// e2eRows are the rows of a whole terraform apply against the peers run as
// whole processes; hashMBps is the plan's hashing rate (row 2), 0 when not
// measured.
func (tp throughput) e2eRows(c config, hashMBps float64) []row {
	pre := "whole apply of a new " + tp.prefix(c)
	tf, ok := tp.method(mTerraform)
	if !ok {
		return nil
	}
	rows := []row{{"6", pre + "terraform apply, one resource (plan hashing included)",
		fmt.Sprintf("%.0f MB/s (%s); CPU-s/GiB terraform+provider %.2f, server %.2f", tf.mbps, fmtDur(time.Duration(float64(c.size)/tf.mbps/1e6*float64(time.Second))),
			tf.clientCPUPerGiB, tf.srvPerGiB), "", "", ""}}
	for _, k := range []string{mAWS, mMinio} {
		m, ok := tp.method(k)
		if !ok {
			continue
		}
		ratio := tf.mbps / m.mbps
		x := row{"6", pre + m.name, fmt.Sprintf("%.0f MB/s (terraform apply %.2f×); %s", m.mbps, ratio, cpuText(m)), "", "", ""}
		if k == mAWS && tp.netBPS > 0 {
			x.target, x.status = fmt.Sprintf("terraform apply ≥ %.2f×", targetE2ENet), passMiss(ratio >= targetE2ENet)
			x.why = whyWholeApply(tf, m, c.size, hashMBps)
		}
		rows = append(rows, x)
	}
	return rows
}

// throughputReading explains the throughput rows from this run's numbers.
func (r *report) throughputReading(w func(string, ...any)) {
	if len(r.comparisons()) == 0 {
		return
	}
	w("## Reading the throughput rows\n\n")
	cores := func(m methodResult) float64 { return (m.clientCPUPerGiB + m.srvPerGiB) * m.mbps * 1e6 / gib }
	for _, tp := range r.comparisons() {
		ceil, ok1 := tp.method(mCeiling)
		eng, ok2 := tp.method(mEngine)
		hashing, ok3 := tp.method(mEngineHash)
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		w("- %s, %s, %s parts: the ceiling kept %.1f of %d cores busy, the engine %.1f. With the part MD5s from the plan the engine\n",
			tp.server(), tp.regime(), fmtBytes(tp.partSize), cores(ceil), runtime.NumCPU(), cores(eng))
		w("  spent %+.2f client CPU-s/GiB against the ceiling and reached %.0f%% of it; hashing at apply it spent %+.2f and reached %.0f%%.\n",
			eng.clientCPUPerGiB-ceil.clientCPUPerGiB, 100*eng.mbps/ceil.mbps, hashing.clientCPUPerGiB-ceil.clientCPUPerGiB, 100*hashing.mbps/ceil.mbps)
	}
	r.tlsReading(w)
	w("\nWhere client and server together need both cores, every CPU-second the client spends on a checksum is taken from\n")
	w("the server. With the part MD5s from the plan the apply computes no checksum: it reads each byte once, to send it,\n")
	w("and the MD5s were paid for in the plan's pass over the file (row 2), on the core the SHA-256 leaves free. The peers\n")
	w("pay for their own integrity checks in the upload itself: over plain HTTP the aws manager hashes every part with\n")
	w("SHA-256 (signed payload) and CRC32, minio-go signs every 64 KiB chunk with its SHA-256 (streaming SigV4) unless told\n")
	w("to send unsigned payloads, as it must for obslocal, which does not take streaming signatures.\n\n")
}

// shortNames name the methods in running text.
var shortNames = map[string]string{mCeiling: "ceiling", mEngine: "engine (part MD5s from the plan)", mEngineHash: "engine hashing at apply",
	mSDK: "SDK UploadFile", mCeilingMD5: "ceiling + Content-MD5", mAWS: "aws manager", mMinio: "minio-go"}

// tlsReading compares the HTTPS comparison with the HTTP one of the same
// part size on the bare loopback, method by method.
func (r *report) tlsReading(w func(string, ...any)) {
	if r.https == nil {
		return
	}
	i := slices.IndexFunc(r.throughput, func(tp throughput) bool { return tp.partSize == r.https.partSize })
	if i < 0 {
		return
	}
	plain := r.throughput[i]
	w("- %s against %s, %s parts, bare loopback: throughput over HTTPS as a share of HTTP, and the client and server\n",
		r.https.server(), plain.server(), fmtBytes(plain.partSize))
	w("  CPU-s/GiB HTTPS added (the peers also change what they compute over HTTPS, see their settings):")
	sep := ""
	for _, m := range r.https.methods {
		p, ok := plain.method(m.key)
		if !ok {
			continue
		}
		w("%s %s %.0f%% (client %+.2f, server %+.2f)", sep, shortNames[m.key], 100*m.mbps/p.mbps,
			m.clientCPUPerGiB-p.clientCPUPerGiB, m.srvPerGiB-p.srvPerGiB)
		sep = ";"
	}
	w(".\n")
}

func (r *report) table() string {
	rows := r.rows()
	head := row{"#", "measurement", fmt.Sprintf("result (median of %d)", r.cfg.runs), "target", "status", ""}
	var b strings.Builder
	b.WriteString("| " + head.section + " | " + head.what + " | " + head.result + " | " + head.target + " | " + head.status + " |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, x := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", x.section, x.what, x.result, x.target, x.status)
	}
	return b.String()
}

// settings lists what each peer sent to each server, as it reported.
func (r *report) settings(w func(string, ...any)) {
	seen := map[string]bool{}
	for _, tp := range r.comparisons() {
		for _, m := range tp.methods {
			if m.settings == "" || seen[tp.server()+m.key] {
				continue
			}
			seen[tp.server()+m.key] = true
			w("   - %s against %s: %s.\n", m.name, tp.server(), m.settings)
		}
	}
}

func (r *report) markdown() string {
	c := r.cfg
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("<!-- Generated by scripts/bench.sh (cmd/obsbench); do not edit. Regenerate with `make bench`. -->\n\n")
	w("Measured side by side in one run against the local OBS server (`cmd/obslocal`) and versitygw (an independent S3\n")
	w("server), each a separate process on loopback storing the objects in %s. Each figure is the median of %d runs; MB/s is\n", r.serverData, c.runs)
	w("10^6 bytes per second. Only ratios measured in the same run are meaningful: client and server share the machine's cores.\n\n")
	w("- Command: `%s`\n", c.command)
	w("- Date: %s (took %s)\n", r.started.Format(time.RFC3339), r.elapsed.Round(time.Second))
	w("- Machine: %d CPUs (`nproc`), %s, Linux %s; %s; %s\n", runtime.NumCPU(), cpuModel(), readTrim("/proc/sys/kernel/osrelease"),
		runtime.Version(), firstLine(r.terraformVersion))
	w("- Load average at start: %s (the machine may be shared; see the per-run numbers below)\n", r.loadStart)
	w("- Parameters: BENCH_SIZE=%s BENCH_HASH_SIZE=%s BENCH_RUNS=%d BENCH_CONCURRENCY=%d BENCH_PART_SIZES=%s BENCH_PLAN_RESOURCES=%d BENCH_PLAN_FILE_SIZE=%s BENCH_NET_MBPS=%d\n\n",
		joinSizes([]int64{c.size}), joinSizes([]int64{c.hashSize}), c.runs, c.conc, joinSizes(c.partSizes), c.planN, joinSizes([]int64{c.planFileSize}), c.netBPS/1e6)
	w("## Results\n\n")
	b.WriteString(r.table())
	w("\n")
	missed(r.rows(), w)
	w("## How each row is measured\n\n")
	w("1. **Upload throughput.** One %s file of random bytes, page cache warm, uploaded to the same server by every\n", fmtBytes(c.size))
	w("   method, interleaved and rotated each run; every method initiates, sends all parts and completes, and the object\n")
	w("   is checked (HEAD size) and deleted after each run. *Ceiling*: `internal/obs` UploadPart of pre-sliced parts by\n")
	w("   %d errgroup workers, no hashing, no Content-MD5. *Engine, part MD5s from the plan*: `upload.Upload` given the\n", c.conc)
	w("   part MD5s `upload.SumFile` computed for the file and part size (once, before the runs), as the provider's apply is\n")
	w("   given those its plan computed: it sends every part with its Content-MD5 and reads each byte once, to send it.\n")
	w("   *Engine, hashing at apply*: `upload.Upload` alone (a saved plan applied elsewhere, a changed part size): it hashes\n")
	w("   parts ahead of the workers, the first alone and then up to 16 at a time on the SIMD lanes of\n")
	w("   `github.com/minio/md5-simd`, reading each byte twice. *SDK UploadFile*: `obs.UploadFileInput` with the same part\n")
	w("   size and `TaskNum`, `EnableCheckpoint: false`; it sends no checksum. *Ceiling + Content-MD5*: the ceiling's loop,\n")
	w("   each worker hashing its part with `crypto/md5` before sending it. These sign with the native OBS signature\n")
	w("   against obslocal; against versitygw the ceiling and the engine sign SigV4 (unsigned payload, path style), as the\n")
	w("   provider does with `signature = \"v4\"`. *Peers*: `cmd/obsbench/peers` (its own Go module, so the provider's\n")
	w("   go.mod has none of their dependencies), run as a subprocess per upload with the same file, part size and\n")
	w("   concurrency, SigV4 over path-style addressing; the upload is timed inside it (process start-up excluded):\n")
	r.settings(w)
	w("   Client CPU is getrusage of the uploading process (obsbench, or the peers process) around the upload; server CPU\n")
	w("   is utime+stime of the server process; both per GiB uploaded. *Client read* is rchar of /proc/PID/io around\n")
	w("   the upload (every read(2) and pread(2), the server's responses included) ÷ file size. *First part* is how long\n")
	w("   after InitiateMultipartUpload returned the engine called its first UploadPart. The *network-bound* rows repeat\n")
	w("   the obslocal comparison with %s parts while the server reads every UploadPart body at no more than %.0f MB/s\n", fmtBytes(c.netPartSize), float64(c.netBPS)/1e6)
	w("   per connection (`BENCH_NET_MBPS`), as a link to a remote server would: there the CPU has room and the link is\n")
	w("   the limit. The *HTTPS* rows repeat the bare-loopback comparison with %s parts against a second obslocal\n", fmtBytes(c.netPartSize))
	w("   process serving TLS with a certificate of a CA of its own (`-tls-self-signed`): our client and the SDK trust that\n")
	w("   CA as the provider's `ca_file` makes it, the peers are given its file (`-ca-file`). Over HTTPS minio-go sends unsigned\n")
	w("   payloads by default; the aws manager would send every part aws-chunked with a trailing CRC32, which obslocal does\n")
	w("   not take, so it is told to compute checksums only where an operation requires one (`RequestChecksumCalculation`\n")
	w("   when_required). Every client's CPU includes its TLS encryption, the server's its decryption, as users pay them;\n")
	w("   no targets apply there, the ratios are reported.\n")
	w("2. **Hashing.** `BenchmarkHashSource` in `internal/provider/hash_bench_test.go` calls the provider's own\n")
	w("   `hashSource` on a %s file: one pass computing the SHA-256 and the MD5 of every %s part (`upload.SumFile`: one\n", fmtBytes(c.hashSize), fmtBytes(c.netPartSize))
	w("   goroutine reads the file ahead of the SHA-256; the part MD5s run on md5-simd lanes, up to 256 MiB of parts at a\n")
	w("   time once the read has passed them, reading them again from the page cache: the last batch is hashed after the\n")
	w("   read ends). `BenchmarkHashSourceSHA256Only` is the same pass without part MD5s. `sha256sum` and `openssl dgst\n")
	w("   -sha256` hash the same file; runs interleaved after one warming read; CPU-s/GiB is the process's user+system\n")
	w("   time. `BenchmarkResolveSourceFingerprintHit` calls `resolveSource` with the record private state holds and fails\n")
	w("   if a byte is hashed. The whole-`terraform plan` row is the wall time of `terraform plan` in the 1-resource\n")
	w("   directory of row 3 right after its apply (process start-up, provider start, refresh HEAD and ModifyPlan).\n")
	w("3. **Memory.** `terraform apply` with the built provider (dev_overrides for registry.terraform.io/obsprovider/obs),\n")
	w("   fresh state each run; VmHWM of every `terraform-provider-obs` child of terraform is sampled every 20 ms and the\n")
	w("   largest is reported. The apply includes plan-time hashing of the file.\n")
	w("4. **Resume.** The engine is cancelled once half the bytes are done; the server's parts are listed (*missing* =\n")
	w("   file size − bytes the server holds), then the engine resumes from the record it returned. *Sent* is the\n")
	w("   UploadPart body bytes the server received during the resumed run (admin endpoint `/__obslocal/stats`).\n")
	w("5. **Plan scale.** %d resources, each a distinct %s file, applied once; then `terraform plan` is timed (exit code 0:\n", c.planN, fmtBytes(c.planFileSize))
	w("   no changes). The marginal figure subtracts the 1-resource plan of row 2.\n")
	w("6. **Whole apply.** `terraform apply -auto-approve` of one new resource (the %s file, %s parts, concurrency %d)\n", fmtBytes(c.size), fmtBytes(c.netPartSize), c.conc)
	w("   in a fresh directory with the provider's hash cache emptied, so the plan hashes the file (SHA-256 and part MD5s)\n")
	w("   and the apply sends with the plan's MD5s, against obslocal (native OBS signature, path style); interleaved with\n")
	w("   the peers run as whole processes (start to exit) against the same server, on the bare loopback and network-bound.\n")
	w("   CPU-s/GiB of the apply is terraform's user+system time including the provider processes it waited for.\n")
	w("7. **Bandwidth cap.** %d uploads of the %s file at once through the engine (`upload.Upload` hashing at apply,\n",
		bandwidthUploads, fmtBytes(c.size))
	w("   %s parts, %d workers each) sharing one `upload.Bandwidth` of %s/s (64 MiB/s, or less so that they take ten\n",
		fmtBytes(c.netPartSize), c.conc, fmtBytes(bandwidthCap(c.size, bandwidthUploads)))
	w("   seconds at least), as the objects of one provider share its `max_bandwidth`, against obslocal over HTTP on the\n")
	w("   bare loopback; the rate is the bytes of all the uploads ÷ the wall time from the start to the last complete, each\n")
	w("   run. Then once through terraform: `terraform apply` of a saved plan of %d new resources of the file, the provider's\n", bandwidthUploads)
	w("   `max_bandwidth` set to the cap; the plan (which hashes the file) is not timed, terraform's and the provider's\n")
	w("   start-up and the state written are. The cap holds when the rate is within ±10%% of it: above, the cap lets\n")
	w("   through more than it should; below, it is lost throughput.\n\n")

	r.throughputReading(w)
	if len(r.throughput) > 0 {
		w("## Part size\n\n")
		w("| part size | engine MB/s (MD5s from the plan) | engine %% of ceiling | engine client CPU-s/GiB | engine hashing at apply MB/s | worst-case resend on resume (%d workers) | parts for 1 GiB | largest file before the part size grows |\n", c.conc)
		w("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, tp := range r.throughput {
			eng, _ := tp.method(mEngine)
			hashing, _ := tp.method(mEngineHash)
			ceil, _ := tp.method(mCeiling)
			w("| %s | %.0f | %.0f%% | %.2f | %.0f | %s | %d | %s |\n", fmtBytes(tp.partSize), eng.mbps, 100*eng.mbps/ceil.mbps, eng.clientCPUPerGiB,
				hashing.mbps, fmtBytes(int64(c.conc)*tp.partSize), (gib+tp.partSize-1)/tp.partSize, fmtBytes(10000*tp.partSize))
		}
		for _, m := range r.memory {
			w("\nPeak provider RSS with %s parts: %.1f MiB.", fmtBytes(m.partSize), float64(median(m.peaks))/mib)
		}
		w("\n\n")
	}
	w("## Per-run numbers\n\n")
	for _, tp := range append(r.comparisons(), r.e2e...) {
		for _, m := range tp.methods {
			w("- %s, %s, %s parts, %s:", tp.server(), tp.regime(), fmtBytes(tp.partSize), m.name)
			for _, s := range m.runs {
				w(" %.0f MB/s (client %.2f s, server %.2f s);", float64(c.size)/s.wall.Seconds()/1e6, s.clientCPU.Seconds(), s.serverCPU.Seconds())
			}
			w("\n")
		}
	}
	w("- hashSource (SHA-256 and part MD5s): %s\n- hashSource (SHA-256 only): %s\n- sha256sum: %s\n- openssl dgst -sha256: %s\n- resolveSource hit: %s\n",
		timeds(r.hashOurs), timeds(r.hashSHAOnly), timeds(r.sha256sum), timeds(r.openssl), durs(r.resolveHit))
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
	for _, b := range []struct {
		what string
		rs   []bandwidthResult
	}{{"engine", r.bandwidth}, {"terraform apply", r.bandwidthTF}} {
		w("- bandwidth cap, %s:", b.what)
		for _, x := range b.rs {
			w(" %s/s in %s (%+.1f%%);", fmtBytes(int64(x.rate())), fmtDur(x.wall), 100*x.deviation())
		}
		w("\n")
	}
	return b.String()
}

func timeds(ts []timed) string {
	var s []string
	for _, t := range ts {
		s = append(s, fmt.Sprintf("%s (CPU %s)", fmtDur(t.wall), fmtDur(t.cpu)))
	}
	return strings.Join(s, ", ")
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

func timeCmd(name string, args ...string) (timed, error) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	err := cmd.Run()
	t := timed{wall: time.Since(t0)}
	if cmd.ProcessState != nil {
		t.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return t, err
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+([0-9.]+) ns/op`)

// goBench runs one benchmark of the provider's test binary on path (part
// MD5s of partSize) and returns its time per operation and the CPU time of
// the test process (which, with benchtime 1x, is one operation's and the
// binary's start-up).
func goBench(testBin, path string, partSize int64, name, benchtime string) (timed, error) {
	cmd := exec.Command(testBin, "-test.run", "^$", "-test.bench", "^"+name+"$", "-test.benchtime", benchtime, "-test.count", "1")
	cmd.Env = append(os.Environ(), "OBS_BENCH_HASH_FILE="+path, "OBS_BENCH_PART_SIZE="+strconv.FormatInt(partSize, 10))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return timed{}, fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if m := benchLine.FindStringSubmatch(sc.Text()); m != nil && strings.HasPrefix(m[1], name) {
			ns, err := strconv.ParseFloat(m[2], 64)
			return timed{wall: time.Duration(ns), cpu: cpu}, err
		}
	}
	return timed{}, fmt.Errorf("%s: no result in output:\n%s", name, out)
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
