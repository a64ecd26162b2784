// Package events records Kubernetes Event objects for what controllers, the
// scheduler and agents do, without ever blocking them: Eventf queues, a few
// goroutines write (retrying while there is no leader, and flushing what
// is still to be written when they stop), and events beyond the queue are
// dropped and counted.
//
// Identical events are aggregated, as client-go's EventCorrelator does: an
// event with the same involved object (its UID, or kind, namespace and
// name when it has none), type, reason and message as one recorded before
// by the same Recorder (so the same source component and host) is not a
// new Event object. It adds to the Count of the Event written for the
// first occurrence and moves its LastTimestamp. A failing probe thus keeps
// one Event per Pod and message, "(x N over M)" in kubectl's words, and
// costs at most one Raft write per AggregationInterval however often it
// fails.
//
// # Usage
//
//  1. Create a Recorder with New for a component (e.g. "scheduler") on a
//     host (the node's name); WithMetrics counts what it drops.
//  2. Run it in a goroutine you own; it returns after its context ends,
//     once what was recorded is written (or flushTimeout has passed).
//  3. Call Eventf from anywhere; it never blocks. A nil *Recorder drops
//     everything, so optional recording needs no checks.
//
// # Writes
//
// The first occurrence of an event is created at once (as soon as a
// writer is free). Repeats are counted in memory; each key is written at
// most once per AggregationInterval, at the end of the interval that
// began with its previous write, by updating that Event (count += repeats,
// lastTimestamp = the last repeat). A conflicting update re-reads the Event
// and adds to the stored count; an Event deleted meanwhile (by the Event
// TTL controller, after a quiet spell longer than the TTL) is created
// afresh with the repeats since the last write. A write that fails for
// another reason (after retrying while there is no leader) is given up:
// its occurrences are counted in Metrics.Failed and logged at Warn, at
// most one line per ratelog.DefaultInterval and Recorder. The memory of
// past events holds at most maxKeys keys, least recently seen evicted
// first; an evicted key's next occurrence starts a new Event.
//
// # What it does not do
//
// It does not group similar events with different messages (client-go's
// EventAggregator), nor rate-limit distinct events about one object (its
// spam filter): every distinct message is still a new Event, bounded only
// by the queue. The memory does not survive a restart: a process that
// starts again creates new Events for keys it recorded before. Two
// Recorders never share an Event, even with the same component and host.
package events
