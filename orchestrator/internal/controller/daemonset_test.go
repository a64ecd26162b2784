package controller

import (
	"slices"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// TestDaemonSetRollingUpdateArithmetic checks which old Pods a rolling
// update deletes and where it starts new ones, for Pods named
// "<node>-<old|new>-<ready|unready>".
func TestDaemonSetRollingUpdateArithmetic(t *testing.T) {
	mk := func(name string, isNewPod, ready bool) *api.Pod {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{}}}
		if isNewPod {
			p.Labels[api.ControllerRevisionHashLabel] = "new"
		}
		if ready {
			p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}
		}
		return p
	}
	node := func(name string, pods ...string) runningNode {
		np := &nodePods{}
		for _, p := range pods {
			np.live = append(np.live, mk(name+"-"+p, p == "new-ready" || p == "new-unready", p == "old-ready" || p == "new-ready"))
		}
		return runningNode{name: name, pods: np}
	}
	isNew := func(p *api.Pod) bool { return p.Labels[api.ControllerRevisionHashLabel] == "new" }
	tests := []struct {
		name                 string
		nodes                []runningNode
		noPod                int
		surge, unavailable   int
		wantDels, wantCreate []string
	}{
		{"all old, maxUnavailable 1: one goes", []runningNode{node("a", "old-ready"), node("b", "old-ready"), node("c", "old-ready")}, 0, 0, 1,
			[]string{"a-old-ready"}, nil},
		{"all old, maxUnavailable 2", []runningNode{node("a", "old-ready"), node("b", "old-ready"), node("c", "old-ready")}, 0, 0, 2,
			[]string{"a-old-ready", "b-old-ready"}, nil},
		{"a Node without a Pod uses the budget", []runningNode{node("b", "old-ready"), node("c", "old-ready")}, 1, 0, 1, nil, nil},
		{"a new Pod not ready uses the budget", []runningNode{node("a", "new-unready"), node("b", "old-ready")}, 0, 0, 1, nil, nil},
		{"a new ready Pod frees it", []runningNode{node("a", "new-ready"), node("b", "old-ready")}, 0, 0, 1,
			[]string{"b-old-ready"}, nil},
		{"unready old Pods are replaced at once, and count", []runningNode{node("a", "old-unready"), node("b", "old-unready"), node("c", "old-ready")}, 0, 0, 1,
			[]string{"a-old-unready", "b-old-unready"}, nil},
		{"surge 1 starts one new Pod", []runningNode{node("a", "old-ready"), node("b", "old-ready")}, 0, 1, 0,
			nil, []string{"a"}},
		{"surge waits for the new Pod", []runningNode{node("a", "old-ready", "new-unready"), node("b", "old-ready")}, 0, 1, 0, nil, nil},
		{"surge: an available new Pod retires the old one and the next starts", []runningNode{node("a", "old-ready", "new-ready"), node("b", "old-ready")}, 0, 1, 0,
			[]string{"a-old-ready"}, []string{"b"}},
		{"surge: an unready old Pod gets its new one at once", []runningNode{node("a", "old-unready"), node("b", "old-ready"), node("c", "old-ready", "new-unready")}, 0, 1, 0,
			nil, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dels, creates, _ := rollingUpdate(tt.nodes, tt.noPod, tt.surge, tt.unavailable, isNew, api.IsPodReady)
			var got []string
			for _, p := range dels {
				got = append(got, p.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.wantDels) || !slices.Equal(creates, tt.wantCreate) {
				t.Errorf("deletes %q creates %q, want %q and %q", got, creates, tt.wantDels, tt.wantCreate)
			}
		})
	}
}

func TestDaemonPodPinnedAndTolerant(t *testing.T) {
	ds := &api.DaemonSet{ObjectMeta: api.ObjectMeta{Name: "agent", Namespace: "ns", UID: "u"},
		Spec: api.DaemonSetSpec{Template: api.PodTemplateSpec{
			ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "agent"}},
			Spec: api.PodSpec{
				NodeSelector: map[string]string{"role": "edge"},
				Tolerations:  []api.Toleration{{Key: api.TaintNodeNotReady, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute, TolerationSeconds: api.Ptr(int64(5))}},
				Affinity: &api.Affinity{NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
					NodeSelectorTerms: []api.NodeSelectorTerm{{MatchExpressions: []api.NodeSelectorRequirement{{Key: "zone", Operator: api.NodeSelectorOpExists}}}}}}},
				Containers: []api.Container{{Name: "c", Image: "agent:1"}},
			}}}}
	p := daemonPod(ds, "h1", "node-7")
	if targetNode(p) != "node-7" || p.Labels[api.ControllerRevisionHashLabel] != "h1" || p.Labels["app"] != "agent" {
		t.Errorf("pod for node %q labels %v", targetNode(p), p.Labels)
	}
	if ds.Spec.Template.Labels[api.ControllerRevisionHashLabel] != "" || len(ds.Spec.Template.Spec.Tolerations) != 1 {
		t.Error("daemonPod changed the DaemonSet's template")
	}
	node := &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-7", Labels: map[string]string{"role": "edge"}}}
	if scheduler := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms; len(scheduler) != 1 || len(scheduler[0].MatchExpressions) != 0 {
		t.Errorf("required terms %+v, want only the metadata.name term", scheduler)
	}
	// The template's own toleration wins; the others are added once.
	var keys []string
	for _, tl := range p.Spec.Tolerations {
		keys = append(keys, tl.Key+":"+string(tl.Effect))
		if tl.Key == api.TaintNodeNotReady && (tl.TolerationSeconds == nil || *tl.TolerationSeconds != 5) {
			t.Errorf("template's not-ready toleration replaced: %+v", tl)
		}
	}
	if len(keys) != 6 || !slices.Contains(keys, api.TaintNodeUnschedulable+":NoSchedule") || !slices.Contains(keys, api.TaintNodeUnreachable+":NoExecute") {
		t.Errorf("tolerations %q", keys)
	}
	for _, tt := range []struct {
		name                      string
		taint                     *api.Taint
		labels                    map[string]string
		shouldRun, shouldContinue bool
	}{
		{"matching", nil, map[string]string{"role": "edge"}, true, true},
		{"label lost", nil, map[string]string{"role": "core"}, false, false},
		{"NoSchedule taint keeps a running Pod", &api.Taint{Key: "x", Effect: api.TaintEffectNoSchedule}, map[string]string{"role": "edge"}, false, true},
		{"NoExecute taint removes it", &api.Taint{Key: "x", Effect: api.TaintEffectNoExecute}, map[string]string{"role": "edge"}, false, false},
		{"cordon taint tolerated", &api.Taint{Key: api.TaintNodeUnschedulable, Effect: api.TaintEffectNoSchedule}, map[string]string{"role": "edge"}, true, true},
	} {
		n := api.Clone(*node)
		n.Labels = tt.labels
		if tt.taint != nil {
			n.Spec.Taints = []api.Taint{*tt.taint}
		}
		spec := ds.Spec.Template.Spec
		spec.Affinity = nil
		spec.Tolerations = daemonTolerations(&spec)
		run, cont := nodeShouldRun(&spec, &n)
		if run != tt.shouldRun || cont != tt.shouldContinue {
			t.Errorf("%s: shouldRun %v shouldContinue %v, want %v %v", tt.name, run, cont, tt.shouldRun, tt.shouldContinue)
		}
	}
}
