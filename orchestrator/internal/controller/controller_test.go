package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSortForDeletion(t *testing.T) {
	now := time.Now()
	mk := func(name, node string, phase api.PodPhase, ready bool, age time.Duration) *api.Pod {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, CreationTimestamp: api.NewTime(now.Add(-age))}}
		p.Spec.NodeName = node
		p.Status.Phase = phase
		s := api.ConditionFalse
		if ready {
			s = api.ConditionTrue
		}
		conditions.SetPod(&p.Status, api.PodCondition{Type: api.PodReady, Status: s}, api.Now())
		return p
	}
	pods := []*api.Pod{
		mk("old-ready", "n", api.PodRunning, true, time.Hour),
		mk("new-ready", "n", api.PodRunning, true, time.Minute),
		mk("running-unready", "n", api.PodRunning, false, time.Hour),
		mk("pending", "n", api.PodPending, false, time.Hour),
		mk("unbound", "", api.PodPending, false, time.Hour),
	}
	sortForDeletion(pods)
	want := []string{"unbound", "pending", "running-unready", "new-ready", "old-ready"}
	for i, p := range pods {
		if p.Name != want[i] {
			t.Fatalf("order %d: %s, want %s", i, p.Name, want[i])
		}
	}
}

// The manager's ReplicaSet controller creates exactly the replicas asked
// for (no agent or nodes: the Pods stay pending), and stops cleanly.
func TestReplicaSetCreatesExactly(t *testing.T) {
	reg := testutil.Registry(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		Run(ctx, Config{Client: reg, NodeName: "n1", NodeMonitorGracePeriod: time.Second, PodEvictionTimeout: time.Second})
	}()
	defer func() { cancel(); wg.Wait() }()
	labels := map[string]string{"app": "x"}
	rs := &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Name: "x", Namespace: "default"},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr(int32(25)), Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: labels}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}},
	}
	if err := reg.Create(ctx, rs, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// An orphan Pod matching the selector is adopted and counts.
	orphan := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "orphan", Namespace: "default", Labels: labels},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}
	if err := reg.Create(ctx, orphan, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	count := func() (total, owned int) {
		var pods api.PodList
		if err := reg.List(ctx, &pods, client.ListOptions{}); err != nil {
			return -1, -1
		}
		for i := range pods.Items {
			if api.GetControllerOf(&pods.Items[i]) != nil {
				owned++
			}
		}
		return len(pods.Items), owned
	}
	testutil.Eventually(t, 10*time.Second, "25 owned pods", func() bool { n, o := count(); return n == 25 && o == 25 })
	testutil.Eventually(t, 10*time.Second, "status.replicas 25", func() bool {
		var got api.ReplicaSet
		return reg.Get(ctx, "default", "x", &got, client.GetOptions{}) == nil && got.Status.Replicas == 25 && got.Status.ObservedGeneration == got.Generation
	})
	// The controller may write status meanwhile: retry on conflict.
	for {
		var got api.ReplicaSet
		if err := reg.Get(ctx, "default", "x", &got, client.GetOptions{Consistent: true}); err != nil {
			t.Fatal(err)
		}
		got.Spec.Replicas = api.Ptr(int32(4))
		err := reg.Update(ctx, &got, client.UpdateOptions{})
		if api.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	testutil.Eventually(t, 10*time.Second, "4 pods", func() bool { n, _ := count(); return n == 4 })
	if n, _ := count(); n != 4 {
		t.Fatalf("%d pods", n)
	}
}

func runManager(t *testing.T, cfg Config) client.Interface {
	t.Helper()
	if cfg.Client == nil {
		cfg.Client = testutil.Registry(t)
	}
	cfg.NodeName = "n1"
	cfg.NodeMonitorGracePeriod, cfg.PodEvictionTimeout = time.Second, time.Second
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); Run(ctx, cfg) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return cfg.Client
}

