package orchestrator

import "github.com/flotilla-io/flotilla/orchestrator/internal/client"

// ClientSeamForTest returns the node's client seam (its local registry),
// for tests that serve it over the Kubernetes API themselves.
func ClientSeamForTest(c *Cluster) client.Interface { return c.reg }
