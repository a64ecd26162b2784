package agent

import (
	"math"
	"testing"
	"time"
)

// A grace period too long for a Duration (a Pod stored before validation
// refused it) is the longest Duration, never an overflow to no grace.
func TestSecondsClamps(t *testing.T) {
	for n, want := range map[int64]time.Duration{
		0: 0, 30: 30 * time.Second, -5: 0,
		1 << 62:       time.Duration(math.MaxInt64/int64(time.Second)) * time.Second,
		math.MaxInt64: time.Duration(math.MaxInt64/int64(time.Second)) * time.Second,
	} {
		if got := seconds(n); got != want {
			t.Errorf("seconds(%d) = %v, want %v", n, got, want)
		}
	}
}
