package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// QuantityFormat is the notation a Quantity was written in; it decides the
// canonical form it prints in.
type QuantityFormat string

const (
	// DecimalSI is plain numbers and the suffixes n, u, m, k, M, G, T, P, E.
	DecimalSI QuantityFormat = "DecimalSI"
	// BinarySI is the suffixes Ki, Mi, Gi, Ti, Pi, Ei.
	BinarySI QuantityFormat = "BinarySI"
	// DecimalExponent is an exponent suffix such as 1e3.
	DecimalExponent QuantityFormat = "DecimalExponent"
)

// ErrQuantityFormat is wrapped by every error ParseQuantity returns for
// malformed input.
var ErrQuantityFormat = errors.New("a quantity must be a number with an optional suffix n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or e<exponent> (e.g. 100m, 0.5, 1.5Gi, 1e3)")

// ErrQuantityRange is wrapped by ParseQuantity's error for a well-formed
// quantity that has more than 18 significant digits or a magnitude beyond
// 10^1018.
var ErrQuantityRange = errors.New("quantity is out of the supported range (at most 18 significant digits, exponents within ±1000)")

// maxScale bounds the decimal exponent of a Quantity, so that every
// canonical form parses back; arithmetic beyond it saturates.
const maxScale = 1000

// minScale is the finest precision a Quantity keeps: 10^-9 (the "n" suffix).
// Finer input is rounded up (away from zero), as in Kubernetes.
const minScale = -9

// Quantity is an exact fixed-point number with Kubernetes' notation:
// "100m", "0.5", "256Mi", "1.5Gi", "1e3", "2k". The value is value×10^scale
// with at most 18 significant digits and a precision of 10^-9. The zero
// value is 0.
//
// Quantity is a comparable value type; two quantities that are numerically
// equal but were written in different formats (1Ki and 1024) compare unequal
// with ==; use [Quantity.Cmp] or [Quantity.Equal]. Zero has a single
// representation, the zero value, so a zero quantity survives an
// encode/decode round trip unchanged.
type Quantity struct {
	value  int64 // normalized: no trailing decimal zeros unless zero
	scale  int32 // >= minScale; 0 when value is 0
	format QuantityFormat
}

var decimalSuffixes = map[string]int32{
	"n": -9, "u": -6, "m": -3, "": 0,
	"k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}

var binarySuffixes = map[string]uint{
	"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60,
}

// ParseQuantity parses s in Kubernetes' quantity syntax:
//
//	<signedNumber><suffix>
//	suffix = "" | n | u | m | k | M | G | T | P | E | Ki | Mi | Gi | Ti | Pi | Ei | e<int> | E<int>
//
// Input with precision finer than 10^-9 is rounded up. Errors wrap
// ErrQuantityFormat for malformed input and ErrQuantityRange for numbers it
// cannot represent exactly; the message quotes s.
func ParseQuantity(s string) (Quantity, error) {
	q, err := parseQuantity(s)
	if err != nil {
		return Quantity{}, fmt.Errorf("quantity %q: %w", s, err)
	}
	return q, nil
}

// MustParse is ParseQuantity for literals in code and tests; it panics on
// malformed input and must not be used on user input.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

func parseQuantity(s string) (Quantity, error) {
	if s == "" || len(s) > 128 {
		return Quantity{}, ErrQuantityFormat
	}
	i := 0
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i++
	}
	start := i
	dot := -1
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		if s[i] == '.' {
			if dot >= 0 {
				return Quantity{}, ErrQuantityFormat
			}
			dot = i
		}
		i++
	}
	num := s[start:i]
	if num == "" || num == "." {
		return Quantity{}, ErrQuantityFormat
	}
	suffix := s[i:]
	var intPart, fracPart string
	if dot >= 0 {
		intPart, fracPart = s[start:dot], s[dot+1:i]
	} else {
		intPart = num
	}

	format := DecimalSI
	var exp10 int64
	var exp2 uint
	if e, ok := decimalSuffixes[suffix]; ok {
		exp10 = int64(e)
	} else if e, ok := binarySuffixes[suffix]; ok {
		exp2 = e
		format = BinarySI
	} else if suffix[0] == 'e' || suffix[0] == 'E' {
		es := suffix[1:]
		digits := strings.TrimLeft(es, "+-")
		if len(es)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
			return Quantity{}, ErrQuantityFormat
		}
		e, err := strconv.ParseInt(es, 10, 32)
		if err != nil || e < -maxScale || e > maxScale {
			return Quantity{}, ErrQuantityRange
		}
		exp10 = e
		format = DecimalExponent
	} else {
		return Quantity{}, fmt.Errorf("unknown suffix %q: %w", suffix, ErrQuantityFormat)
	}

	digits := strings.TrimLeft(intPart+fracPart, "0")
	if digits == "" {
		return Quantity{}, nil // zero has one representation, whatever its notation
	}
	if len(digits) > 40 {
		return Quantity{}, ErrQuantityRange
	}
	v, _ := new(big.Int).SetString(digits, 10)
	if neg {
		v.Neg(v)
	}
	v.Lsh(v, exp2)
	q, exact := quantityFromBig(v, exp10-int64(len(fracPart)), format)
	if !exact {
		return Quantity{}, ErrQuantityRange
	}
	return q, nil
}

