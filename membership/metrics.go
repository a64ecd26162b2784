package membership

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// collector exposes a Membership's state as Prometheus metrics, read at
// scrape time (it starts no goroutines):
//
//	flotilla_membership_members{status}            gauge: members by status
//	flotilla_membership_events_total{type}         counter: events emitted
//	flotilla_membership_events_dropped_total       counter: events dropped (channel full)
//	flotilla_membership_sent_bytes_total{kind}     counter: gossip bytes (packet, stream)
//	flotilla_membership_health_score               gauge: memberlist awareness (0 = healthy)
//	flotilla_membership_streams_refused_total      counter: inbound streams closed over MaxStreams/MaxStreamsPerHost
//
// Every metric has the constant label node=<NodeName>.
type collector struct {
	m                                                *Membership
	members, events, dropped, bytes, health, refused *prometheus.Desc
}

func newCollector(m *Membership) *collector {
	labels := prometheus.Labels{"node": m.cfg.NodeName}
	d := func(name, help string, vars ...string) *prometheus.Desc {
		return prometheus.NewDesc("flotilla_membership_"+name, help, vars, labels)
	}
	return &collector{
		m:       m,
		members: d("members", "Members known to this node, by status.", "status"),
		events:  d("events_total", "Membership events emitted, by type.", "type"),
		dropped: d("events_dropped_total", "Membership events dropped because the Events channel was full."),
		bytes:   d("sent_bytes_total", "Gossip bytes sent: packet payloads, and both directions of streams this node opened.", "kind"),
		health:  d("health_score", "memberlist awareness score; 0 is healthy, higher means this node is slow or losing packets."),
		refused: d("streams_refused_total", "Inbound gossip streams closed at once because MaxStreams or MaxStreamsPerHost were reached."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.members, c.events, c.dropped, c.bytes, c.health, c.refused} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counts := map[Status]int{StatusAlive: 0, StatusLeaving: 0, StatusLeft: 0, StatusFailed: 0}
	for _, mem := range c.m.Members() {
		counts[mem.Status]++
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(n), s.String())
	}
	for i := range c.m.eventCounts {
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue,
			float64(c.m.eventCounts[i].Load()), EventType(i+1).String())
	}
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(c.m.dropped.Load()))
	t := c.m.Traffic()
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(t.PacketBytesSent), "packet")
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(t.StreamBytes), "stream")
	if h, err := c.m.HealthScore(); err == nil {
		ch <- prometheus.MustNewConstMetric(c.health, prometheus.GaugeValue, float64(h))
	}
	c.m.life.Lock()
	lt := c.m.limiter
	c.m.life.Unlock()
	if lt != nil {
		ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(lt.rejected.Load()))
	}
}

// eventCounters counts emitted events per EventType (index type-1).
type eventCounters [4]atomic.Uint64
