package orchestrator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// TestClientAs: a user's Client is refused until a binding lets it in,
// then may do what its role allows and nothing more, cannot escalate, and
// the cluster's own Client stays all-powerful.
func TestClientAs(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 1)
	ctx := context.Background()
	admin := tc.Client()
	if err := admin.Create(ctx, &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: "dev"}}); err != nil {
		t.Fatal(err)
	}
	alice := tc.Node(0).ClientAs("alice", "devs")
	cm := func(name string) *orchestrator.ConfigMap {
		return &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Namespace: "dev", Name: name}, Data: map[string]string{"k": "v"}}
	}
	var cms orchestrator.ConfigMapList
	err := alice.List(ctx, &cms, orchestrator.InNamespace("dev"))
	want := `configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "dev"`
	// Right after start, the bootstrap roles may still be on their way to
	// the RBAC cache: Kubernetes then appends ": RBAC: ... not found".
	if !orchestrator.IsForbidden(err) || (err.Error() != want && !strings.HasPrefix(err.Error(), want+": RBAC: ")) {
		t.Fatalf("before a binding: %v\nwant %s", err, want)
	}
	if err := admin.Create(ctx, &orchestrator.RoleBinding{ObjectMeta: orchestrator.ObjectMeta{Namespace: "dev", Name: "devs-edit"},
		RoleRef:  orchestrator.RoleRef{Kind: "ClusterRole", Name: "edit"},
		Subjects: []orchestrator.Subject{{Kind: "Group", Name: "devs"}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice's binding", func() bool { return alice.Create(ctx, cm("first")) == nil })
	if err := alice.List(ctx, &cms, orchestrator.InNamespace("dev")); err != nil || len(cms.Items) != 1 {
		t.Errorf("list: %d items, %v", len(cms.Items), err)
	}
	var got orchestrator.ConfigMap
	if err := alice.Get(ctx, orchestrator.ObjectKey{Namespace: "dev", Name: "first"}, &got); err != nil {
		t.Errorf("get: %v", err)
	}
	got.Data["k"] = "w"
	if err := alice.Update(ctx, &got); err != nil {
		t.Errorf("update: %v", err)
	}
	if err := alice.Delete(ctx, &got); err != nil {
		t.Errorf("delete: %v", err)
	}
	// Outside the namespace, cluster-scoped kinds and RBAC: refused.
	var nodes orchestrator.NodeList
	if err := alice.List(ctx, &nodes); !orchestrator.IsForbidden(err) {
		t.Errorf("list nodes: %v, want Forbidden", err)
	}
	if err := alice.Create(ctx, &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Namespace: "default", Name: "x"}}); !orchestrator.IsForbidden(err) {
		t.Errorf("create in default: %v, want Forbidden", err)
	}
	if err := alice.Create(ctx, &orchestrator.RoleBinding{ObjectMeta: orchestrator.ObjectMeta{Namespace: "dev", Name: "me-admin"},
		RoleRef: orchestrator.RoleRef{Kind: "ClusterRole", Name: "admin"}, Subjects: []orchestrator.Subject{{Kind: "User", Name: "alice"}}}); !orchestrator.IsForbidden(err) {
		t.Errorf("an edit user binding admin: %v, want Forbidden", err)
	}
	if _, err := alice.Watch(ctx, &orchestrator.PodList{}, orchestrator.InNamespace("default")); !orchestrator.IsForbidden(err) {
		t.Errorf("watch pods in default: %v, want Forbidden", err)
	}
	// Escalation: as namespace admin she may create a Role within her
	// permissions but not one reading nodes.
	if err := admin.Create(ctx, &orchestrator.RoleBinding{ObjectMeta: orchestrator.ObjectMeta{Namespace: "dev", Name: "alice-admin"},
		RoleRef: orchestrator.RoleRef{Kind: "ClusterRole", Name: "admin"}, Subjects: []orchestrator.Subject{{Kind: "User", Name: "alice"}}}); err != nil {
		t.Fatal(err)
	}
	role := func(name string, resources ...string) *orchestrator.RBACRole {
		return &orchestrator.RBACRole{ObjectMeta: orchestrator.ObjectMeta{Namespace: "dev", Name: name},
			Rules: []orchestrator.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: resources}}}
	}
	eventually(t, "alice's admin binding", func() bool { return alice.Create(ctx, role("pods", "pods")) == nil })
	err = alice.Create(ctx, role("nodes", "nodes"))
	if !orchestrator.IsForbidden(err) || !strings.Contains(err.Error(), "is attempting to grant RBAC permissions not currently held") {
		t.Errorf("role with nodes: %v, want the escalation refusal", err)
	}
	// The cluster's own Client is not subject to RBAC.
	if err := admin.Create(ctx, role("nodes", "nodes")); err != nil {
		t.Errorf("cluster Client: %v", err)
	}
}

// A Client acting for a user of the embedding program: refused until the
// program binds a role to the user.
func ExampleCluster_ClientAs() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := fake.New(fake.Config{NodeName: "solo"})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	cfg := orchestrator.TestConfig("solo")
	cfg.Runtime, cfg.BootstrapExpect = rt, 1
	cluster, err := orchestrator.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := cluster.Start(ctx); err != nil {
		panic(err)
	}
	defer cluster.Shutdown(context.Background())

	alice := cluster.ClientAs("alice")
	var pods orchestrator.PodList
	fmt.Println(alice.List(ctx, &pods, orchestrator.InNamespace("default")))

	// The program itself (Client) may grant her the built-in view role.
	err = cluster.Client().Create(ctx, &orchestrator.RoleBinding{
		ObjectMeta: orchestrator.ObjectMeta{Namespace: "default", Name: "alice-view"},
		RoleRef:    orchestrator.RoleRef{Kind: "ClusterRole", Name: "view"},
		Subjects:   []orchestrator.Subject{{Kind: "User", Name: "alice"}},
	})
	if err != nil {
		panic(err)
	}
	for alice.List(ctx, &pods, orchestrator.InNamespace("default")) != nil {
		time.Sleep(10 * time.Millisecond) // the binding reaches the node's RBAC cache
	}
	fmt.Println("alice lists", len(pods.Items), "pods")
	// Output:
	// pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"
	// alice lists 0 pods
}

func TestClientAsBeforeStart(t *testing.T) {
	cfg := orchestrator.TestConfig("idle")
	cfg.DisableAgent = true
	c, err := orchestrator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pods orchestrator.PodList
	if err := c.ClientAs("alice").List(context.Background(), &pods); !orchestrator.IsServiceUnavailable(err) {
		t.Errorf("before Start: %v, want ServiceUnavailable", err)
	}
	_ = c.Shutdown(context.Background())
}
