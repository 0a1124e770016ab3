//go:build linux

package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// bandwidthResult is one run of the bandwidth-cap row: n engine uploads at
// once sharing one cap, as the objects of one provider share its
// max_bandwidth.
type bandwidthResult struct {
	capBPS  int64
	uploads int
	bytes   int64 // the object bytes of all uploads together
	wall    time.Duration
}

// rate is the bytes per second the uploads reached together.
func (r bandwidthResult) rate() float64 { return float64(r.bytes) / r.wall.Seconds() }

// deviation is how far the rate is from the cap, as a fraction of it.
func (r bandwidthResult) deviation() float64 { return r.rate()/float64(r.capBPS) - 1 }

// holds reports whether the rate is within ±10% of the cap.
func (r bandwidthResult) holds() bool { return math.Abs(r.deviation()) <= 0.10 }

// row is the result as a line of the report's table.
func (r bandwidthResult) row() string {
	verdict := "holds"
	if !r.holds() {
		verdict = "**does not hold**"
	}
	return fmt.Sprintf("| max_bandwidth = %s/s shared by %d uploads of %s | %s/s in %.1f s | %+.1f%% | %s (±10%%) |",
		fmtBytes(r.capBPS), r.uploads, fmtBytes(r.bytes/int64(r.uploads)), fmtBytes(int64(r.rate())), r.wall.Seconds(),
		100*r.deviation(), verdict)
}

// measureBandwidthCap uploads the file at path (size bytes) n times at
// once, to keys under prefix, through the engine with one shared cap of
// capBPS bytes per second, and measures the rate they reach together; then
// deletes the objects. The wall time includes hashing and completing, so
// the rate is a little under the cap when the cap holds; size×n should be
// ten seconds' worth of the cap or more, so that the first burst (a tenth
// of a second's bytes) does not count.
func measureBandwidthCap(ctx context.Context, cl obs.Client, path, prefix string, size, partSize int64, conc, n int, capBPS int64) (bandwidthResult, error) {
	bw := upload.NewBandwidth(capBPS)
	g, gctx := errgroup.WithContext(ctx)
	t0 := time.Now()
	for i := range n {
		key := fmt.Sprintf("%s/%d", prefix, i)
		g.Go(func() error {
			_, _, err := upload.Upload(gctx, cl, upload.Input{Bucket: bucket, Key: key, Path: path,
				PartSize: partSize, Concurrency: conc, Bandwidth: bw})
			return err
		})
	}
	err := g.Wait()
	r := bandwidthResult{capBPS: capBPS, uploads: n, bytes: int64(n) * size, wall: time.Since(t0)}
	if err != nil {
		return r, fmt.Errorf("uploads capped at %s/s: %w", fmtBytes(capBPS), err)
	}
	for i := range n {
		if err := cl.DeleteObject(ctx, bucket, fmt.Sprintf("%s/%d", prefix, i)); err != nil {
			return r, err
		}
	}
	return r, nil
}
