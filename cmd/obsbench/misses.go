//go:build linux

package main

import (
	"fmt"
	"runtime"
	"strings"
)

// Why a target was missed, from the run's own figures: every MISS row of
// the table carries a reason computed from what was measured beside it
// (run-to-run spread, CPU per GiB on each side, the hashing rate), and the
// report lists them under "Targets missed".

// runRange returns the slowest and the fastest run of m in MB/s.
func runRange(m methodResult, size int64) (lo, hi float64) {
	for i, s := range m.runs {
		v := float64(size) / s.wall.Seconds() / 1e6
		if i == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	return lo, hi
}

// whyBehind says why the engine fell short of its target against other (a
// peer, the SDK or the ceiling, called name) in one comparison. sends, when
// not "", says how the engine's requests differ from other's by
// construction (what each method sends, not a measurement).
func whyBehind(eng, other methodResult, size int64, name, sends string) string {
	elo, ehi := runRange(eng, size)
	olo, ohi := runRange(other, size)
	if olo <= eng.mbps && eng.mbps <= ohi && elo <= other.mbps && other.mbps <= ehi {
		return fmt.Sprintf("a tie within the run-to-run spread: each median lies within the other's runs (the engine's %.0f–%.0f MB/s, "+
			"%s's %.0f–%.0f MB/s)", elo, ehi, name, olo, ohi)
	}
	if d := eng.srvPerGiB - other.srvPerGiB; d > 0.1 {
		why := fmt.Sprintf("the server spent %.2f CPU-s/GiB more on the engine's uploads than on %s's (%.2f against %.2f), "+
			"and client and server share the machine's %d cores", d, name, eng.srvPerGiB, other.srvPerGiB, runtime.NumCPU())
		if sends != "" {
			why += "; " + sends
		}
		return why
	}
	if d := eng.clientCPUPerGiB - other.clientCPUPerGiB; d > 0.1 {
		return fmt.Sprintf("the engine spent %.2f client CPU-s/GiB more than %s (%.2f against %.2f)", d, name, eng.clientCPUPerGiB, other.clientCPUPerGiB)
	}
	return fmt.Sprintf("not explained by this run's figures: CPU per GiB is alike on both sides, and the runs spread "+
		"(the engine's %.0f–%.0f MB/s, %s's %.0f–%.0f MB/s; see the per-run numbers)", elo, ehi, name, olo, ohi)
}

// whyHashing says why the plan's pass (ours: SHA-256 and part MD5s) fell
// short of its target against openssl, given the same pass without part
// MD5s (shaOnly).
func whyHashing(ours, shaOnly, ssl timed) string {
	alone := ssl.wall.Seconds() / shaOnly.wall.Seconds()
	if alone < targetOpenSSL {
		return fmt.Sprintf("the pass's SHA-256 alone (the same pass without part MD5s) reaches %.2f× openssl, below the target too: "+
			"one SHA-256 is sequential, so the pass cannot be faster than Go's crypto/sha256 is here; the part MD5s "+
			"add %+.1f%% to the pass", alone, 100*(ours.wall.Seconds()/shaOnly.wall.Seconds()-1))
	}
	return fmt.Sprintf("the part MD5s slow the pass by %+.1f%%: its SHA-256 alone reaches %.2f× openssl",
		100*(ours.wall.Seconds()/shaOnly.wall.Seconds()-1), alone)
}

// whyWholeApply says why a whole terraform apply (tf) fell short of its
// target against peer, given the plan's hashing rate (MB/s) over the same
// file: the plan hashes a new file before the apply may send a byte.
func whyWholeApply(tf, peer methodResult, size int64, hashMBps float64) string {
	whole := float64(size) / tf.mbps / 1e6
	hash := float64(size) / hashMBps / 1e6
	other := float64(size) / peer.mbps / 1e6
	if hashMBps <= 0 {
		return "not explained by this run's figures (no hashing rate measured)"
	}
	if hash >= whole {
		return fmt.Sprintf("not explained by this run's figures: hashing the file at row 2's rate (%.2f s) would take as long as the whole apply (%.2f s)", hash, whole)
	}
	return fmt.Sprintf("the plan reads and hashes the new file before the apply may send a byte (the hash is part of the plan): at "+
		"row 2's rate that is %.2f s of the apply's %.2f s; the rest, %.2f s, is %.2f× the %.2f s of %s", hash, whole, whole-hash,
		other/(whole-hash), other, peer.name)
}

// missed writes the Targets missed section: each MISS row with its reason.
func missed(rows []row, w func(string, ...any)) {
	var miss []row
	for _, x := range rows {
		if x.status == "MISS" {
			miss = append(miss, x)
		}
	}
	if len(miss) == 0 {
		return
	}
	w("## Targets missed\n\n")
	for _, x := range miss {
		result, _, _ := strings.Cut(x.result, ";")
		why := x.why
		if why == "" {
			why = "not analysed by the report; see the per-run numbers"
		}
		w("- %s. %s: %s (target %s). Why: %s.\n", x.section, x.what, result, x.target, why)
	}
	w("\n")
}
