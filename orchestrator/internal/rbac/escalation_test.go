package rbac_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/rbac"
)

// TestEscalationPrevention: a namespace admin may grant what they hold
// and nothing more; bind and escalate lift the check; the in-process
// client (no user) and system:masters are not checked.
func TestEscalationPrevention(t *testing.T) {
	e := newEnv(t)
	e.create(t,
		roleBinding("dev", "alice-admin", clusterRole("admin"), user("alice")),
		&api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "node-reader"}, Rules: []api.PolicyRule{
			{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes"}}}},
	)
	alice := apiserver.WithUser(context.Background(), apiserver.User{Name: "alice", Groups: []string{"system:authenticated"}})
	podReader := []api.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}

	// Within what admin holds: allowed.
	if err := e.reg.Create(alice, &api.Role{ObjectMeta: api.ObjectMeta{Namespace: "dev", Name: "pod-reader"}, Rules: podReader}, client.CreateOptions{}); err != nil {
		t.Fatalf("role within her permissions: %v", err)
	}
	if err := e.reg.Create(alice, roleBinding("dev", "bob-reads", api.RoleRef{Kind: "Role", Name: "pod-reader"}, user("bob")), client.CreateOptions{}); err != nil {
		t.Fatalf("binding of a role within her permissions: %v", err)
	}
	if err := e.reg.Create(alice, roleBinding("dev", "bob-edits", clusterRole("edit"), user("bob")), client.CreateOptions{}); err != nil {
		t.Fatalf("binding edit, which admin covers: %v", err)
	}

	// Beyond it: refused with Kubernetes' message.
	nodes := &api.Role{ObjectMeta: api.ObjectMeta{Namespace: "dev", Name: "escalated"}, Rules: []api.PolicyRule{
		{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods", "nodes"}}}}
	err := e.reg.Create(alice, nodes, client.CreateOptions{})
	want := `roles.rbac.authorization.k8s.io "escalated" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}
{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}`
	if !api.IsForbidden(err) || err.Error() != want {
		t.Errorf("role beyond her permissions: %v\nwant %s", err, want)
	}
	for _, b := range []*api.RoleBinding{
		roleBinding("dev", "bob-admin-of-nodes", clusterRole("node-reader"), user("bob")),
		roleBinding("dev", "bob-cluster-admin", clusterRole("cluster-admin"), user("bob")),
	} {
		err := e.reg.Create(alice, b, client.CreateOptions{})
		if !api.IsForbidden(err) || !strings.Contains(err.Error(), "is attempting to grant RBAC permissions not currently held") {
			t.Errorf("binding %s: %v, want Forbidden escalation", b.Name, err)
		}
	}
	// Updating her own role to more than she holds is refused too.
	var pr api.Role
	if err := e.reg.Get(context.Background(), "dev", "pod-reader", &pr, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	pr.Rules = append(pr.Rules, api.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}})
	if err := e.reg.Update(alice, &pr, client.UpdateOptions{}); !api.IsForbidden(err) {
		t.Errorf("update to a wildcard role: %v, want Forbidden", err)
	}
	// A ClusterRole she cannot create anyway, but the check is there for
	// users who may write clusterroles.
	e.create(t,
		&api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "rbac-writer"}, Rules: []api.PolicyRule{
			{Verbs: []string{"create", "update"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "clusterrolebindings"}}}},
		&api.ClusterRoleBinding{ObjectMeta: api.ObjectMeta{Name: "carol-rbac"}, RoleRef: clusterRole("rbac-writer"), Subjects: []api.Subject{user("carol")}},
	)
	carol := apiserver.WithUser(context.Background(), apiserver.User{Name: "carol", Groups: []string{"system:authenticated"}})
	err = e.reg.Create(carol, &api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "secrets"}, Rules: []api.PolicyRule{
		{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}}, client.CreateOptions{})
	if !api.IsForbidden(err) {
		t.Errorf("carol's secret-reading clusterrole: %v, want Forbidden", err)
	}
	// Granting escalate and bind lifts the checks.
	e.create(t,
		&api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "escalator"}, Rules: []api.PolicyRule{
			{Verbs: []string{"escalate", "bind"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}}}},
		&api.ClusterRoleBinding{ObjectMeta: api.ObjectMeta{Name: "carol-escalates"}, RoleRef: clusterRole("escalator"), Subjects: []api.Subject{user("carol")}},
	)
	if err := e.reg.Create(carol, &api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "secrets"}, Rules: []api.PolicyRule{
		{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}}, client.CreateOptions{}); err != nil {
		t.Errorf("with escalate: %v", err)
	}
	if err := e.reg.Create(carol, &api.ClusterRoleBinding{ObjectMeta: api.ObjectMeta{Name: "dave-admin"}, RoleRef: clusterRole("cluster-admin"),
		Subjects: []api.Subject{user("dave")}}, client.CreateOptions{}); err != nil {
		t.Errorf("with bind: %v", err)
	}

	// The in-process client and system:masters are not checked.
	if err := e.reg.Create(context.Background(), &api.ClusterRoleBinding{ObjectMeta: api.ObjectMeta{Name: "own"}, RoleRef: clusterRole("cluster-admin"),
		Subjects: []api.Subject{user("x")}}, client.CreateOptions{}); err != nil {
		t.Errorf("in-process: %v", err)
	}
	root := apiserver.WithUser(context.Background(), apiserver.User{Name: "root", Groups: []string{rbac.GroupMasters}})
	if err := e.reg.Create(root, &api.ClusterRoleBinding{ObjectMeta: api.ObjectMeta{Name: "root-made"}, RoleRef: clusterRole("cluster-admin"),
		Subjects: []api.Subject{user("y")}}, client.CreateOptions{}); err != nil {
		t.Errorf("system:masters: %v", err)
	}
}

