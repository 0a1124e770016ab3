package upload

import (
	"fmt"
)

// OBS limits and the engine's defaults.
const (
	// MinPartSize is the smallest part OBS accepts for any part but the last.
	MinPartSize = 100 * 1024
	// MaxPartSize is the largest part OBS accepts.
	MaxPartSize = 5 << 30
	// MaxParts is the largest part number OBS accepts.
	MaxParts = 10000
	// DefaultPartSize follows the OBS SDKs (9 MiB).
	DefaultPartSize = 9 << 20
	// MaxSinglePutSize is the largest object a single PUT may create.
	MaxSinglePutSize = 5 << 30
	// MaxObjectSize is the largest object a multipart upload can assemble
	// (MaxParts parts of MaxPartSize, OBS's "48.8 TB").
	MaxObjectSize = MaxParts * MaxPartSize
)

// growAlign is the granularity of a grown part size. It divides MaxPartSize,
// so rounding up never leaves the allowed range.
const growAlign = 1 << 20

// Layout is how a file of Size bytes is cut into parts.
type Layout struct {
	// Size is the file size in bytes.
	Size int64
	// PartSize is the size of every part but the last.
	PartSize int64
	// Parts is the number of parts; 1 for a single PUT.
	Parts int
	// Grown reports that PartSize was increased beyond the requested size to
	// stay within MaxParts.
	Grown bool
	// SinglePut reports that the file is smaller than one part and goes up in
	// a single PUT.
	SinglePut bool
}

// Part returns the byte range of part n (1-based). For a single PUT, part 1
// is the whole file. Out-of-range n yields (0, 0).
func (l Layout) Part(n int) (offset, size int64) {
	if n < 1 || n > l.Parts {
		return 0, 0
	}
	if l.SinglePut {
		return 0, l.Size
	}
	offset = int64(n-1) * l.PartSize
	size = l.PartSize
	if rest := l.Size - offset; rest < size {
		size = rest
	}
	return offset, size
}

// PlanParts cuts a file of size bytes into parts of requestedPartSize
// (0 means DefaultPartSize). The requested size must lie in
// [MinPartSize, MaxPartSize]. When the file would need more than MaxParts
// parts, the part size grows (to a multiple of 1 MiB) and Grown is set. A file
// smaller than one part, including an empty file, is planned as a single PUT.
// PlanParts is pure.
func PlanParts(size, requestedPartSize int64) (Layout, error) {
	if size < 0 {
		return Layout{}, fmt.Errorf("file size %d is negative", size)
	}
	ps := requestedPartSize
	if ps == 0 {
		ps = DefaultPartSize
	}
	if ps < MinPartSize || ps > MaxPartSize {
		return Layout{}, fmt.Errorf("part size %d bytes is out of range: it must be between %d (100 KiB) and %d (5 GiB)",
			requestedPartSize, int64(MinPartSize), int64(MaxPartSize))
	}
	if size > MaxObjectSize {
		return Layout{}, fmt.Errorf("file size %d bytes exceeds the largest OBS object (%d bytes: %d parts of 5 GiB)",
			size, int64(MaxObjectSize), MaxParts)
	}
	l := Layout{Size: size, PartSize: ps}
	if size < ps {
		l.SinglePut = true
		l.Parts = 1
		return l, nil
	}
	parts := ceilDiv(size, ps)
	if parts > MaxParts {
		ps = ceilDiv(size, MaxParts)
		ps = ceilDiv(ps, growAlign) * growAlign
		if ps > MaxPartSize { // unreachable: size ≤ MaxObjectSize and growAlign divides MaxPartSize
			ps = MaxPartSize
		}
		l.PartSize = ps
		l.Grown = true
		parts = ceilDiv(size, ps)
	}
	l.Parts = int(parts)
	return l, nil
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// FormatBytes renders n for people: "9 MiB", "100 KiB", "1.5 GiB", "17 B".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	suffix := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[exp]
	if n%div == 0 {
		return fmt.Sprintf("%d %s", n/div, suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
