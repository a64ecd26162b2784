package orchestratortest_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// agentSet is a DaemonSet "agent" for Nodes labelled role=edge that
// tolerates the taint dedicated=edge:NoSchedule; its container "app" has
// a readiness probe every 50 ms.
func agentSet(image string) *orchestrator.DaemonSet {
	labels := map[string]string{"app": "agent"}
	return &orchestrator.DaemonSet{
		ObjectMeta: orchestrator.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: orchestrator.DaemonSetSpec{
			Selector: &orchestrator.LabelSelector{MatchLabels: labels},
			Template: orchestrator.PodTemplateSpec{
				ObjectMeta: orchestrator.ObjectMeta{Labels: labels},
				Spec: orchestrator.PodSpec{
					NodeSelector: map[string]string{"role": "edge"},
					Tolerations: []orchestrator.Toleration{{Key: "dedicated", Operator: orchestrator.TolerationOpEqual, Value: "edge",
						Effect: orchestrator.TaintEffectNoSchedule}},
					Containers: []orchestrator.Container{{
						Name: "app", Image: image,
						Ports:          []orchestrator.ContainerPort{{Name: "http", ContainerPort: 8080}},
						ReadinessProbe: httpProbe(1),
					}},
				},
			},
		},
	}
}

// updateObject applies change to the object under key, retrying on
// conflicts (the agents write Nodes too).
func updateObject[T any, PT interface {
	*T
	orchestrator.Object
}](t *testing.T, cl orchestrator.Client, key orchestrator.ObjectKey, change func(PT)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		o := PT(new(T))
		if err := cl.Get(ctx, key, o); err != nil {
			t.Fatal(err)
		}
		change(o)
		err := cl.Update(ctx, o)
		if orchestrator.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
}

// agentNodes returns the Nodes that run a live Pod of the set, and the
// subset where it is Running and Ready.
func agentNodes(t *testing.T, cl orchestrator.Client) (all, ready []string) {
	t.Helper()
	var pods orchestrator.PodList
	if err := cl.List(context.Background(), &pods, orchestrator.MatchingLabels{"app": "agent"}); err != nil {
		t.Logf("list: %v", err)
		return nil, nil
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		n := p.Spec.NodeName
		if n == "" && p.Spec.Affinity != nil {
			n = p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0]
		}
		all = append(all, n)
		if p.Status.Phase == orchestrator.PodRunning && orchestrator.IsPodReady(&p) {
			ready = append(ready, n)
		}
	}
	slices.Sort(all)
	slices.Sort(ready)
	return all, ready
}

