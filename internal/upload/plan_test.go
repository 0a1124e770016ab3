package upload

import (
	"strings"
	"testing"
)

func TestPlanParts(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name      string
		size, req int64
		want      Layout
		wantErr   string
	}{
		{name: "empty file", size: 0, want: Layout{Size: 0, PartSize: DefaultPartSize, Parts: 1, SinglePut: true}},
		{name: "one byte", size: 1, want: Layout{Size: 1, PartSize: DefaultPartSize, Parts: 1, SinglePut: true}},
		{name: "min part minus one", size: MinPartSize - 1, req: MinPartSize,
			want: Layout{Size: MinPartSize - 1, PartSize: MinPartSize, Parts: 1, SinglePut: true}},
		{name: "exactly one part", size: MinPartSize, req: MinPartSize,
			want: Layout{Size: MinPartSize, PartSize: MinPartSize, Parts: 1}},
		{name: "one part and a byte", size: MinPartSize + 1, req: MinPartSize,
			want: Layout{Size: MinPartSize + 1, PartSize: MinPartSize, Parts: 2}},
		{name: "default part size 1 GiB", size: 1 << 30,
			want: Layout{Size: 1 << 30, PartSize: DefaultPartSize, Parts: 114}},
		{name: "exactly max parts", size: MaxParts * MinPartSize, req: MinPartSize,
			want: Layout{Size: MaxParts * MinPartSize, PartSize: MinPartSize, Parts: MaxParts}},
		{name: "max parts plus one part grows", size: (MaxParts + 1) * MinPartSize, req: MinPartSize,
			want: Layout{Size: (MaxParts + 1) * MinPartSize, PartSize: mib, Parts: 977, Grown: true}},
		{name: "largest object", size: MaxObjectSize,
			want: Layout{Size: MaxObjectSize, PartSize: MaxPartSize, Parts: MaxParts, Grown: true}},
		{name: "max part size", size: 3 * MaxPartSize, req: MaxPartSize,
			want: Layout{Size: 3 * MaxPartSize, PartSize: MaxPartSize, Parts: 3}},
		{name: "too large", size: MaxObjectSize + 1, wantErr: "exceeds the largest OBS object"},
		{name: "part too small", size: 10, req: MinPartSize - 1, wantErr: "out of range"},
		{name: "part too large", size: 10, req: MaxPartSize + 1, wantErr: "out of range"},
		{name: "negative part size", size: 10, req: -1, wantErr: "out of range"},
		{name: "negative size", size: -1, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanParts(tt.size, tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("PlanParts(%d, %d) error = %v, want one containing %q", tt.size, tt.req, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("PlanParts(%d, %d): %v", tt.size, tt.req, err)
			}
			if got != tt.want {
				t.Fatalf("PlanParts(%d, %d) = %+v, want %+v", tt.size, tt.req, got, tt.want)
			}
			checkLayout(t, got, tt.req)
		})
	}
}

func TestLayoutPart(t *testing.T) {
	l, err := PlanParts(2*MinPartSize+7, MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n         int
		off, size int64
	}{{0, 0, 0}, {1, 0, MinPartSize}, {2, MinPartSize, MinPartSize}, {3, 2 * MinPartSize, 7}, {4, 0, 0}} {
		off, size := l.Part(c.n)
		if off != c.off || size != c.size {
			t.Errorf("Part(%d) = (%d, %d), want (%d, %d)", c.n, off, size, c.off, c.size)
		}
	}
	single, _ := PlanParts(5, 0)
	if off, size := single.Part(1); off != 0 || size != 5 {
		t.Errorf("single PUT Part(1) = (%d, %d), want (0, 5)", off, size)
	}
}

// checkLayout asserts the invariants every layout must satisfy.
func checkLayout(t testing.TB, l Layout, req int64) {
	t.Helper()
	if req == 0 {
		req = DefaultPartSize
	}
	if l.PartSize < MinPartSize || l.PartSize > MaxPartSize {
		t.Fatalf("%+v: part size out of range", l)
	}
	if l.Parts < 1 || l.Parts > MaxParts {
		t.Fatalf("%+v: part count out of range", l)
	}
	if l.Grown != (l.PartSize != req) {
		t.Fatalf("%+v: Grown disagrees with requested part size %d", l, req)
	}
	if l.Grown && l.PartSize < req {
		t.Fatalf("%+v: part size shrank", l)
	}
	if l.SinglePut {
		if l.Size >= req || l.Parts != 1 || l.Size > MaxSinglePutSize {
			t.Fatalf("%+v: bad single PUT", l)
		}
		return
	}
	if l.Size < req {
		t.Fatalf("%+v: a file smaller than one part must be a single PUT", l)
	}
	var next int64
	for n := 1; n <= l.Parts; n++ {
		off, size := l.Part(n)
		if off != next {
			t.Fatalf("%+v: part %d at %d, want %d", l, n, off, next)
		}
		if size <= 0 || size > l.PartSize {
			t.Fatalf("%+v: part %d has %d bytes", l, n, size)
		}
		if n < l.Parts && size < MinPartSize {
			t.Fatalf("%+v: part %d (not last) has %d < %d bytes", l, n, size, MinPartSize)
		}
		next += size
		if n > 2 && n < l.Parts-2 { // skip the middle: ranges are uniform
			n = l.Parts - 2
			next = int64(n) * l.PartSize
		}
	}
	if next != l.Size {
		t.Fatalf("%+v: parts cover %d bytes, want %d", l, next, l.Size)
	}
}

func FuzzPlanParts(f *testing.F) {
	for _, s := range [][2]int64{
		{0, 0}, {1, 0}, {MinPartSize - 1, MinPartSize}, {MinPartSize, MinPartSize},
		{(MaxParts + 1) * MinPartSize, MinPartSize}, {MaxObjectSize, 0}, {MaxObjectSize, MaxPartSize},
		{1 << 40, 5 << 20}, {-1, 0}, {10, -5},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, size, req int64) {
		l, err := PlanParts(size, req)
		valid := size >= 0 && size <= MaxObjectSize && (req == 0 || (req >= MinPartSize && req <= MaxPartSize))
		if !valid {
			if err == nil {
				t.Fatalf("PlanParts(%d, %d) = %+v, want an error", size, req, l)
			}
			return
		}
		if err != nil {
			t.Fatalf("PlanParts(%d, %d): %v", size, req, err)
		}
		if l.Size != size {
			t.Fatalf("size %d, want %d", l.Size, size)
		}
		checkLayout(t, l, req)
	})
}
