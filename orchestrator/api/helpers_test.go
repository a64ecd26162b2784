package api

import (
	"regexp"
	"testing"
	"time"
)

func TestPodTemplateHash(t *testing.T) {
	d := validDeployment()
	h1 := PodTemplateHash(&d.Spec.Template, nil)
	if !regexp.MustCompile(`^[bcdfghjklmnpqrstvwxz2456789]{1,10}$`).MatchString(h1) {
		t.Errorf("hash %q not in the safe alphabet", h1)
	}
	// Stable across copies and across label map order.
	tc := Clone(d.Spec.Template)
	c := &tc
	if PodTemplateHash(c, nil) != h1 {
		t.Error("hash differs for an equal template")
	}
	// The pod-template-hash label itself is ignored.
	c.Labels[PodTemplateHashLabel] = h1
	if PodTemplateHash(c, nil) != h1 {
		t.Error("hash changed by the pod-template-hash label")
	}
	if _, ok := d.Spec.Template.Labels[PodTemplateHashLabel]; ok {
		t.Error("PodTemplateHash modified its input")
	}
	// Any change of the template or the collision count changes it.
	c.Spec.Containers[0].Image = "web:2"
	if PodTemplateHash(c, nil) == h1 {
		t.Error("hash unchanged after image change")
	}
	if PodTemplateHash(&d.Spec.Template, Ptr(int32(1))) == h1 {
		t.Error("hash unchanged by collision count")
	}
	// Pinned value: the hash must not change between releases for the
	// same template, or Deployments would roll on upgrade.
	fixed := &PodTemplateSpec{ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "x"}},
		Spec: PodSpec{Containers: []Container{{Name: "x", Image: "x:1"}}}}
	if got := PodTemplateHash(fixed, nil); got != pinnedTemplateHash {
		t.Errorf("PodTemplateHash(fixed) = %q, want %q", got, pinnedTemplateHash)
	}
}

const pinnedTemplateHash = "c654646"

func TestOwnerRefs(t *testing.T) {
	d := validDeployment()
	d.UID = "d-uid"
	rs := &ReplicaSet{ObjectMeta: ObjectMeta{Name: "web-abc", Namespace: "shop"}}
	if GetControllerOf(rs) != nil {
		t.Error("controller of an orphan")
	}
	ref := NewControllerRef(d)
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != "web" || ref.UID != "d-uid" ||
		!*ref.Controller || !*ref.BlockOwnerDeletion {
		t.Errorf("ref = %+v", ref)
	}
	rs.OwnerReferences = []OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x", UID: "x"}, ref}
	if got := GetControllerOf(rs); got == nil || got.UID != "d-uid" {
		t.Errorf("GetControllerOf = %+v", got)
	}
	if !IsControlledBy(rs, d) || IsControlledBy(rs, &Deployment{ObjectMeta: ObjectMeta{UID: "other"}}) {
		t.Error("IsControlledBy")
	}
	// TypeMeta comes from the scheme when unset.
	if ref := NewControllerRef(&ReplicaSet{}); ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" {
		t.Errorf("ref from untyped = %+v", ref)
	}
}