var bigTen = big.NewInt(10)

// maxMantissa bounds the stored value to 18 significant digits.
const maxMantissa = 999_999_999_999_999_999

// divRoundAway divides v by d in place, rounding away from zero.
func divRoundAway(v, d *big.Int) {
	var m big.Int
	v.QuoRem(v, d, &m)
	if m.Sign() != 0 {
		if m.Sign() > 0 {
			v.Add(v, big.NewInt(1))
		} else {
			v.Sub(v, big.NewInt(1))
		}
	}
}

// quantityFromBig builds a normalized Quantity from v×10^scale. Precision
// finer than 10^-9 is rounded up; if the result needs more than 18 digits it
// is rounded up to fewer digits, and beyond 10^maxScale it saturates; in
// both cases exact is false.
func quantityFromBig(v *big.Int, scale int64, format QuantityFormat) (q Quantity, exact bool) {
	v = new(big.Int).Set(v)
	exact = true
	if scale < minScale {
		d := new(big.Int).Exp(bigTen, big.NewInt(minScale-scale), nil)
		divRoundAway(v, d)
		scale = minScale
	}
	if v.Sign() == 0 {
		return Quantity{}, exact
	}
	var m big.Int
	for {
		var qv big.Int
		qv.QuoRem(v, bigTen, &m)
		if m.Sign() != 0 {
			break
		}
		v = &qv
		scale++
	}
	for !v.IsInt64() || v.CmpAbs(big.NewInt(maxMantissa)) > 0 {
		divRoundAway(v, bigTen)
		scale++
		exact = false
	}
	if scale > maxScale {
		m := int64(maxMantissa)
		if v.Sign() < 0 {
			m = -m
		}
		return Quantity{value: m, scale: maxScale, format: format}, false
	}
	return Quantity{value: v.Int64(), scale: int32(scale), format: format}, exact
}

// NewQuantity returns value in the given format.
func NewQuantity(value int64, format QuantityFormat) Quantity {
	return NewScaledQuantity(value, 0, format)
}

// NewMilliQuantity returns milli/1000 in the given format, e.g.
// NewMilliQuantity(500, DecimalSI) is "500m".
func NewMilliQuantity(milli int64, format QuantityFormat) Quantity {
	return NewScaledQuantity(milli, -3, format)
}

// NewScaledQuantity returns value×10^scale in the given format. A scale
// below -9 is rounded up to 10^-9 precision.
func NewScaledQuantity(value int64, scale int32, format QuantityFormat) Quantity {
	q, _ := quantityFromBig(big.NewInt(value), int64(scale), format)
	return q
}

func (q Quantity) big() *big.Int { return big.NewInt(q.value) }

// Format returns the notation the quantity prints in.
func (q Quantity) Format() QuantityFormat {
	if q.format == "" {
		return DecimalSI
	}
	return q.format
}

// IsZero reports whether the quantity is 0.
func (q Quantity) IsZero() bool { return q.value == 0 }

// Sign returns -1, 0 or +1.
func (q Quantity) Sign() int {
	switch {
	case q.value < 0:
		return -1
	case q.value > 0:
		return 1
	}
	return 0
}

