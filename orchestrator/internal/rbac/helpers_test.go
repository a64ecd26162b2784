package rbac_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/rbac"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is a registry with the escalation check in its admission chain and
// a running, synced Authorizer over it.
type env struct {
	reg *registry.Registry
	z   *rbac.Authorizer
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	esc := &rbac.Escalation{}
	reg, err := registry.New(testutil.Store(tb), registry.Config{Admission: append(registry.DefaultAdmission(), esc)})
	if err != nil {
		tb.Fatal(err)
	}
	z, err := rbac.New(rbac.Config{Client: reg})
	if err != nil {
		tb.Fatal(err)
	}
	esc.Authorizer = z
	ctx, cancel := context.WithCancel(context.Background())
	if err := rbac.EnsureBootstrapPolicy(ctx, reg); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); z.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	if err := z.WaitSynced(ctx); err != nil {
		tb.Fatal(err)
	}
	for _, ns := range []string{"dev", "prod"} {
		if err := reg.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}, client.CreateOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	return &env{reg: reg, z: z}
}

// create stores obj with the in-process client (no user: all-powerful)
// and waits until the authorizer's caches hold it.
func (e *env) create(tb testing.TB, objs ...api.Object) {
	tb.Helper()
	for _, obj := range objs {
		if err := e.reg.Create(context.Background(), obj, client.CreateOptions{}); err != nil {
			tb.Fatalf("create %s: %v", obj.GetName(), err)
		}
		if err := e.z.WaitFor(context.Background(), obj); err != nil {
			tb.Fatal(err)
		}
	}
}

func roleBinding(ns, name string, ref api.RoleRef, subjects ...api.Subject) *api.RoleBinding {
	return &api.RoleBinding{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name}, RoleRef: ref, Subjects: subjects}
}

func user(name string) api.Subject  { return api.Subject{Kind: api.UserKind, Name: name} }
func group(name string) api.Subject { return api.Subject{Kind: api.GroupKind, Name: name} }
func clusterRole(name string) api.RoleRef {
	return api.RoleRef{Kind: "ClusterRole", Name: name}
}

func clientCreate() client.CreateOptions { return client.CreateOptions{} }
