package autopilot_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/autopilot"
	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/raftstore"
)

// Three servers, each knowing at most one gossip address, form one Raft
// cluster by themselves (BootstrapExpect 3). In-memory networks stand in for
// sockets; a real deployment leaves Network unset.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	raftNet := raftstore.NewInmemNetwork()
	gossipNet := membership.NewInmemNetwork()

	type server struct {
		store *raftstore.Store
		ml    *membership.Membership
		ap    *autopilot.Autopilot
	}
	start := func(id string, gossipPort int, join ...string) server {
		rc := raftstore.TestConfig(id)
		rc.Network = raftNet
		store, err := raftstore.New(rc)
		if err != nil {
			panic(err)
		}
		if err := store.Start(ctx); err != nil {
			panic(err)
		}

		mc := membership.FastConfig()
		mc.NodeName = id // the Raft server ID
		mc.Network = gossipNet
		mc.BindPort = gossipPort
		mc.Join = join // Start joins, retrying until a seed answers
		mc.Record = membership.Record{Role: membership.RoleServer, RPCAddr: store.Addr()}
		ml, err := membership.New(mc)
		if err != nil {
			panic(err)
		}
		if err := ml.Start(ctx); err != nil {
			panic(err)
		}

		ac := autopilot.FastConfig()
		ac.Raft, ac.Gossip, ac.BootstrapExpect = store, ml, 3
		ap, err := autopilot.New(ac)
		if err != nil {
			panic(err)
		}
		if err := ap.Start(ctx); err != nil {
			panic(err)
		}
		return server{store, ml, ap}
	}
	servers := []server{
		start("s1", 9001),
		start("s2", 9002, "127.0.0.1:9001"),
		start("s3", 9003, "127.0.0.1:9002"),
	}
	defer func() {
		for _, s := range servers {
			_ = s.ap.Shutdown(context.Background())
			_ = s.store.Shutdown(context.Background())
			_ = s.ml.Shutdown()
		}
	}()

	for {
		for _, s := range servers {
			if !s.store.IsLeader() {
				continue
			}
			conf, err := s.store.Servers(ctx)
			if err == nil && len(conf) == 3 {
				var ids []string
				for _, c := range conf {
					ids = append(ids, c.ID+" "+c.Suffrage.String())
				}
				slices.Sort(ids)
				fmt.Println(ids)
				return
			}
		}
		if ctx.Err() != nil {
			fmt.Println("no cluster:", ctx.Err())
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output:
	// [s1 voter s2 voter s3 voter]
}
