package api

import (
	"encoding/json"
	"reflect"
	"testing"
)

func fullPod(t testing.TB) *Pod {
	objs, err := DecodeAll(readTestdata(t, "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := objs[1].(*Deployment)
	now := NewTime(mustTime(t, "2024-05-01T10:00:00Z"))
	p := &Pod{TypeMeta: TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: d.Spec.Template.ObjectMeta, Spec: d.Spec.Template.Spec}
	p.Name, p.Namespace, p.UID = "web-1", "shop", "uid-1"
	p.OwnerReferences = []OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: "d-uid", Controller: Ptr(true), BlockOwnerDeletion: Ptr(true)}}
	p.DeletionTimestamp = &now
	p.Status = PodStatus{Phase: PodRunning, StartTime: &now, PodIPs: []PodIP{{IP: "10.0.0.1"}},
		Conditions: []PodCondition{{Type: PodReady, Status: ConditionTrue, LastTransitionTime: now}},
		ContainerStatuses: []ContainerStatus{{Name: "web", Ready: true, Started: Ptr(true),
			State:                ContainerState{Running: &ContainerStateRunning{StartedAt: now}},
			LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}
	return p
}

func TestDeepCopyIndependent(t *testing.T) {
	p := fullPod(t)
	c := p.DeepCopy()
	if !reflect.DeepEqual(p, c) {
		t.Fatal("copy differs from original")
	}
	// Mutate everything reachable in the copy; the original must not change.
	before, _ := json.Marshal(p)
	c.Labels["app"] = "changed"
	c.OwnerReferences[0].Name = "changed"
	*c.OwnerReferences[0].Controller = false
	c.DeletionTimestamp.Time = c.DeletionTimestamp.Add(1)
	c.Spec.Containers[0].Args[0] = "changed"
	c.Spec.Containers[0].Env[0].ValueFrom.FieldRef.FieldPath = "changed"
	c.Spec.Containers[0].Resources.Limits[ResourceCPU] = MustParse("9")
	c.Spec.Containers[0].LivenessProbe.HTTPGet.HTTPHeaders[0].Value = "changed"
	*c.Spec.TerminationGracePeriodSeconds = 1
	c.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values[0] = "x"
	c.Spec.Volumes[1].EmptyDir.SizeLimit = nil
	c.Status.ContainerStatuses[0].LastTerminationState.Terminated.ExitCode = 0
	*c.Status.ContainerStatuses[0].Started = false
	after, _ := json.Marshal(p)
	if string(before) != string(after) {
		t.Error("mutating the copy changed the original")
	}
	var nilPod *Pod
	if nilPod.DeepCopy() != nil {
		t.Error("nil DeepCopy")
	}
}

func TestDeepCopyAllKinds(t *testing.T) {
	for _, info := range DefaultScheme().Kinds() {
		obj := info.New()
		obj.GetObjectMeta().Labels = map[string]string{"a": "b"}
		c := obj.DeepCopyObject()
		if reflect.TypeOf(c) != reflect.TypeOf(obj) || !reflect.DeepEqual(c, obj) {
			t.Errorf("%s: DeepCopyObject = %#v", info.Kind, c)
		}
		c.GetObjectMeta().Labels["a"] = "c"
		if obj.GetLabels()["a"] != "b" {
			t.Errorf("%s: copy shares labels", info.Kind)
		}

		list := info.NewList()
		if err := list.SetItems([]Object{obj, info.New()}); err != nil {
			t.Fatalf("%s: SetItems: %v", info.Kind, err)
		}
		items := list.GetItems()
		if len(items) != 2 || items[0].GetLabels()["a"] != "b" {
			t.Errorf("%s: GetItems = %v", info.Kind, items)
		}
		lc := list.DeepCopyList()
		lc.GetItems()[0].GetObjectMeta().Labels["a"] = "z"
		if list.GetItems()[0].GetLabels()["a"] != "b" {
			t.Errorf("%s: list copy shares items", info.Kind)
		}
		if err := list.SetItems([]Object{&Namespace{}, &Node{}}); err == nil && info.Kind != "Namespace" && info.Kind != "Node" {
			t.Errorf("%s: SetItems accepted foreign items", info.Kind)
		}
		if len(list.GetItems()) != 2 {
			t.Errorf("%s: failed SetItems changed the list", info.Kind)
		}
	}
}

func TestCloneValues(t *testing.T) {
	rl := ResourceList{ResourceCPU: MustParse("1")}
	c := Clone(rl)
	c[ResourceCPU] = MustParse("2")
	if rl.Cpu().String() != "1" {
		t.Error("Clone(ResourceList) shares the map")
	}
	s := []*int32{Ptr(int32(1))}
	cs := Clone(s)
	*cs[0] = 2
	if *s[0] != 1 {
		t.Error("Clone of pointer slice shares elements")
	}
	var anyv any = map[string]any{"a": []any{1}}
	ca := Clone(anyv)
	ca.(map[string]any)["a"].([]any)[0] = 2
	if anyv.(map[string]any)["a"].([]any)[0] != 1 {
		t.Error("Clone of interface values shares memory")
	}
	arr := [2][]string{{"a"}, {"b"}}
	carr := Clone(arr)
	carr[0][0] = "z"
	if arr[0][0] != "a" {
		t.Error("Clone of arrays shares memory")
	}
}

// BenchmarkDeepCopyPod measures the reflection-based DeepCopy of a fully
// populated Pod; BenchmarkDeepCopyPodJSON is the JSON round trip it
// replaces, for comparison.
func BenchmarkDeepCopyPod(b *testing.B) {
	p := fullPod(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.DeepCopy()
	}
}

func BenchmarkDeepCopyPodJSON(b *testing.B) {
	p := fullPod(b)
	b.ReportAllocs()
	for b.Loop() {
		data, _ := json.Marshal(p)
		var out Pod
		_ = json.Unmarshal(data, &out)
	}
}

func BenchmarkDecodeDeploymentYAML(b *testing.B) {
	data := readTestdata(b, "web.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeAll(data); err != nil {
			b.Fatal(err)
		}
	}
}
