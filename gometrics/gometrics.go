// Package gometrics bridges hashicorp/go-metrics, where hashicorp/raft and
// memberlist send their metrics, to Prometheus.
//
// Those libraries report to go-metrics' process-global sink. This package
// is the one place that touches that global: Install points it at a
// Prometheus collector on one registerer.
//
//  1. Call Install once per process with the registerer that serves
//     /metrics (a second call returns the first call's result and changes
//     nothing).
//  2. Start Raft and memberlist as usual; their metrics appear under
//     raft_* and memberlist_* names.
//
// It does not make the metrics per-Store: several Raft nodes in one process
// (as in tests) share the same series. The Raft log store (raft.db) reports
// no metrics of its own; Raft's raft_rpc_appendEntries_storeLogs and
// raft_leader_dispatchLog time its writes.
package gometrics

import (
	"fmt"
	"sync"
	"time"

	hmetrics "github.com/hashicorp/go-metrics"
	hprom "github.com/hashicorp/go-metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	once       sync.Once
	installErr error
)

// expiration drops series that have not been updated for this long, so a
// stopped node's gauges do not linger.
const expiration = 5 * time.Minute

// Install sends the go-metrics global to a Prometheus collector registered
// on reg. It is safe to call from several goroutines; only the first call
// acts.
//
// Errors: registering a collector on reg failed (for example, reg already
// holds collectors of the same names).
func Install(reg prometheus.Registerer) error {
	once.Do(func() { installErr = install(reg) })
	return installErr
}

func install(reg prometheus.Registerer) error {
	hsink, err := hprom.NewPrometheusSinkFrom(hprom.PrometheusOpts{Registerer: reg, Expiration: expiration, Name: "flotilla_gometrics_hashicorp"})
	if err != nil {
		return fmt.Errorf("gometrics: hashicorp/go-metrics sink: %w", err)
	}
	hconf := hmetrics.DefaultConfig("")
	hconf.EnableHostname = false
	hconf.EnableRuntimeMetrics = false
	hconf.EnableServiceLabel = false
	if _, err := hmetrics.NewGlobal(hconf, hsink); err != nil {
		return fmt.Errorf("gometrics: hashicorp/go-metrics global: %w", err)
	}
	return nil
}
