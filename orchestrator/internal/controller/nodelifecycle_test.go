package controller

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

func TestEvictAfter(t *testing.T) {
	const def = 40 * time.Second
	unreachable := api.Taint{Key: taintNodeUnreachable, Effect: api.TaintEffectNoExecute}
	secs := func(s int64) *int64 { return &s }
	tol := func(key string, op api.TolerationOperator, effect api.TaintEffect, s *int64) api.Toleration {
		return api.Toleration{Key: key, Operator: op, Effect: effect, TolerationSeconds: s}
	}
	tests := []struct {
		name  string
		tols  []api.Toleration
		after time.Duration
		ok    bool
	}{
		{"no toleration: the eviction timeout", nil, def, true},
		{"another key", []api.Toleration{tol(taintNodeNotReady, api.TolerationOpExists, api.TaintEffectNoExecute, secs(5))}, def, true},
		{"another effect", []api.Toleration{tol(taintNodeUnreachable, api.TolerationOpExists, api.TaintEffectNoSchedule, secs(5))}, def, true},
		{"kubectl's default", []api.Toleration{tol(taintNodeUnreachable, api.TolerationOpExists, api.TaintEffectNoExecute, secs(300))}, 300 * time.Second, true},
		{"Equal with the empty value", []api.Toleration{tol(taintNodeUnreachable, api.TolerationOpEqual, "", secs(7))}, 7 * time.Second, true},
		{"Equal with another value", []api.Toleration{{Key: taintNodeUnreachable, Operator: api.TolerationOpEqual, Value: "x", TolerationSeconds: secs(7)}}, def, true},
		{"without seconds: never", []api.Toleration{tol(taintNodeUnreachable, api.TolerationOpExists, api.TaintEffectNoExecute, nil)}, 0, false},
		{"tolerate everything", []api.Toleration{tol("", api.TolerationOpExists, "", nil)}, 0, false},
		{"least of several", []api.Toleration{
			tol(taintNodeUnreachable, api.TolerationOpExists, "", nil),
			tol(taintNodeUnreachable, api.TolerationOpExists, api.TaintEffectNoExecute, secs(60)),
			tol("", api.TolerationOpExists, "", secs(30)),
		}, 30 * time.Second, true},
		{"negative: at once", []api.Toleration{tol(taintNodeUnreachable, api.TolerationOpExists, "", secs(-1))}, 0, true},
		{"huge: capped", []api.Toleration{tol(taintNodeUnreachable, api.TolerationOpExists, "", secs(math.MaxInt64))}, time.Duration(math.MaxInt64/time.Second) * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &api.Pod{Spec: api.PodSpec{Tolerations: tt.tols}}
			after, ok := evictAfter(p, unreachable, def)
			if after != tt.after || ok != tt.ok {
				t.Errorf("evictAfter = %v, %v; want %v, %v", after, ok, tt.after, tt.ok)
			}
		})
	}
}

// A node that stops reporting loses its Pods after the eviction timeout,
// except a Pod that tolerates the node being unreachable without a
// tolerationSeconds; one that tolerates it for a while goes after it.
func TestEvictionHonoursTolerationSeconds(t *testing.T) {
	reg := runManager(t, Config{})
	ctx := context.Background()
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: "gone"}}
	conditions.SetNode(&n.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: api.Now()}, api.Now())
	if err := reg.Create(ctx, n, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	unreachable := func(s *int64) []api.Toleration {
		return []api.Toleration{{Key: taintNodeUnreachable, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute, TolerationSeconds: s}}
	}
	pods := map[string][]api.Toleration{"plain": nil, "forever": unreachable(nil), "a-while": unreachable(api.Ptr(int64(2)))}
	for name, tols := range pods {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
			Spec: api.PodSpec{NodeName: "gone", Tolerations: tols, Containers: []api.Container{{Name: "c", Image: "i:1"}}}}
		if err := reg.Create(ctx, p, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(name string) bool {
		return reg.Get(ctx, "default", name, &api.Pod{}, client.GetOptions{Consistent: true}) == nil
	}
	testutil.Eventually(t, 20*time.Second, "the Pod without toleration evicted", func() bool { return !exists("plain") })
	testutil.Eventually(t, 20*time.Second, "the Pod tolerating 2 s evicted", func() bool { return !exists("a-while") })
	if !exists("forever") {
		t.Fatal("the Pod tolerating the node's loss without tolerationSeconds was evicted")
	}
}

// A Node whose Lease is renewed stays Ready though its status is not
// rewritten for longer than the grace period; once the renewals stop it is
// marked NotReady (Unknown, as Kubernetes does for a silent kubelet).
func TestLeaseRenewalsKeepNodeReady(t *testing.T) {
	reg := runManager(t, Config{}) // grace 1 s
	ctx := context.Background()
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: "leased"}}
	conditions.SetNode(&n.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: api.Now()}, api.Now())
	if err := reg.Create(ctx, n, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lease := &api.Lease{ObjectMeta: api.ObjectMeta{Name: "leased", Namespace: api.NodeLeaseNamespace},
		Spec: api.LeaseSpec{HolderIdentity: api.Ptr("leased"), LeaseDurationSeconds: api.Ptr(int32(1)), RenewTime: api.Ptr(api.NowMicro())}}
	if err := reg.Create(ctx, lease, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The agent's part: renew every 100 ms for twice the grace period.
	renew := time.NewTicker(100 * time.Millisecond)
	defer renew.Stop()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		<-renew.C
		lease.Spec.RenewTime = api.Ptr(api.NowMicro())
		if err := reg.Update(ctx, lease, client.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got api.Node
	if err := reg.Get(ctx, "", "leased", &got, client.GetOptions{Consistent: true}); err != nil {
		t.Fatal(err)
	}
	if !api.IsNodeReady(&got) || got.ResourceVersion != n.ResourceVersion {
		t.Fatalf("a Node with a renewed Lease was changed: ready %v, resourceVersion %s -> %s", api.IsNodeReady(&got), n.ResourceVersion, got.ResourceVersion)
	}
	testutil.Eventually(t, 10*time.Second, "NotReady once the renewals stopped", func() bool {
		if err := reg.Get(ctx, "", "leased", &got, client.GetOptions{}); err != nil {
			return false
		}
		c := api.GetNodeCondition(&got.Status, api.NodeReady)
		return c != nil && c.Status == api.ConditionUnknown && c.Reason == "NodeStatusUnknown"
	})
}
