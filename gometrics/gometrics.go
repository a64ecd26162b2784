// Package gometrics bridges hashicorp/go-metrics, where hashicorp/raft,
// raft-boltdb and memberlist send their metrics, to Prometheus.
//
// Those libraries report to a process-global go-metrics sink, and
// raft-boltdb reports through go-metrics' compat package, which points at
// armon/go-metrics unless the binary is built with the hashicorpmetrics
// tag. This package is the one place that touches either global: Install
// points both at Prometheus collectors on one registerer, so no metric is
// lost whichever way the binary was built.
//
//  1. Call Install once per process with the registerer that serves
//     /metrics (a second call returns the first call's result and changes
//     nothing).
//  2. Start Raft and memberlist as usual; their metrics appear under
//     raft_*, memberlist_* and raft_boltdb_* names.
//
// It does not make the metrics per-Store: several Raft nodes in one process
// (as in tests) share the same series.
package gometrics

import (
	"fmt"
	"sync"
	"time"

	hmetrics "github.com/hashicorp/go-metrics"
	compat "github.com/hashicorp/go-metrics/compat"
	compatprom "github.com/hashicorp/go-metrics/compat/prometheus"
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

// Install sends the go-metrics globals (hashicorp and armon) to Prometheus
// collectors registered on reg. It is safe to call from several goroutines;
// only the first call acts.
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
	csink, err := compatprom.NewPrometheusSinkFrom(compatprom.PrometheusOpts{Registerer: reg, Expiration: expiration, Name: "flotilla_gometrics_compat"})
	if err != nil {
		return fmt.Errorf("gometrics: go-metrics compat sink: %w", err)
	}
	cconf := compat.DefaultConfig("")
	cconf.EnableHostname = false
	cconf.EnableRuntimeMetrics = false
	cconf.EnableServiceLabel = false
	if _, err := compat.NewGlobal(cconf, csink); err != nil {
		return fmt.Errorf("gometrics: go-metrics compat global: %w", err)
	}
	return nil
}
