// Package promtest reads metrics back from a Prometheus gatherer in tests:
// by name and by the labels a series must carry (labels it does not name
// may have any value).
package promtest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Find returns the first series of the metric name in g whose labels
// include labels, or nil. A Gather error fails the test.
func Find(tb testing.TB, g prometheus.Gatherer, name string, labels map[string]string) *dto.Metric {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := make(map[string]string, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got, ok := have[k]; !ok || got != v {
					continue series
				}
			}
			return m
		}
	}
	return nil
}

// Value returns the value of the counter, gauge or untyped series Find
// finds, or -1 if there is none.
func Value(tb testing.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	tb.Helper()
	m := Find(tb, g, name, labels)
	switch {
	case m == nil:
		return -1
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return -1
}