func getDaemonSet(t *testing.T, cl orchestrator.Client) orchestrator.DaemonSet {
	t.Helper()
	var ds orchestrator.DaemonSet
	if err := cl.Get(context.Background(), orchestrator.ObjectKey{Namespace: "default", Name: "agent"}, &ds); err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestDaemonSetFollowsNodes: one Pod per Node that matches the selector
// and whose taints the set tolerates, cordoned or not; Pods follow Nodes that gain and
// lose the label or an untolerated NoExecute taint, that join and that
// leave.
func TestDaemonSetFollowsNodes(t *testing.T) {
	// node-0 and node-1 are edge Nodes; node-0 is cordoned, node-1 is
	// tainted for edge workloads only (the set tolerates it); node-2 is
	// not an edge Node; node-3, which joins later, is one.
	c := orchestratortest.NewCluster(t, 3, orchestratortest.WithNodeLabels(func(i int) map[string]string {
		if i != 2 {
			return map[string]string{"role": "edge"}
		}
		return nil
	}))
	cl := c.Client()
	ctx := context.Background()
	updateObject(t, cl, orchestrator.ObjectKey{Name: c.NodeName(1)}, func(n *orchestrator.Node) {
		n.Spec.Taints = append(n.Spec.Taints, orchestrator.Taint{Key: "dedicated", Value: "edge", Effect: orchestrator.TaintEffectNoSchedule})
	})
	// A cordoned Node still gets its DaemonSet Pod, as in Kubernetes.
	updateObject(t, cl, orchestrator.ObjectKey{Name: c.NodeName(0)}, func(n *orchestrator.Node) { n.Spec.Unschedulable = true })
	if err := cl.Create(ctx, agentSet("agent:1")); err != nil {
		t.Fatal(err)
	}
	expect := func(what string, nodes ...string) {
		t.Helper()
		c.Eventually(20*time.Second, what, func() bool {
			all, ready := agentNodes(t, cl)
			return slices.Equal(all, nodes) && slices.Equal(ready, nodes)
		})
	}
	expect("agents on node-0 and node-1", "node-0", "node-1")
	c.Eventually(10*time.Second, "status of 2 Nodes", func() bool {
		ds := getDaemonSet(t, cl)
		st := ds.Status
		return st.ObservedGeneration == ds.Generation && st.DesiredNumberScheduled == 2 && st.CurrentNumberScheduled == 2 &&
			st.NumberReady == 2 && st.NumberAvailable == 2 && st.UpdatedNumberScheduled == 2 && st.NumberUnavailable == 0 && st.NumberMisscheduled == 0
	})

	// node-2 gains the label.
	updateObject(t, cl, orchestrator.ObjectKey{Name: "node-2"}, func(n *orchestrator.Node) { n.Labels["role"] = "edge" })
	expect("an agent on node-2 too", "node-0", "node-1", "node-2")

	// node-0 loses it; node-2 gets an untolerated NoExecute taint.
	updateObject(t, cl, orchestrator.ObjectKey{Name: "node-0"}, func(n *orchestrator.Node) { delete(n.Labels, "role") })
	updateObject(t, cl, orchestrator.ObjectKey{Name: "node-2"}, func(n *orchestrator.Node) {
		n.Spec.Taints = append(n.Spec.Taints, orchestrator.Taint{Key: "maintenance", Effect: orchestrator.TaintEffectNoExecute})
	})
	expect("the agent on node-1 only", "node-1")

	// A node joins the cluster: once its Node is Ready its Pod runs there.
	c.AddNode()
	expect("agents on node-1 and node-3", "node-1", "node-3")

	// A Node object appears without an agent: its Pod is made and pinned
	// to it (and stays Pending). When the Node is deleted, the Pod goes.
	joined := &orchestrator.Node{ObjectMeta: orchestrator.ObjectMeta{Name: "node-9", Labels: map[string]string{"role": "edge"}}}
	if err := cl.Create(ctx, joined); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "a Pod for node-9", func() bool {
		all, _ := agentNodes(t, cl)
		return slices.Equal(all, []string{"node-1", "node-3", "node-9"})
	})
	c.Eventually(10*time.Second, "status counting node-9", func() bool {
		st := getDaemonSet(t, cl).Status
		return st.DesiredNumberScheduled == 3 && st.CurrentNumberScheduled == 3 && st.NumberReady == 2 && st.NumberUnavailable == 1
	})
	if err := cl.Delete(ctx, joined); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "node-9's Pod gone", func() bool {
		all, _ := agentNodes(t, cl)
		return slices.Equal(all, []string{"node-1", "node-3"})
	})
	c.Eventually(10*time.Second, "status of 2 Nodes", func() bool {
		st := getDaemonSet(t, cl).Status
		return st.DesiredNumberScheduled == 2 && st.CurrentNumberScheduled == 2 && st.NumberReady == 2 && st.NumberMisscheduled == 0
	})
}

// nodeWatch follows the set's Pods through a watch and records, after
// every event, how many of the given Nodes run no ready Pod (a Pod being
// deleted does not count as ready).
type nodeWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	pods     map[string]*orchestrator.Pod
	nodes    []string
	worst    int
	worstAt  string
	events   int
	sawImage map[string]bool
}

func watchNodes(t *testing.T, cl orchestrator.Client, nodes []string) *nodeWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var list orchestrator.PodList
	if err := cl.List(ctx, &list, orchestrator.MatchingLabels{"app": "agent"}); err != nil {
		cancel()
		t.Fatal(err)
	}
	w, err := cl.Watch(ctx, &orchestrator.PodList{}, orchestrator.MatchingLabels{"app": "agent"}, orchestrator.FromResourceVersion(list.ResourceVersion))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	nw := &nodeWatch{cancel: cancel, done: make(chan struct{}), pods: map[string]*orchestrator.Pod{}, nodes: nodes, sawImage: map[string]bool{}}
	for i := range list.Items {
		nw.pods[list.Items[i].Name] = &list.Items[i]
	}
	nw.check("initial list")
	go func() {
		defer close(nw.done)
		defer w.Stop()
		for ev := range w.Events() {
			p, ok := ev.Object.(*orchestrator.Pod)
			if !ok {
				continue
			}
			nw.mu.Lock()
			if ev.Type == orchestrator.Deleted {
				delete(nw.pods, p.Name)
			} else {
				nw.pods[p.Name] = p
			}
			nw.events++
			nw.mu.Unlock()
			nw.check(fmt.Sprintf("%s %s", ev.Type, p.Name))
		}
	}()
	return nw
}