// aligned returns a and b as integers at the common (smaller) scale.
func aligned(a, b Quantity) (x, y *big.Int, scale int32) {
	x, y = a.big(), b.big()
	scale = min(a.scale, b.scale)
	if d := a.scale - scale; d > 0 {
		x.Mul(x, new(big.Int).Exp(bigTen, big.NewInt(int64(d)), nil))
	}
	if d := b.scale - scale; d > 0 {
		y.Mul(y, new(big.Int).Exp(bigTen, big.NewInt(int64(d)), nil))
	}
	return x, y, scale
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// alignedInt64 is aligned without allocation, when both values fit in an
// int64 at the common scale.
func alignedInt64(a, b Quantity) (x, y int64, scale int32, ok bool) {
	x, y, scale = a.value, b.value, min(a.scale, b.scale)
	if d := int(a.scale - scale); d > 0 {
		if x, ok = mulPow10(x, d); !ok {
			return 0, 0, 0, false
		}
	}
	if d := int(b.scale - scale); d > 0 {
		if y, ok = mulPow10(y, d); !ok {
			return 0, 0, 0, false
		}
	}
	return x, y, scale, true
}

func mulPow10(v int64, d int) (int64, bool) {
	if d >= len(pow10) {
		return 0, v == 0
	}
	p := pow10[d]
	if v > math.MaxInt64/p || v < math.MinInt64/p {
		return 0, false
	}
	return v * p, true
}

// normalized strips trailing decimal zeros from v×10^scale.
func normalized(v int64, scale int32, format QuantityFormat) Quantity {
	if v == 0 {
		return Quantity{}
	}
	for v%10 == 0 {
		v /= 10
		scale++
	}
	if scale > maxScale {
		q, _ := quantityFromBig(big.NewInt(v), int64(scale), format) // saturates
		return q
	}
	return Quantity{value: v, scale: scale, format: format}
}

// Cmp returns -1, 0 or +1 as q is less than, equal to or greater than y.
func (q Quantity) Cmp(y Quantity) int {
	if x, yy, _, ok := alignedInt64(q, y); ok {
		switch {
		case x < yy:
			return -1
		case x > yy:
			return 1
		}
		return 0
	}
	if q.Sign() != y.Sign() {
		if q.Sign() < y.Sign() {
			return -1
		}
		return 1
	}
	x, yy, _ := aligned(q, y)
	return x.Cmp(yy)
}

// Equal reports whether q and y are numerically equal.
func (q Quantity) Equal(y Quantity) bool { return q.Cmp(y) == 0 }

// Add returns q+y in q's format, or in y's format when q is zero (as
// Kubernetes does, so summing into an empty list keeps "Mi"). A sum beyond 18 significant digits is rounded up.
func (q Quantity) Add(y Quantity) Quantity {
	if x, yy, scale, ok := alignedInt64(q, y); ok {
		if sum := x + yy; (sum > x) == (yy > 0) && -maxMantissa <= sum && sum <= maxMantissa {
			return normalized(sum, scale, q.pickFormat(y))
		}
	}
	x, yy, scale := aligned(q, y)
	r, _ := quantityFromBig(x.Add(x, yy), int64(scale), q.pickFormat(y))
	return r
}

// Sub returns q-y in q's format, or in y's format when q is zero. A difference beyond 18 significant digits
// is rounded away from zero.
func (q Quantity) Sub(y Quantity) Quantity {
	if x, yy, scale, ok := alignedInt64(q, y); ok {
		if diff := x - yy; (diff < x) == (yy > 0) && -maxMantissa <= diff && diff <= maxMantissa {
			return normalized(diff, scale, q.pickFormat(y))
		}
	}
	x, yy, scale := aligned(q, y)
	r, _ := quantityFromBig(x.Sub(x, yy), int64(scale), q.pickFormat(y))
	return r
}

func (q Quantity) pickFormat(y Quantity) QuantityFormat {
	if q.value == 0 || q.format == "" {
		return y.format
	}
	return q.format
}

// Neg returns -q.
func (q Quantity) Neg() Quantity {
	q.value = -q.value
	return q
}

// ScaledValue returns ceil(q / 10^scale), rounding away from zero, clamped
// to the int64 range.
func (q Quantity) ScaledValue(scale int32) int64 {
	d := int64(q.scale) - int64(scale)
	if d == 0 {
		return q.value
	}
	v := q.big()
	if d > 0 {
		v.Mul(v, new(big.Int).Exp(bigTen, big.NewInt(d), nil))
	} else {
		divRoundAway(v, new(big.Int).Exp(bigTen, big.NewInt(-d), nil))
	}
	if !v.IsInt64() {
		if v.Sign() < 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return v.Int64()
}

// Value returns the quantity rounded up (away from zero) to an integer,
// e.g. 1 for "100m"; memory quantities are byte counts.
func (q Quantity) Value() int64 { return q.ScaledValue(0) }

// MilliValue returns the quantity in thousandths rounded up, e.g. 100 for
// "100m" and 1500 for "1.5"; CPU requests are compared in millicores.
func (q Quantity) MilliValue() int64 { return q.ScaledValue(-3) }

// AsApproximateFloat64 returns the quantity as a float64, for display and
// scoring where exactness does not matter.
func (q Quantity) AsApproximateFloat64() float64 {
	return float64(q.value) * math.Pow10(int(q.scale))
}

// String returns the canonical form, as Kubernetes prints it: "500m" for
// 0.5, "1536Mi" for 1.5Gi, "1k" for 1000 written plainly, "0" for zero.
// Binary values below 1024 or with a fraction print in DecimalSI.
func (q Quantity) String() string {
	if q.value == 0 {
		return "0"
	}
	format := q.Format()
	if format == BinarySI {
		if q.scale >= 0 {
			v := q.big()
			v.Mul(v, new(big.Int).Exp(bigTen, big.NewInt(int64(q.scale)), nil))
			if v.CmpAbs(big.NewInt(1024)) >= 0 {
				i := 0
				mask := big.NewInt(1023)
				abs := new(big.Int).Abs(v)
				for i < 6 && new(big.Int).And(abs, mask).Sign() == 0 {
					abs.Rsh(abs, 10)
					i++
				}
				if v.Sign() < 0 {
					abs.Neg(abs)
				}
				suffix := ""
				if i > 0 {
					suffix = []string{"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}[i-1]
				}
				return abs.String() + suffix
			}
		}
		format = DecimalSI
	}
	// Largest multiple of 3 not above the scale, so the mantissa is an
	// integer with at most two zeros appended.
	e := q.scale - ((q.scale%3)+3)%3
	mant := strconv.FormatInt(q.value, 10) + strings.Repeat("0", int(q.scale-e))
	if format == DecimalSI && e <= 18 {
		for suf, x := range decimalSuffixes {
			if x == e {
				return mant + suf
			}
		}
	}
	if e == 0 {
		return mant
	}
	return mant + "e" + strconv.Itoa(int(e))
}

// MarshalJSON encodes the canonical form as a JSON string.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, q.String()), nil
}

// UnmarshalJSON accepts a JSON string or number in quantity syntax (YAML's
// `cpu: 1` arrives as a number) and null (zero). Errors are those of
// ParseQuantity.
func (q *Quantity) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*q = Quantity{}
		return nil
	}
	s := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
	}
	v, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// ResourceName names a resource such as "cpu" or "memory".
