package provider

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// benchSource returns the file to hash: $OBS_BENCH_HASH_FILE (make bench
// passes a 2 GiB file), else a 64 MiB temporary file.
func benchSource(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("OBS_BENCH_HASH_FILE"); p != "" {
		return p
	}
	p, _ := acctest.WriteSource(b, b.TempDir(), "src.bin", 64<<20, 1)
	// Let the file's timestamps age past the hash's trust window.
	time.Sleep(2 * fineDoubt)
	return p
}

// benchPartSize is the part size whose MD5s plan-time hashing computes:
// $OBS_BENCH_PART_SIZE bytes (make bench passes its own), else 16 MiB.
func benchPartSize(b *testing.B) int64 {
	b.Helper()
	v := os.Getenv("OBS_BENCH_PART_SIZE")
	if v == "" {
		return 16 << 20
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		b.Fatalf("OBS_BENCH_PART_SIZE=%q: %v", v, err)
	}
	return n
}

// BenchmarkHashSource is plan-time hashing of a new or changed file: the
// exact code path of ModifyPlan when no record is trusted, which computes
// the SHA-256 and the MD5 of every part in one pass.
func BenchmarkHashSource(b *testing.B) {
	benchHashSource(b, benchPartSize(b), true)
}

// BenchmarkHashSourceSHA256Only is the same pass without part MD5s (the
// path of a part size with no valid layout), to price the MD5s.
func BenchmarkHashSourceSHA256Only(b *testing.B) {
	benchHashSource(b, 1, false)
}

func benchHashSource(b *testing.B, partSize int64, wantParts bool) {
	path := benchSource(b)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		rec, err := hashSource(context.Background(), path, partSize)
		if err != nil {
			b.Fatal(err)
		}
		if (rec.parts != nil) != wantParts {
			b.Fatalf("part MD5s computed: %v, want %v", rec.parts != nil, wantParts)
		}
	}
}

// BenchmarkResolveSourceFingerprintHit is the plan of an unchanged file: the
// record from private state matches the file's fingerprint, so the file is
// not read. It fails if any byte is hashed.
func BenchmarkResolveSourceFingerprintHit(b *testing.B) {
	path := benchSource(b)
	fp, err := statSource(path)
	if err != nil {
		b.Fatal(err)
	}
	known := &sourceRecord{Fingerprint: fp, SHA256: strings.Repeat("0", 64), HashedAt: time.Now().UnixNano()}
	if !known.trustedFor(fp) {
		b.Fatalf("%s was modified within %s; the record would not be trusted", path, fineDoubt)
	}
	before := hashedBytes.Load()
	for b.Loop() {
		rec, hashed, err := resolveSource(context.Background(), path, known, benchPartSize(b))
		if err != nil || hashed || rec.SHA256 != known.SHA256 {
			b.Fatalf("fingerprint hit expected: hashed=%v err=%v", hashed, err)
		}
	}
	if n := hashedBytes.Load() - before; n != 0 {
		b.Fatalf("%d bytes hashed on a fingerprint hit", n)
	}
}
