package orchestratortest

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
)

// agentNodes records which nodes of a TestCluster are agent-only and the
// agent join token they join with.
type agentNodes struct {
	mu    sync.Mutex
	nodes map[int]bool
	token string
}

func (a *agentNodes) is(i int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nodes[i]
}

func (a *agentNodes) add(i int, token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.nodes == nil {
		a.nodes = map[int]bool{}
	}
	a.nodes[i] = true
	if token != "" {
		a.token = token
	}
}

// configure turns node i's Config into an agent-only node's when i is
// one: no bootstrap, no API, and the agent token on its first start.
func (a *agentNodes) configure(i int, first bool, cfg *orchestrator.Config) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.nodes[i] {
		return
	}
	cfg.Role = orchestrator.RoleAgent
	cfg.BootstrapExpect, cfg.BootstrapServers = 0, nil
	cfg.APIAddress = ""
	cfg.JoinToken = ""
	if first {
		cfg.JoinToken = a.token
	}
}

// AddAgent starts an agent-only node (Config.Role RoleAgent),
// "node-<Len()>", and returns its index once it runs; use WaitReady to
// wait for its Node to be Ready. It joins with an agent join token made on
// a running server and runs its Pods through the servers' HTTPS API, so
// it needs WithTLS and WithAPI. The index works with the other methods:
// Node, Runtime, StopNode, ShutdownNode, RestartNode (from its DataDir,
// without a token). WithConfig's function is called for it too, with
// Role already RoleAgent: leave DisableAgent unset for such a node.
// Client never goes through an agent-only node.
func (c *TestCluster) AddAgent() int {
	c.tb.Helper()
	if !c.opts.tls || !c.opts.api {
		c.tb.Fatalf("orchestratortest: AddAgent needs WithTLS and WithAPI: agent-only nodes reach the servers over the HTTPS API")
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.timeout)
	defer cancel()
	var server *orchestrator.Cluster
	c.mu.Lock()
	for i, n := range c.nodes {
		if n != nil && !c.stopped[i] && !c.agents.is(i) {
			server = n
			break
		}
	}
	i := len(c.nodes)
	c.nodes = append(c.nodes, nil)
	c.runtimes = append(c.runtimes, nil)
	c.cfgs = append(c.cfgs, orchestrator.Config{})
	c.gaddrs = append(c.gaddrs, "")
	c.raddrs = append(c.raddrs, "")
	c.stopped = append(c.stopped, true) // not running until started
	c.dirs = append(c.dirs, filepath.Join(c.tb.TempDir(), nodeName(i)))
	c.mu.Unlock()
	if server == nil {
		c.tb.Fatalf("orchestratortest: AddAgent: no server is running to make the agent token")
	}
	// The token is a Raft write: retried while leadership settles (a
	// young cluster under load may change leader).
	var tok orchestrator.JoinToken
	var err error
	for backoff := 20 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		tok, err = server.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{Role: orchestrator.RoleAgent, Description: "orchestratortest agent"})
		if err == nil || errors.Is(err, errors.ErrUnsupported) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
	if err != nil {
		c.tb.Fatalf("orchestratortest: AddAgent: agent join token: %v", err)
	}
	c.agents.add(i, tok.Token)
	c.startNode(ctx, i, true)
	if c.tb.Failed() {
		c.tb.FailNow()
	}
	return i
}
