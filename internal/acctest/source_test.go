package acctest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
)

// The same seed gives the same bytes, another seed others, and the file
// writer writes exactly PseudoRandom's bytes.
func TestPseudoRandom(t *testing.T) {
	a, b := PseudoRandom(100_000, 1), PseudoRandom(100_000, 2)
	if !bytes.Equal(a, PseudoRandom(100_000, 1)) {
		t.Fatal("seed 1 gave different bytes twice")
	}
	if bytes.Equal(a[:64], b[:64]) {
		t.Fatal("seeds 1 and 2 gave the same bytes")
	}
	if z := PseudoRandom(64, 0xFFFFFFFF); bytes.Equal(z, make([]byte, 64)) {
		t.Fatal("a seed gave only zeros")
	}
	p, sum := WriteSource(t, t.TempDir(), "src.bin", len(a), 1)
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(a)
	if !bytes.Equal(got, a) || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("WriteSource wrote %d bytes (SHA-256 %s), want PseudoRandom's %d", len(got), sum, len(a))
	}
}
