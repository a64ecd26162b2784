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
	if bytes.Equal(data, []byte("null")) {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("timestamp must be an RFC 3339 string, got %s", data)
	}
	if s == "" {
		*t = Time{}
		return nil
	}
	pt, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp %q is not RFC 3339 (e.g. \"2024-01-02T15:04:05Z\")", s)
	}
	t.Time = pt.UTC()
	return nil
}
