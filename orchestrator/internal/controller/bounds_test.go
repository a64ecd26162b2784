package controller

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/rollout"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"go.uber.org/zap"
)

func podTemplateRS(name string, replicas int32) *api.ReplicaSet {
	labels := map[string]string{"app": name}
	return &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: "rs-uid"},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr(replicas), Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: labels}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}},
	}
}

// The ReplicaSet controller creates Pods with slow start: a create that
// always fails is tried once per reconcile, not once per missing Pod; one
// that starts failing part way costs at most one more write than twice
// the creates that succeeded; the creates under way never exceed the
// bound.
func TestCreatePodsSlowStart(t *testing.T) {
	reg := testutil.Registry(t)
	var calls, inFlight, peak atomic.Int64
	var failFrom atomic.Int64 // creates from this call on fail (0: none)
	refused := api.NewForbidden("Pod", "", errors.New("namespace full"))
	c := &replicaSetController{reg: client.Intercept(reg, client.Funcs{
		Create: func(ctx context.Context, c client.Interface, obj api.Object, o client.CreateOptions) error {
			n := calls.Add(1)
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
			}
			if f := failFrom.Load(); f > 0 && n >= f {
				return refused
			}
			return c.Create(ctx, obj, o)
		},
	}), log: zap.NewNop()}
	ctx := context.Background()

	_, created, err := c.createPods(ctx, podTemplateRS("all", 200), 200)
	if err != nil || created != 200 || calls.Load() != 200 {
		t.Fatalf("200 Pods: created %d in %d calls, %v", created, calls.Load(), err)
	}
	if p := peak.Load(); p > maxInFlight {
		t.Errorf("%d creates in flight at once, the bound is %d", p, maxInFlight)
	}

	calls.Store(0)
	failFrom.Store(1)
	if _, created, err := c.createPods(ctx, podTemplateRS("none", 500), 500); !errors.Is(err, refused) || created != 0 || calls.Load() != 1 {
		t.Errorf("always refused: created %d in %d calls, %v; want 0 in 1 call and the refusal", created, calls.Load(), err)
	}

	calls.Store(0)
	failFrom.Store(11)
	if _, created, err := c.createPods(ctx, podTemplateRS("some", 500), 500); !errors.Is(err, refused) || created != 10 || calls.Load() > 21 {
		t.Errorf("refused from the 11th: created %d in %d calls, %v; want 10 in at most 21", created, calls.Load(), err)
	}
}

// A Deployment whose ReplicaSet name would be invalid (a 253-character
// name plus the template hash) does not stall in silence: as in
// Kubernetes, its Progressing condition turns False with reason
// ReplicaSetCreateError and the error, and a Warning Event of the same
// reason is stored despite the long name.
func TestDeploymentReplicaSetCreateError(t *testing.T) {
	reg := runManager(t, Config{})
	ctx := context.Background()
	name := strings.Repeat("a", 253)
	labels := map[string]string{"app": "long"}
	d := &api.Deployment{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: api.DeploymentSpec{Replicas: api.Ptr(int32(2)), Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: labels}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}}}
	if err := reg.Create(ctx, d, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var cond *api.DeploymentCondition
	testutil.Eventually(t, 10*time.Second, "Progressing False", func() bool {
		var got api.Deployment
		if reg.Get(ctx, "default", name, &got, client.GetOptions{}) != nil {
			return false
		}
		cond = api.GetDeploymentCondition(&got.Status, api.DeploymentProgressing)
		return cond != nil && cond.Status == api.ConditionFalse
	})
	if cond.Reason != rollout.ReasonReplicaSetCreateError || !strings.Contains(cond.Message, `Failed to create new replica set "`+name+`-`) ||
		!strings.Contains(cond.Message, "metadata.name") {
		t.Errorf("condition %s: %s; want ReplicaSetCreateError naming the ReplicaSet and the invalid field", cond.Reason, cond.Message)
	}
	testutil.Eventually(t, 10*time.Second, "a ReplicaSetCreateError event", func() bool {
		var evs api.EventList
		if reg.List(ctx, &evs, client.ListOptions{Namespace: "default"}) != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.Reason == rollout.ReasonReplicaSetCreateError && e.InvolvedObject.Name == name && e.Type == api.EventTypeWarning {
				return true
			}
		}
		return false
	})
}

