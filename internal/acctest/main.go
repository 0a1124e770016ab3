package acctest

import (
	"fmt"
	"os"
	"testing"
)

// Main runs the package's tests with XDG_CACHE_HOME set to a new temporary
// directory, so that the provider's hash cache and upload journal (kept in
// os.UserCacheDir) stay out of the user's, removes it and exits with the
// tests' code. Call it from TestMain.
//
// The directory is one for the whole process: tests that run in parallel
// share it, so each uses its own bucket/key (the journal's key) and its own
// source files (the hash cache's).
func Main(m *testing.M) {
	os.Exit(runWithCache(m))
}

// callerCacheHome is the environment entry XDG_CACHE_HOME as Main found it:
// nil before Main changes it, empty when it was unset.
var callerCacheHome []string

func runWithCache(m *testing.M) int {
	callerCacheHome = []string{}
	if dir, ok := os.LookupEnv("XDG_CACHE_HOME"); ok {
		callerCacheHome = []string{"XDG_CACHE_HOME=" + dir}
	}
	cache, err := os.MkdirTemp("", "obs-provider-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "acctest:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(cache) }()
	if err := os.Setenv("XDG_CACHE_HOME", cache); err != nil {
		fmt.Fprintln(os.Stderr, "acctest:", err)
		return 1
	}
	return m.Run()
}
