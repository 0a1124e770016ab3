package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testSoakSection = soakBegin + "\n## Soak\n\nRun on 2026-01-02.\n\n| engine soak | |\n| --- | --- |\n| invariant violations | 0 |\n" + soakEnd

func TestKeepSoakSection(t *testing.T) {
	generated := "# Resilience\n\n| Case |\n| --- |\n| new row |\n"
	for _, tc := range []struct{ name, old, want string }{
		{"no old file", "", generated},
		{"old file without a section", "# Resilience\n\n| old row |\n", generated},
		{"section at the end", "# Resilience\n\n| old row |\n\n" + testSoakSection + "\n", generated + "\n" + testSoakSection + "\n"},
		{"section without a final newline", "# Resilience\n\n" + testSoakSection, generated + "\n" + testSoakSection + "\n"},
		{"section in the middle", "# Resilience\n\n" + testSoakSection + "\n\n| old row |\n", generated + "\n" + testSoakSection + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keepSoakSection(tc.old, generated)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("keepSoakSection =\n%s\nwant\n%s", got, tc.want)
			}
			// Regenerating again changes nothing.
			if again, err := keepSoakSection(got, generated); err != nil || again != got {
				t.Errorf("regenerating again = %q, %v; want it unchanged", again, err)
			}
		})
	}
}

func TestKeepSoakSectionRefusesBrokenMarkers(t *testing.T) {
	for name, old := range map[string]string{
		"begin without end": "# R\n" + soakBegin + "\n## Soak\n",
		"end without begin": "# R\n## Soak\n" + soakEnd + "\n",
		"end before begin":  "# R\n" + soakEnd + "\n" + soakBegin + "\n",
		"two sections":      testSoakSection + "\n" + testSoakSection + "\n",
	} {
		if got, err := keepSoakSection(old, "# R\n"); err == nil {
			t.Errorf("%s: keepSoakSection = %q, nil; want an error", name, got)
		}
	}
}

// TestWriteDocsKeepsSoakSection: the generator, writing over a file that has
// a Soak section, regenerates the table and keeps the section byte for byte.
func TestWriteDocsKeepsSoakSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resilience.md")
	old := "# Resilience (old)\n\n| stale row |\n\n" + testSoakSection + "\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeDocs(path, 0); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "stale row") || !strings.HasPrefix(got, "# Resilience: what the provider guarantees") {
		t.Errorf("the table was not regenerated:\n%s", got)
	}
	if !strings.HasSuffix(got, "\n\n"+testSoakSection+"\n") || strings.Count(got, soakBegin) != 1 {
		t.Errorf("the Soak section was not kept at the end:\n%s", got)
	}
}
