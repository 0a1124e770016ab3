package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// gatedClient is the OBS client behind a slow link the test drives:
// UploadPart reads its body step bytes at a time and, after each step, says
// how far it got on read and waits for next, until free is closed.
type gatedClient struct {
	obs.Client
	step int64
	read chan int64
	next chan struct{}
	free chan struct{}
}

func (g *gatedClient) UploadPart(ctx context.Context, in obs.UploadPartInput) (string, error) {
	buf := make([]byte, in.Size)
	for n := int64(0); n < in.Size; {
		k, err := in.Body.ReadAt(buf[n:min(n+g.step, in.Size)], in.Offset+n)
		n += int64(k)
		if err != nil && !(errors.Is(err, io.EOF) && n == in.Size) {
			return "", err
		}
		select {
		case g.read <- n:
			select {
			case <-g.next:
			case <-g.free:
			}
		case <-g.free:
		}
	}
	in.Body, in.Offset = bytes.NewReader(buf), 0
	return g.Client.UploadPart(ctx, in)
}

// logLines collects the JSON lines of a test root logger, one per Write
// or split at newlines, and hands each over decoded as Terraform decodes a
// provider's log lines (go-plugin: encoding/json into map[string]any).
type logLines struct {
	mu    sync.Mutex
	buf   []byte
	lines chan map[string]any
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		var m map[string]any
		if err := json.Unmarshal(l.buf[:i], &m); err != nil {
			return 0, err
		}
		l.buf = l.buf[i+1:]
		l.lines <- m
	}
}

// terraformRenders is the line as Terraform prints it in its log: the
// decoded fields through hclog, sorted by name.
func terraformRenders(m map[string]any) string {
	var kv []any
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !strings.HasPrefix(k, "@") && !yield(k) {
				return
			}
		}
	}) {
		kv = append(kv, k, m[k])
	}
	var b bytes.Buffer
	hclog.New(&hclog.LoggerOptions{Output: &b, Level: hclog.Trace, DisableTime: true}).Info(m["@message"].(string), kv...)
	return b.String()
}

type discardState struct{}

func (discardState) Set(context.Context, any) diag.Diagnostics { return nil }

type discardPrivate struct{}

func (discardPrivate) SetKey(context.Context, string, []byte) diag.Diagnostics { return nil }

// With TF_LOG_PROVIDER=INFO the progress line comes on every tick of the
// progress ticker, with more bytes each time, while the first part is still
// in flight on a slow link; and every number in every line, as Terraform
// prints it, is an integer (part_size=1048576, not 1.048576e+06).
func TestProgressLog_ticksWithIntegerFields(t *testing.T) {
	const partSize, step = 1 << 20, 64 << 10
	srv := newTestServer(t)
	src, sum := acctest.WriteSource(t, t.TempDir(), "slow.bin", 2*partSize, 3)
	gated := &gatedClient{Client: srv.obsClient(t), step: step, read: make(chan int64), next: make(chan struct{}), free: make(chan struct{})}
	ticks := make(chan time.Time)
	r := &objectMultipartResource{data: &providerData{client: gated, signature: obs.SignatureOBS,
		progressTicks: func() (<-chan time.Time, func()) { return ticks, func() {} }}}
	log := &logLines{lines: make(chan map[string]any, 64)}
	ctx := tflogtest.RootLogger(context.Background(), log)
	plan := objectMultipartModelV0{
		Bucket: types.StringValue(obslocaltest.Bucket), Key: types.StringValue("slow.bin"), Source: types.StringValue(src),
		PartSize: types.Int64Value(partSize), Concurrency: types.Int64Value(1), SourceSHA256: types.StringValue(sum),
		ContentType: types.StringValue("application/octet-stream"),
		Metadata:    types.MapNull(types.StringType), Tags: types.MapNull(types.StringType),
	}
	var diags diag.Diagnostics
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		r.apply(ctx, plan, nil, nil, discardState{}, discardPrivate{}, &diags)
	}()

	var rendered []string
	progress := regexp.MustCompile(`^uploading tf-test/slow\.bin: `)
	// nextProgress returns the next progress line, keeping every line.
	nextProgress := func() string {
		for m := range log.lines {
			line := terraformRenders(m)
			rendered = append(rendered, line)
			if progress.MatchString(m["@message"].(string)) {
				return line
			}
		}
		return ""
	}
	for i := int64(1); i <= 4; i++ {
		if got := <-gated.read; got != i*step {
			t.Fatalf("the link read %d bytes, want %d", got, i*step)
		}
		ticks <- time.Now()
		line := nextProgress()
		for _, want := range []string{" bytes_done=" + strconv.FormatInt(i*step, 10), " bytes_total=2097152", " parts_done=0", " parts_total=2"} {
			if !strings.Contains(line, want) {
				t.Fatalf("tick %d with part 1 in flight after %d bytes: %q lacks %q", i, i*step, line, strings.TrimSpace(want))
			}
		}
		gated.next <- struct{}{}
	}
	close(gated.free)
	if line := nextProgress(); !strings.Contains(line, ": 100.0% (2 MiB of 2 MiB)") || !strings.Contains(line, " parts_done=2 ") {
		t.Fatalf("last line %q", line)
	}
	<-applied
	if diags.HasError() {
		t.Fatal(diags)
	}
	close(log.lines)
	for m := range log.lines {
		rendered = append(rendered, terraformRenders(m))
	}
	all := strings.Join(rendered, "")
	for _, want := range []string{" part_size=1048576", " bytes_sent=2097152"} {
		if !strings.Contains(all, want) {
			t.Errorf("the log lacks %q:\n%s", strings.TrimSpace(want), all)
		}
	}
	if exp := regexp.MustCompile(`(?m)="?\d(\.\d+)?e[+-]\d\d+"?(\s|$)`).FindString(all); exp != "" {
		t.Errorf("a number prints in exponent form (%s):\n%s", exp, all)
	}
}
