package main

import (
	"os"
	"time"
)

// orphanPoll is how often the provider checks that Terraform still runs.
const orphanPoll = 500 * time.Millisecond

// exitWhenOrphaned ends the process once its parent, the Terraform that
// started it, is gone (SIGKILL, OOM, a dead CI runner). go-plugin serves
// until Terraform stops it, so a provider whose Terraform died would
// otherwise idle forever, or keep uploading until its next log line breaks
// the dead pipe. Exiting is what a SIGKILL of both would have done: the
// next apply resumes from the server and the local journal. Where a process
// is not re-parented when its parent dies (Windows) this never fires.
func exitWhenOrphaned() {
	parent := os.Getppid()
	for range time.Tick(orphanPoll) {
		if os.Getppid() != parent {
			os.Exit(1)
		}
	}
}
