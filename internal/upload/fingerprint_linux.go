//go:build linux

package upload

import (
	"os"
	"syscall"
	"time"
)

func fingerprintOf(fi os.FileInfo) Fingerprint {
	fp := Fingerprint{Size: fi.Size(), ModTimeNs: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		fp.ChangeTimeNs = time.Unix(st.Ctim.Unix()).UnixNano()
		fp.Inode = uint64(st.Ino)
		fp.Device = uint64(st.Dev) //nolint:unconvert // int32 or uint64 depending on GOARCH
	}
	return fp
}
