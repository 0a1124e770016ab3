package acctest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteSoakReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	t.Setenv(SoakReportDirEnv, dir)
	if err := WriteSoakReport("engine", "| engine soak | |"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "engine.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "| engine soak | |\n"; string(got) != want {
		t.Errorf("engine.md = %q, want %q", got, want)
	}
	for _, name := range []string{"", "../engine", "a/b", ".hidden"} {
		if err := WriteSoakReport(name, "x"); err == nil {
			t.Errorf("WriteSoakReport(%q) = nil, want an error", name)
		}
	}
}

func TestWriteSoakReportUnset(t *testing.T) {
	t.Setenv(SoakReportDirEnv, "")
	wd := t.TempDir()
	t.Chdir(wd)
	if err := WriteSoakReport("engine", "x"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(wd); len(entries) != 0 {
		t.Errorf("wrote %v with %s unset", entries, SoakReportDirEnv)
	}
}

func TestSoakTable(t *testing.T) {
	got := SoakTable("engine soak", [][2]string{{"what it ran", "3 iterations"}, {"faults | kinds", "a\nb"}})
	want := "| engine soak | |\n| --- | --- |\n| what it ran | 3 iterations |\n| faults \\| kinds | a b |\n"
	if got != want {
		t.Errorf("SoakTable =\n%s\nwant\n%s", got, want)
	}
}