type ResourceName string

// Resource names Flotilla understands; others are accepted and summed but
// not scheduled on.
const (
	ResourceCPU              ResourceName = "cpu"
	ResourceMemory           ResourceName = "memory"
	ResourceEphemeralStorage ResourceName = "ephemeral-storage"
	ResourcePods             ResourceName = "pods"
)

// ResourceList maps resource names to quantities.
type ResourceList map[ResourceName]Quantity

// Cpu returns the "cpu" entry (zero if absent).
func (rl ResourceList) Cpu() Quantity { return rl[ResourceCPU] }

// Memory returns the "memory" entry (zero if absent).
func (rl ResourceList) Memory() Quantity { return rl[ResourceMemory] }

// Pods returns the "pods" entry (zero if absent).
func (rl ResourceList) Pods() Quantity { return rl[ResourcePods] }

// Add adds every entry of other into rl, which must not be nil if other is
// non-empty.
func (rl ResourceList) Add(other ResourceList) {
	for name, q := range other {
		if cur, ok := rl[name]; ok {
			rl[name] = cur.Add(q)
		} else {
			rl[name] = q
		}
	}
}

// Sub subtracts every entry of other from rl (missing entries count as
// zero), which must not be nil if other is non-empty.
func (rl ResourceList) Sub(other ResourceList) {
	for name, q := range other {
		rl[name] = rl[name].Sub(q)
	}
}

// Fits reports whether every entry of request is at most the same entry of
// rl (a missing entry in rl counts as zero), and lists the names that do
// not fit, sorted.
func (rl ResourceList) Fits(request ResourceList) (ok bool, insufficient []ResourceName) {
	for name, q := range request {
		if q.Cmp(rl[name]) > 0 {
			insufficient = append(insufficient, name)
		}
	}
	sortStrings(insufficient)
	return len(insufficient) == 0, insufficient
}

// DeepCopy returns a copy of rl (nil for nil).
func (rl ResourceList) DeepCopy() ResourceList {
	if rl == nil {
		return nil
	}
	out := make(ResourceList, len(rl))
	for k, v := range rl {
		out[k] = v
	}
	return out
}
