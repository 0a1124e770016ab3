package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
)

// The provider keeps two small things in the user's cache directory
// (os.UserCacheDir()/terraform-provider-obs), where every provider process
// of the same user on this machine finds them:
//   - sha256/: fingerprint → SHA-256 records, so the apply-time re-plan and
//     Create reuse the plan's hash (Create gets no private state), with the
//     MD5s of the parts computed in the same pass, so the apply sends with
//     them and reads the file only to send it;
//   - uploads/: a journal of the uploads applies started, so the next
//     successful upload of the key aborts those it could not adopt, and
//     the upload that last completed the key, so an object assembled from
//     it by a run killed before it saved state is known as this machine's.
//
// Losing the cache only costs a re-hash or leaves an upload for a bucket
// lifecycle rule to remove.

// cacheFile returns the path of an entry named by the hash of id in the
// cache folder kind, or "" when there is no cache directory.
func cacheFile(kind, id string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(dir, "terraform-provider-obs", kind, hex.EncodeToString(sum[:16])+".json")
}

// readCacheJSON decodes the entry at p into v; false when absent or unreadable.
func readCacheJSON(p string, v any) bool {
	if p == "" {
		return false
	}
	b, err := os.ReadFile(p)
	return err == nil && json.Unmarshal(b, v) == nil
}

// writeCacheJSON replaces the entry at p atomically; failures are ignored.
func writeCacheJSON(p string, v any) {
	if p == "" || os.MkdirAll(filepath.Dir(p), 0o700) != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), p) != nil {
		_ = os.Remove(tmp.Name())
	}
}
