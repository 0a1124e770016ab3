package acctest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// randomReader is a reproducible pseudo-random byte stream (xorshift32):
// the same seed gives the same bytes, and its period (2^32-1 bytes) is
// longer than any file the suites write.
type randomReader struct{ x uint32 }

func newRandomReader(seed uint32) *randomReader {
	x := seed*2654435761 + 1 // spreads neighbouring seeds apart
	if x == 0 {
		x = 1 // 0 is xorshift's fixed point
	}
	return &randomReader{x: x}
}

func (r *randomReader) Read(p []byte) (int, error) {
	x := r.x
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
	r.x = x
	return len(p), nil
}

// PseudoRandom returns n pseudo-random bytes from seed: the same seed gives
// the same bytes, another seed other bytes.
func PseudoRandom(n int, seed uint32) []byte {
	b := make([]byte, n)
	_, _ = newRandomReader(seed).Read(b)
	return b
}

// WriteRandomFile writes size pseudo-random bytes from seed (those of
// PseudoRandom) to path, replacing its content, in constant memory, and
// returns their hex SHA-256.
func WriteRandomFile(path string, size int64, seed uint32) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), newRandomReader(seed), size); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteSource writes n pseudo-random bytes from seed to dir/name and
// returns the path and the content's hex SHA-256.
func WriteSource(t testing.TB, dir, name string, n int, seed uint32) (path, sha256Hex string) {
	t.Helper()
	path = filepath.Join(dir, name)
	sum, err := WriteRandomFile(path, int64(n), seed)
	if err != nil {
		t.Fatalf("writing source %s: %v", path, err)
	}
	return path, sum
}
