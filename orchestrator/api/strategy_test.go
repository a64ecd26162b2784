package api

import "testing"

func TestStatusHelpers(t *testing.T) {
	for _, tt := range []struct {
		obj  Object
		want bool
	}{{&Pod{}, true}, {&Deployment{}, true}, {&Node{}, true}, {&Namespace{}, true}, {&ReplicaSet{}, true}, {&ConfigMap{}, false}, {&Event{}, false}} {
		if got := HasStatus(tt.obj); got != tt.want {
			t.Errorf("HasStatus(%T) = %v", tt.obj, got)
		}
	}
	src := &Pod{Status: PodStatus{Phase: PodRunning, Conditions: []PodCondition{{Type: PodReady, Status: ConditionTrue}}}}
	dst := &Pod{Spec: PodSpec{NodeName: "n"}}
	if err := CopyStatus(dst, src); err != nil {
		t.Fatal(err)
	}
	if dst.Status.Phase != PodRunning || dst.Spec.NodeName != "n" {
		t.Errorf("CopyStatus = %+v", dst)
	}
	dst.Status.Conditions[0].Status = ConditionFalse
	if src.Status.Conditions[0].Status != ConditionTrue {
		t.Error("CopyStatus shares memory")
	}
	if err := CopyStatus(&ConfigMap{}, &ConfigMap{}); err == nil {
		t.Error("CopyStatus on a kind without status")
	}
	if err := CopyStatus(&Pod{}, &Node{}); err == nil {
		t.Error("CopyStatus across kinds")
	}
}

func TestSpecEqual(t *testing.T) {
	a := validDeployment()
	b := a.DeepCopy()
	b.Status.Replicas = 5
	b.Labels["x"] = "y"
	b.ResourceVersion = "9"
	if !SpecEqual(a, b) {
		t.Error("status/metadata changes counted as spec changes")
	}
	b.Spec.Template.Spec.Containers[0].Image = "web:2"
	if SpecEqual(a, b) {
		t.Error("image change not seen")
	}
	c1 := &ConfigMap{Data: map[string]string{"a": "1"}}
	c2 := &ConfigMap{Data: map[string]string{"a": "2"}}
	if SpecEqual(c1, c2) || !SpecEqual(c1, c1.DeepCopy()) {
		t.Error("ConfigMap data comparison")
	}
	if SpecEqual(&Pod{}, &Node{}) {
		t.Error("different kinds equal")
	}
}

func TestNilObjects(t *testing.T) {
	var p *Pod
	for _, obj := range []Object{nil, p} {
		Default(obj) // must not panic
		if err := Validate(obj); !IsBadRequest(err) {
			t.Errorf("Validate(%#v) = %v", obj, err)
		}
		if err := ValidateUpdate(obj, &Pod{}); !IsBadRequest(err) {
			t.Errorf("ValidateUpdate(%#v) = %v", obj, err)
		}
		if _, err := EncodeJSON(obj); err == nil {
			t.Errorf("EncodeJSON(%#v) succeeded", obj)
		}
		if HasStatus(obj) || SpecEqual(obj, obj) || CopyStatus(obj, &Pod{}) == nil || CopyStatus(&Pod{}, obj) == nil {
			t.Errorf("status helpers accepted %#v", obj)
		}
		if err := DecodeInto([]byte(`{}`), obj); err == nil {
			t.Errorf("DecodeInto(%#v) succeeded", obj)
		}
	}
}

func TestSemanticComparisons(t *testing.T) {
	// nil and empty collections are the same on the wire.
	a := validDeployment()
	b := a.DeepCopy()
	b.Spec.Template.Spec.NodeSelector = map[string]string{}
	b.Spec.Selector.MatchExpressions = []LabelSelectorRequirement{}
	if !SpecEqual(a, b) {
		t.Error("empty vs nil counted as a spec change")
	}
	if err := ValidateUpdate(a, b); err != nil {
		t.Errorf("empty vs nil selector counted as a change: %v", err)
	}
	// Reordered expressions are the same selector.
	a.Spec.Selector.MatchExpressions = []LabelSelectorRequirement{
		{Key: "x", Operator: LabelSelectorOpDoesNotExist}, {Key: "y", Operator: LabelSelectorOpDoesNotExist}}
	b = a.DeepCopy()
	b.Spec.Selector.MatchExpressions[0], b.Spec.Selector.MatchExpressions[1] = b.Spec.Selector.MatchExpressions[1], b.Spec.Selector.MatchExpressions[0]
	if err := ValidateUpdate(a, b); err != nil {
		t.Errorf("reordered selector counted as a change: %v", err)
	}
	p := validPod()
	q := p.DeepCopy()
	q.Spec.NodeSelector = map[string]string{}
	if err := ValidateUpdate(p, q); err != nil {
		t.Errorf("empty nodeSelector counted as a pod spec change: %v", err)
	}
	c := &ConfigMap{ObjectMeta: ObjectMeta{Name: "c", Namespace: "d"}, Immutable: Ptr(true)}
	c2 := c.DeepCopy()
	c2.Data = map[string]string{}
	if err := ValidateUpdate(c, c2); err != nil {
		t.Errorf("empty data counted as a change: %v", err)
	}
	if selectorsEqual(nil, &LabelSelector{}) || !selectorsEqual(nil, nil) {
		t.Error("nil selector selects nothing, empty selects everything")
	}
}
