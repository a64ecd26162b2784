package registry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

// Widget is a kind that exists only in this test: a registry serves it
// once it is in the scheme and has a strategy, with no change to the
// registry's code.
type Widget struct {
	api.TypeMeta   `json:",inline"`
	api.ObjectMeta `json:"metadata,omitempty"`
	Spec           WidgetSpec   `json:"spec"`
	Status         WidgetStatus `json:"status,omitempty"`
}

type WidgetSpec struct {
	Size int32 `json:"size,omitempty"`
}

type WidgetStatus struct {
	Built int32 `json:"built,omitempty"`
}

func (w *Widget) DeepCopyObject() api.Object {
	c := *w
	c.ObjectMeta = api.Clone(w.ObjectMeta)
	return &c
}

type WidgetList struct {
	api.TypeMeta `json:",inline"`
	api.ListMeta `json:"metadata,omitempty"`
	Items        []Widget `json:"items"`
}

func (l *WidgetList) GetItems() []api.Object {
	out := make([]api.Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

func (l *WidgetList) SetItems(items []api.Object) error {
	l.Items = nil
	for _, it := range items {
		w, ok := it.(*Widget)
		if !ok {
			return fmt.Errorf("%T is not a Widget", it)
		}
		l.Items = append(l.Items, *w)
	}
	return nil
}

func (l *WidgetList) DeepCopyList() api.ObjectList {
	c := *l
	c.Items = slices.Clone(l.Items)
	return &c
}

var widgetInfo = api.KindInfo{
	APIVersion: "example.com/v1", Kind: "Widget", Resource: "widgets", Namespaced: true,
	New: func() api.Object {
		return &Widget{TypeMeta: api.TypeMeta{APIVersion: "example.com/v1", Kind: "Widget"}}
	},
	NewList: func() api.ObjectList {
		return &WidgetList{TypeMeta: api.TypeMeta{APIVersion: "example.com/v1", Kind: "WidgetList"}}
	},
}

// widgetStrategy: size defaults to 1 and must be positive; the status is
// the server's.
type widgetStrategy struct{}

func (widgetStrategy) NamespaceScoped() bool           { return true }
func (widgetStrategy) PrepareForCreate(obj api.Object) { obj.(*Widget).Status = WidgetStatus{} }
func (widgetStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*Widget).Status = old.(*Widget).Status
}
func (widgetStrategy) Default(obj api.Object) {
	if w := obj.(*Widget); w.Spec.Size == 0 {
		w.Spec.Size = 1
	}
}
func (widgetStrategy) Validate(obj api.Object) api.FieldErrorList {
	w := obj.(*Widget)
	errs := strategy.ValidateObjectMeta(&w.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	if w.Spec.Size < 0 {
		errs = append(errs, api.Invalid(api.NewPath("spec", "size"), w.Spec.Size, "must be greater than or equal to 0"))
	}
	return errs
}
func (s widgetStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return append(s.Validate(obj), strategy.ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
}
func (widgetStrategy) BumpsGeneration(obj, old api.Object) bool {
	return obj.(*Widget).Spec != old.(*Widget).Spec
}
func (widgetStrategy) Status() strategy.StatusStrategy    { return widgetStatus{} }
func (widgetStrategy) Deletion() strategy.Deletion        { return strategy.DeleteWhenUnheld }
func (widgetStrategy) PrepareForDelete(api.Object)        {}
func (widgetStatus) PrepareForUpdate(obj, old api.Object) { obj.(*Widget).Spec = old.(*Widget).Spec }
func (widgetStatus) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return widgetStrategy{}.ValidateUpdate(obj, old)
}

type widgetStatus struct{}

func widgetScheme(t *testing.T) *api.Scheme {
	t.Helper()
	s, err := api.NewScheme(append(api.DefaultScheme().Kinds(), widgetInfo)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewKind(t *testing.T) {
	r, err := registry.New(testutil.Store(t), registry.Config{
		Scheme:     widgetScheme(t),
		Strategies: append(strategy.Builtin(), strategy.Registration{APIVersion: "example.com/v1", Kind: "Widget", Strategy: widgetStrategy{}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := &Widget{ObjectMeta: api.ObjectMeta{Name: "w"}, Status: WidgetStatus{Built: 9}}
	if err := r.Create(ctx, w, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if w.Namespace != "default" || w.Spec.Size != 1 || w.Status.Built != 0 || w.Generation != 1 || w.APIVersion != "example.com/v1" {
		t.Fatalf("created widget %+v", w)
	}
	// Its strategy validates it; its namespace is checked by admission.
	err = r.Create(ctx, &Widget{ObjectMeta: api.ObjectMeta{Name: "Bad_Name"}, Spec: WidgetSpec{Size: -1}}, client.CreateOptions{})
	if got := api.FieldErrors(err).Fields(); !api.IsInvalid(err) || !slices.Equal(got, []string{"metadata.name", "spec.size"}) {
		t.Fatalf("invalid widget: %v", err)
	}
	if err := r.Create(ctx, &Widget{ObjectMeta: api.ObjectMeta{Name: "w", Namespace: "nowhere"}}, client.CreateOptions{}); !api.IsNotFound(err) {
		t.Fatalf("widget in a missing namespace: %v", err)
	}
	// Status and spec writes keep each other's part; the generation
	// follows the spec.
	st := w.DeepCopyObject().(*Widget)
	st.Status.Built, st.Spec.Size = 3, 100
	if err := r.UpdateStatus(ctx, st, client.UpdateOptions{}); err != nil || st.Spec.Size != 1 || st.Status.Built != 3 || st.Generation != 1 {
		t.Fatalf("status write: %v %+v", err, st)
	}
	st.Spec.Size, st.Status.Built = 2, 0
	if err := r.Update(ctx, st, client.UpdateOptions{}); err != nil || st.Status.Built != 3 || st.Generation != 2 {
		t.Fatalf("spec write: %v %+v", err, st)
	}
	var list WidgetList
	if err := r.List(ctx, &list, client.ListOptions{Namespace: "default"}); err != nil || len(list.Items) != 1 || list.Items[0].Spec.Size != 2 {
		t.Fatalf("list: %v %+v", err, list.Items)
	}
	if err := r.Delete(ctx, "default", "w", &Widget{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Get(ctx, "default", "w", &Widget{}, client.GetOptions{Consistent: true}); !api.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}

	// Without its strategy the registry is refused, naming the kind.
	_, err = registry.New(testutil.Store(t), registry.Config{Scheme: widgetScheme(t)})
	if err == nil || !strings.Contains(err.Error(), "Widget") {
		t.Fatalf("registry without a Widget strategy: %v", err)
	}
}

// recorder is an admission plugin for tests: it records what it sees,
// labels created objects, refuses ConfigMaps whose data has the key
// "refuse" with a plain error, and requires guard (when set) unchanged.
type recorder struct {
	mu    sync.Mutex
	seen  []string
	guard func(ctx context.Context, a *admission.Attributes) error
}

func (p *recorder) Name() string                     { return "recorder" }
func (p *recorder) Handles(admission.Operation) bool { return true }

func (p *recorder) Admit(_ context.Context, a *admission.Attributes) error {
	if a.Operation == admission.Create {
		m := a.Object.GetObjectMeta()
		if m.Labels == nil {
			m.Labels = map[string]string{}
		}
		m.Labels["admitted"] = "yes"
	}
	return nil
}

func (p *recorder) Validate(ctx context.Context, a *admission.Attributes) error {
	p.mu.Lock()
	p.seen = append(p.seen, fmt.Sprintf("%s %s %s/%s %s old=%v dry=%v", a.Operation, a.Kind.Kind, a.Namespace, a.Name, a.Subresource, a.OldObject != nil, a.DryRun))
	p.mu.Unlock()
	if cm, ok := a.Object.(*api.ConfigMap); ok {
		if _, refuse := cm.Data["refuse"]; refuse {
			return errors.New("no refusals")
		}
	}
	if p.guard != nil {
		return p.guard(ctx, a)
	}
	return nil
}

func (p *recorder) calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

// Every write reaches the plugins of the registry's chain, with what it
// is about; the chain is the registry's own (another registry does not
// see it).
func TestAdmissionChain(t *testing.T) {
	rec := &recorder{}
	r, err := registry.New(testutil.Store(t), registry.Config{Admission: append(registry.DefaultAdmission(), rec)})
	if err != nil {
		t.Fatal(err)
	}
	other := newReg(t)
	ctx := context.Background()
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c"}}
	if err := r.Create(ctx, cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if cm.Labels["admitted"] != "yes" {
		t.Fatalf("mutating admission did not run: %v", cm.Labels)
	}
	cm.Data = map[string]string{"a": "1"}
	if err := r.Update(ctx, cm, client.UpdateOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.Patch(ctx, cm, api.MergePatchType, []byte(`{"data":{"b":"2"}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	err = r.Patch(ctx, cm, api.MergePatchType, []byte(`{"data":{"refuse":"x"}}`), client.PatchOptions{})
	if !api.IsForbidden(err) || !strings.Contains(err.Error(), `admission plugin "recorder" denied the request: no refusals`) {
		t.Fatalf("refused patch: %v", err)
	}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i"}}}}
	if err := r.Create(ctx, pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bound, err := r.Bind(ctx, pod, "n1", client.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bound.Status.Phase = api.PodRunning
	if err := r.UpdateStatus(ctx, bound, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "default", "c", &api.ConfigMap{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "team"}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "", "team", &api.Namespace{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveNamespace(ctx, "team", "", &api.Namespace{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CREATE Namespace /default  old=false dry=false", // NamespaceLifecycle creating "default" on first use
		"CREATE ConfigMap default/c  old=false dry=false",
		"UPDATE ConfigMap default/c  old=true dry=true",
		"UPDATE ConfigMap default/c  old=true dry=false",
		"UPDATE ConfigMap default/c  old=true dry=false",
		"CREATE Pod default/p  old=false dry=false",
		"UPDATE Pod default/p binding old=true dry=false",
		"UPDATE Pod default/p status old=true dry=false",
		"DELETE ConfigMap default/c  old=true dry=false",
		"CREATE Namespace /team  old=false dry=false",
		"DELETE Namespace /team  old=true dry=false",
		"DELETE Namespace /team finalize old=true dry=false",
	}
	if got := rec.calls(); !slices.Equal(got, want) {
		t.Errorf("admission saw:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The other registry has the default chain only.
	if err := other.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c"}, Data: map[string]string{"refuse": ""}}, client.CreateOptions{}); err != nil {
		t.Fatalf("another registry ran this one's plugin: %v", err)
	}
}

// A write whose admission depended on an object that changed before the
// write was stored is admitted again, on a consistent read, and stored
// only when the object held still.
func TestAdmissionPreconditionRetried(t *testing.T) {
	store := testutil.Store(t)
	base := testutil.RegistryOn(t, store)
	ctx := context.Background()
	guard := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "guard", Namespace: "default"}}
	if err := base.Create(ctx, guard, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var consistent []bool
	changes := 0
	rec := &recorder{guard: func(ctx context.Context, a *admission.Attributes) error {
		if a.Kind.Kind != "Pod" {
			return nil
		}
		var g api.ConfigMap
		if err := a.Client.Get(ctx, "default", "guard", &g, client.GetOptions{Consistent: a.Consistent}); err != nil {
			return err
		}
		consistent = append(consistent, a.Consistent)
		a.RequireUnchanged(g.DeepCopy())
		if changes < 2 {
			// Another writer changes the guard after the decision.
			changes++
			g.Data = map[string]string{"n": fmt.Sprint(changes)}
			return base.Update(ctx, &g, client.UpdateOptions{})
		}
		return nil
	}}
	r, err := registry.New(store, registry.Config{Admission: admission.Chain{rec}})
	if err != nil {
		t.Fatal(err)
	}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i"}}}}
	if err := r.Create(ctx, pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(consistent, []bool{false, true, true}) {
		t.Errorf("admission runs (consistent?) %v, want 3 with the retries consistent", consistent)
	}
	// A guard that never holds still ends in a Conflict, nothing stored.
	changes = -100
	pod2 := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p2", Namespace: "default"}, Spec: pod.Spec}
	if err := r.Create(ctx, pod2, client.CreateOptions{}); !api.IsConflict(err) {
		t.Fatalf("create against a moving guard: %v", err)
	}
	if err := r.Get(ctx, "default", "p2", &api.Pod{}, client.GetOptions{Consistent: true}); !api.IsNotFound(err) {
		t.Fatalf("stored despite the conflict: %v", err)
	}
}

// A Namespace deleted (marked, emptied and removed) while objects are
// being created in it never ends up with content: every create that
// succeeded was stored before the Namespace was marked, and nothing is
// left once it is removed. (Without NamespaceLifecycle's precondition
// this fails within a few runs.)
func TestNamespaceDeletionRacesCreates(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	for round := range 3 {
		ns := fmt.Sprintf("race-%d", round)
		if err := r.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created []int64
			started = make(chan struct{}, 4)
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("w%d-%d", w, i), Namespace: ns}}
					err := r.Create(ctx, cm, client.CreateOptions{})
					if i == 0 {
						started <- struct{}{}
					}
					switch {
					case err == nil:
						rev, _ := client.ParseResourceVersion(cm.ResourceVersion)
						mu.Lock()
						created = append(created, rev)
						mu.Unlock()
					case api.IsForbidden(err) || api.IsNotFound(err):
						return // the namespace is terminating or gone
					default:
						t.Errorf("create in %s: %v", ns, err)
						return
					}
				}
			}()
		}
		for range 4 {
			<-started
		}
		var marked api.Namespace
		if err := r.Delete(ctx, "", ns, &marked, client.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		markRev, _ := client.ParseResourceVersion(marked.ResourceVersion)
		// Empty it and remove it, as the namespace controller does, while
		// the writers may still be trying.
		var list api.ConfigMapList
		if err := r.List(ctx, &list, client.ListOptions{Namespace: ns, Consistent: true}); err != nil {
			t.Fatal(err)
		}
		for _, cm := range list.Items {
			if err := r.Delete(ctx, ns, cm.Name, &api.ConfigMap{}, client.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.RemoveNamespace(ctx, ns, "", &api.Namespace{}); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		// Writes batched into one Raft entry share its revision, so a
		// create applied just before the marking in the same entry has
		// the marking's revision; none may have a later one.
		for _, rev := range created {
			if rev > markRev {
				t.Errorf("%s: a ConfigMap was created at revision %d, after the namespace was marked at %d", ns, rev, markRev)
			}
		}
		if err := r.List(ctx, &list, client.ListOptions{Namespace: ns, Consistent: true}); err != nil || len(list.Items) != 0 {
			t.Fatalf("%s: %d objects left in a removed namespace (%v)", ns, len(list.Items), err)
		}
		t.Logf("%s: %d creates before the marking", ns, len(created))
	}
}

// The strategy's server fields and refusals, seen through the registry.
func TestStrategyThroughRegistry(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i"}}},
		Status: api.PodStatus{Phase: api.PodRunning, PodIP: "10.0.0.1"}}
	if err := r.Create(ctx, pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if pod.Status.Phase != api.PodPending || pod.Status.PodIP != "" || pod.Spec.RestartPolicy != api.RestartPolicyAlways {
		t.Fatalf("new pod status %+v restartPolicy %q", pod.Status, pod.Spec.RestartPolicy)
	}
	if err := r.UpdateStatus(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "default"}}, client.UpdateOptions{}); !api.IsBadRequest(err) {
		t.Fatalf("status of a ConfigMap: %v", err)
	}
	wrong := &api.ConfigMap{TypeMeta: api.TypeMeta{APIVersion: "apps/v1", Kind: "Secret"}, ObjectMeta: api.ObjectMeta{Name: "c"}}
	err := r.Create(ctx, wrong, client.CreateOptions{})
	if got := api.FieldErrors(err).Fields(); !slices.Equal(got, []string{"apiVersion", "kind"}) {
		t.Fatalf("wrong apiVersion and kind: %v", err)
	}
	// RemoveNamespace is a Namespace's finalize step; other kinds have
	// none, which the generic step refuses.
	if err := r.RemoveNamespace(ctx, "default", "", &api.Namespace{}); !api.IsConflict(err) {
		t.Fatalf("finalize an Active namespace: %v", err)
	}
}