func (nw *nodeWatch) check(what string) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	served := map[string]bool{}
	for _, p := range nw.pods {
		if p.DeletionTimestamp == nil && orchestrator.IsPodReady(p) {
			served[p.Spec.NodeName] = true
			nw.sawImage[p.Spec.Containers[0].Image] = true
		}
	}
	missing := 0
	for _, n := range nw.nodes {
		if !served[n] {
			missing++
		}
	}
	if missing > nw.worst {
		nw.worst, nw.worstAt = missing, what
	}
}

// readyImages counts the Nodes served per image as the watch sees them.
func (nw *nodeWatch) readyImages() map[string]int {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	out := map[string]int{}
	for _, p := range nw.pods {
		if p.DeletionTimestamp == nil && orchestrator.IsPodReady(p) {
			out[p.Spec.Containers[0].Image]++
		}
	}
	return out
}

func (nw *nodeWatch) stop() (worst int, at string, events int) {
	nw.cancel()
	<-nw.done
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.worst, nw.worstAt, nw.events
}

// TestDaemonSetRollingUpdateMaxUnavailable: with maxUnavailable 1, a
// template change replaces every Pod while, at every event a watch
// delivers, at most one Node lacks a ready Pod.
func TestDaemonSetRollingUpdateMaxUnavailable(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3, orchestratortest.WithNodeLabels(func(int) map[string]string {
		return map[string]string{"role": "edge"}
	}))
	cl := c.Client()
	if err := cl.Create(context.Background(), agentSet("agent:1")); err != nil {
		t.Fatal(err)
	}
	nodes := []string{"node-0", "node-1", "node-2"}
	c.Eventually(20*time.Second, "agents ready on every Node", func() bool {
		_, ready := agentNodes(t, cl)
		return slices.Equal(ready, nodes)
	})
	nw := watchNodes(t, cl, nodes)
	key := orchestrator.ObjectKey{Namespace: "default", Name: "agent"}
	updateObject(t, cl, key, func(ds *orchestrator.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "agent:2" })
	c.Eventually(30*time.Second, "every Node served by agent:2", func() bool {
		got := nw.readyImages()
		return got["agent:2"] == 3 && got["agent:1"] == 0
	})
	c.Eventually(10*time.Second, "status: 3 updated and available", func() bool {
		ds := getDaemonSet(t, cl)
		st := ds.Status
		return st.ObservedGeneration == ds.Generation && st.UpdatedNumberScheduled == 3 && st.NumberAvailable == 3 && st.NumberUnavailable == 0
	})
	worst, at, events := nw.stop()
	t.Logf("watch: %d events, at most %d Node(s) without a ready Pod (after %s)", events, worst, at)
	if worst > 1 {
		t.Errorf("%d Nodes without a ready Pod at once (after %s); maxUnavailable is 1", worst, at)
	}
	if worst == 0 {
		t.Errorf("no Node was ever without a ready Pod: the update cannot have replaced a Pod (saw images %v)", nw.sawImage)
	}
	var pods orchestrator.PodList
	if err := cl.List(context.Background(), &pods, orchestrator.MatchingLabels{"app": "agent"}); err != nil {
		t.Fatal(err)
	}
	hashes := map[string]bool{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			hashes[p.Labels[api.ControllerRevisionHashLabel]] = true
		}
	}
	if len(hashes) != 1 || hashes[""] {
		t.Errorf("controller-revision-hash values %v, want one", slices.Collect(maps.Keys(hashes)))
	}
}

