package upload

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// soakReport counts what a soak run did, for the report table it logs at
// the end and writes for docs/resilience.md (markdown).
type soakReport struct {
	trace                  bool // log every run (a replay of one seed)
	mu                     sync.Mutex
	firstSeed, lastSeed    int64
	iterations, attempts   int
	failedAttempts         int
	faults, events         map[string]int
	resent, bound          int64 // bytes sent beyond the file, and the bound on them
	worst                  float64
	worstSeed              int64
	killedLeft, initLeft   int // open uploads left for a lifecycle rule, by cause
	violations             int
	elapsed                time.Duration
	seeds                  []int64 // failing seeds
	singlePutSizes         int
	maxSize, maxConcurrent int64
}

func newSoakReport(first int64) *soakReport {
	return &soakReport{firstSeed: first, lastSeed: first - 1, faults: map[string]int{}, events: map[string]int{}}
}

func (r *soakReport) fault(kind string) {
	r.mu.Lock()
	r.faults[kind]++
	r.mu.Unlock()
}

func (r *soakReport) event(kind string) {
	r.mu.Lock()
	r.events[kind]++
	r.mu.Unlock()
}

// resend adds one iteration's bytes re-sent and their bound.
func (r *soakReport) resend(seed, excess, bound int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resent += max(0, excess)
	r.bound += bound
	if bound > 0 {
		if q := float64(excess) / float64(bound); q > r.worst {
			r.worst, r.worstSeed = q, seed
		}
	}
}

func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// markdown renders the run as the soak's report table (the fragment
// contract of acctest.SoakReportDirEnv): logged at the end of the run and,
// under make soak, written to $SOAK_REPORT_DIR/engine.md.
func (r *soakReport) markdown() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ratio := 0.0
	if r.bound > 0 {
		ratio = float64(r.resent) / float64(r.bound)
	}
	failing := "none"
	if len(r.seeds) > 0 {
		failing = fmt.Sprint(r.seeds)
	}
	return acctest.SoakTable("engine soak", [][2]string{
		{"what it ran", fmt.Sprintf("%d iterations in %s, seeds %d–%d (replay one: `%s`)",
			r.iterations, r.elapsed.Round(time.Second), r.firstSeed, r.lastSeed, soakReplay("N"))},
		{"what the iterations drew", fmt.Sprintf("%d Upload runs; files of 0 B to %s, %d of them a single PUT; up to %d parts in flight",
			r.attempts, FormatBytes(r.maxSize), r.singlePutSizes, r.maxConcurrent)},
		{"faults injected", fmt.Sprintf("%d: %s", sumCounts(r.faults), counts(r.faults))},
		{"interruptions and changes", fmt.Sprintf("%d: %s", sumCounts(r.events), counts(r.events))},
		{"runs that returned an error", fmt.Sprint(r.failedAttempts)},
		{"bytes re-sent ÷ bound", fmt.Sprintf("%s ÷ %s = %.3f (worst iteration %.3f, seed %d); bound: one part per worker per interruption, one part per fault on a part",
			FormatBytes(r.resent), FormatBytes(r.bound), ratio, r.worst, r.worstSeed)},
		{"open uploads left for a lifecycle rule", fmt.Sprintf("%d (uploads of killed runs that discovery could not prove ours: %d; lost Initiate responses: %d)",
			r.killedLeft+r.initLeft, r.killedLeft, r.initLeft)},
		{"invariant violations", fmt.Sprintf("%d (failing seeds: %s)", r.violations, failing)},
	})
}
