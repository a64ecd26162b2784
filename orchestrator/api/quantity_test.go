package api

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"testing"
)

func TestParseQuantityCanonical(t *testing.T) {
	tests := []struct {
		in        string
		canonical string
		milli     int64
		value     int64
	}{
		{"100m", "100m", 100, 1},
		{"0.5", "500m", 500, 1},
		{"1", "1", 1000, 1},
		{"256Mi", "256Mi", 256 << 20 * 1000, 256 << 20},
		{"1Gi", "1Gi", 1 << 30 * 1000, 1 << 30},
		{"1e3", "1e3", 1000_000, 1000},
		{"1E3", "1e3", 1000_000, 1000},
		{"1e4", "10e3", 10_000_000, 10000},
		{"1.5e3", "1500", 1_500_000, 1500},
		{"2k", "2k", 2_000_000, 2000},
		{"1.5Gi", "1536Mi", 1536 << 20 * 1000, 1536 << 20},
		{"0.5Gi", "512Mi", 512 << 20 * 1000, 512 << 20},
		{"1.5Ki", "1536", 1536_000, 1536},
		{"1000m", "1", 1000, 1},
		{"1000", "1k", 1000_000, 1000},
		{"1500", "1500", 1_500_000, 1500},
		{"1.5k", "1500", 1_500_000, 1500},
		{"1.5M", "1500k", 1_500_000_000, 1_500_000},
		{"0", "0", 0, 0},
		{"0Mi", "0", 0, 0},
		{"-100m", "-100m", -100, -1},
		{"+2", "2", 2000, 2},
		{".5", "500m", 500, 1},
		{"5.", "5", 5000, 5},
		{"1n", "1n", 1, 1},
		{"0.1n", "1n", 1, 1},    // rounded up to the finest precision
		{"1.5n", "2n", 1, 1},    // idem
		{"1.5u", "1500n", 1, 1}, // milli rounded up
		{"512", "512", 512_000, 512},
		{"1024", "1024", 1024_000, 1024},
		{"1Ki", "1Ki", 1024_000, 1024},
		{"0.1Gi", "107374182400m", 107374182400, 107374183},
		{"1E", "1E", 1e18 * 1000 / 1000 * 1, 1e18}, // milli saturates below
		{"12e-3", "12e-3", 12, 1},
		{"12000e-3", "12", 12000, 12},
		{"1e-9", "1e-9", 1, 1},
		{"100.035k", "100035", 100035000, 100035},
		{"1.01E", "1010P", 1010e15 * 1000 / 1000, 101e16},
		{"3.001n", "4n", 1, 1},
		{"0.00000012345", "124n", 1, 1},
		{"1.2e3", "1200", 1200000, 1200},
		{"1.3E+6", "1300e3", 1300000000, 1300000},
		{"1.G", "1G", 1e12, 1e9},
		{"1000E", "1e21", 0, 0},
		{"100E100", "1e102", 0, 0},
		{"1e1000", "10e999", 0, 0},
		{"100.035Ki", "102435840m", 102435840, 102436},
		{"-9.01", "-9010m", -9010, -10},
		{"1n", "1n", 1, 1},
	}
	for _, tt := range tests {
		q, err := ParseQuantity(tt.in)
		if err != nil {
			t.Errorf("ParseQuantity(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.canonical {
			t.Errorf("ParseQuantity(%q).String() = %q, want %q", tt.in, got, tt.canonical)
		}
		if tt.in == "1000E" || tt.in == "100E100" || tt.in == "1e1000" {
			// Beyond int64: Value and MilliValue saturate.
			if q.Value() != math.MaxInt64 || q.MilliValue() != math.MaxInt64 {
				t.Errorf("saturation: %d %d", q.Value(), q.MilliValue())
			}
			continue
		}
		if tt.in != "1E" && tt.in != "1.01E" {
			if got := q.MilliValue(); got != tt.milli {
				t.Errorf("ParseQuantity(%q).MilliValue() = %d, want %d", tt.in, got, tt.milli)
			}
		}
		if got := q.Value(); got != tt.value {
			t.Errorf("ParseQuantity(%q).Value() = %d, want %d", tt.in, got, tt.value)
		}
		// The canonical form parses back to the same number.
		back, err := ParseQuantity(q.String())
		if err != nil || back.Cmp(q) != 0 {
			t.Errorf("reparse of %q (%q) = %v, %v", tt.in, q.String(), back, err)
		}
	}
}

func TestParseQuantityErrors(t *testing.T) {
	for _, in := range []string{
		"", "abc", "1.2.3", "1Gb", "1K", "1 Gi", " 1", "1e", "1e+", "1e3.5", "--1",
		"1i", "Mi", ".", "+", "1MiB", "0x10", "1e1001", "100e999", "12345678901234567890123",
		"1Gi ", "∞", "1+1.0M", "0.1mi", "0.1am", ".5i", "-3.01e-", "1.1.M", "1Ei2",
	} {
		q, err := ParseQuantity(in)
		if err == nil {
			t.Errorf("ParseQuantity(%q) = %v, want error", in, q)
			continue
		}
		if !errors.Is(err, ErrQuantityFormat) && !errors.Is(err, ErrQuantityRange) {
			t.Errorf("ParseQuantity(%q) error %v wraps neither sentinel", in, err)
		}
	}
}

func TestQuantityArithmetic(t *testing.T) {
	tests := []struct {
		a, b      string
		sum, diff string
		cmp       int
	}{
		{"100m", "200m", "300m", "-100m", -1},
		{"1", "500m", "1500m", "500m", 1},
		{"1Gi", "512Mi", "1536Mi", "512Mi", 1},
		{"1Gi", "1024Mi", "2Gi", "0", 0},
		{"1k", "1000", "2k", "0", 0},
		{"0", "1Mi", "1Mi", "-1Mi", -1},
		{"-1", "1", "0", "-2", -1},
		{"1e3", "1", "1001", "999", 1},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		if got := a.Add(b).String(); got != tt.sum {
			t.Errorf("%s + %s = %s, want %s", tt.a, tt.b, got, tt.sum)
		}
		if got := a.Sub(b).String(); got != tt.diff {
			t.Errorf("%s - %s = %s, want %s", tt.a, tt.b, got, tt.diff)
		}
		if got := a.Cmp(b); got != tt.cmp {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.cmp)
		}
		if got := b.Cmp(a); got != -tt.cmp {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.cmp)
		}
	}
	// A zero value takes the other operand's format.
	var z Quantity
	if got := z.Add(MustParse("1Gi")).String(); got != "1Gi" {
		t.Errorf("zero + 1Gi = %s", got)
	}
	// Zero is always the zero value.
	if MustParse("0Mi") != (Quantity{}) || MustParse("1Gi").Sub(MustParse("1Gi")) != (Quantity{}) {
		t.Error("zero quantities are not the zero value")
	}
	// Overflow degrades precision instead of wrapping.
	big := MustParse("999999999999999999")
	if s := big.Add(MustParse("2")); s.Cmp(big) <= 0 {
		t.Errorf("overflowing sum %s not above operand", s)
	}
}

