package agent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/agent"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// runQuiet starts an agent whose Node status is rewritten only on change
// (StatusReportInterval of an hour), until the test ends.
func (e *env) runQuiet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a := agent.New(agent.Config{
		NodeName: "n1", Client: e.reg, Runtime: e.rt,
		Capacity:          api.ResourceList{api.ResourceCPU: api.MustParse("2")},
		HeartbeatInterval: 20 * time.Millisecond, StatusReportInterval: time.Hour,
	})
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func (e *env) lease(t *testing.T) (*api.Lease, bool) {
	t.Helper()
	var l api.Lease
	err := e.reg.Get(context.Background(), api.NodeLeaseNamespace, "n1", &l, client.GetOptions{})
	if api.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return &l, true
}

// The agent's heartbeat is its Node's Lease: held by the node, owned by
// the Node, renewed every HeartbeatInterval with microsecond renewTimes;
// the Node's status is not rewritten while nothing in it changes, and is
// rewritten at once when something did (the node lifecycle controller
// marked it not ready). A deleted Lease is created again.
func TestLeaseHeartbeat(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.runQuiet(t)
	ctx := context.Background()
	var first *api.Lease
	testutil.Eventually(t, 10*time.Second, "the Node's Lease", func() bool {
		l, ok := e.lease(t)
		first = l
		return ok && l.Spec.RenewTime != nil
	})
	var node api.Node
	if err := e.reg.Get(ctx, "", "n1", &node, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	s := first.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity != "n1" || s.LeaseDurationSeconds == nil || *s.LeaseDurationSeconds != 1 ||
		s.AcquireTime == nil || s.LeaseTransitions != nil {
		t.Errorf("lease spec %+v: want held by n1 for 1 s (4 heartbeats, rounded up), acquired, no transitions", s)
	}
	if want := []api.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "n1", UID: node.UID}}; len(first.OwnerReferences) != 1 || first.OwnerReferences[0] != want[0] {
		t.Errorf("lease owners %+v, want %+v", first.OwnerReferences, want)
	}

	// Renewals move renewTime, not the Node.
	renewals := 0
	last := *first.Spec.RenewTime
	testutil.Eventually(t, 10*time.Second, "five renewals", func() bool {
		l, ok := e.lease(t)
		if ok && l.Spec.RenewTime.After(last.Time) {
			renewals++
			last = *l.Spec.RenewTime
		}
		return renewals >= 5
	})
	var again api.Node
	if err := e.reg.Get(ctx, "", "n1", &again, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != node.ResourceVersion {
		t.Errorf("an unchanged Node status was rewritten (resourceVersion %s -> %s)", node.ResourceVersion, again.ResourceVersion)
	}

	// Marked not ready: the agent reports Ready again.
	conditions.SetNode(&again.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionUnknown, Reason: "NodeStatusUnknown"}, api.Now())
	if err := e.reg.UpdateStatus(ctx, &again, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the Node Ready again", func() bool {
		var n api.Node
		return e.reg.Get(ctx, "", "n1", &n, client.GetOptions{}) == nil && api.IsNodeReady(&n)
	})

	// A deleted Lease comes back.
	if err := e.reg.Delete(ctx, api.NodeLeaseNamespace, "n1", &api.Lease{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the Lease created again", func() bool {
		l, ok := e.lease(t)
		return ok && l.UID != first.UID
	})
}
