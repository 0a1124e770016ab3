package upload

import (
	"context"
	"os"
	"runtime"
	"testing"
)

// BenchmarkUpload measures the engine against the in-memory fake (which reads
// every body but stores nothing), so MB/s is the engine's own ceiling: each
// byte is read twice, once to hash and once to send. B/op must not grow with
// the part size.
func BenchmarkUpload(b *testing.B) {
	const size = 128 << 20
	path, _ := writeFile(b, size, 42)
	for _, bc := range []struct {
		name     string
		partSize int64
	}{{"part=8MiB", 8 << 20}, {"part=64MiB", 64 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFake()
			f.trustMD5 = true
			in := input(path, bc.partSize)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Upload(context.Background(), f, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMemoryIndependentOfPartSize uploads one 64 MiB part and checks that the
// engine allocated far less than the part: nothing buffers a whole part.
func TestMemoryIndependentOfPartSize(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB of hashing")
	}
	const size = 64 << 20
	path := sparseFile(t, size)
	f := newFake()
	f.trustMD5 = true
	var alloc [2]uint64
	for i, ps := range []int64{1 << 20, size} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		out, _, err := Upload(context.Background(), f, input(path, ps))
		runtime.ReadMemStats(&after)
		if err != nil || out.Layout.Parts != int(size/ps) {
			t.Fatalf("part size %d: %v, layout %+v", ps, err, out.Layout)
		}
		alloc[i] = after.TotalAlloc - before.TotalAlloc
		t.Logf("%d parts of %d bytes: %d bytes allocated", out.Layout.Parts, ps, alloc[i])
	}
	if alloc[1] > 4<<20 || alloc[1] > alloc[0] {
		t.Fatalf("one 64 MiB part allocated %d bytes (64 parts of 1 MiB: %d)", alloc[1], alloc[0])
	}
}

// BenchmarkSumFile is the plan-time pass over a 256 MiB file (page cache
// warm): the SHA-256 alone (no valid layout), then with the MD5 of every part
// for several part sizes. The MD5s should cost little wall time where a
// second core is free.
func BenchmarkSumFile(b *testing.B) {
	const size = 256 << 20
	path, _ := writeFile(b, size, 43)
	fp, err := StatFingerprint(path)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, bc := range []struct {
		name     string
		partSize int64
	}{{"sha256-only", 1}, {"part=9MiB", 9 << 20}, {"part=16MiB", 16 << 20}, {"part=64MiB", 64 << 20}, {"single-put", 512 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if _, err := SumFile(context.Background(), f, fp, bc.partSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
