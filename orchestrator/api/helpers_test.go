package api

import (
	"testing"
	"time"
)

func TestOwnerRefs(t *testing.T) {
	d := newTestDeployment()
	d.UID = "d-uid"
	rs := &ReplicaSet{ObjectMeta: ObjectMeta{Name: "web-abc", Namespace: "shop"}}
	if GetControllerOf(rs) != nil {
		t.Error("controller of an orphan")
	}
	ref := OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d-uid", Controller: Ptr(true)}
	rs.OwnerReferences = []OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x", UID: "x"}, ref}
	if got := GetControllerOf(rs); got == nil || got.UID != "d-uid" {
		t.Errorf("GetControllerOf = %+v", got)
	}
	if !IsControlledBy(rs, d) || IsControlledBy(rs, &Deployment{ObjectMeta: ObjectMeta{UID: "other"}}) {
		t.Error("IsControlledBy")
	}
}

func TestConditionGetters(t *testing.T) {
	t0 := NewTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	pod := &Pod{Status: PodStatus{Conditions: []PodCondition{
		{Type: PodScheduled, Status: ConditionTrue},
		{Type: PodReady, Status: ConditionFalse, Reason: "Probing"},
	}}}
	if c := GetPodCondition(&pod.Status, PodReady); c == nil || c.Reason != "Probing" || IsPodReady(pod) {
		t.Errorf("GetPodCondition = %+v", c)
	}
	if GetPodCondition(&pod.Status, ContainersReady) != nil {
		t.Error("absent condition found")
	}
	pod.Status.Conditions[1] = PodCondition{Type: PodReady, Status: ConditionTrue, LastTransitionTime: t0}
	if !IsPodReady(pod) || !IsPodAvailable(pod, 0, t0) || IsPodAvailable(pod, 30, t0) || !IsPodAvailable(pod, 30, NewTime(t0.Add(30*time.Second))) {
		t.Error("IsPodReady/IsPodAvailable with minReadySeconds")
	}
	ds := &DeploymentStatus{Conditions: []DeploymentCondition{{Type: DeploymentProgressing, Status: ConditionTrue}}}
	if GetDeploymentCondition(ds, DeploymentProgressing) == nil || GetDeploymentCondition(ds, DeploymentAvailable) != nil {
		t.Error("GetDeploymentCondition")
	}
	rs := &ReplicaSetStatus{Conditions: []ReplicaSetCondition{{Type: ReplicaSetReplicaFailure, Status: ConditionTrue}}}
	if GetReplicaSetCondition(rs, ReplicaSetReplicaFailure) == nil {
		t.Error("GetReplicaSetCondition")
	}
	n := &Node{Status: NodeStatus{Conditions: []NodeCondition{{Type: NodeReady, Status: ConditionUnknown}}}}
	if GetNodeCondition(&n.Status, NodeReady) == nil || IsNodeReady(n) {
		t.Error("GetNodeCondition/IsNodeReady")
	}
	n.Status.Conditions[0].Status = ConditionTrue
	if !IsNodeReady(n) {
		t.Error("IsNodeReady")
	}
}

func TestPodPhaseHelpers(t *testing.T) {
	now := Now()
	tests := []struct {
		pod              Pod
		terminal, active bool
	}{
		{Pod{Status: PodStatus{Phase: PodPending}}, false, true},
		{Pod{Status: PodStatus{Phase: PodRunning}}, false, true},
		{Pod{Status: PodStatus{Phase: PodSucceeded}}, true, false},
		{Pod{Status: PodStatus{Phase: PodFailed}}, true, false},
		{Pod{ObjectMeta: ObjectMeta{DeletionTimestamp: &now}, Status: PodStatus{Phase: PodRunning}}, false, false},
	}
	for _, tt := range tests {
		if IsPodTerminal(&tt.pod) != tt.terminal || IsPodActive(&tt.pod) != tt.active {
			t.Errorf("%s (deleting=%v): terminal=%v active=%v", tt.pod.Status.Phase, tt.pod.DeletionTimestamp != nil,
				IsPodTerminal(&tt.pod), IsPodActive(&tt.pod))
		}
	}
	if IsPodScheduled(&Pod{}) || !IsPodScheduled(&Pod{Spec: PodSpec{NodeName: "n"}}) {
		t.Error("IsPodScheduled")
	}
}

