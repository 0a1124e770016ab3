package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// The Soak section of docs/resilience.md is written by make soak
// (scripts/soak.sh) from the soaks' figures, on lines of their own between
// these markers; writeDocs regenerates the rest of the file and keeps the
// section as it is, at the end.
const (
	soakBegin = "<!-- soak:begin -->"
	soakEnd   = "<!-- soak:end -->"
)

// soakSection returns the Soak section of doc, from the line of its begin
// marker through the line of its end marker, or "" when doc has none.
func soakSection(doc string) (string, error) {
	nb, ne := strings.Count(doc, soakBegin), strings.Count(doc, soakEnd)
	switch {
	case nb == 0 && ne == 0:
		return "", nil
	case nb != 1 || ne != 1:
		return "", fmt.Errorf("want one %s and one %s, found %d and %d", soakBegin, soakEnd, nb, ne)
	}
	b, e := strings.Index(doc, soakBegin), strings.Index(doc, soakEnd)
	if e < b {
		return "", fmt.Errorf("%s comes before %s", soakEnd, soakBegin)
	}
	b = strings.LastIndex(doc[:b], "\n") + 1 // the start of the begin marker's line
	e += len(soakEnd)
	if n := strings.Index(doc[e:], "\n"); n >= 0 {
		e += n // the end of the end marker's line
	} else {
		e = len(doc)
	}
	return doc[b:e], nil
}

// keepSoakSection returns generated, the regenerated file, followed by the
// Soak section of old, the file it replaces, when old has one.
func keepSoakSection(old, generated string) (string, error) {
	section, err := soakSection(old)
	if err != nil || section == "" {
		return generated, err
	}
	return strings.TrimRight(generated, "\n") + "\n\n" + section + "\n", nil
}

// readOld returns the file at path, or "" when there is none.
func readOld(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}
