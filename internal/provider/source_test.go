package provider

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// The pass that hashes a source at plan also computes the MD5 of every part
// of the resource's layout; the apply (another provider process) finds them
// in the hash cache with the hash, without reading the file. Private state
// does not carry them.
func TestResolveSourceCachesPartMD5s(t *testing.T) {
	const partSize = 5 * upload.MinPartSize
	data := make([]byte, 3*partSize+777)
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "src.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(fineDoubt + 50*time.Millisecond) // age the timestamps past the doubt window

	planned, hashed, err := resolveSource(context.Background(), path, nil, partSize)
	if err != nil || !hashed {
		t.Fatalf("first resolve: hashed %v, %v", hashed, err)
	}
	before := hashedBytes.Load()
	applied, hashed, err := resolveSource(context.Background(), path, nil, partSize)
	if err != nil || hashed || hashedBytes.Load() != before {
		t.Fatalf("second resolve read the file: hashed %v, %v", hashed, err)
	}
	if applied.SHA256 != planned.SHA256 || applied.parts == nil {
		t.Fatalf("cached record: SHA-256 %s (planned %s), part MD5s %v", applied.SHA256, planned.SHA256, applied.parts != nil)
	}
	l, err := upload.PlanParts(int64(len(data)), partSize)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for n := 1; n <= l.Parts; n++ {
		off, size := l.Part(n)
		s := md5.Sum(data[off : off+size])
		want = append(want, s[:]...)
	}
	if p := applied.parts; p.Source != applied.Fingerprint || p.PartSize != l.PartSize || !bytes.Equal(p.Sums, want) {
		t.Fatalf("cached part MD5s do not match the file's %d parts of %d bytes: %+v", l.Parts, l.PartSize, p)
	}

	b, err := json.Marshal(applied) // as setPrivate stores it
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "md5") || len(b) > 256 {
		t.Fatalf("the private state record carries the part MD5s: %s", b)
	}
}