func TestResourceRequests(t *testing.T) {
	spec := &PodSpec{
		Containers: []Container{
			{Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: MustParse("100m"), ResourceMemory: MustParse("64Mi")},
				Limits: ResourceList{ResourceCPU: MustParse("1"), ResourceMemory: MustParse("1Gi")}}},
			{Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: MustParse("0.25"), "example.com/gpu": MustParse("1")},
				Limits: ResourceList{ResourceMemory: MustParse("512Mi")}}},
			{},
		},
		InitContainers: []Container{
			{Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: MustParse("2"), ResourceMemory: MustParse("1Mi")}}},
		},
	}
	got := ResourceRequests(spec)
	if got.Cpu().String() != "2" || got.Memory().String() != "64Mi" || got["example.com/gpu"].String() != "1" || len(got) != 3 {
		t.Errorf("ResourceRequests = %v", got)
	}
	// A sidecar adds to the total and to what the init containers after
	// it need: 350m + 500m for the app and sidecar; 500m + 1 while "late"
	// runs, more than either.
	always := string(RestartPolicyAlways)
	spec.InitContainers = []Container{
		{Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: MustParse("1")}}},
		{RestartPolicy: &always, Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: MustParse("500m")}}},
		{Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: MustParse("1")}}},
	}
	if got := ResourceRequests(spec); got.Cpu().String() != "1500m" || got.Memory().String() != "64Mi" {
		t.Errorf("ResourceRequests with a sidecar = %v", got)
	}
	spec.InitContainers[0].Resources.Requests[ResourceCPU] = MustParse("100m")
	spec.InitContainers[2].Resources.Requests[ResourceCPU] = MustParse("100m")
	if got := ResourceRequests(spec); got.Cpu().String() != "850m" {
		t.Errorf("ResourceRequests with a sidecar, small init containers = %v", got.Cpu())
	}
	spec.InitContainers = nil
	if got := ResourceRequests(spec); got.Cpu().String() != "350m" {
		t.Errorf("ResourceRequests without init = %v", got.Cpu())
	}
	lim := ResourceLimits(spec)
	if _, ok := lim[ResourceCPU]; ok || len(lim) != 0 {
		t.Errorf("ResourceLimits with a container lacking limits = %v", lim)
	}
	if got := ResourceRequests(&PodSpec{}); got == nil || len(got) != 0 {
		t.Errorf("empty = %v", got)
	}
	two := &PodSpec{Containers: []Container{
		{Resources: ResourceRequirements{Limits: ResourceList{ResourceMemory: MustParse("1Gi")}}},
		{Resources: ResourceRequirements{Limits: ResourceList{ResourceMemory: MustParse("512Mi")}}}}}
	if got := ResourceLimits(two); got.Memory().String() != "1536Mi" {
		t.Errorf("ResourceLimits = %v", got)
	}
}

func TestFindContainerPort(t *testing.T) {
	c := &Container{Ports: []ContainerPort{{Name: "http", ContainerPort: 8080}}}
	if n, ok := FindContainerPort(c, FromString("http")); !ok || n != 8080 {
		t.Error("named port")
	}
	if n, ok := FindContainerPort(c, FromInt(9090)); !ok || n != 9090 {
		t.Error("numbered port")
	}
	if _, ok := FindContainerPort(c, FromString("grpc")); ok {
		t.Error("undeclared port found")
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ ns, name, key string }{
		{"default", "web", "default/web"},
		{"", "node-1", "node-1"},
	}
	for _, tt := range tests {
		if got := Key(tt.ns, tt.name); got != tt.key {
			t.Errorf("Key(%q, %q) = %q", tt.ns, tt.name, got)
		}
		ns, name, err := SplitKey(tt.key)
		if err != nil || ns != tt.ns || name != tt.name {
			t.Errorf("SplitKey(%q) = %q, %q, %v", tt.key, ns, name, err)
		}
	}
	for _, bad := range []string{"", "a/b/c", "ns/"} {
		if _, _, err := SplitKey(bad); err == nil {
			t.Errorf("SplitKey(%q) succeeded", bad)
		}
	}
	if KeyOf(&Pod{ObjectMeta: ObjectMeta{Namespace: "a", Name: "b"}}) != "a/b" {
		t.Error("KeyOf")
	}
}

func TestObjectReferenceAndContainerStatus(t *testing.T) {
	p := &Pod{ObjectMeta: ObjectMeta{Name: "web-1", Namespace: "shop", UID: "u", ResourceVersion: "7"}}
	ref := NewObjectReference(p)
	if ref != (ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "shop", Name: "web-1", UID: "u", ResourceVersion: "7"}) {
		t.Errorf("ref = %+v", ref)
	}
	p.Status.ContainerStatuses = []ContainerStatus{{Name: "a"}, {Name: "b", RestartCount: 2}}
	if cs := GetContainerStatus(&p.Status, "b"); cs == nil || cs.RestartCount != 2 {
		t.Errorf("GetContainerStatus = %+v", cs)
	}
	if GetContainerStatus(&p.Status, "c") != nil {
		t.Error("found a missing container")
	}
}