func TestCovers(t *testing.T) {
	r := func(verbs, groups, resources, names []string) api.PolicyRule {
		return api.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
	}
	s := func(v ...string) []string { return v }
	cases := []struct {
		name           string
		owner, servant []api.PolicyRule
		want           bool
	}{
		{"star covers all", []api.PolicyRule{r(s("*"), s("*"), s("*"), nil)}, []api.PolicyRule{r(s("get"), s("apps"), s("deployments/scale"), nil)}, true},
		{"split verbs across rules", []api.PolicyRule{r(s("get"), s(""), s("pods"), nil), r(s("list"), s(""), s("pods"), nil)},
			[]api.PolicyRule{r(s("get", "list"), s(""), s("pods"), nil)}, true},
		{"subresource not covered by resource", []api.PolicyRule{r(s("get"), s(""), s("pods"), nil)}, []api.PolicyRule{r(s("get"), s(""), s("pods/log"), nil)}, false},
		{"*/status covers pods/status", []api.PolicyRule{r(s("get"), s(""), s("*/status"), nil)}, []api.PolicyRule{r(s("get"), s(""), s("pods/status"), nil)}, true},
		{"names narrow", []api.PolicyRule{r(s("get"), s(""), s("pods"), s("a"))}, []api.PolicyRule{r(s("get"), s(""), s("pods"), nil)}, false},
		{"names within", []api.PolicyRule{r(s("get"), s(""), s("pods"), s("a", "b"))}, []api.PolicyRule{r(s("get"), s(""), s("pods"), s("b"))}, true},
		{"url prefix", []api.PolicyRule{{Verbs: s("get"), NonResourceURLs: s("/api/*")}}, []api.PolicyRule{{Verbs: s("get"), NonResourceURLs: s("/api/v1")}}, true},
		{"url other", []api.PolicyRule{{Verbs: s("get"), NonResourceURLs: s("/api/*")}}, []api.PolicyRule{{Verbs: s("get"), NonResourceURLs: s("/metrics")}}, false},
	}
	for _, c := range cases {
		if got, missing := rbac.Covers(c.owner, c.servant); got != c.want {
			t.Errorf("%s: Covers %v (missing %v), want %v", c.name, got, missing, c.want)
		}
	}
}

// TestBootstrapIdempotent: a second run changes nothing; a built-in role
// changed by hand comes back while autoupdate is "true" and stays changed
// once it is "false".
func TestBootstrapIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var view api.ClusterRole
	if err := e.reg.Get(ctx, "", "view", &view, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	rv := view.ResourceVersion
	if err := rbac.EnsureBootstrapPolicy(ctx, e.reg); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.Get(ctx, "", "view", &view, client.GetOptions{}); err != nil || view.ResourceVersion != rv {
		t.Fatalf("second run rewrote view: rv %s -> %s (%v)", rv, view.ResourceVersion, err)
	}
	view.Rules = view.Rules[:1]
	if err := e.reg.Update(ctx, &view, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := rbac.EnsureBootstrapPolicy(ctx, e.reg); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.Get(ctx, "", "view", &view, client.GetOptions{}); err != nil || len(view.Rules) < 2 {
		t.Fatalf("view not restored: %d rules (%v)", len(view.Rules), err)
	}
	view.Rules = view.Rules[:1]
	view.Annotations[api.AutoUpdateAnnotation] = "false"
	if err := e.reg.Update(ctx, &view, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := rbac.EnsureBootstrapPolicy(ctx, e.reg); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.Get(ctx, "", "view", &view, client.GetOptions{}); err != nil || len(view.Rules) != 1 {
		t.Fatalf("view with autoupdate false was changed: %d rules (%v)", len(view.Rules), err)
	}
}
