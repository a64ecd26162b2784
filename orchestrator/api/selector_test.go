package api

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	web := map[string]string{"app": "web", "tier": "frontend", "env": "a", "gpu": ""}
	tests := []struct {
		in        string
		canonical string
		matches   bool
	}{
		{"", "", true},
		{"app=web", "app=web", true},
		{"app==web", "app==web", true},
		{"app=db", "app=db", false},
		{"tier!=db", "tier!=db", true},
		{"missing!=x", "missing!=x", true},
		{"env in (a,b)", "env in (a,b)", true},
		{"env in (b, c)", "env in (b,c)", false},
		{"env notin (b,c)", "env notin (b,c)", true},
		{"missing notin (b)", "missing notin (b)", true},
		{"!legacy", "!legacy", true},
		{"!app", "!app", false},
		{"gpu", "gpu", true},
		{"missing", "missing", false},
		{"app=web,tier!=db,env in (a,b),!legacy,gpu", "app=web,env in (a,b),gpu,!legacy,tier!=db", true},
		{"  app = web ,  gpu  ", "app=web,gpu", true},
		{"example.com/role=api", "example.com/role=api", false},
		{"gpu=", "gpu=", true},
		{"env in (b,a)", "env in (a,b)", true},
	}
	for _, tt := range tests {
		s, err := ParseSelector(tt.in)
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", tt.in, err)
			continue
		}
		if got := s.String(); got != tt.canonical {
			t.Errorf("ParseSelector(%q).String() = %q, want %q", tt.in, got, tt.canonical)
		}
		if got := s.Matches(web); got != tt.matches {
			t.Errorf("ParseSelector(%q).Matches(%v) = %v, want %v", tt.in, web, got, tt.matches)
		}
		// The canonical form parses to the same selector.
		back, err := ParseSelector(s.String())
		if err != nil || back.String() != s.String() {
			t.Errorf("reparse %q = %q, %v", s.String(), back.String(), err)
		}
	}
}

func TestParseSelectorErrors(t *testing.T) {
	tests := []struct{ in, mention string }{
		{"app=web,", "expected a requirement"},
		{",app", "expected a key"},
		{"app web", "unknown operator"},
		{"app in a,b", "expected '('"},
		{"app in (a,b", "missing ')'"},
		{"app in ()", "must not be empty"},
		{"app notin (a;b)", "unexpected"},
		{"Bad_Key-=x", `invalid key "Bad_Key-"`},
		{"app=-bad", `invalid value "-bad"`},
		{"a/b/c=x", `invalid key "a/b/c"`},
		{"app=web)", "expected ','"},
		{"!", "expected a key after '!'"},
		{"app>1", "unknown operator"},
	}
	for _, tt := range tests {
		_, err := ParseSelector(tt.in)
		if err == nil {
			t.Errorf("ParseSelector(%q) succeeded, want error", tt.in)
			continue
		}
		if !errors.Is(err, ErrSelector) || !strings.Contains(err.Error(), tt.mention) || !strings.Contains(err.Error(), tt.in) {
			t.Errorf("ParseSelector(%q) error %q: want ErrSelector mentioning the input and %q", tt.in, err, tt.mention)
		}
	}
}

