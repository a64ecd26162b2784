package raftstore

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Why a connection was refused: the reason label of
// flotilla_raftstore_connections_rejected_total and the reason field of
// the Warn log.
const (
	// Accepted connections.
	rejectMaxConns         = "max_conns"          // over MaxConns: closed before any handshake
	rejectMaxConnsPerHost  = "max_conns_per_host" // over MaxConnsPerHost: likewise
	rejectHandshakeTimeout = "handshake_timeout"  // TLS handshake, protocol byte and AuthorizePeer not done within HandshakeTimeout
	rejectHandshakeFailed  = "handshake_failed"   // TLS handshake failed (bad or missing certificate, not TLS), or closed before its protocol byte
	rejectNoCertificate    = "no_certificate"     // Raft or forwarding without a verified client certificate
	rejectNotAuthorized    = "not_authorized"     // Raft or forwarding refused by AuthorizePeer
	rejectUnknownProtocol  = "unknown_protocol"   // first byte names no protocol or service
	// Dialed connections.
	rejectPeerNotAuthorized = "peer_not_authorized" // AuthorizePeer refused the server this node dialed
)

var rejectReasons = []string{rejectMaxConns, rejectMaxConnsPerHost, rejectHandshakeTimeout, rejectHandshakeFailed,
	rejectNoCertificate, rejectNotAuthorized, rejectUnknownProtocol, rejectPeerNotAuthorized}

// connMetrics count the connections on the node's port.
type connMetrics struct {
	open     prometheus.Gauge
	rejected *prometheus.CounterVec
}

func newConnMetrics(labels prometheus.Labels) *connMetrics {
	m := &connMetrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "flotilla", Subsystem: "raftstore", Name: "connections_open",
			Help: "Accepted connections held now (Raft, forwarding, services and handshakes in progress).", ConstLabels: labels}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "flotilla", Subsystem: "raftstore", Name: "connections_rejected_total",
			Help: "Connections refused or closed before use, by reason.", ConstLabels: labels}, []string{"reason"}),
	}
	for _, r := range rejectReasons {
		m.rejected.WithLabelValues(r) // every reason shows, at 0
	}
	return m
}

func (m *connMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.open, m.rejected}
}

// warnLimiter lets through at most one log line per key and interval, and
// counts the ones it held back, so that a flood of bad connections cannot
// flood the log.
type warnLimiter struct {
	every time.Duration
	mu    sync.Mutex
	keys  map[string]*warnState
}

type warnState struct {
	last       time.Time
	suppressed int
}

func newWarnLimiter(every time.Duration) *warnLimiter {
	return &warnLimiter{every: every, keys: map[string]*warnState{}}
}

// allow reports whether a line for key may be logged at now and, if so,
// how many were held back since the last one. Keys are a fixed set (the
// reject reasons), so the map stays small.
func (l *warnLimiter) allow(key string, now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.keys[key]
	if st == nil {
		st = &warnState{}
		l.keys[key] = st
	} else if now.Sub(st.last) < l.every {
		st.suppressed++
		return 0, false
	}
	suppressed, st.suppressed, st.last = st.suppressed, 0, now
	return suppressed, true
}