// The namespace controller creates the system namespaces, and deleting a
// Namespace deletes its content (waiting for finalizers) and then the
// Namespace; other namespaces are untouched.
func TestNamespaceDeletionEmptiesIt(t *testing.T) {
	reg := runManager(t, Config{})
	ctx := context.Background()
	for _, name := range api.SystemNamespaces() {
		testutil.Eventually(t, 10*time.Second, "namespace "+name, func() bool {
			var ns api.Namespace
			return reg.Get(ctx, "", name, &ns, client.GetOptions{}) == nil && ns.Status.Phase == api.NamespaceActive
		})
	}
	if err := reg.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "team"}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "x"}
	for _, ns := range []string{"team", "default"} {
		rs := &api.ReplicaSet{
			ObjectMeta: api.ObjectMeta{Name: "x", Namespace: ns},
			Spec: api.ReplicaSetSpec{Replicas: api.Ptr(int32(3)), Selector: &api.LabelSelector{MatchLabels: labels},
				Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: labels}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}},
		}
		if err := reg.Create(ctx, rs, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	held := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "held", Namespace: "team", Finalizers: []string{"example.com/hold"}}}
	if err := reg.Create(ctx, held, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	count := func(ns string) int {
		var pods api.PodList
		if err := reg.List(ctx, &pods, client.ListOptions{Namespace: ns, Consistent: true}); err != nil {
			return -1
		}
		return len(pods.Items)
	}
	testutil.Eventually(t, 10*time.Second, "3 pods in each namespace", func() bool { return count("team") == 3 && count("default") == 3 })

	if err := reg.Delete(ctx, "", "team", &api.Namespace{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "team's pods and ReplicaSet deleted", func() bool {
		return count("team") == 0 && api.IsNotFound(reg.Get(ctx, "team", "x", &api.ReplicaSet{}, client.GetOptions{Consistent: true}))
	})
	// The finalizer holds the ConfigMap, and so the Namespace.
	var cm api.ConfigMap
	testutil.Eventually(t, 10*time.Second, "held ConfigMap marked for deletion", func() bool {
		return reg.Get(ctx, "team", "held", &cm, client.GetOptions{Consistent: true}) == nil && cm.DeletionTimestamp != nil
	})
	var ns api.Namespace
	if err := reg.Get(ctx, "", "team", &ns, client.GetOptions{Consistent: true}); err != nil || ns.Status.Phase != api.NamespaceTerminating {
		t.Fatalf("team while content remains: %v, phase %q", err, ns.Status.Phase)
	}
	cm.Finalizers = nil
	if err := reg.Update(ctx, &cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "namespace team removed", func() bool {
		return api.IsNotFound(reg.Get(ctx, "", "team", &api.Namespace{}, client.GetOptions{Consistent: true}))
	})
	if n := count("default"); n != 3 {
		t.Fatalf("default has %d pods after team was deleted, want 3", n)
	}
}

func TestEventLastSeen(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) api.Time { return api.NewTime(t0.Add(d)) }
	ptr := func(d time.Duration) *api.Time { v := at(d); return &v }
	cases := []struct {
		name string
		ev   api.Event
		want time.Time
	}{
		{"creation only", api.Event{ObjectMeta: api.ObjectMeta{CreationTimestamp: at(0)}}, t0},
		{"lastTimestamp later", api.Event{ObjectMeta: api.ObjectMeta{CreationTimestamp: at(0)}, LastTimestamp: at(time.Minute)}, t0.Add(time.Minute)},
		{"lastTimestamp earlier (imported event)", api.Event{ObjectMeta: api.ObjectMeta{CreationTimestamp: at(0)}, LastTimestamp: at(-time.Hour)}, t0},
		{"eventTime", api.Event{ObjectMeta: api.ObjectMeta{CreationTimestamp: at(0)}, EventTime: ptr(2 * time.Minute)}, t0.Add(2 * time.Minute)},
		{"series", api.Event{ObjectMeta: api.ObjectMeta{CreationTimestamp: at(0)}, EventTime: ptr(time.Minute),
			Series: &api.EventSeries{Count: 3, LastObservedTime: ptr(3 * time.Minute)}}, t0.Add(3 * time.Minute)},
	}
	for _, tc := range cases {
		if got := eventLastSeen(&tc.ev); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A sweep deletes exactly the Events last seen more than the TTL ago (the
// clock is injected), whatever their namespace.
func TestEventExpirerSweep(t *testing.T) {
	reg := testutil.Registry(t)
	ctx := context.Background()
	if err := reg.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "team"}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mk := func(ns, name string, last time.Time) {
		ev := &api.Event{ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns}, Reason: "Test", LastTimestamp: api.NewTime(last),
			InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: ns, Name: "p"}}
		if err := reg.Create(ctx, ev, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	mk("default", "a", time.Time{})
	mk("team", "b", time.Time{})
	mk("default", "recent", now.Add(30*time.Minute)) // recorded again later
	e := newEventExpirer(reg, time.Hour, zap.NewNop())
	if e.interval() != time.Minute {
		t.Fatalf("sweep interval for a 1h TTL: %v, want 1m", e.interval())
	}
	e.now = func() time.Time { return now.Add(50 * time.Minute) }
	if n, err := e.sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the TTL: deleted %d, %v", n, err)
	}
	e.now = func() time.Time { return now.Add(62 * time.Minute) }
	if n, err := e.sweep(ctx); err != nil || n != 2 {
		t.Fatalf("sweep after the TTL: deleted %d, %v; want 2", n, err)
	}
	var left api.EventList
	if err := reg.List(ctx, &left, client.ListOptions{Consistent: true}); err != nil {
		t.Fatal(err)
	}
	if len(left.Items) != 1 || left.Items[0].Name != "recent" {
		t.Fatalf("events left: %d (%v)", len(left.Items), left.Items)
	}
}