func TestLabelSelectorAsSelector(t *testing.T) {
	ls := &LabelSelector{
		MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []LabelSelectorRequirement{
			{Key: "tier", Operator: LabelSelectorOpIn, Values: []string{"frontend", "edge"}},
			{Key: "legacy", Operator: LabelSelectorOpDoesNotExist},
			{Key: "env", Operator: LabelSelectorOpNotIn, Values: []string{"prod"}},
			{Key: "team", Operator: LabelSelectorOpExists},
		},
	}
	s, err := LabelSelectorAsSelector(ls)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "app=web,env notin (prod),!legacy,team,tier in (edge,frontend)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	tests := []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{"app": "web", "tier": "edge", "team": "x"}, true},
		{map[string]string{"app": "web", "tier": "edge", "team": "x", "env": "prod"}, false},
		{map[string]string{"app": "web", "tier": "edge", "team": "x", "legacy": "1"}, false},
		{map[string]string{"app": "web", "tier": "backend", "team": "x"}, false},
		{map[string]string{"app": "web", "tier": "edge"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := s.Matches(tt.labels); got != tt.want {
			t.Errorf("Matches(%v) = %v, want %v", tt.labels, got, tt.want)
		}
	}
	// nil selects nothing, empty everything.
	if s, _ := LabelSelectorAsSelector(nil); s.Matches(map[string]string{}) {
		t.Error("nil selector matched")
	}
	if s, _ := LabelSelectorAsSelector(&LabelSelector{}); !s.Matches(nil) || !s.Empty() {
		t.Error("empty selector did not match everything")
	}
	// Bad structures name the field.
	_, err = LabelSelectorAsSelector(&LabelSelector{MatchExpressions: []LabelSelectorRequirement{
		{Key: "a", Operator: "Equals", Values: []string{"x"}},
		{Key: "b", Operator: LabelSelectorOpIn},
		{Key: "c", Operator: LabelSelectorOpExists, Values: []string{"x"}},
	}})
	for _, want := range []string{"matchExpressions[0].operator", "matchExpressions[1].values", "matchExpressions[2].values"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	// SelectorFromSet matches supersets.
	if !SelectorFromSet(map[string]string{"a": "1"}).Matches(map[string]string{"a": "1", "b": "2"}) {
		t.Error("SelectorFromSet did not match superset")
	}
}

func TestFieldSelector(t *testing.T) {
	pod := &Pod{ObjectMeta: ObjectMeta{Name: "web-1", Namespace: "shop"},
		Spec: PodSpec{NodeName: "node-a"}, Status: PodStatus{Phase: PodRunning}}
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"metadata.name=web-1", true},
		{"metadata.name==web-1", true},
		{"metadata.name!=web-1", false},
		{"metadata.namespace=shop,spec.nodeName=node-a", true},
		{"spec.nodeName=", false},
		{"spec.nodeName!=", true},
		{"status.phase=Running", true},
		{"status.phase!=Running", false},
		{"status.phase=Pending", false},
	}
	for _, tt := range tests {
		s, err := ParseFieldSelector(tt.in)
		if err != nil {
			t.Errorf("ParseFieldSelector(%q): %v", tt.in, err)
			continue
		}
		got, err := s.MatchesFields(pod)
		if err != nil || got != tt.want {
			t.Errorf("%q.MatchesFields(pod) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	// Escaped values.
	s, err := ParseFieldSelector(`metadata.name=a\,b\=c\\d`)
	if err != nil || s.Requirements()[0].Value != `a,b=c\d` {
		t.Fatalf("escaped = %+v, %v", s.Requirements(), err)
	}
	if back, err := ParseFieldSelector(s.String()); err != nil || back.Requirements()[0].Value != `a,b=c\d` {
		t.Errorf("escape round trip: %q %v", s.String(), err)
	}
	// Unsupported field for the kind.
	s, _ = ParseFieldSelector("spec.nodeName=node-a")
	if _, err := s.MatchesFields(&Deployment{}); !errors.Is(err, ErrSelector) || !strings.Contains(err.Error(), `"spec.nodeName" is not supported for Deployment`) {
		t.Errorf("unsupported field error = %v", err)
	}
	for _, bad := range []string{"metadata.name", "=x", `metadata.name=a\`, "metadata.name=a=b", `metadata.name=a\x`} {
		if _, err := ParseFieldSelector(bad); !errors.Is(err, ErrSelector) {
			t.Errorf("ParseFieldSelector(%q) error = %v, want ErrSelector", bad, err)
		}
	}
	node := &Node{ObjectMeta: ObjectMeta{Name: "n"}, Spec: NodeSpec{Unschedulable: true}}
	if ok, err := OneTermEqualSelector("spec.unschedulable", "true").MatchesFields(node); !ok || err != nil {
		t.Errorf("node selector = %v %v", ok, err)
	}
}
