package namespacelifecycle_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission/namespacelifecycle"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// namespaces is the part of client.Interface the plugin uses: Namespaces
// in a map. A Namespace in lagging is missing from reads that are not
// consistent, as on a replica behind the leader. Other methods are not
// modelled (calling them panics on the nil embedded Interface).
type namespaces struct {
	client.Interface
	ns         map[string]*api.Namespace
	lagging    map[string]bool
	consistent int
	created    []string
}

func (f *namespaces) Scheme() *api.Scheme { return api.DefaultScheme() }

func (f *namespaces) Get(_ context.Context, _, name string, out api.Object, o client.GetOptions) error {
	if o.Consistent {
		f.consistent++
	}
	ns, ok := f.ns[name]
	if !ok || (f.lagging[name] && !o.Consistent) {
		return api.NewNotFound("Namespace", name)
	}
	*out.(*api.Namespace) = *ns.DeepCopy()
	return nil
}

func (f *namespaces) Create(_ context.Context, obj api.Object, _ client.CreateOptions) error {
	ns := obj.(*api.Namespace)
	if _, ok := f.ns[ns.Name]; ok {
		return api.NewAlreadyExists("Namespace", ns.Name)
	}
	ns.ResourceVersion = "1"
	ns.Status.Phase = api.NamespaceActive
	f.ns[ns.Name] = ns.DeepCopy()
	f.created = append(f.created, ns.Name)
	return nil
}

func kind(name string) api.KindInfo {
	info, _ := api.DefaultScheme().LookupKind(name)
	return info
}

func TestValidate(t *testing.T) {
	now := api.Now()
	active := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop", ResourceVersion: "5"}, Status: api.NamespaceStatus{Phase: api.NamespaceActive}}
	marked := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "old", ResourceVersion: "9", DeletionTimestamp: &now}, Status: api.NamespaceStatus{Phase: api.NamespaceTerminating}}
	tests := []struct {
		name    string
		a       admission.Attributes
		lagging bool
		check   func(error) bool
		// what the write is conditional on, and which Namespace was created
		wantPre, wantCreated string
	}{
		{"content in an active namespace", admission.Attributes{Operation: admission.Create, Kind: kind("Pod"), Namespace: "shop", Name: "p"},
			false, noError, "shop", ""},
		{"seen late by the replica", admission.Attributes{Operation: admission.Create, Kind: kind("Pod"), Namespace: "shop", Name: "p"},
			true, noError, "shop", ""},
		{"missing namespace", admission.Attributes{Operation: admission.Create, Kind: kind("ConfigMap"), Namespace: "team", Name: "c"},
			false, func(err error) bool { return api.IsNotFound(err) && err.Error() == `Namespace "team" not found` }, "", ""},
		{"terminating namespace", admission.Attributes{Operation: admission.Create, Kind: kind("ConfigMap"), Namespace: "old", Name: "c"},
			false, func(err error) bool {
				return api.IsForbidden(err) && strings.Contains(err.Error(),
					`ConfigMap "c" is forbidden: unable to create new content in namespace old because it is being terminated`)
			}, "", ""},
		{"system namespace on first use", admission.Attributes{Operation: admission.Create, Kind: kind("Pod"), Namespace: "kube-system", Name: "dns"},
			false, noError, "kube-system", "kube-system"},
		{"cluster-scoped kind", admission.Attributes{Operation: admission.Create, Kind: kind("Node"), Name: "n1"},
			false, noError, "", ""},
		{"a namespace itself", admission.Attributes{Operation: admission.Create, Kind: kind("Namespace"), Name: "new"},
			false, noError, "", ""},
		{"update in a terminating namespace", admission.Attributes{Operation: admission.Update, Kind: kind("ConfigMap"), Namespace: "old", Name: "c"},
			false, noError, "", ""},
		{"delete in a terminating namespace", admission.Attributes{Operation: admission.Delete, Kind: kind("ConfigMap"), Namespace: "old", Name: "c"},
			false, noError, "", ""},
		{"delete default", admission.Attributes{Operation: admission.Delete, Kind: kind("Namespace"), Name: "default"},
			false, func(err error) bool {
				return api.IsForbidden(err) && err.Error() == `Namespace "default" is forbidden: this namespace may not be deleted`
			}, "", ""},
		{"delete kube-system", admission.Attributes{Operation: admission.Delete, Kind: kind("Namespace"), Name: "kube-system"},
			false, api.IsForbidden, "", ""},
		{"delete a user namespace", admission.Attributes{Operation: admission.Delete, Kind: kind("Namespace"), Name: "shop"},
			false, noError, "", ""},
		{"finalize step", admission.Attributes{Operation: admission.Delete, Kind: kind("Namespace"), Name: "old", Subresource: admission.SubresourceFinalize},
			false, noError, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &namespaces{ns: map[string]*api.Namespace{"shop": active.DeepCopy(), "old": marked.DeepCopy()}, lagging: map[string]bool{"shop": tt.lagging}}
			a := tt.a
			a.Client = f
			p := namespacelifecycle.New()
			if !p.Handles(a.Operation) {
				if tt.wantPre != "" {
					t.Fatalf("%s not handled", a.Operation)
				}
				return
			}
			if err := p.Validate(context.Background(), &a); !tt.check(err) {
				t.Fatalf("error %v", err)
			}
			var pre string
			if got := a.Preconditions(); len(got) == 1 {
				pre = got[0].GetName()
				if got[0].GetResourceVersion() == "" {
					t.Error("precondition without a resourceVersion")
				}
			} else if len(got) > 1 {
				t.Fatalf("preconditions %v", got)
			}
			if pre != tt.wantPre {
				t.Errorf("write conditional on %q, want %q", pre, tt.wantPre)
			}
			if created := strings.Join(f.created, ","); created != tt.wantCreated {
				t.Errorf("created %q, want %q", created, tt.wantCreated)
			}
			if tt.lagging && f.consistent == 0 {
				t.Error("a miss on the replica was not confirmed by a consistent read")
			}
		})
	}
}

func noError(err error) bool { return err == nil }

// After a lost race the registry sets Consistent: the plugin then reads
// linearizably from the start.
func TestConsistentAfterRace(t *testing.T) {
	f := &namespaces{ns: map[string]*api.Namespace{"shop": {ObjectMeta: api.ObjectMeta{Name: "shop", ResourceVersion: "5"}}}}
	a := &admission.Attributes{Operation: admission.Create, Kind: kind("Pod"), Namespace: "shop", Name: "p", Client: f, Consistent: true}
	if err := namespacelifecycle.New().Validate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if f.consistent != 1 {
		t.Errorf("%d consistent reads, want 1", f.consistent)
	}
	if p := namespacelifecycle.New(); p.Handles(admission.Update) || p.Name() != "NamespaceLifecycle" {
		t.Error("plugin identity")
	}
}
