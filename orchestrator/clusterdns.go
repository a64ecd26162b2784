package orchestrator

import (
	"context"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/dns"
)

// startDNS starts cluster DNS on Config.DNSAddress, reading through cl
// (the registry on a server, the API client on an agent-only node); it
// does nothing when DNSAddress is empty. Errors: the server's (the
// address taken or not permitted).
func (c *Cluster) startDNS(ctx context.Context, cl client.Interface) error {
	if c.cfg.DNSAddress == "" {
		return nil
	}
	srv, err := dns.New(dns.Config{Client: cl, Domain: c.cfg.ClusterDomain, Address: c.cfg.DNSAddress, Logger: c.log})
	if err != nil {
		return fmt.Errorf("orchestrator: cluster DNS: %w", err)
	}
	c.mu.Lock()
	c.dns = srv
	c.mu.Unlock()
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("orchestrator: cluster DNS: %w", err)
	}
	return nil
}

// stopDNS stops cluster DNS, if it runs, and waits for its goroutines.
func (c *Cluster) stopDNS(ctx context.Context) error {
	c.mu.Lock()
	srv := c.dns
	c.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close(ctx)
}

// DNSAddr returns the address (host:port, UDP and TCP) where this node
// serves cluster DNS: empty before Start and when Config.DNSAddress is
// empty.
func (c *Cluster) DNSAddr() string {
	c.mu.Lock()
	srv := c.dns
	c.mu.Unlock()
	if srv == nil {
		return ""
	}
	return srv.Addr()
}
