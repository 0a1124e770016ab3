package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
)

// With TF_LOG_PROVIDER=INFO, an upload held to 1 MiB/s by the provider's
// max_bandwidth logs its progress at least every 6 seconds, with more bytes
// each time, while parts are still in flight; and Terraform's log prints
// every number of the provider's lines as an integer.
func TestProgressLogThroughTerraform(t *testing.T) {
	const (
		size     = 12 << 20
		partSize = 4 << 20
	)
	e := newEnv(t)
	logPath := filepath.Join(t.TempDir(), "terraform.log")
	e.tfEnv = append(e.tfEnv, "TF_LOG_PROVIDER=INFO", "TF_LOG_PATH="+logPath)
	src, sum := e.writeSource("slow.bin", size, 16)
	e.writeConfig(e.providerBlock(acctest.Attr("max_bandwidth", 1048576)) + objectBlock("o", "slow.bin", src, partSize, 2))
	e.apply()
	e.expectObject("slow.bin", sum)

	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var provider []string
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, "provider.terraform-provider-obs") {
			provider = append(provider, line)
		}
	}
	all := strings.Join(provider, "")
	for _, want := range []string{" part_size=4194304", " bytes_total=12582912", " bytes_sent=12582912"} {
		if !strings.Contains(all, want) {
			t.Errorf("the provider's log lines lack %q:\n%s", strings.TrimSpace(want), all)
		}
	}
	if exp := regexp.MustCompile(`(?m)="?\d(\.\d+)?e[+-]\d\d+"?(\s|$)`).FindString(all); exp != "" {
		t.Errorf("a number prints in exponent form (%s):\n%s", exp, all)
	}

	// The ticks: from the line that starts sending the parts to the last
	// progress line, never more than 6 seconds without a line.
	stamp := regexp.MustCompile(`^(\S+) \[INFO\]`)
	field := func(line, name string) int64 {
		m := regexp.MustCompile(` ` + name + `=(\d+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no integer %s in %q", name, line)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n
	}
	var last time.Time
	var lastBytes int64
	ticks, inFlight := 0, 0
	for _, line := range provider {
		starts := strings.Contains(line, ": uploading parts:")
		if !starts && !strings.Contains(line, ": uploading "+testBucket+"/slow.bin: ") {
			continue
		}
		m := stamp.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no time stamp: %q", line)
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatalf("time stamp of %q: %v", line, err)
		}
		if !last.IsZero() && at.Sub(last) > 6*time.Second {
			t.Errorf("%s without a progress line before %q", at.Sub(last).Round(time.Millisecond), line)
		}
		last = at
		if starts {
			continue
		}
		done := field(line, "bytes_done")
		if done <= lastBytes {
			t.Errorf("bytes_done %d after %d: %q", done, lastBytes, line)
		}
		lastBytes = done
		if field(line, "parts_done") < field(line, "parts_total") {
			ticks++
			if done%partSize != 0 {
				inFlight++
			}
		}
	}
	// 12 MiB at 1 MiB/s: lines at about 5 and 10 seconds, then the last.
	if ticks < 2 || inFlight < 2 || lastBytes != size {
		t.Fatalf("%d progress lines before the last part completed (%d with a part partly written), %d bytes at the end:\n%s",
			ticks, inFlight, lastBytes, all)
	}
}
