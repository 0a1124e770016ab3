//go:build linux || darwin || freebsd

package obslocal_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// allocatedBytes sums the disk blocks allocated to the files under dir.
func allocatedBytes(t *testing.T, dir string) (int64, bool) {
	t.Helper()
	var n int64
	// The server removes finished uploads' parts in the background; a file
	// that vanishes during the walk holds no blocks.
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += int64(st.Blocks) * 512
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, true
}
