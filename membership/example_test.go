package membership_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/membership"
)

// Two nodes on an in-memory network: the second joins through the first and
// both see each other's records.
func Example() {
	network := membership.NewInmemNetwork() // omit to use real UDP/TCP sockets
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	start := func(name string, role membership.Role, join ...string) *membership.Membership {
		cfg := membership.FastConfig()
		cfg.NodeName = name
		cfg.Network = network
		cfg.BindPort = 0
		cfg.Join = join
		cfg.Record = membership.Record{
			Role:    role,
			RPCAddr: "10.0.0.1:7000",
			Labels:  map[string]string{"zone": "eu-1a"},
		}
		m, err := membership.New(cfg)
		if err != nil {
			panic(err)
		}
		if err := m.Start(ctx); err != nil {
			panic(err)
		}
		return m
	}
	a := start("server-a", membership.RoleServer)
	defer a.Shutdown()
	b := start("agent-b", membership.RoleAgent, a.Addr())
	defer b.Shutdown()

	for len(a.Members()) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	for _, m := range a.Members() {
		fmt.Println(m.Name, m.Record.Role, m.Status, m.Record.Labels["zone"])
	}

	// b leaves gracefully; a sees a leave event, not a failure.
	if err := b.Leave(ctx); err != nil {
		panic(err)
	}
	for ev := range a.Events() {
		if ev.Type == membership.EventLeave {
			fmt.Println(ev.Member.Name, ev.Type, ev.Member.Status)
			break
		}
	}
	// Output:
	// agent-b agent alive eu-1a
	// server-a server alive eu-1a
	// agent-b leave left
}
