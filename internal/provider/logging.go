package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// progressInterval is how often upload progress is logged at INFO.
const progressInterval = 5 * time.Second

// progressLogger logs upload progress at INFO about every 5 seconds, and
// when the last part completes.
func progressLogger(ctx context.Context, bucket, key string) func(upload.Progress) {
	var last time.Time
	return func(p upload.Progress) {
		done := p.PartsDone == p.PartsTotal
		if !done && time.Since(last) < progressInterval {
			return
		}
		last = time.Now()
		pct := 100.0
		if p.BytesTotal > 0 {
			pct = float64(p.BytesDone) * 100 / float64(p.BytesTotal)
		}
		tflog.Info(ctx, fmt.Sprintf("uploading %s/%s: %.1f%% (%s of %s), %.1f MB/s, ETA %s", bucket, key, pct,
			upload.FormatBytes(p.BytesDone), upload.FormatBytes(p.BytesTotal), p.BytesPerSecond/1e6, p.ETA.Round(time.Second)),
			map[string]any{"parts_done": p.PartsDone, "parts_total": p.PartsTotal})
	}
}

// engineLogger adapts tflog to the engine's Logger: key-value pairs become
// structured fields of the provider's root logger.
type engineLogger struct{ ctx context.Context }

func fields(kv []any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

func (l engineLogger) Info(msg string, kv ...any)  { tflog.Info(l.ctx, msg, fields(kv)) }
func (l engineLogger) Warn(msg string, kv ...any)  { tflog.Warn(l.ctx, msg, fields(kv)) }
func (l engineLogger) Debug(msg string, kv ...any) { tflog.Debug(l.ctx, msg, fields(kv)) }
