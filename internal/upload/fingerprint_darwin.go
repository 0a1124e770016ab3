//go:build darwin

package upload

import (
	"os"
	"syscall"
	"time"
)

func fingerprintOf(fi os.FileInfo) Fingerprint {
	fp := Fingerprint{Size: fi.Size(), ModTimeNs: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		fp.ChangeTimeNs = time.Unix(st.Ctimespec.Unix()).UnixNano()
		fp.Inode = st.Ino
		fp.Device = uint64(st.Dev)
	}
	return fp
}
