package raftstore

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's own counters. Raft reports its metrics through
// go-metrics; see the package documentation.
type metrics struct {
	writesOK      prometheus.Counter
	writesFailed  prometheus.Counter
	forwardedOut  prometheus.Counter
	forwardedIn   prometheus.Counter
	appliedReqs   prometheus.Counter
	fencedWrites  prometheus.Counter
	batchSize     prometheus.Histogram
	watchers      prometheus.Gauge
	events        prometheus.Counter
	demotions     prometheus.Counter
	leader        prometheus.Gauge
	keyFileErrors prometheus.Counter
	conns         *connMetrics

	reg  prometheus.Registerer
	once sync.Once
}

func newMetrics(reg prometheus.Registerer, node string) (*metrics, error) {
	labels := prometheus.Labels{"node": node}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "flotilla", Subsystem: "raftstore", Name: name, Help: help, ConstLabels: labels})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "flotilla", Subsystem: "raftstore", Name: name, Help: help, ConstLabels: labels})
	}
	m := &metrics{
		writesOK:     counter("writes_total", "Write requests (Create, Put, Update, Delete, Txn) that succeeded."),
		writesFailed: counter("write_failures_total", "Write requests that returned an error."),
		forwardedOut: counter("forwarded_requests_total", "Requests this node sent to the leader."),
		forwardedIn:  counter("forwarded_received_total", "Requests this node received from followers as leader."),
		appliedReqs:  counter("applied_requests_total", "Write requests applied to the local state."),
		fencedWrites: counter("fenced_writes_total", "Write requests the local state refused because their fence named another term than their entry's (a deposed leader's writes)."),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "flotilla", Subsystem: "raftstore", Name: "batch_requests",
			Help: "Requests per Raft entry (group commit).", ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		watchers: gauge("watchers", "Open watches."),
		events:   counter("watch_events_total", "Events delivered to watchers."),
		demotions: counter("watch_catchups_total",
			"Times a watcher's buffer was full and it fell back to catching up from the history at its consumer's pace."),
		leader: gauge("leader", "1 if this node is the ready leader."),
		keyFileErrors: counter("key_file_write_failures_total",
			"Times the key file could not be rewritten after a keyring change (the change held in memory only)."),
		conns: newConnMetrics(labels),
	}
	if reg != nil {
		for i, c := range m.collectors() {
			if err := reg.Register(c); err != nil {
				for _, done := range m.collectors()[:i] {
					reg.Unregister(done)
				}
				return nil, fmt.Errorf("raftstore: register metrics: %w", err)
			}
		}
		m.reg = reg
	}
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return append([]prometheus.Collector{m.writesOK, m.writesFailed, m.forwardedOut, m.forwardedIn, m.appliedReqs, m.fencedWrites, m.batchSize, m.watchers, m.events, m.demotions, m.leader, m.keyFileErrors},
		m.conns.collectors()...)
}

// unregister removes the collectors, so a new Store of the same node may
// register them again.
func (m *metrics) unregister() {
	m.once.Do(func() {
		if m.reg == nil {
			return
		}
		for _, c := range m.collectors() {
			m.reg.Unregister(c)
		}
	})
}

func (m *metrics) write(ok bool) {
	if ok {
		m.writesOK.Inc()
	} else {
		m.writesFailed.Inc()
	}
}

func (m *metrics) applied(n int)   { m.appliedReqs.Add(float64(n)) }
func (m *metrics) batch(n int)     { m.batchSize.Observe(float64(n)) }
func (m *metrics) delivered(n int) { m.events.Add(float64(n)) }

func (m *metrics) setLeader(ready bool) {
	if ready {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}