// TestDaemonSetOnDelete: a template change replaces nothing until a Pod
// is deleted; its replacement has the new template.
func TestDaemonSetOnDelete(t *testing.T) {
	c := orchestratortest.NewCluster(t, 2, orchestratortest.WithNodeLabels(func(int) map[string]string {
		return map[string]string{"role": "edge"}
	}))
	cl := c.Client()
	ctx := context.Background()
	ds := agentSet("agent:1")
	ds.Spec.UpdateStrategy.Type = orchestrator.OnDeleteDaemonSetStrategyType
	if err := cl.Create(ctx, ds); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "agents ready on both Nodes", func() bool {
		_, ready := agentNodes(t, cl)
		return len(ready) == 2
	})
	key := orchestrator.ObjectKey{Namespace: "default", Name: "agent"}
	updateObject(t, cl, key, func(ds *orchestrator.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "agent:2" })
	c.Eventually(10*time.Second, "the new generation observed", func() bool {
		ds := getDaemonSet(t, cl)
		return ds.Status.ObservedGeneration == ds.Generation && ds.Status.UpdatedNumberScheduled == 0
	})
	images := func() map[string]string {
		var pods orchestrator.PodList
		if err := cl.List(ctx, &pods, orchestrator.MatchingLabels{"app": "agent"}); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && orchestrator.IsPodReady(&p) {
				out[p.Spec.NodeName] = p.Spec.Containers[0].Image
			}
		}
		return out
	}
	if got := images(); got["node-0"] != "agent:1" || got["node-1"] != "agent:1" {
		t.Fatalf("after the template change: %v, want agent:1 on both Nodes", got)
	}
	var pods orchestrator.PodList
	if err := cl.List(ctx, &pods, orchestrator.MatchingFields{"spec.nodeName": "node-0"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Labels["app"] == "agent" {
			if err := cl.Delete(ctx, &p); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Eventually(20*time.Second, "agent:2 on node-0, agent:1 on node-1", func() bool {
		got := images()
		return got["node-0"] == "agent:2" && got["node-1"] == "agent:1"
	})
}

// TestDaemonSetBadInput: invalid DaemonSets are refused with Kubernetes'
// field paths and not stored; the selector cannot change.
func TestDaemonSetBadInput(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx := context.Background()
	bad := agentSet("")
	bad.Spec.Template.Labels = map[string]string{"app": "other"}
	bad.Spec.UpdateStrategy = orchestrator.DaemonSetUpdateStrategy{Type: orchestrator.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &orchestrator.RollingUpdateDaemonSet{MaxUnavailable: api.IntOrStringPtr(api.FromInt(1)), MaxSurge: api.IntOrStringPtr(api.FromString("10%"))}}
	err := cl.Create(ctx, bad)
	if !orchestrator.IsInvalid(err) {
		t.Fatalf("create: %v, want Invalid", err)
	}
	got := api.FieldErrors(err).Fields()
	slices.Sort(got)
	want := []string{"spec.template.metadata.labels", "spec.template.spec.containers[0].image", "spec.updateStrategy.rollingUpdate.maxSurge"}
	if !slices.Equal(got, want) {
		t.Errorf("field paths %q, want %q (%v)", got, want, err)
	}
	var list orchestrator.DaemonSetList
	if err := cl.List(ctx, &list); err != nil || len(list.Items) != 0 {
		t.Fatalf("stored after a refused create: %d items, %v", len(list.Items), err)
	}

	if err := cl.Create(ctx, agentSet("agent:1")); err != nil {
		t.Fatal(err)
	}
	// The controller writes the status meanwhile: a Conflict (the stale
	// resourceVersion is checked first, as in Kubernetes) is read again.
	for range 50 {
		ds := getDaemonSet(t, cl)
		ds.Spec.Selector = &orchestrator.LabelSelector{MatchLabels: map[string]string{"app": "agent", "v": "2"}}
		ds.Spec.Template.Labels["v"] = "2"
		if err = cl.Update(ctx, &ds); !orchestrator.IsConflict(err) {
			break
		}
	}
	if fields := api.FieldErrors(err).Fields(); !orchestrator.IsInvalid(err) || !slices.Equal(fields, []string{"spec.selector"}) {
		t.Errorf("selector change: %v (fields %q), want Invalid spec.selector", err, fields)
	}
}
