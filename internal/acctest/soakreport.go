package acctest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SoakReportDirEnv names the directory a soak writes its figures to. make
// soak (scripts/soak.sh) sets it to a temporary directory and, when the soaks
// are done, writes the fragments found there into the Soak section of
// docs/resilience.md: engine.md first, then terraform.md.
//
// The fragment contract: at its end, passed or failed, a soak writes
// $SOAK_REPORT_DIR/<name>.md (WriteSoakReport) holding one two-column
// Markdown table (SoakTable) and nothing else — no heading, date or machine,
// which soak.sh adds once for all soaks. The header row names the soak
// ("engine soak"); the rows hold at least these figures, in this order (a
// soak may add rows of its own between them):
//
//	what it ran             iterations or cycles, duration, seed range, the command that replays one seed
//	faults injected         total, then the count of each kind
//	interruptions           total, then the count of each kind
//	bytes re-sent ÷ bound   total ratio, and the worst iteration or cycle with its seed
//	open uploads left       how many, and why each kind was left
//	invariant violations    how many (0 in a good run), and the failing seeds
//
// The same table is what the soak logs at its end, so a run without
// SOAK_REPORT_DIR shows the figures a report would hold.
const SoakReportDirEnv = "SOAK_REPORT_DIR"

// WriteSoakReport writes a soak's fragment, markdown, to
// $SOAK_REPORT_DIR/<name>.md; when SOAK_REPORT_DIR is unset or empty it
// writes nothing and returns nil. name is a plain file name ("engine",
// "terraform").
func WriteSoakReport(name, markdown string) error {
	dir := os.Getenv(SoakReportDirEnv)
	if dir == "" {
		return nil
	}
	if name == "" || filepath.Base(name) != name || strings.HasPrefix(name, ".") {
		return fmt.Errorf("soak report name %q: want a plain file name", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("soak report: %w", err)
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(markdown), 0o644); err != nil {
		return fmt.Errorf("soak report: %w", err)
	}
	return nil
}

// SoakTable renders a soak's figures as the fragment's table: a header row
// naming the soak, then one row per figure (label, value). A "|" or a line
// break in a cell is escaped, so a value cannot break the table.
func SoakTable(soak string, rows [][2]string) string {
	cell := strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ").Replace
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | |\n| --- | --- |\n", cell(soak))
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", cell(row[0]), cell(row[1]))
	}
	return b.String()
}