// startInformer runs an informer of sample's kind until the test ends and
// returns it synced.
func startInformer(t *testing.T, reg client.Interface, sample api.Object) *informer.Informer {
	t.Helper()
	inf := informer.New(reg, sample, client.ListOptions{}, zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { inf.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	if err := inf.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	return inf
}

// The pod GC deletes the Pods bound to a Node that does not exist once
// the Node has been missing for the quarantine, after marking them
// Failed with Kubernetes' DisruptionTarget condition; Pods of a Node that
// exists, or that appears within the quarantine, stay. The clock is
// injected.
func TestPodGCDeletesOrphanedPods(t *testing.T) {
	reg := testutil.Registry(t)
	ctx := context.Background()
	var failed sync.Map // pod name -> the status it was marked with
	spy := client.Intercept(reg, client.Funcs{
		UpdateStatus: func(ctx context.Context, c client.Interface, obj api.Object, o client.UpdateOptions) error {
			if p, ok := obj.(*api.Pod); ok {
				failed.Store(p.Name, api.Clone(p.Status))
			}
			return c.UpdateStatus(ctx, obj, o)
		},
	})
	for _, n := range []string{"real"} {
		if err := reg.Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: n}}, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var lastRV string
	for _, p := range []struct{ name, node string }{{"ghost-1", "ghost"}, {"ghost-2", "ghost"}, {"on-real", "real"}, {"on-late", "late"}, {"unbound", ""}} {
		pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: p.name, Namespace: "default"},
			Spec: api.PodSpec{NodeName: p.node, Containers: []api.Container{{Name: "c", Image: "i:1"}}}}
		if err := reg.Create(ctx, pod, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		lastRV = pod.ResourceVersion
	}
	nodes, pods := startInformer(t, reg, &api.Node{}), startInformer(t, reg, &api.Pod{})
	rev, _ := client.ParseResourceVersion(lastRV)
	if err := pods.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	g := newPodGC(spy, nodes, pods, 40*time.Second, zap.NewNop())
	g.now = func() time.Time { return now }
	if n := g.collect(ctx); n != 0 {
		t.Fatalf("first sight of the missing nodes: deleted %d", n)
	}
	late := &api.Node{ObjectMeta: api.ObjectMeta{Name: "late"}}
	if err := reg.Create(ctx, late, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rev, _ = client.ParseResourceVersion(late.ResourceVersion)
	if err := nodes.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	now = now.Add(39 * time.Second)
	if n := g.collect(ctx); n != 0 {
		t.Fatalf("within the quarantine: deleted %d", n)
	}
	now = now.Add(time.Second)
	if n := g.collect(ctx); n != 2 {
		t.Fatalf("after the quarantine: deleted %d, want the 2 Pods of the missing node", n)
	}
	for _, name := range []string{"ghost-1", "ghost-2"} {
		if err := reg.Get(ctx, "default", name, &api.Pod{}, client.GetOptions{Consistent: true}); !api.IsNotFound(err) {
			t.Errorf("%s: %v, want it deleted", name, err)
		}
		v, ok := failed.Load(name)
		if !ok {
			t.Errorf("%s was not marked Failed before the delete", name)
			continue
		}
		st := v.(api.PodStatus)
		c := api.GetPodCondition(&st, api.DisruptionTarget)
		if st.Phase != api.PodFailed || c == nil || c.Status != api.ConditionTrue || c.Reason != "DeletionByPodGC" || c.Message != "PodGC: node no longer exists" {
			t.Errorf("%s marked %s with %+v", name, st.Phase, c)
		}
	}
	for _, name := range []string{"on-real", "on-late", "unbound"} {
		if err := reg.Get(ctx, "default", name, &api.Pod{}, client.GetOptions{Consistent: true}); err != nil {
			t.Errorf("%s: %v, want it kept", name, err)
		}
	}
}
