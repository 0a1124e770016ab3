package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
)

// Twenty objects applied ten at a time, each with four workers, share the
// provider's max_concurrent_parts budget of six: the server never sees more
// than six part uploads at once.
func TestConcurrencyBudget(t *testing.T) {
	t.Parallel()
	const (
		objects  = 20
		budget   = 6
		partSize = 100 * 1024
		size     = 5*partSize + 3000
	)
	row := record(t, "20 objects, -parallelism=10, concurrency 4 each, max_concurrent_parts = 6, 100 ms latency per part",
		"the provider-wide budget holds: the server's peak of concurrent part uploads never exceeds max_concurrent_parts")
	e := newEnv(t)
	var cfg strings.Builder
	cfg.WriteString(e.providerBlock(acctest.Attr("max_concurrent_parts", budget)))
	sums := map[string]string{}
	for i := range objects {
		name := fmt.Sprintf("data%02d.bin", i)
		src, sum := e.writeSource(name, size, uint32(100+i))
		key := "many/" + name
		sums[key] = sum
		cfg.WriteString(objectBlock(fmt.Sprintf("o%02d", i), key, src, partSize, 4))
	}
	e.writeConfig(cfg.String())
	e.srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, Latency: 100 * time.Millisecond, Times: -1})
	start := time.Now()
	e.apply("-parallelism=10")
	took := time.Since(start)
	st := e.srv.Stats()
	row.observe("peak %d concurrent part uploads (budget %d); %d parts in %.1f s", st.PeakConcurrentParts, budget,
		st.Ops[obslocal.OpUploadPart].Requests, took.Seconds())
	if st.PeakConcurrentParts > budget {
		t.Fatalf("peak of %d concurrent part uploads, budget %d", st.PeakConcurrentParts, budget)
	}
	if st.PeakConcurrentParts < budget/2 {
		t.Fatalf("peak of %d concurrent part uploads: the uploads did not run concurrently, so the budget was not exercised", st.PeakConcurrentParts)
	}
	for key, sum := range sums {
		e.expectObject(key, sum)
	}
	e.expectNoOpenUploads()
}
