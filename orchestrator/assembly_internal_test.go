package orchestrator

import (
	"testing"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"go.uber.org/zap"
)

// Each layer's configuration follows from Config alone.
func TestLayerConfigs(t *testing.T) {
	nets := inmem.New()
	log := zap.NewNop()
	for _, tc := range []struct {
		name       string
		change     func(*Config)
		raftBind   string
		gossipPort int
		inmem      bool
		raftTiming string // HeartbeatTimeout as text, to tell the presets apart
	}{
		{name: "default", change: func(*Config) {}, raftBind: "127.0.0.1:0", gossipPort: 7946, raftTiming: "200ms"},
		{name: "pick port", change: func(c *Config) { c.GossipPickPort = true }, raftBind: "127.0.0.1:0", gossipPort: 0, raftTiming: "200ms"},
		{name: "fixed addresses", change: func(c *Config) { c.RaftBindAddr, c.GossipBindPort = "10.0.0.1:8300", 8301 },
			raftBind: "10.0.0.1:8300", gossipPort: 8301, raftTiming: "200ms"},
		{name: "raft timing", change: func(c *Config) { c.Timing.Raft = "default" }, raftBind: "127.0.0.1:0", gossipPort: 7946, raftTiming: "1s"},
		{name: "in-memory networks", change: func(c *Config) { c.networks = nets; c.Timing.Raft = "test" },
			raftBind: "n1", gossipPort: 0, inmem: true, raftTiming: "50ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{NodeName: "n1", DisableAgent: true}
			tc.change(&cfg)
			cfg = cfg.withDefaults()
			rc := cfg.raftConfig(log)
			if rc.NodeID != "n1" || rc.BindAddr != tc.raftBind || (rc.Network != nil) != tc.inmem || rc.HeartbeatTimeout.String() != tc.raftTiming {
				t.Errorf("raft: NodeID %q BindAddr %q in-memory %v heartbeat %v; want n1 %q %v %s",
					rc.NodeID, rc.BindAddr, rc.Network != nil, rc.HeartbeatTimeout, tc.raftBind, tc.inmem, tc.raftTiming)
			}
			if err := rc.Validate(); err != nil {
				t.Errorf("raft config invalid: %v", err)
			}
			mc := cfg.gossipConfig("10.0.0.1:8300", []string{"10.0.0.2:7946"}, log)
			if mc.NodeName != "n1" || mc.BindPort != tc.gossipPort || (mc.Network != nil) != tc.inmem || len(mc.Join) != 1 {
				t.Errorf("gossip: NodeName %q BindPort %d in-memory %v; want n1 %d %v", mc.NodeName, mc.BindPort, mc.Network != nil, tc.gossipPort, tc.inmem)
			}
			if mc.Record.Role != membership.RoleServer || mc.Record.RPCAddr != "10.0.0.1:8300" {
				t.Errorf("gossip record: role %v RPCAddr %q; want a server at the Raft address", mc.Record.Role, mc.Record.RPCAddr)
			}
			if mc.Timing != cfg.Timing.Gossip {
				t.Errorf("gossip timing %+v, want Config.Timing.Gossip", mc.Timing)
			}
			if err := mc.Validate(); err != nil {
				t.Errorf("gossip config invalid: %v", err)
			}
		})
	}
}

// The role decides what runs.
func TestParts(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want parts
	}{
		{Config{}, parts{store: true, controlPlane: true, agent: true}},
		{Config{Role: RoleServer}, parts{store: true, controlPlane: true, agent: true}},
		{Config{Role: RoleServer, DisableAgent: true}, parts{store: true, controlPlane: true}},
		{Config{Role: RoleAgent}, parts{agent: true}},
	} {
		if got := tc.cfg.parts(); got != tc.want {
			t.Errorf("Role %q DisableAgent %v: %+v, want %+v", tc.cfg.Role, tc.cfg.DisableAgent, got, tc.want)
		}
	}
}
