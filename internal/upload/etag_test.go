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
