package orchestrator_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// agentCluster starts 3 servers that run no Pods (DisableAgent) and 2
// agent-only nodes (node-3, node-4), all Ready.
func agentCluster(t *testing.T, opts ...orchestratortest.Option) *orchestratortest.TestCluster {
	t.Helper()
	opts = append([]orchestratortest.Option{orchestratortest.WithTLS(), orchestratortest.WithAPI(),
		orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
			if cfg.Role != orchestrator.RoleAgent {
				cfg.DisableAgent = true
			}
		})}, opts...)
	c := orchestratortest.NewCluster(t, 3, opts...)
	c.AddAgent()
	c.AddAgent()
	c.WaitReady(30 * time.Second)
	return c
}

// podsByNode counts the running Pods labelled app=web by node.
func podsByNode(ctx context.Context, cl orchestrator.Client) (map[string]int, error) {
	var pods api.PodList
	if err := cl.List(ctx, &pods, orchestrator.InNamespace("default"), orchestrator.MatchingLabels{"app": "web"}); err != nil {
		return nil, err
	}
	by := map[string]int{}
	for _, p := range pods.Items {
		if p.Status.Phase == api.PodRunning && p.DeletionTimestamp == nil {
			by[p.Spec.NodeName]++
		}
	}
	return by, nil
}

// Pods run on agent-only nodes only; an agent-only node's credential
// cannot change another node's Pods or Node; a stopped agent's Pods are
// rescheduled onto the other agent.
func TestAgentOnlyNodesRunPods(t *testing.T) {
	c := agentCluster(t)
	ctx := context.Background()
	cl := c.Client()
	labels := map[string]string{"app": "web"}
	d := &orchestrator.Deployment{
		ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.DeploymentSpec{
			Replicas: orchestrator.Ptr(int32(4)),
			Selector: &orchestrator.LabelSelector{MatchLabels: labels},
			Template: orchestrator.PodTemplateSpec{
				ObjectMeta: orchestrator.ObjectMeta{Labels: labels},
				Spec:       orchestrator.PodSpec{Containers: []orchestrator.Container{{Name: "app", Image: "web:1"}}},
			},
		},
	}
	if err := cl.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	var by map[string]int
	c.Eventually(30*time.Second, "4 running Pods on the agent-only nodes", func() bool {
		var err error
		by, err = podsByNode(ctx, cl)
		return err == nil && by["node-3"]+by["node-4"] == 4
	})
	for node, n := range by {
		if node != "node-3" && node != "node-4" {
			t.Fatalf("%d Pods run on %s, a server without an agent: %v", n, node, by)
		}
	}
	agent := c.Node(3)
	if agent.IsLeader() || agent.RaftAddr() != "" || agent.RaftState().LeaderID != "" {
		t.Fatalf("agent-only node: IsLeader %v RaftAddr %q RaftState %+v; want none of Raft", agent.IsLeader(), agent.RaftAddr(), agent.RaftState())
	}
	if _, err := agent.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{}); !errors.Is(err, orchestrator.ErrAgentOnly) {
		t.Fatalf("CreateJoinToken on an agent-only node: %v; want ErrAgentOnly", err)
	}
	for _, s := range c.Node(0).RaftState().Servers {
		if s.ID == "node-3" || s.ID == "node-4" {
			t.Fatalf("agent-only node %s is a Raft member: %+v", s.ID, c.Node(0).RaftState().Servers)
		}
	}

	// node-3's own credential (its Client) may not touch node-4's Pods or Node.
	ac := agent.Client()
	var pods api.PodList
	if err := ac.List(ctx, &pods, orchestrator.InNamespace("default"), orchestrator.MatchingLabels{"app": "web"}); err != nil {
		t.Fatalf("agent lists Pods: %v", err)
	}
	var other *api.Pod
	for i := range pods.Items {
		if pods.Items[i].Spec.NodeName == "node-4" {
			other = &pods.Items[i]
		}
	}
	if other == nil {
		t.Fatalf("no Pod on node-4 (%v); the scheduler spreads 4 Pods over 2 nodes", by)
	}
	other.Status.Message = "hijacked by node-3"
	if err := ac.UpdateStatus(ctx, other); !api.IsForbidden(err) {
		t.Fatalf("node-3 updates the status of Pod %s on node-4: %v; want Forbidden", other.Name, err)
	}
	if err := ac.Delete(ctx, other); !api.IsForbidden(err) {
		t.Fatalf("node-3 deletes Pod %s on node-4: %v; want Forbidden", other.Name, err)
	}
	var n4 api.Node
	if err := ac.Get(ctx, orchestrator.ObjectKey{Name: "node-4"}, &n4); !api.IsForbidden(err) {
		t.Fatalf("node-3 reads Node node-4: %v; want Forbidden", err)
	}
	if err := cl.Get(ctx, orchestrator.ObjectKey{Name: "node-4"}, &n4); err != nil {
		t.Fatal(err)
	}
	n4.Labels = map[string]string{"hijacked": "true"}
	if err := ac.Update(ctx, &n4); !api.IsForbidden(err) {
		t.Fatalf("node-3 updates Node node-4: %v; want Forbidden", err)
	}

	// Stopping node-3 (a crash) moves its Pods to node-4.
	c.StopNode(3)
	c.Eventually(30*time.Second, "the 4 Pods running on node-4", func() bool {
		by, err := podsByNode(ctx, cl)
		return err == nil && by["node-4"] == 4 && by["node-3"] == 0
	})

	// node-3 comes back from its DataDir (its credentials, no token) and
	// is Ready again.
	c.RestartNode(3)
	c.WaitReady(30 * time.Second)
}

