// Package ratelog writes the log lines of failures that may persist — a
// heartbeat, a list and watch, a reconcile that keeps failing — at Warn or
// Error without flooding the log: the first line of a key at once, then at
// most one per interval, carrying how many lines were held back since the
// previous one. Held-back lines still go out at Debug, so a debug log keeps
// every occurrence.
//
// # Usage
//
//  1. Give each component its Limiter: New(log, DefaultInterval).
//  2. Where a failure may persist, log through it with a key that names the
//     kind of failure, not the object (keys are few; see Limiter.Log):
//     l.Warn("heartbeat", "node heartbeat failed", zap.Error(err)).
//
// # What it does not do
//
// It does not decide what is transient: callers log expected,
// self-correcting errors (a conflict on an optimistic write, a watch that
// must re-list) at Debug themselves. It never writes on its own: the count
// of held-back lines comes with the next line of the key, so a failure that
// stops is not summed up (metrics count every occurrence). It starts no
// goroutines.
package ratelog
