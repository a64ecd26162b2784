package orchestrator_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// ServiceCIDR and NodePortRange are checked, each problem naming its
// field; the zero values are the defaults.
func TestServiceRangesValidate(t *testing.T) {
	rt, err := fake.New(fake.Config{NodeName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	tests := []struct {
		name  string
		cidr  string
		ports orchestrator.PortRange
		want  string // "" = valid
	}{
		{"defaults", "", orchestrator.PortRange{}, ""},
		{"custom", "172.20.0.0/16", orchestrator.PortRange{First: 20000, Last: 20100}, ""},
		{"IPv6", "fd00::/108", orchestrator.PortRange{}, "Config.ServiceCIDR fd00::/108: IPv6 is not supported yet"},
		{"too small", "10.0.0.0/31", orchestrator.PortRange{}, "Config.ServiceCIDR 10.0.0.0/31: must hold at least 4 addresses"},
		{"host bits", "10.96.0.1/12", orchestrator.PortRange{}, "did you mean 10.96.0.0/12?"},
		{"ports reversed", "", orchestrator.PortRange{First: 32000, Last: 31000}, "Config.NodePortRange: 32000-31000"},
		{"port over 65535", "", orchestrator.PortRange{First: 30000, Last: 70000}, "Config.NodePortRange: 30000-70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := orchestrator.TestConfig("s")
			cfg.Runtime = rt
			if tt.cidr != "" {
				cfg.ServiceCIDR = netip.MustParsePrefix(tt.cidr)
			}
			cfg.NodePortRange = tt.ports
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
