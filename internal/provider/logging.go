package provider

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// progressInterval is how often upload progress is logged at INFO.
const progressInterval = 5 * time.Second

// tickProgress returns the ticks of one upload's progress log, every
// progressInterval, and the function that stops them.
func tickProgress() (<-chan time.Time, func()) {
	t := time.NewTicker(progressInterval)
	return t.C, t.Stop
}

// progressLogger logs upload progress at INFO on every tick (the engine
// reports on the ticks of tickProgress) and when the last part completes.
// The bytes count as they are written, so the line moves while parts are
// in flight.
func progressLogger(ctx context.Context, bucket, key string) func(upload.Progress) {
	return func(p upload.Progress) {
		if !p.Tick && p.PartsDone < p.PartsTotal {
			return
		}
		done := p.BytesDone + p.BytesInFlight
		pct := 100.0
		if p.BytesTotal > 0 {
			pct = float64(done) * 100 / float64(p.BytesTotal)
		}
		tflog.Info(ctx, fmt.Sprintf("uploading %s/%s: %.1f%% (%s of %s), %.1f MB/s, ETA %s", bucket, key, pct,
			upload.FormatBytes(done), upload.FormatBytes(p.BytesTotal), p.BytesPerSecond/1e6, p.ETA.Round(time.Second)),
			logFields("bytes_done", done, "bytes_total", p.BytesTotal, "parts_done", p.PartsDone, "parts_total", p.PartsTotal,
				"bytes_per_second", int64(p.BytesPerSecond)))
	}
}

// engineLogger adapts tflog to the engine's Logger: key-value pairs become
// structured fields of the provider's root logger.
type engineLogger struct{ ctx context.Context }

func (l engineLogger) Info(msg string, kv ...any)  { tflog.Info(l.ctx, msg, logFields(kv...)) }
func (l engineLogger) Warn(msg string, kv ...any)  { tflog.Warn(l.ctx, msg, logFields(kv...)) }
func (l engineLogger) Debug(msg string, kv ...any) { tflog.Debug(l.ctx, msg, logFields(kv...)) }

// logFields makes key-value pairs the fields of a log line, integers as
// decimal strings: Terraform reads a provider's log lines as JSON, decodes
// every number to a float64 and prints it in exponent form from a million
// up (part_size=8.388608e+06); a string prints as it is.
func logFields(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = logValue(kv[i+1])
	}
	return m
}

func logValue(v any) any {
	switch n := v.(type) {
	case int:
		return strconv.Itoa(n)
	case int32:
		return strconv.FormatInt(int64(n), 10)
	case int64:
		return strconv.FormatInt(n, 10)
	case uint64:
		return strconv.FormatUint(n, 10)
	}
	return v
}
