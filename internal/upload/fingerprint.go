package upload

import (
	"fmt"
	"os"
	"strings"
)

// Fingerprint identifies one version of a source file. A file whose
// fingerprint changed may hold different bytes. ChangeTimeNs, Inode and
// Device are zero on platforms where they are not available.
type Fingerprint struct {
	Size         int64
	ModTimeNs    int64
	ChangeTimeNs int64
	Inode        uint64
	Device       uint64
}

// StatFingerprint stats path (following symlinks) and returns its fingerprint.
func StatFingerprint(path string) (Fingerprint, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Fingerprint{}, err
	}
	if !fi.Mode().IsRegular() {
		return Fingerprint{}, fmt.Errorf("%s is not a regular file", path)
	}
	return fingerprintOf(fi), nil
}

// diff describes how g differs from f ("" when they are equal).
func (f Fingerprint) diff(g Fingerprint) string {
	var d []string
	if f.Size != g.Size {
		d = append(d, fmt.Sprintf("size %d → %d", f.Size, g.Size))
	}
	if f.ModTimeNs != g.ModTimeNs {
		d = append(d, "modification time changed")
	}
	if f.ChangeTimeNs != g.ChangeTimeNs {
		d = append(d, "change time changed")
	}
	if f.Inode != g.Inode || f.Device != g.Device {
		d = append(d, "file replaced (inode changed)")
	}
	return strings.Join(d, ", ")
}
