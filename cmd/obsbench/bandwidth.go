//go:build linux

package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// bandwidthResult is one run of the bandwidth-cap row: n uploads at once
// sharing one cap, as the objects of one provider share its max_bandwidth.
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

// bandwidthUploads is how many uploads share the cap in the bandwidth row.
const bandwidthUploads = 2

// bandwidthCap is the cap of the bandwidth row for n uploads of size bytes
// each: 64 MiB/s, or less, so that together they take ten seconds at least.
func bandwidthCap(size int64, n int) int64 { return min(64*mib, int64(n)*size/10) }

// bandwidthRow summarizes runs with one cap and number of uploads: the
// median rate, the worst run's deviation, and PASS when every run held.
func bandwidthRow(c config, what string, rs []bandwidthResult) row {
	var rates []float64
	var walls []time.Duration
	worst, ok := 0.0, true
	for _, r := range rs {
		rates, walls = append(rates, r.rate()), append(walls, r.wall)
		if math.Abs(r.deviation()) >= math.Abs(worst) {
			worst = r.deviation()
		}
		ok = ok && r.holds()
	}
	r0, rate := rs[0], median(rates)
	return row{"7", fmt.Sprintf("%s: max_bandwidth = %s/s shared by %d uploads of %s (%s parts, %d workers each)",
		what, fmtBytes(r0.capBPS), r0.uploads, fmtBytes(r0.bytes/int64(r0.uploads)), fmtBytes(c.netPartSize), c.conc),
		fmt.Sprintf("%s/s together in %s = %+.1f%% of the cap (worst run %+.1f%%)", fmtBytes(int64(rate)), fmtDur(median(walls)),
			100*(rate/float64(r0.capBPS)-1), 100*worst),
		"within ±10% of the cap", passMiss(ok), ""}
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

// applyBandwidthCap applies n new resources of the file at path (size bytes
// each), keys under prefix, with terraform and the built provider, its
// max_bandwidth set to capBPS, and measures the rate of the apply of the
// saved plan. The plan, which hashes the file, is not timed; terraform's
// start-up, the provider's and the state written are, so the rate is a
// little under the cap when the cap holds. The objects are deleted after.
func applyBandwidthCap(ctx context.Context, t *tf, srv *server, cl obs.Client, dir, path, prefix string, size, partSize int64, conc, n int, capBPS int64) (bandwidthResult, error) {
	r := bandwidthResult{capBPS: capBPS, uploads: n, bytes: int64(n) * size}
	conf := srv.providerBlock(n*conc, acctest.Attr("max_bandwidth", capBPS)) + acctest.ResourceBlock("o",
		acctest.Attr("count", n),
		acctest.Attr("bucket", bucket),
		acctest.Attr("key", acctest.Expr(`format("`+prefix+`/%d", count.index)`)),
		acctest.Attr("source", path),
		acctest.Attr("part_size", partSize),
		acctest.Attr("concurrency", conc),
	)
	if err := acctest.WriteConfig(dir, conf); err != nil {
		return r, err
	}
	if _, err := t.run(dir, false, "plan", "-out=capped.tfplan", "-input=false", "-no-color"); err != nil {
		return r, err
	}
	res, err := t.run(dir, false, "apply", "-input=false", "-no-color", "capped.tfplan")
	if err != nil {
		return r, err
	}
	r.wall = res.wall
	for i := range n {
		if err := cl.DeleteObject(ctx, bucket, fmt.Sprintf("%s/%d", prefix, i)); err != nil {
			return r, err
		}
	}
	return r, nil
}
