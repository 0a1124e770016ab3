package upload

import (
	"bytes"
	"crypto/md5"
	"math/rand"
	"sync"
	"testing"
)

// TestHashRangeSIMDMatchesMD5 hashes many ranges of odd sizes at the same
// time, as hashAhead does, and compares each with crypto/md5.
func TestHashRangeSIMDMatchesMD5(t *testing.T) {
	data := make([]byte, 8<<20)
	rand.New(rand.NewSource(7)).Read(data)
	r := bytes.NewReader(data)
	rng := rand.New(rand.NewSource(8))
	type span struct{ off, size int64 }
	spans := []span{{0, 1}, {0, 63}, {1, 64}, {3, 65}, {0, 32 << 10}, {5, 32<<10 + 1}, {0, int64(len(data))}}
	for range 40 {
		off := rng.Int63n(int64(len(data)))
		spans = append(spans, span{off, 1 + rng.Int63n(int64(len(data))-off)})
	}
	var wg sync.WaitGroup
	for _, sp := range spans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := hashRangeSIMD(r, sp.off, sp.size)
			if want := md5.Sum(data[sp.off : sp.off+sp.size]); err != nil || got != want {
				t.Errorf("range %d+%d: %x, %v; want %x", sp.off, sp.size, got, err, want)
			}
		}()
	}
	wg.Wait()
	if _, err := hashRangeSIMD(r, int64(len(data))-10, 20); err == nil {
		t.Error("a range past the end hashed without error")
	}
}

func TestHashBatch(t *testing.T) {
	for _, c := range []struct {
		partSize int64
		want     int
	}{{MinPartSize, hashLanes}, {16 << 20, hashLanes}, {64 << 20, 8}, {512 << 20, 1}, {5 << 30, 1}} {
		if got := hashBatch(c.partSize); got != c.want {
			t.Errorf("hashBatch(%d) = %d, want %d", c.partSize, got, c.want)
		}
	}
}

func TestMultipartETagParts(t *testing.T) {
	for etag, want := range map[string]int{
		"0123456789abcdef0123456789abcdef-12":  12,
		`"0123456789abcdef0123456789abcdef-3"`: 3,
		"0123456789abcdef0123456789abcdef":     0,
		"0123456789abcdef0123456789abcdef-":    0,
		"0123456789abcdef0123456789abcdef-x":   0,
		"":                                     0,
	} {
		if got := MultipartETagParts(etag); got != want {
			t.Errorf("MultipartETagParts(%q) = %d, want %d", etag, got, want)
		}
	}
}

// InferPartSize returns the default part size when it gives the object's
// part count, and otherwise a part size that splits the object into that
// many parts.
func TestInferPartSize(t *testing.T) {
	if got := InferPartSize(100<<20, 0); got != DefaultPartSize {
		t.Errorf("no parts: %d, want the default %d", got, int64(DefaultPartSize))
	}
	for _, c := range []struct {
		size int64
		n    int
	}{{100 << 20, 12}, {100 << 20, 7}, {100 << 20, 2}, {1 << 30, 64}, {3<<20 + 17, 30}, {50 << 30, 10000}} {
		got := InferPartSize(c.size, c.n)
		if c.n == 12 && got != DefaultPartSize {
			t.Errorf("InferPartSize(%d, %d) = %d, want the default %d", c.size, c.n, got, int64(DefaultPartSize))
		}
		l, err := PlanParts(c.size, got)
		if err != nil || l.Parts != c.n {
			t.Errorf("InferPartSize(%d, %d) = %d, which plans %d parts (%v)", c.size, c.n, got, l.Parts, err)
		}
	}
}
