//go:build linux

package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// soakCounts are a run's figures.
type soakCounts struct {
	cycles, setups, applies, maxAttempts int
	triggers                             map[trigger]int
	// interruptions that landed (the apply had not finished), that came
	// after the apply had done its work (it exited 0), and whose moment
	// never came (the apply ended first).
	interruptions, late, missed map[interruptKind]int
	faults                      map[string]int
	changes                     map[sourceChange]int
	expired, restarts           int
	// lostInitiates are the empty uploads a dropped Initiate response left
	// (documented: a lifecycle rule removes them).
	lostInitiates int
	// Bytes sent beyond the object's size over the cycles where that is
	// measurable, and the sum of their bounds.
	measured      int
	resent, bound int64
	violations    int
}

func newSoakCounts() *soakCounts {
	return &soakCounts{triggers: map[trigger]int{}, interruptions: map[interruptKind]int{}, late: map[interruptKind]int{},
		missed: map[interruptKind]int{}, faults: map[string]int{}, changes: map[sourceChange]int{}}
}

func countList[K ~string](m map[K]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// summary is the figures in a few lines.
func (c *soakCounts) summary(seed uint64) string {
	ratio := "n/a"
	if c.bound > 0 {
		ratio = fmt.Sprintf("%.2f", float64(c.resent)/float64(c.bound))
	}
	return fmt.Sprintf("%d cycles (seeds %d–%d), %d applies (at most %d after one interruption), %d setup applies\n"+
		"interruptions landed: %d (%s); after the work was done: %d; moment never came: %d\n"+
		"faults injected: %d (%s); uploads aborted behind the provider's back: %d; server restarts: %d; source changes: %s\n"+
		"bytes re-sent ÷ bound over %d measurable cycles: %d ÷ %d = %s\n"+
		"invariant violations: %d",
		c.cycles, seed, seed+uint64(max(c.cycles, 1))-1, c.applies, c.maxAttempts, c.setups,
		sum(c.interruptions), countList(c.interruptions), sum(c.late), sum(c.missed),
		sum(c.faults), countList(c.faults), c.expired, c.restarts, countList(c.changes),
		c.measured, c.resent, c.bound, ratio, c.violations)
}

// report is the figures as the soak's report table (acctest.SoakTable: the
// fragment make soak writes into docs/resilience.md, and what the test logs).
func (c *soakCounts) report(seed uint64, planned int) string {
	ratio := "n/a"
	if c.bound > 0 {
		ratio = fmt.Sprintf("%.2f", float64(c.resent)/float64(c.bound))
	}
	return acctest.SoakTable("terraform soak", [][2]string{
		{"what it ran", fmt.Sprintf("%d of %d cycles (seeds %d–%d); replay one: `%s`", c.cycles, planned, seed,
			seed+uint64(planned)-1, replayCommand(seed, 1))},
		{"cycle triggers", countList(c.triggers)},
		{"terraform applies", fmt.Sprintf("%d (+ %d setup applies); at most %d after one interruption", c.applies, c.setups, c.maxAttempts)},
		{"faults injected", fmt.Sprintf("%d: %s", sum(c.faults), countList(c.faults))},
		{"open uploads aborted behind the provider's back (NoSuchUpload)", fmt.Sprint(c.expired)},
		{"server restarts", fmt.Sprint(c.restarts)},
		{"interruptions", fmt.Sprintf("%d landed: %s; %d after the work was done (exit 0); %d whose moment never came",
			sum(c.interruptions), countList(c.interruptions), sum(c.late), sum(c.missed))},
		{"source changes after an interruption", countList(c.changes)},
		{"bytes re-sent ÷ bound", fmt.Sprintf("%d ÷ %d = %s over %d measurable cycles", c.resent, c.bound, ratio, c.measured)},
		{"open uploads left", fmt.Sprintf("%d empty uploads left by a lost Initiate response (documented; removed as a lifecycle rule would); none otherwise", c.lostInitiates)},
		{"invariant violations", fmt.Sprint(c.violations)},
	})
}