func TestQuantityConstructors(t *testing.T) {
	tests := []struct {
		q    Quantity
		want string
	}{
		{NewMilliQuantity(500, DecimalSI), "500m"},
		{NewMilliQuantity(2000, DecimalSI), "2"},
		{NewQuantity(1<<30, BinarySI), "1Gi"},
		{NewQuantity(1000, DecimalSI), "1k"},
		{NewQuantity(1000, DecimalExponent), "1e3"},
		{NewScaledQuantity(5, 6, DecimalSI), "5M"},
		{NewScaledQuantity(15, -10, DecimalSI), "2n"},
		{Quantity{}, "0"},
	}
	for _, tt := range tests {
		if got := tt.q.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestQuantityJSON(t *testing.T) {
	var rl ResourceList
	in := `{"cpu":0.5,"memory":"1.5Gi","nvidia.com/gpu":1,"ephemeral-storage":null}`
	if err := json.Unmarshal([]byte(in), &rl); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(rl)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cpu":"500m","ephemeral-storage":"0","memory":"1536Mi","nvidia.com/gpu":"1"}`
	if string(out) != want {
		t.Errorf("round trip = %s, want %s", out, want)
	}
	var q Quantity
	if err := json.Unmarshal([]byte(`"12Qi"`), &q); err == nil || !errors.Is(err, ErrQuantityFormat) {
		t.Errorf("bad quantity error = %v", err)
	}
}

func TestResourceListFits(t *testing.T) {
	node := ResourceList{ResourceCPU: MustParse("2"), ResourceMemory: MustParse("4Gi")}
	req := ResourceList{ResourceCPU: MustParse("1500m"), ResourceMemory: MustParse("5Gi"), "gpu": MustParse("1")}
	ok, bad := node.Fits(req)
	if ok || len(bad) != 2 || bad[0] != "gpu" || bad[1] != ResourceMemory {
		t.Errorf("Fits = %v, %v", ok, bad)
	}
	sum := ResourceList{}
	sum.Add(node)
	sum.Add(node)
	if sum.Cpu().String() != "4" || sum.Memory().String() != "8Gi" {
		t.Errorf("sum = %v", sum)
	}
	sum.Sub(node)
	if !sum.Memory().Equal(node.Memory()) {
		t.Errorf("after Sub = %v", sum)
	}
}

func BenchmarkQuantityParse(b *testing.B) {
	for b.Loop() {
		_, _ = ParseQuantity("1536Mi")
	}
}

func BenchmarkQuantityCmp(b *testing.B) {
	x, y := MustParse("1500m"), MustParse("2")
	for b.Loop() {
		_ = x.Cmp(y)
	}
}

// The allocation-free int64 paths of Cmp, Add and Sub agree with exact
// big-number arithmetic on every pair of a varied set.
func TestQuantityFastPathsAgreeWithBig(t *testing.T) {
	inputs := []string{"0", "1", "-1", "100m", "1n", "-7n", "1.5Gi", "999999999999999999", "-999999999999999999",
		"999999999999999999n", "1E", "9E", "123456789012345678k", "1e100", "-1e100", "3e-9", "12345.6789", "8Ei", "7Ei"}
	var qs []Quantity
	for _, s := range inputs {
		q, err := ParseQuantity(s)
		if err != nil {
			continue // 8Ei is out of range
		}
		qs = append(qs, q)
	}
	for _, a := range qs {
		for _, b := range qs {
			x, y, scale := aligned(a, b)
			if got, want := a.Cmp(b), x.Cmp(y); got != want {
				t.Errorf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
			}
			sum, _ := quantityFromBig(new(big.Int).Add(x, y), int64(scale), a.pickFormat(b))
			if got := a.Add(b); got != sum {
				t.Errorf("%s + %s = %#v, want %#v", a, b, got, sum)
			}
			x, y, scale = aligned(a, b)
			diff, _ := quantityFromBig(new(big.Int).Sub(x, y), int64(scale), a.pickFormat(b))
			if got := a.Sub(b); got != diff {
				t.Errorf("%s - %s = %#v, want %#v", a, b, got, diff)
			}
		}
	}
}
