package orchestrator

import (
	"fmt"

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
