package strategy

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Every kind of the default scheme has a strategy, and the table agrees
// with the scheme on namespace scope.
func TestBuiltinCoversScheme(t *testing.T) {
	s := builtin(t)
	for _, info := range api.DefaultScheme().Kinds() {
		st := s.For(info)
		if st == nil {
			t.Fatalf("%s: no strategy", info.Kind)
		}
		if st.NamespaceScoped() != info.Namespaced {
			t.Errorf("%s: NamespaceScoped %v", info.Kind, st.NamespaceScoped())
		}
	}
}

func TestNewSetErrors(t *testing.T) {
	var withoutPod []Registration
	for _, r := range Builtin() {
		if r.Kind != "Pod" {
			withoutPod = append(withoutPod, r)
		}
	}
	with := func(rs []Registration, r Registration) []Registration { return append(slices.Clone(rs), r) }
	tests := []struct {
		name string
		regs []Registration
		want []string
	}{
		{"missing kind", withoutPod, []string{"kind Pod (v1) has no registered strategy"}},
		{"unknown kind", with(Builtin(), Registration{"v1", "Endpoints", podStrategy{}}), []string{"v1 Endpoints is not a kind of the scheme"}},
		{"wrong apiVersion", with(withoutPod, Registration{"apps/v1", "Pod", podStrategy{}}),
			[]string{"Pod is registered as apps/v1, the scheme has v1", "kind Pod (v1) has no registered strategy"}},
		{"twice", with(Builtin(), Registration{"v1", "Pod", podStrategy{}}), []string{"Pod is registered twice"}},
		{"nil", with(withoutPod, Registration{"v1", "Pod", nil}), []string{"Pod has a nil strategy"}},
		{"scope", with(withoutPod, Registration{"v1", "Pod", nodeStrategy{}}),
			[]string{"Pod: NamespaceScoped() is false, the scheme says namespaced true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSet(api.DefaultScheme(), tt.regs)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// PrepareForCreate: the status a controller or the agent owns is cleared
// (a Pod starts Pending), the status the creator owns (a Node's) is kept,
// and a Namespace is Active whatever it asked for.
func TestPrepareForCreate(t *testing.T) {
	running := api.PodStatus{Phase: api.PodRunning, PodIP: "10.0.0.1"}
	capacity := api.NodeStatus{Capacity: api.ResourceList{api.ResourceCPU: api.MustParse("4")}}
	tests := []struct {
		obj   api.Object
		check func(api.Object) bool
	}{
		{&api.Pod{Status: running}, func(o api.Object) bool {
			s := o.(*api.Pod).Status
			return s.Phase == api.PodPending && s.PodIP == ""
		}},
		{&api.Deployment{Status: api.DeploymentStatus{Replicas: 3}}, func(o api.Object) bool { return o.(*api.Deployment).Status.Replicas == 0 }},
		{&api.ReplicaSet{Status: api.ReplicaSetStatus{Replicas: 3}}, func(o api.Object) bool { return o.(*api.ReplicaSet).Status.Replicas == 0 }},
		{&api.Node{Status: capacity}, func(o api.Object) bool { return o.(*api.Node).Status.Capacity.Cpu().Value() == 4 }},
		{&api.Namespace{Status: api.NamespaceStatus{Phase: api.NamespaceTerminating}}, func(o api.Object) bool {
			return o.(*api.Namespace).Status.Phase == api.NamespaceActive
		}},
		{&api.ConfigMap{Data: map[string]string{"a": "b"}}, func(o api.Object) bool { return o.(*api.ConfigMap).Data["a"] == "b" }},
		{&api.Event{Reason: "X"}, func(o api.Object) bool { return o.(*api.Event).Reason == "X" }},
	}
	for _, tt := range tests {
		_, s := forObject(tt.obj)
		s.PrepareForCreate(tt.obj)
		if !tt.check(tt.obj) {
			t.Errorf("PrepareForCreate(%T) = %+v", tt.obj, tt.obj)
		}
	}
}

// An update of the main resource keeps the stored status; a status
// update keeps the stored spec. Neither shares memory with the stored
// object. A Namespace's phase follows its deletion state either way.
func TestPrepareForUpdate(t *testing.T) {
	old := validPod()
	old.Status = api.PodStatus{Phase: api.PodRunning, Conditions: []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}}
	in := old.DeepCopy()
	in.Spec.Containers[0].Image = "web:2"
	in.Status = api.PodStatus{Phase: api.PodFailed}
	_, s := forObject(in)

	spec := in.DeepCopy()
	s.PrepareForUpdate(spec, old)
	if spec.Spec.Containers[0].Image != "web:2" || spec.Status.Phase != api.PodRunning {
		t.Errorf("spec update: image %q phase %q", spec.Spec.Containers[0].Image, spec.Status.Phase)
	}
	spec.Status.Conditions[0].Status = api.ConditionFalse
	if old.Status.Conditions[0].Status != api.ConditionTrue {
		t.Error("the kept status shares memory with the stored object")
	}

	status := in.DeepCopy()
	s.Status().PrepareForUpdate(status, old)
	if status.Spec.Containers[0].Image != old.Spec.Containers[0].Image || status.Status.Phase != api.PodFailed {
		t.Errorf("status update: image %q phase %q", status.Spec.Containers[0].Image, status.Status.Phase)
	}

	now := api.Now()
	nsOld := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "a", DeletionTimestamp: &now}, Status: api.NamespaceStatus{Phase: api.NamespaceTerminating}}
	_, ns := forObject(nsOld)
	for _, write := range []func(obj, old api.Object){ns.PrepareForUpdate, ns.Status().PrepareForUpdate} {
		revive := nsOld.DeepCopy()
		revive.Status.Phase = api.NamespaceActive
		write(revive, nsOld)
		if revive.Status.Phase != api.NamespaceTerminating {
			t.Errorf("a write revived a terminating namespace: %q", revive.Status.Phase)
		}
	}
}

// Only a change of the desired state bumps the generation: not metadata,
// not status, not nil-versus-empty.
func TestBumpsGeneration(t *testing.T) {
	d := validDeployment()
	pod := validPod()
	tests := []struct {
		name   string
		old    api.Object
		mutate func(api.Object)
		want   bool
	}{
		{"deployment status and metadata", d, func(o api.Object) {
			o.(*api.Deployment).Status.Replicas = 5
			o.GetObjectMeta().Labels["x"] = "y"
			o.GetObjectMeta().Annotations = map[string]string{api.RevisionAnnotation: "2"}
		}, false},
		{"deployment image", d, func(o api.Object) { o.(*api.Deployment).Spec.Template.Spec.Containers[0].Image = "web:2" }, true},
		{"deployment empty instead of nil", d, func(o api.Object) {
			o.(*api.Deployment).Spec.Template.Spec.NodeSelector = map[string]string{}
			o.(*api.Deployment).Spec.Selector.MatchExpressions = []api.LabelSelectorRequirement{}
		}, false},
		{"pod binding", pod, func(o api.Object) { o.(*api.Pod).Spec.NodeName = "n1" }, true},
		{"pod status", pod, func(o api.Object) { o.(*api.Pod).Status.Phase = api.PodRunning }, false},
		{"configmap data", &api.ConfigMap{Data: map[string]string{"a": "1"}}, func(o api.Object) { o.(*api.ConfigMap).Data["a"] = "2" }, true},
		{"configmap labels", &api.ConfigMap{Data: map[string]string{"a": "1"}}, func(o api.Object) {
			o.GetObjectMeta().Labels = map[string]string{"x": "y"}
		}, false},
		{"event count", &api.Event{Count: 1}, func(o api.Object) { o.(*api.Event).Count = 2 }, true},
		{"event metadata", &api.Event{Count: 1}, func(o api.Object) { o.GetObjectMeta().ResourceVersion = "7" }, false},
		{"node taint", &api.Node{}, func(o api.Object) { o.(*api.Node).Spec.Unschedulable = true }, true},
		{"node heartbeat", &api.Node{}, func(o api.Object) {
			o.(*api.Node).Status.Conditions = []api.NodeCondition{{Type: api.NodeReady}}
		}, false},
	}
	for _, tt := range tests {
		n := tt.old.DeepCopyObject()
		tt.mutate(n)
		_, s := forObject(n)
		if got := s.BumpsGeneration(n, tt.old); got != tt.want {
			t.Errorf("%s: BumpsGeneration = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Delete removes every kind once unheld but a Namespace, which it only
// marks Terminating; only kinds without status refuse UpdateStatus.
func TestDeletionAndStatus(t *testing.T) {
	s := builtin(t)
	for _, info := range api.DefaultScheme().Kinds() {
		st := s.For(info)
		wantDeletion, wantStatus := DeleteWhenUnheld, true
		switch info.Kind {
		case "Namespace":
			wantDeletion = DeleteByFinalize
		case "ConfigMap", "Event", "Secret", "EndpointSlice", "Lease", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
			wantStatus = false
		}
		if st.Deletion() != wantDeletion {
			t.Errorf("%s: Deletion %v, want %v", info.Kind, st.Deletion(), wantDeletion)
		}
		if (st.Status() != nil) != wantStatus {
			t.Errorf("%s: status subresource %v, want %v", info.Kind, st.Status() != nil, wantStatus)
		}
	}
	ns := &api.Namespace{}
	_, st := forObject(ns)
	st.PrepareForDelete(ns)
	if ns.Status.Phase != api.NamespaceTerminating {
		t.Errorf("deleted namespace phase %q", ns.Status.Phase)
	}
	pod := validPod()
	_, st = forObject(pod)
	st.PrepareForDelete(pod)
	if pod.Status.Phase != "" {
		t.Errorf("PrepareForDelete changed a Pod: %q", pod.Status.Phase)
	}
}

// The kinds with many objects can be shared by read-only caches, through
// weak references that let go when nothing else holds the object.
func TestWeakRef(t *testing.T) {
	s := builtin(t)
	for _, info := range api.DefaultScheme().Kinds() {
		sh, ok := s.For(info).(Sharer)
		want := info.Kind == "Pod" || info.Kind == "ReplicaSet" || info.Kind == "Node"
		if ok != want {
			t.Errorf("%s: Sharer %v, want %v", info.Kind, ok, want)
		}
		if !ok {
			continue
		}
		obj := info.New()
		get := sh.WeakRef(obj)
		if get() != obj {
			t.Errorf("%s: WeakRef lost a live object", info.Kind)
		}
		runtime.KeepAlive(obj)
	}
}

// Selectors compare by meaning and collections by their wire form, so an
// update that only reorders or empties them changes nothing immutable.
func TestSemanticComparisons(t *testing.T) {
	a := validDeployment()
	b := a.DeepCopy()
	b.Spec.Template.Spec.NodeSelector = map[string]string{}
	b.Spec.Selector.MatchExpressions = []api.LabelSelectorRequirement{}
	if err := validateUpdate(a, b); err != nil {
		t.Errorf("empty vs nil selector counted as a change: %v", err)
	}
	a.Spec.Selector.MatchExpressions = []api.LabelSelectorRequirement{
		{Key: "x", Operator: api.LabelSelectorOpDoesNotExist}, {Key: "y", Operator: api.LabelSelectorOpDoesNotExist}}
	b = a.DeepCopy()
	b.Spec.Selector.MatchExpressions[0], b.Spec.Selector.MatchExpressions[1] = b.Spec.Selector.MatchExpressions[1], b.Spec.Selector.MatchExpressions[0]
	if err := validateUpdate(a, b); err != nil {
		t.Errorf("reordered selector counted as a change: %v", err)
	}
	p := validPod()
	q := p.DeepCopy()
	q.Spec.NodeSelector = map[string]string{}
	if err := validateUpdate(p, q); err != nil {
		t.Errorf("empty nodeSelector counted as a pod spec change: %v", err)
	}
	c := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "d"}, Immutable: api.Ptr(true)}
	c2 := c.DeepCopy()
	c2.Data = map[string]string{}
	if err := validateUpdate(c, c2); err != nil {
		t.Errorf("empty data counted as a change: %v", err)
	}
	if selectorsEqual(nil, &api.LabelSelector{}) || !selectorsEqual(nil, nil) {
		t.Error("nil selector selects nothing, empty selects everything")
	}
}
