package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// IntOrStringType says which member of an IntOrString is set.
type IntOrStringType int

const (
	// Int means IntVal holds the value.
	Int IntOrStringType = iota
	// String means StrVal holds the value.
	String
)

// IntOrString holds either an int32 or a string, as Kubernetes' intstr:
// a container port given by number or name, or a count given as "25%".
// It marshals as a bare JSON number or string.
type IntOrString struct {
	Type   IntOrStringType
	IntVal int32
	StrVal string
}

// FromInt returns an IntOrString holding i.
func FromInt(i int32) IntOrString { return IntOrString{Type: Int, IntVal: i} }

// FromString returns an IntOrString holding s.
func FromString(s string) IntOrString { return IntOrString{Type: String, StrVal: s} }

// IntOrStringPtr returns a pointer to v, for optional fields.
func IntOrStringPtr(v IntOrString) *IntOrString { return &v }

// String returns the decimal integer or the string value.
func (v IntOrString) String() string {
	if v.Type == String {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// IsZero reports whether v is the integer 0 or the empty string.
func (v IntOrString) IsZero() bool {
	if v.Type == String {
		return v.StrVal == ""
	}
	return v.IntVal == 0
}

// MarshalJSON encodes v as a JSON number or string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.Type == String {
		return json.Marshal(v.StrVal)
	}
	return strconv.AppendInt(nil, int64(v.IntVal), 10), nil
}

// UnmarshalJSON accepts a JSON string or an integer that fits in int32;
// null leaves v unchanged, as encoding/json does for other types.
func (v *IntOrString) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*v = FromString(s)
		return nil
	}
	i, err := strconv.ParseInt(string(data), 10, 32)
	if err != nil {
		return fmt.Errorf("must be an integer (int32) or a string, got %s", data)
	}
	*v = FromInt(int32(i))
	return nil
}

// ErrNotPercent is returned by [ScaledValueFromIntOrPercent] for a string
// value that is not a percentage such as "25%".
var ErrNotPercent = errors.New(`api: value must be an integer or a percentage such as "25%"`)

// ParsePercent returns n for a string "n%" with 0 <= n. It returns
// ErrNotPercent for anything else.
func ParsePercent(s string) (int, error) {
	num, ok := strings.CutSuffix(s, "%")
	if !ok || num == "" || strings.ContainsAny(num, "+-") {
		return 0, ErrNotPercent
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, ErrNotPercent
	}
	return n, nil
}

// ScaledValueFromIntOrPercent resolves v against total: an integer is
// returned as is, a percentage "p%" becomes p*total/100 rounded up when
// roundUp is true and down otherwise (Kubernetes rounds maxSurge up and
// maxUnavailable down). A nil v yields 0. It returns ErrNotPercent for a
// string that is not a percentage.
func ScaledValueFromIntOrPercent(v *IntOrString, total int, roundUp bool) (int, error) {
	if v == nil {
		return 0, nil
	}
	if v.Type == Int {
		return int(v.IntVal), nil
	}
	p, err := ParsePercent(v.StrVal)
	if err != nil {
		return 0, err
	}
	n := int64(p) * int64(total)
	if roundUp && n%100 != 0 {
		return int(n/100 + 1), nil
	}
	return int(n / 100), nil
}
