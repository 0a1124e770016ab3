//go:build !linux && !darwin

package upload

import "os"

// fingerprintOf uses size and modification time only: change time and inode
// are not portable.
func fingerprintOf(fi os.FileInfo) Fingerprint {
	return Fingerprint{Size: fi.Size(), ModTimeNs: fi.ModTime().UnixNano()}
}
