package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Time is a timestamp that serializes like Kubernetes' metav1.Time: an RFC
// 3339 string in UTC with second precision, or null when zero.
//
// Because the wire form has whole seconds, [Now] and [NewTime] truncate to
// the second so that an object survives an encode/decode round trip
// unchanged.
type Time struct {
	time.Time
}

// NewTime returns t truncated to the second, in UTC.
func NewTime(t time.Time) Time {
	if t.IsZero() {
		return Time{}
	}
	return Time{t.UTC().Truncate(time.Second)}
}

// Now returns the current time truncated to the second, in UTC.
func Now() Time { return NewTime(time.Now()) }

// NewTimePtr returns a pointer to NewTime(t), for optional fields such as
// ObjectMeta.DeletionTimestamp.
func NewTimePtr(t time.Time) *Time {
	v := NewTime(t)
	return &v
}

// Equal reports whether t and u are the same instant; both zero is equal.
func (t Time) Equal(u Time) bool { return t.Time.Equal(u.Time) }

// String returns the RFC 3339 form, or "<nil>" when zero.
func (t Time) String() string {
	if t.IsZero() {
		return "<nil>"
	}
	return t.UTC().Format(time.RFC3339)
}

// MarshalJSON encodes t as an RFC 3339 string (seconds, UTC) or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendQuote(nil, t.UTC().Format(time.RFC3339)), nil
}

// UnmarshalJSON accepts null or an RFC 3339 string (fractional seconds are
// accepted and kept). Anything else is an error.
func (t *Time) UnmarshalJSON(data []byte) error {
	pt, err := parseTimestamp(data, "2024-01-02T15:04:05Z")
	if err != nil {
		return err
	}
	t.Time = pt
	return nil
}

// MicroTime is a timestamp that serializes like Kubernetes'
// metav1.MicroTime: an RFC 3339 string in UTC with exactly six fractional
// digits ("2006-01-02T15:04:05.000000Z"), or null when zero. Leases carry
// their times in it, so that renewals a few milliseconds apart differ.
//
// [NowMicro] and [NewMicroTime] truncate to the microsecond so that an
// object survives an encode/decode round trip unchanged.
type MicroTime struct {
	time.Time
}

// microTimeLayout is Kubernetes' RFC3339Micro.
const microTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// NewMicroTime returns t truncated to the microsecond, in UTC.
func NewMicroTime(t time.Time) MicroTime {
	if t.IsZero() {
		return MicroTime{}
	}
	return MicroTime{t.UTC().Truncate(time.Microsecond)}
}

// NowMicro returns the current time truncated to the microsecond, in UTC.
func NowMicro() MicroTime { return NewMicroTime(time.Now()) }

// Equal reports whether t and u are the same instant; both zero is equal.
func (t MicroTime) Equal(u MicroTime) bool { return t.Time.Equal(u.Time) }

// String returns the wire form, or "<nil>" when zero.
func (t MicroTime) String() string {
	if t.IsZero() {
		return "<nil>"
	}
	return t.UTC().Format(microTimeLayout)
}

// MarshalJSON encodes t with microseconds, in UTC, or as null.
func (t MicroTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendQuote(nil, t.UTC().Format(microTimeLayout)), nil
}

// UnmarshalJSON accepts null or an RFC 3339 string with any number of
// fractional digits (none included). Anything else is an error.
func (t *MicroTime) UnmarshalJSON(data []byte) error {
	pt, err := parseTimestamp(data, "2024-01-02T15:04:05.000000Z")
	if err != nil {
		return err
	}
	t.Time = pt
	return nil
}

// parseTimestamp reads a JSON timestamp: null or "" is the zero time, an
// RFC 3339 string (any fractional digits) its time in UTC; the error for
// anything else shows example.
func parseTimestamp(data []byte, example string) (time.Time, error) {
	if bytes.Equal(data, []byte("null")) {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return time.Time{}, fmt.Errorf("timestamp must be an RFC 3339 string, got %s", data)
	}
	if s == "" {
		return time.Time{}, nil
	}
	pt, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339 (e.g. %q)", s, example)
	}
	return pt.UTC(), nil
}
