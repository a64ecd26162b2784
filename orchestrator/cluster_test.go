package orchestrator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// Three servers found a cluster by gossip (BootstrapExpect, the
// production path): each only knows the first one's cluster address.
func TestBootstrapExpectByGossip(t *testing.T) {
	nets := inmem.New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	var nodes []*orchestrator.Cluster
	for i := range 3 {
		rt, err := fake.New(fake.Config{NodeName: fmt.Sprintf("s%d", i), PodCIDR: fmt.Sprintf("10.%d.0.0/16", 50+i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Close() })
		cfg := orchestrator.TestConfig(fmt.Sprintf("s%d", i))
		cfg.Runtime = rt
		cfg.BootstrapExpect = 3
		inmem.Attach(&cfg, nets)
		cfg.Logger = log
		if i > 0 {
			cfg.Join = []string{nodes[0].RaftAddr()}
		}
		n, err := orchestrator.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
		nodes = append(nodes, n)
	}
	for {
		var list orchestrator.NodeList
		lctx, lcancel := context.WithTimeout(ctx, time.Second)
		err := nodes[2].Client().List(lctx, &list)
		lcancel()
		ready := 0
		for i := range list.Items {
			if orchestrator.IsNodeReady(&list.Items[i]) {
				ready++
			}
		}
		if err == nil && ready == 3 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("cluster not formed: %v, %d nodes ready", err, ready)
		case <-time.After(20 * time.Millisecond):
		}
	}
	leaders := 0
	for _, n := range nodes {
		if n.IsLeader() {
			leaders++
		}
		if len(n.RaftState().Servers) != 3 {
			t.Errorf("%s sees %d Raft servers", n.NodeName(), len(n.RaftState().Servers))
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders", leaders)
	}
}
