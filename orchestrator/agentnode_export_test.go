package orchestrator

import "github.com/flotilla-io/flotilla/membership"

// GossipSees reports whether c's gossip sees the member name alive.
func GossipSees(c *Cluster, name string) bool {
	c.mu.Lock()
	g := c.gosp
	c.mu.Unlock()
	if g == nil {
		return false
	}
	for _, m := range g.Members() {
		if m.Name == name {
			return m.Status == membership.StatusAlive
		}
	}
	return false
}

// PrimaryGossipKey returns the key c encrypts gossip with (nil without
// cluster trust).
func PrimaryGossipKey(c *Cluster) []byte {
	if c.trust == nil {
		return nil
	}
	keys := c.trust.gossipKeys()
	if len(keys) == 0 {
		return nil
	}
	return keys[0]
}
