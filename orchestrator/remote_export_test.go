package orchestrator

import "github.com/flotilla-io/flotilla/orchestrator/internal/client"

// ClientSeamForTest returns the node's client seam (its local registry),
// for tests that serve it over the Kubernetes API themselves.
func ClientSeamForTest(c *Cluster) client.Interface { return c.reg }

// SetWatchHistoryForTest makes a node keep only n events for watches, so
// that a test can watch from a revision compacted away.
func SetWatchHistoryForTest(cfg *Config, n int) { cfg.watchHistory = n }
