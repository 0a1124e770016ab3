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

const mib = 1 << 20

func TestPartSizeRange(t *testing.T) {
	for _, c := range []struct {
		name   string
		size   int64
		n      int
		lo, hi int64
		ok     bool
	}{
		{"exact division", 3 * 8 * mib, 3, 8 * mib, 12*mib - 1, true},
		{"two and a half parts", 20 * mib, 3, 6*mib + 699051, 10*mib - 1, true},
		{"one byte over two parts", 2*8*mib + 1, 3, 5*mib + 349526, 8 * mib, true},
		{"one part", 7 * mib, 1, 7 * mib, 7 * mib, true},
		{"one part below the minimum", 1000, 1, 0, 0, false},
		{"single PUT", 7 * mib, 0, 7*mib + 1, MaxPartSize, true},
		{"single PUT of a tiny object", 10, 0, MinPartSize, MaxPartSize, true},
		{"parts below the minimum", 1 * mib, 20, 0, 0, false},
		{"more parts than bytes allow", 10 * mib, 200, 0, 0, false},
		{"too many parts", 100 * mib, MaxParts + 1, 0, 0, false},
		{"negative", -1, 2, 0, 0, false},
	} {
		lo, hi, ok := PartSizeRange(c.size, c.n)
		if ok != c.ok || ok && (lo != c.lo || hi != c.hi) {
			t.Errorf("%s: PartSizeRange(%d, %d) = %d, %d, %v; want %d, %d, %v", c.name, c.size, c.n, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
}

// InferPartSize returns the default when it gives the object's part count,
// else the roundest size that does; every answer cuts the object into that
// many parts.
func TestInferPartSize(t *testing.T) {
	for _, c := range []struct {
		name string
		size int64
		n    int
		want int64
	}{
		{"no parts: single PUT below the default", 100 << 10, 0, DefaultPartSize},
		{"single PUT above the default", 20 * mib, 0, 32 * mib},
		{"default", 100 * mib, 12, DefaultPartSize},
		{"default among others", 20 * mib, 3, DefaultPartSize},
		{"8 MiB parts dividing exactly", 10 * 8 * mib, 10, 8 * mib},
		{"8 MiB parts, last one short", 2*8*mib + 1, 3, 8 * mib},
		{"5 MiB parts", 5*5*mib + 3, 6, 5 * mib},
		{"64 MiB parts", 2*64*mib + 5*mib, 3, 64 * mib},
		{"64 MiB parts dividing exactly", 3 * 64 * mib, 3, 64 * mib},
		{"100 KiB parts", 350 << 10, 4, 100 << 10},
		{"1 KiB granularity", 11 * (150 << 10), 11, 150 << 10},
		{"one part", 7*mib + 5, 1, 7*mib + 5},
		{"grown layout", 100 << 30, 9310, DefaultPartSize}, // 9 MiB grows to 11 MiB
		{"inconsistent count", 1 * mib, 20, DefaultPartSize},
	} {
		got := InferPartSize(c.size, c.n)
		if got != c.want {
			t.Errorf("%s: InferPartSize(%d, %d) = %d, want %d", c.name, c.size, c.n, got, c.want)
		}
		if _, _, ok := PartSizeRange(c.size, c.n); ok && !ConsistentPartSize(c.size, c.n, got) {
			t.Errorf("%s: InferPartSize(%d, %d) = %d does not give %d parts", c.name, c.size, c.n, got, c.n)
		}
	}
}

func TestConsistentPartSize(t *testing.T) {
	for _, c := range []struct {
		size int64
		n    int
		p    int64
		want bool
	}{
		{3 * 8 * mib, 3, 8 * mib, true},
		{3 * 8 * mib, 3, 8*mib - 1, false}, // four parts
		{3 * 8 * mib, 3, 12*mib - 1, true},
		{3 * 8 * mib, 3, 12 * mib, false}, // two parts
		{7 * mib, 0, 7*mib + 1, true},
		{7 * mib, 0, 7 * mib, false}, // one multipart part
		{7 * mib, 1, 7 * mib, true},
		{7 * mib, 1, 8 * mib, false}, // a single PUT
		{3 * 8 * mib, 3, MinPartSize - 1, false},
		// A file too large for 10000 parts of 9 MiB: every smaller size
		// grows to the same 10 MiB parts.
		{10000*10*mib - 1, 10000, MinPartSize, true},
		{10000*10*mib - 1, 10000, DefaultPartSize, true},
	} {
		if got := ConsistentPartSize(c.size, c.n, c.p); got != c.want {
			t.Errorf("ConsistentPartSize(%d, %d, %d) = %v, want %v", c.size, c.n, c.p, got, c.want)
		}
	}
}

// FuzzInferPartSize: for any object PlanParts cuts, the requested size lies
// in PartSizeRange (unless grown), the range's ends are consistent and their
// neighbours are not, and the inferred size gives the same part count.
func FuzzInferPartSize(f *testing.F) {
	f.Add(int64(24*mib), int64(8*mib))
	f.Add(int64(20*mib), int64(5*mib))
	f.Add(int64(350<<10), int64(100<<10))
	f.Add(int64(7*mib), int64(9*mib))
	f.Add(int64(100<<30), int64(MinPartSize))
	f.Fuzz(func(t *testing.T, size, p int64) {
		if size < 0 || size > MaxObjectSize || p < MinPartSize || p > MaxPartSize {
			return
		}
		l, err := PlanParts(size, p)
		if err != nil {
			t.Fatalf("PlanParts(%d, %d): %v", size, p, err)
		}
		n := l.Parts
		if l.SinglePut {
			n = 0
		}
		if !ConsistentPartSize(size, n, p) {
			t.Fatalf("ConsistentPartSize(%d, %d, %d) = false for the size PlanParts used", size, n, p)
		}
		lo, hi, ok := PartSizeRange(size, n)
		if !ok {
			t.Fatalf("PartSizeRange(%d, %d) is empty, but %d gives %d parts", size, n, p, n)
		}
		if !l.Grown && (p < lo || p > hi) {
			t.Fatalf("PartSizeRange(%d, %d) = [%d, %d] misses %d", size, n, lo, hi, p)
		}
		for _, q := range []int64{lo, hi} {
			if !ConsistentPartSize(size, n, q) {
				t.Fatalf("PartSizeRange(%d, %d) = [%d, %d]: %d gives another count", size, n, lo, hi, q)
			}
		}
		if q := hi + 1; q <= MaxPartSize && ConsistentPartSize(size, n, q) {
			t.Fatalf("PartSizeRange(%d, %d) = [%d, %d]: %d fits too", size, n, lo, hi, q)
		}
		if q := lo - 1; q >= MinPartSize && !l.Grown && ConsistentPartSize(size, n, q) {
			if ql, _ := PlanParts(size, q); !ql.Grown {
				t.Fatalf("PartSizeRange(%d, %d) = [%d, %d]: %d fits too", size, n, lo, hi, q)
			}
		}
		if got := InferPartSize(size, n); !ConsistentPartSize(size, n, got) {
			t.Fatalf("InferPartSize(%d, %d) = %d gives another count", size, n, got)
		}
	})
}