func TestConditions(t *testing.T) {
	t0 := NewTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := NewTime(t0.Add(time.Minute))
	t2 := NewTime(t0.Add(2 * time.Minute))
	var ps PodStatus
	if !SetPodCondition(&ps, PodCondition{Type: PodReady, Status: ConditionFalse, Reason: "Starting"}, t0) {
		t.Error("add reported no change")
	}
	if SetPodCondition(&ps, PodCondition{Type: PodReady, Status: ConditionFalse, Reason: "Starting"}, t1) {
		t.Error("same condition reported a change")
	}
	if !SetPodCondition(&ps, PodCondition{Type: PodReady, Status: ConditionFalse, Reason: "Probing"}, t1) {
		t.Error("reason change not reported")
	}
	if c := GetPodCondition(&ps, PodReady); !c.LastTransitionTime.Equal(t0) || c.Reason != "Probing" {
		t.Errorf("transition time moved without a status change: %+v", c)
	}
	pod := &Pod{Status: ps}
	if IsPodReady(pod) {
		t.Error("ready while False")
	}
	SetPodCondition(&pod.Status, PodCondition{Type: PodReady, Status: ConditionTrue}, t2)
	if c := GetPodCondition(&pod.Status, PodReady); !c.LastTransitionTime.Equal(t2) || !IsPodReady(pod) || len(pod.Status.Conditions) != 1 {
		t.Errorf("after transition: %+v", pod.Status.Conditions)
	}
	if !IsPodAvailable(pod, 0, t2) || IsPodAvailable(pod, 30, t2) || !IsPodAvailable(pod, 30, NewTime(t2.Add(30*time.Second))) {
		t.Error("IsPodAvailable with minReadySeconds")
	}

	var ds DeploymentStatus
	SetDeploymentCondition(&ds, DeploymentCondition{Type: DeploymentProgressing, Status: ConditionTrue, Reason: "NewReplicaSetCreated"}, t0)
	SetDeploymentCondition(&ds, DeploymentCondition{Type: DeploymentProgressing, Status: ConditionTrue, Reason: "NewReplicaSetAvailable"}, t1)
	c := GetDeploymentCondition(&ds, DeploymentProgressing)
	if !c.LastTransitionTime.Equal(t0) || !c.LastUpdateTime.Equal(t1) {
		t.Errorf("deployment condition times = %+v", c)
	}
	if SetDeploymentCondition(&ds, DeploymentCondition{Type: DeploymentProgressing, Status: ConditionTrue, Reason: "NewReplicaSetAvailable"}, t2) {
		t.Error("unchanged deployment condition reported a change")
	}
	if !RemoveDeploymentCondition(&ds, DeploymentProgressing) || GetDeploymentCondition(&ds, DeploymentProgressing) != nil {
		t.Error("RemoveDeploymentCondition")
	}

	var rs ReplicaSetStatus
	SetReplicaSetCondition(&rs, ReplicaSetCondition{Type: ReplicaSetReplicaFailure, Status: ConditionTrue}, t0)
	if SetReplicaSetCondition(&rs, ReplicaSetCondition{Type: ReplicaSetReplicaFailure, Status: ConditionTrue}, t1) ||
		!GetReplicaSetCondition(&rs, ReplicaSetReplicaFailure).LastTransitionTime.Equal(t0) {
		t.Error("replicaset condition")
	}

	n := &Node{}
	SetNodeCondition(&n.Status, NodeCondition{Type: NodeReady, Status: ConditionTrue, LastHeartbeatTime: t0}, t0)
	if !SetNodeCondition(&n.Status, NodeCondition{Type: NodeReady, Status: ConditionTrue, LastHeartbeatTime: t1}, t1) {
		t.Error("heartbeat change not reported")
	}
	if c := GetNodeCondition(&n.Status, NodeReady); !c.LastTransitionTime.Equal(t0) || !IsNodeReady(n) {
		t.Errorf("node condition = %+v", c)
	}
	SetNodeCondition(&n.Status, NodeCondition{Type: NodeReady, Status: ConditionUnknown}, t2)
	if IsNodeReady(n) || !GetNodeCondition(&n.Status, NodeReady).LastTransitionTime.Equal(t2) {
		t.Error("node not-ready transition")
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

func TestConditionTimeEquality(t *testing.T) {
	// The same instant in another location is not a change.
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var ps PodStatus
	SetPodCondition(&ps, PodCondition{Type: PodReady, Status: ConditionTrue, LastProbeTime: Time{t0}}, NewTime(t0))
	if SetPodCondition(&ps, PodCondition{Type: PodReady, Status: ConditionTrue, LastProbeTime: Time{t0.In(time.FixedZone("x", 3600))}}, NewTime(t0)) {
		t.Error("same instant in another zone reported as a change")
	}
}