// An agent-only node follows the API servers through gossip: with one
// server stopped it goes on through the others.
func TestAgentOnlyNodeSurvivesAServer(t *testing.T) {
	c := agentCluster(t)
	ctx := context.Background()
	agent := c.Node(3)
	// Stop the follower whose API URL sorts first (the agent tries the
	// servers in URL order, so this is the one it talks to unless the
	// leader's sorts before it): its API address leaves gossip.
	stop := -1
	for i := range 3 {
		if !c.Node(i).IsLeader() && (stop < 0 || c.APIAddr(i) < c.APIAddr(stop)) {
			stop = i
		}
	}
	c.StopNode(stop)
	stopped := time.Now()
	for i := range 5 {
		cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("cm-%d", i), Namespace: "default"}}
		if err := c.Client().Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	c.Eventually(30*time.Second, "node-3's heartbeat after a server stopped", func() bool {
		var n api.Node
		if err := agent.Client().Get(ctx, orchestrator.ObjectKey{Name: "node-3"}, &n); err != nil {
			return false
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == api.NodeReady && cond.LastHeartbeatTime.After(stopped.Add(time.Second)) {
				return true
			}
		}
		return false
	})
}

// Servers rotate the gossip key among themselves; agent-only nodes learn
// the new keyring from a server's discovery service and stay in gossip.
func TestAgentOnlyNodeFollowsGossipKeyRotation(t *testing.T) {
	c := agentCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := c.Node(c.Leader())
	before := orchestrator.PrimaryGossipKey(leader)
	if err := leader.RotateGossipKey(ctx); err != nil {
		t.Fatal(err)
	}
	key := orchestrator.PrimaryGossipKey(leader)
	if bytes.Equal(key, before) {
		t.Fatal("RotateGossipKey left the primary key as it was")
	}
	c.Eventually(20*time.Second, "the agents on the new gossip key, seen alive by the servers and seeing them", func() bool {
		for _, a := range []int{3, 4} {
			if !bytes.Equal(orchestrator.PrimaryGossipKey(c.Node(a)), key) {
				return false
			}
			for s := range 3 {
				if !orchestrator.GossipSees(c.Node(s), c.NodeName(a)) || !orchestrator.GossipSees(c.Node(a), c.NodeName(s)) {
					return false
				}
			}
		}
		return true
	})
}

// pods/log of a Pod on an agent-only node, through every server's API: the
// server reads it from the agent's log listener.
func TestAgentOnlyNodePodLogs(t *testing.T) {
	c := agentCluster(t, orchestratortest.WithFakeRuntime(func(_ int, cfg *fake.Config) {
		cfg.ImageBehaviors = map[string]fake.Behavior{"logger:1": {Logs: []string{"one", "two", "three"}}}
	}))
	ctx := context.Background()
	p := &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: "logs", Namespace: "default"},
		Spec: orchestrator.PodSpec{NodeName: "node-3", Containers: []orchestrator.Container{{Name: "app", Image: "logger:1"}}}}
	if err := c.Client().Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	kc := readKubeconfig(t, c.Kubeconfig(t))
	admin := httpsClient(t, kc.Clusters[0].Cluster.CA, kc.Users[0].User.Cert, kc.Users[0].User.Key)
	for via := range 3 {
		url := "https://" + c.APIAddr(via) + "/api/v1/namespaces/default/pods/logs/log"
		var code int
		var body string
		eventually(t, "the log of a Pod on agent node-3 through "+c.NodeName(via), func() bool {
			code, body = get(t, admin, url, "")
			return code == 200 && body == "one\ntwo\nthree\n"
		})
		if code, body = get(t, admin, url+"?tailLines=1", ""); code != 200 || body != "three\n" {
			t.Fatalf("log?tailLines=1 through %s: %d %q", c.NodeName(via), code, body)
		}
	}
}
