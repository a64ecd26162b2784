package scheduler

import (
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestToleratesTaint(t *testing.T) {
	taint := api.Taint{Key: "dedicated", Value: "db", Effect: api.TaintEffectNoSchedule}
	tests := []struct {
		tol  api.Toleration
		want bool
	}{
		{api.Toleration{Key: "dedicated", Operator: api.TolerationOpEqual, Value: "db", Effect: api.TaintEffectNoSchedule}, true},
		{api.Toleration{Key: "dedicated", Value: "db"}, true},
		{api.Toleration{Key: "dedicated", Operator: api.TolerationOpEqual, Value: "web"}, false},
		{api.Toleration{Key: "dedicated", Operator: api.TolerationOpExists}, true},
		{api.Toleration{Operator: api.TolerationOpExists}, true},
		{api.Toleration{Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute}, false},
		{api.Toleration{Key: "other", Operator: api.TolerationOpExists}, false},
		{api.Toleration{Value: "db"}, false},
		{api.Toleration{Key: "dedicated", Operator: "Like", Value: "db"}, false},
	}
	for _, tt := range tests {
		if got := toleratesTaint(tt.tol, taint); got != tt.want {
			t.Errorf("toleratesTaint(%+v) = %v, want %v", tt.tol, got, tt.want)
		}
	}
	taints := []api.Taint{{Key: "a", Effect: api.TaintEffectPreferNoSchedule}, taint, {Key: "b", Effect: api.TaintEffectNoExecute}}
	got, ok := untoleratedTaint(taints, nil, api.TaintEffectNoSchedule, api.TaintEffectNoExecute)
	if !ok || got.Key != "dedicated" {
		t.Errorf("untoleratedTaint = %+v, %v", got, ok)
	}
	tols := []api.Toleration{{Key: "dedicated", Operator: api.TolerationOpExists}}
	if got, ok := untoleratedTaint(taints, tols, api.TaintEffectNoExecute); !ok || got.Key != "b" {
		t.Errorf("untoleratedTaint(NoExecute) = %+v, %v", got, ok)
	}
	if _, ok := untoleratedTaint(taints, append(tols, api.Toleration{Key: "b", Operator: api.TolerationOpExists}), api.TaintEffectNoSchedule, api.TaintEffectNoExecute); ok {
		t.Error("all tolerated but untoleratedTaint found one")
	}
}

func TestPodMatchesNode(t *testing.T) {
	node := &api.Node{ObjectMeta: api.ObjectMeta{Name: "n1", Labels: map[string]string{
		"disktype": "ssd", api.LabelTopologyZone: "eu-1a", "cores": "8"}}}
	term := func(reqs ...api.NodeSelectorRequirement) api.NodeSelectorTerm {
		return api.NodeSelectorTerm{MatchExpressions: reqs}
	}
	req := func(terms ...api.NodeSelectorTerm) *api.Affinity {
		return &api.Affinity{NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{NodeSelectorTerms: terms}}}
	}
	tests := []struct {
		name string
		spec api.PodSpec
		want bool
	}{
		{"no constraints", api.PodSpec{}, true},
		{"nodeSelector match", api.PodSpec{NodeSelector: map[string]string{"disktype": "ssd"}}, true},
		{"nodeSelector mismatch", api.PodSpec{NodeSelector: map[string]string{"disktype": "hdd"}}, false},
		{"nodeSelector missing label", api.PodSpec{NodeSelector: map[string]string{"gpu": "true"}}, false},
		{"affinity In", api.PodSpec{Affinity: req(term(api.NodeSelectorRequirement{Key: api.LabelTopologyZone, Operator: api.NodeSelectorOpIn, Values: []string{"eu-1a", "eu-1b"}}))}, true},
		{"affinity NotIn", api.PodSpec{Affinity: req(term(api.NodeSelectorRequirement{Key: api.LabelTopologyZone, Operator: api.NodeSelectorOpNotIn, Values: []string{"eu-1a"}}))}, false},
		{"affinity Gt", api.PodSpec{Affinity: req(term(api.NodeSelectorRequirement{Key: "cores", Operator: api.NodeSelectorOpGt, Values: []string{"4"}}))}, true},
		{"affinity Lt", api.PodSpec{Affinity: req(term(api.NodeSelectorRequirement{Key: "cores", Operator: api.NodeSelectorOpLt, Values: []string{"4"}}))}, false},
		{"affinity Gt non-integer", api.PodSpec{Affinity: req(term(api.NodeSelectorRequirement{Key: "disktype", Operator: api.NodeSelectorOpGt, Values: []string{"4"}}))}, false},
		{"terms are ORed", api.PodSpec{Affinity: req(
			term(api.NodeSelectorRequirement{Key: "gpu", Operator: api.NodeSelectorOpExists}),
			term(api.NodeSelectorRequirement{Key: "gpu", Operator: api.NodeSelectorOpDoesNotExist}))}, true},
		{"requirements are ANDed", api.PodSpec{Affinity: req(term(
			api.NodeSelectorRequirement{Key: "disktype", Operator: api.NodeSelectorOpExists},
			api.NodeSelectorRequirement{Key: "gpu", Operator: api.NodeSelectorOpExists}))}, false},
		{"matchFields name", api.PodSpec{Affinity: req(api.NodeSelectorTerm{MatchFields: []api.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: api.NodeSelectorOpIn, Values: []string{"n1"}}}})}, true},
		{"empty term matches nothing", api.PodSpec{Affinity: req(api.NodeSelectorTerm{})}, false},
		{"nil required matches", api.PodSpec{Affinity: &api.Affinity{NodeAffinity: &api.NodeAffinity{}}}, true},
	}
	for _, tt := range tests {
		if got := podMatchesNode(&tt.spec, node); got != tt.want {
			t.Errorf("%s: podMatchesNode = %v, want %v", tt.name, got, tt.want)
		}
	}
	spec := api.PodSpec{Affinity: &api.Affinity{NodeAffinity: &api.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []api.PreferredSchedulingTerm{
		{Weight: 10, Preference: term(api.NodeSelectorRequirement{Key: "disktype", Operator: api.NodeSelectorOpIn, Values: []string{"ssd"}})},
		{Weight: 5, Preference: term(api.NodeSelectorRequirement{Key: "gpu", Operator: api.NodeSelectorOpExists})},
		{Weight: 1, Preference: term(api.NodeSelectorRequirement{Key: "cores", Operator: api.NodeSelectorOpGt, Values: []string{"2"}})},
	}}}}
	if got := preferredNodeAffinityScore(&spec, node); got != 11 {
		t.Errorf("preferredNodeAffinityScore = %d, want 11", got)
	}
	if preferredNodeAffinityScore(&api.PodSpec{}, node) != 0 {
		t.Error("score without affinity")
	}
}
