package orchestrator

import (
	"fmt"
	"net/netip"
	"net/url"

	"github.com/flotilla-io/flotilla/orchestrator/internal/controller"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
)

// PortRange is a range of ports, First to Last inclusive.
type PortRange struct {
	First, Last int
}

// String returns the range as Kubernetes writes it: "30000-32767".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

// serviceRanges returns the Service strategy's pools for c, with the
// defaults for zero values.
func (c Config) serviceRanges() strategy.ServiceRanges {
	r := strategy.DefaultServiceRanges()
	if c.ServiceCIDR.IsValid() {
		r.CIDR = c.ServiceCIDR
	}
	if c.NodePortRange != (PortRange{}) {
		r.FirstNodePort, r.LastNodePort = int32(c.NodePortRange.First), int32(c.NodePortRange.Last)
	}
	return r
}

// validateServiceRanges checks ServiceCIDR and NodePortRange.
func (c Config) validateServiceRanges() []error {
	if c.NodePortRange != (PortRange{}) {
		if r := c.NodePortRange; r.First < 1 || r.Last > 65535 || r.First > r.Last {
			return []error{fmt.Errorf("orchestrator: Config.NodePortRange: %s: want ports within 1-65535, First <= Last", r)}
		}
	}
	var errs []error
	for _, err := range c.serviceRanges().Validate() {
		errs = append(errs, fmt.Errorf("orchestrator: Config.%w", err))
	}
	return errs
}

// kubernetesServiceIP is the `kubernetes` Service's address: the first
// address of the service range, which is never allocated dynamically.
func (c Config) kubernetesServiceIP() netip.Addr {
	return c.serviceRanges().CIDR.Masked().Addr().Next()
}

// apiServices is what the leader's controllers need to keep the
// `kubernetes` Service, or nil when this node serves no API.
func (c *Cluster) apiServices() *controller.APIServices {
	if c.cfg.APIAddress == "" {
		return nil
	}
	return &controller.APIServices{ClusterIP: c.cfg.kubernetesServiceIP(), Servers: c.apiServerAddrs}
}

// apiServerAddrs returns the API addresses of the live servers that have
// an IP address (a server whose API host is a name is left out).
func (c *Cluster) apiServerAddrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range c.apiServers() {
		u, err := url.Parse(s.url)
		if err != nil {
			continue
		}
		if ap, err := netip.ParseAddrPort(u.Host); err == nil {
			out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		}
	}
	return out
}
