package admission_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission"
)

// plugin records its calls in a shared log and fails with err; wrapped
// in mutator or validator (or both) it is that kind of plugin.
type plugin struct {
	name string
	ops  []admission.Operation
	log  *[]string
	err  error
}

func (p *plugin) Name() string                        { return p.name }
func (p *plugin) Handles(op admission.Operation) bool { return slices.Contains(p.ops, op) }

type mutator struct{ *plugin }

func (m mutator) Admit(_ context.Context, a *admission.Attributes) error {
	*m.log = append(*m.log, "admit "+m.name)
	if a.Object != nil {
		labels := a.Object.GetObjectMeta().Labels
		if labels == nil {
			labels = map[string]string{}
			a.Object.GetObjectMeta().Labels = labels
		}
		labels[m.name] = "seen"
	}
	return m.err
}

type validator struct{ *plugin }

func (v validator) Validate(_ context.Context, a *admission.Attributes) error {
	*v.log = append(*v.log, "validate "+v.name)
	return v.err
}

type both struct {
	mutator
	validator
}

func (b both) Name() string                        { return b.mutator.name }
func (b both) Handles(op admission.Operation) bool { return b.mutator.Handles(op) }

var all = []admission.Operation{admission.Create, admission.Update, admission.Delete}

func TestChainOrder(t *testing.T) {
	var log []string
	p := func(name string, ops ...admission.Operation) *plugin { return &plugin{name: name, ops: ops, log: &log} }
	chain := admission.Chain{
		validator{p("v1", all...)},
		mutator{p("m1", all...)},
		both{mutator{p("b", admission.Create)}, validator{p("b", admission.Create)}},
		mutator{p("m-update-only", admission.Update)},
		validator{p("v-delete-only", admission.Delete)},
	}
	ctx := context.Background()
	obj := &api.ConfigMap{}
	a := &admission.Attributes{Operation: admission.Create, Object: obj}
	if err := chain.Admit(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := chain.Validate(ctx, a); err != nil {
		t.Fatal(err)
	}
	want := []string{"admit m1", "admit b", "validate v1", "validate b"}
	if !slices.Equal(log, want) {
		t.Errorf("calls %q, want %q", log, want)
	}
	if obj.Labels["m1"] != "seen" || obj.Labels["b"] != "seen" || obj.Labels["m-update-only"] != "" {
		t.Errorf("mutations %v", obj.Labels)
	}
	log = nil
	a = &admission.Attributes{Operation: admission.Delete, OldObject: obj}
	if err := chain.Admit(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := chain.Validate(ctx, a); err != nil {
		t.Fatal(err)
	}
	if want := []string{"admit m1", "validate v1", "validate v-delete-only"}; !slices.Equal(log, want) {
		t.Errorf("delete calls %q, want %q", log, want)
	}
	// The empty chain admits everything.
	if err := (admission.Chain{}).Validate(ctx, a); err != nil {
		t.Error(err)
	}
}

// A refusal stops the chain; a plugin's API error reaches the client as
// it is, a context error too, and any other error becomes Forbidden
// naming the plugin.
func TestChainRefusals(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		err   error
		check func(error) bool
	}{
		{"status error", context.Background(), api.NewNotFound("Namespace", "x"), api.IsNotFound},
		{"plain error", context.Background(), errors.New("quota exceeded"), func(err error) bool {
			return api.IsForbidden(err) && strings.Contains(err.Error(), `ConfigMap "c" is forbidden: admission plugin "hook" denied the request: quota exceeded`)
		}},
		{"context error", canceled, context.Canceled, func(err error) bool { return errors.Is(err, context.Canceled) && !api.IsForbidden(err) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			info, _ := api.DefaultScheme().LookupKind("ConfigMap")
			a := &admission.Attributes{Operation: admission.Create, Kind: info, Name: "c", Object: &api.ConfigMap{}}
			chain := admission.Chain{
				validator{&plugin{name: "hook", ops: all, log: &log, err: tt.err}},
				validator{&plugin{name: "after", ops: all, log: &log}},
			}
			if err := chain.Validate(tt.ctx, a); !tt.check(err) {
				t.Errorf("error %v", err)
			}
			if slices.Contains(log, "validate after") {
				t.Error("the chain went on after a refusal")
			}
			log = nil
			chain = admission.Chain{mutator{&plugin{name: "hook", ops: all, log: &log, err: tt.err}}}
			if err := chain.Admit(tt.ctx, a); !tt.check(err) {
				t.Errorf("mutator error %v", err)
			}
		})
	}
}

func TestRequireUnchanged(t *testing.T) {
	a := &admission.Attributes{}
	if len(a.Preconditions()) != 0 {
		t.Fatal("preconditions on new attributes")
	}
	ns := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "a", ResourceVersion: "4"}}
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "a", ResourceVersion: "7"}}
	a.RequireUnchanged(ns)
	a.RequireUnchanged(cm)
	if got := a.Preconditions(); len(got) != 2 || got[0] != ns || got[1] != cm {
		t.Errorf("preconditions %v", got)
	}
}
