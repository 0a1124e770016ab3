//go:build linux

package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// providerPIDs returns the provider processes terraform (pid) runs: its
// children whose command is the provider binary (the kernel keeps the first
// 15 bytes of the name).
func providerPIDs(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		if comm := s[open+1 : closing]; strings.HasPrefix("terraform-provider-obs", comm) && len(comm) >= 15 {
			child, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
			out = append(out, child)
		}
	}
	return out
}

// groupGone waits until no process of process group pgid is left (a provider
// that outlives terraform keeps the group alive) and reports whether that
// happened within deadline.
func groupGone(pgid int, deadline time.Duration) bool {
	end := time.Now().Add(deadline)
	for {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
