package events

import "time"

// Test hooks; each must be called before the Recorder is used.

// SetInterval replaces AggregationInterval for r.
func SetInterval(r *Recorder, d time.Duration) { r.interval = d }

// SetClock makes r read the time from now (the sweep's ticker still runs
// on real time, every tenth of the interval).
func SetClock(r *Recorder, now func() time.Time) { r.now = now }

// SetMaxKeys replaces maxKeys for r.
func SetMaxKeys(r *Recorder, n int) { r.maxKeys = n }

// Sweep queues r's repeats whose interval is over and returns how many
// keys it queued.
func Sweep(r *Recorder) int { return r.sweep() }

// Keys returns how many keys r remembers.
func Keys(r *Recorder) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cache)
}
