package main

import (
	"fmt"
	"os"
)

// Where the servers keep the objects they are sent. On a disk, a run's
// writes pile up as dirty pages until the kernel throttles the writer to
// the disk's speed, so a figure would measure the disk's writeback (and
// whether the runs before it left it busy) rather than the uploader: on
// the 2-core machine of docs/benchmarks.md that halved some runs and not
// others. Memory-backed storage takes the disk out: BENCH_SERVER_DATA
// when set, else /dev/shm (memory-backed on Linux) when it exists, else
// the work directory. Every run deletes its object, so the servers hold
// about one object at a time.

const shm = "/dev/shm"

// serverDataRoot returns a new directory under which the servers store
// their data, and a description of it for the report.
func serverDataRoot(work string) (dir, what string, err error) {
	parent, what := work, "the work directory's disk (its writeback may cap the figures; set BENCH_SERVER_DATA)"
	if d := os.Getenv("BENCH_SERVER_DATA"); d != "" {
		parent, what = d, fmt.Sprintf("`%s` (BENCH_SERVER_DATA)", d)
	} else if fi, err := os.Stat(shm); err == nil && fi.IsDir() {
		parent, what = shm, "memory (`"+shm+"`)"
	}
	dir, err = os.MkdirTemp(parent, "obsbench-data-")
	return dir, what, err
}

// syncFile flushes path to its disk, so that the writeback of the source
// files written before the runs does not run into the measurements.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
