package orchestrator_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// newNode returns an unstarted node named name with a fake runtime, on nets
// (nil: loopback), changed by change; t.Cleanup shuts it down.
func newNode(t *testing.T, nets *inmem.Networks, name string, change func(*orchestrator.Config)) *orchestrator.Cluster {
	t.Helper()
	rt, err := fake.New(fake.Config{NodeName: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	cfg := orchestrator.TestConfig(name)
	cfg.Runtime = rt
	cfg.Logger = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named(name)
	if nets != nil {
		inmem.Attach(&cfg, nets)
	}
	if change != nil {
		change(&cfg)
	}
	n, err := orchestrator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readyNodes returns the names of the Ready Nodes c sees.
func readyNodes(c *orchestrator.Cluster) []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var list orchestrator.NodeList
	if err := c.Client().List(ctx, &list); err != nil {
		return nil
	}
	var names []string
	for i := range list.Items {
		if orchestrator.IsNodeReady(&list.Items[i]) {
			names = append(names, list.Items[i].Name)
		}
	}
	return names
}

// With GossipKeys, only nodes holding the members' key join: a node with
// the key joins and becomes a Ready Node, one with another key or none
// cannot join at all.
func TestGossipKeys(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	other := bytes.Repeat([]byte{2}, 16)
	nets := inmem.New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first := newNode(t, nets, "first", func(c *orchestrator.Config) { c.BootstrapExpect, c.GossipKeys = 1, [][]byte{key} })
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	join := []string{first.GossipAddr()}
	// The second key is only tried on what it receives: a node may hold
	// extra keys (rotation).
	member := newNode(t, nets, "member", func(c *orchestrator.Config) { c.Join, c.GossipKeys = join, [][]byte{key, other} })
	if err := member.Start(ctx); err != nil {
		t.Fatalf("a node with the cluster's key could not join: %v", err)
	}
	waitFor(t, 20*time.Second, "both nodes Ready", func() bool { return len(readyNodes(first)) == 2 })

	for name, keys := range map[string][][]byte{"wrong-key": {other}, "no-key": nil} {
		n := newNode(t, nets, name, func(c *orchestrator.Config) { c.Join, c.GossipKeys = join, keys })
		jctx, jcancel := context.WithTimeout(ctx, time.Second)
		err := n.Start(jctx)
		jcancel()
		if err == nil {
			t.Errorf("%s joined a cluster whose gossip is encrypted with a key it lacks", name)
		} else if !strings.Contains(err.Error(), "gossip") {
			t.Errorf("%s: the error does not say gossip failed: %v", name, err)
		}
	}
	if got := readyNodes(first); len(got) != 2 {
		t.Errorf("Ready Nodes %v, want first and member only", got)
	}
}

func TestGossipKeysValidate(t *testing.T) {
	cfg := orchestrator.TestConfig("n")
	cfg.DisableAgent = true
	cfg.GossipKeys = [][]byte{make([]byte, 16), make([]byte, 24), make([]byte, 32)}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("16, 24 and 32-byte keys: %v", err)
	}
	cfg.GossipKeys = [][]byte{make([]byte, 32), make([]byte, 31), nil}
	err := cfg.Validate()
	for _, want := range []string{"Config.GossipKeys[1]: 31 bytes", "Config.GossipKeys[2]: 0 bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "GossipKeys[0]") {
		t.Errorf("a valid key reported: %v", err)
	}
}
