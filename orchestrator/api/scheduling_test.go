package api

import "testing"

func TestToleratesTaint(t *testing.T) {
	taint := Taint{Key: "dedicated", Value: "db", Effect: TaintEffectNoSchedule}
	tests := []struct {
		tol  Toleration
		want bool
	}{
		{Toleration{Key: "dedicated", Operator: TolerationOpEqual, Value: "db", Effect: TaintEffectNoSchedule}, true},
		{Toleration{Key: "dedicated", Value: "db"}, true},
		{Toleration{Key: "dedicated", Operator: TolerationOpEqual, Value: "web"}, false},
		{Toleration{Key: "dedicated", Operator: TolerationOpExists}, true},
		{Toleration{Operator: TolerationOpExists}, true},
		{Toleration{Operator: TolerationOpExists, Effect: TaintEffectNoExecute}, false},
		{Toleration{Key: "other", Operator: TolerationOpExists}, false},
		{Toleration{Value: "db"}, false},
		{Toleration{Key: "dedicated", Operator: "Like", Value: "db"}, false},
	}
	for _, tt := range tests {
		if got := tt.tol.ToleratesTaint(taint); got != tt.want {
			t.Errorf("%+v.ToleratesTaint = %v, want %v", tt.tol, got, tt.want)
		}
	}
	taints := []Taint{{Key: "a", Effect: TaintEffectPreferNoSchedule}, taint, {Key: "b", Effect: TaintEffectNoExecute}}
	got, ok := UntoleratedTaint(taints, nil, TaintEffectNoSchedule, TaintEffectNoExecute)
	if !ok || got.Key != "dedicated" {
		t.Errorf("UntoleratedTaint = %+v, %v", got, ok)
	}
	tols := []Toleration{{Key: "dedicated", Operator: TolerationOpExists}}
	if got, ok := UntoleratedTaint(taints, tols, TaintEffectNoExecute); !ok || got.Key != "b" {
		t.Errorf("UntoleratedTaint(NoExecute) = %+v, %v", got, ok)
	}
	if _, ok := UntoleratedTaint(taints, append(tols, Toleration{Key: "b", Operator: TolerationOpExists}), TaintEffectNoSchedule, TaintEffectNoExecute); ok {
		t.Error("all tolerated but UntoleratedTaint found one")
	}
}

func TestPodMatchesNode(t *testing.T) {
	node := &Node{ObjectMeta: ObjectMeta{Name: "n1", Labels: map[string]string{
		"disktype": "ssd", LabelTopologyZone: "eu-1a", "cores": "8"}}}
	term := func(reqs ...NodeSelectorRequirement) NodeSelectorTerm {
		return NodeSelectorTerm{MatchExpressions: reqs}
	}
	req := func(terms ...NodeSelectorTerm) *Affinity {
		return &Affinity{NodeAffinity: &NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &NodeSelector{NodeSelectorTerms: terms}}}
	}
	tests := []struct {
		name string
		spec PodSpec
		want bool
	}{
		{"no constraints", PodSpec{}, true},
		{"nodeSelector match", PodSpec{NodeSelector: map[string]string{"disktype": "ssd"}}, true},
		{"nodeSelector mismatch", PodSpec{NodeSelector: map[string]string{"disktype": "hdd"}}, false},
		{"nodeSelector missing label", PodSpec{NodeSelector: map[string]string{"gpu": "true"}}, false},
		{"affinity In", PodSpec{Affinity: req(term(NodeSelectorRequirement{Key: LabelTopologyZone, Operator: NodeSelectorOpIn, Values: []string{"eu-1a", "eu-1b"}}))}, true},
		{"affinity NotIn", PodSpec{Affinity: req(term(NodeSelectorRequirement{Key: LabelTopologyZone, Operator: NodeSelectorOpNotIn, Values: []string{"eu-1a"}}))}, false},
		{"affinity Gt", PodSpec{Affinity: req(term(NodeSelectorRequirement{Key: "cores", Operator: NodeSelectorOpGt, Values: []string{"4"}}))}, true},
		{"affinity Lt", PodSpec{Affinity: req(term(NodeSelectorRequirement{Key: "cores", Operator: NodeSelectorOpLt, Values: []string{"4"}}))}, false},
		{"affinity Gt non-integer", PodSpec{Affinity: req(term(NodeSelectorRequirement{Key: "disktype", Operator: NodeSelectorOpGt, Values: []string{"4"}}))}, false},
		{"terms are ORed", PodSpec{Affinity: req(
			term(NodeSelectorRequirement{Key: "gpu", Operator: NodeSelectorOpExists}),
			term(NodeSelectorRequirement{Key: "gpu", Operator: NodeSelectorOpDoesNotExist}))}, true},
		{"requirements are ANDed", PodSpec{Affinity: req(term(
			NodeSelectorRequirement{Key: "disktype", Operator: NodeSelectorOpExists},
			NodeSelectorRequirement{Key: "gpu", Operator: NodeSelectorOpExists}))}, false},
		{"matchFields name", PodSpec{Affinity: req(NodeSelectorTerm{MatchFields: []NodeSelectorRequirement{
			{Key: "metadata.name", Operator: NodeSelectorOpIn, Values: []string{"n1"}}}})}, true},
		{"empty term matches nothing", PodSpec{Affinity: req(NodeSelectorTerm{})}, false},
		{"nil required matches", PodSpec{Affinity: &Affinity{NodeAffinity: &NodeAffinity{}}}, true},
	}
	for _, tt := range tests {
		if got := PodMatchesNode(&tt.spec, node); got != tt.want {
			t.Errorf("%s: PodMatchesNode = %v, want %v", tt.name, got, tt.want)
		}
	}
	spec := PodSpec{Affinity: &Affinity{NodeAffinity: &NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []PreferredSchedulingTerm{
		{Weight: 10, Preference: term(NodeSelectorRequirement{Key: "disktype", Operator: NodeSelectorOpIn, Values: []string{"ssd"}})},
		{Weight: 5, Preference: term(NodeSelectorRequirement{Key: "gpu", Operator: NodeSelectorOpExists})},
		{Weight: 1, Preference: term(NodeSelectorRequirement{Key: "cores", Operator: NodeSelectorOpGt, Values: []string{"2"}})},
	}}}}
	if got := PreferredNodeAffinityScore(&spec, node); got != 11 {
		t.Errorf("PreferredNodeAffinityScore = %d, want 11", got)
	}
	if PreferredNodeAffinityScore(&PodSpec{}, node) != 0 {
		t.Error("score without affinity")
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
