package rbac_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

// Levels of the built-in roles, in order of what they grant.
const (
	none = iota
	view
	edit
	admin
	never // no built-in namespace role grants it
)

var (
	authed  = []string{"system:authenticated"}
	allVerb = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// TestAuthorizationMatrix checks every verb on the resources Flotilla
// serves against the built-in roles admin, edit and view bound in
// namespace dev, in dev and in prod, with Kubernetes' meaning of each.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	e.create(t,
		roleBinding("dev", "alice-admin", clusterRole("admin"), user("alice")),
		roleBinding("dev", "eve-edit", clusterRole("edit"), user("eve")),
		roleBinding("dev", "viewers", clusterRole("view"), group("viewers")),
	)
	users := map[int]apiserver.User{
		none:  {Name: "nobody", Groups: authed},
		view:  {Name: "vic", Groups: []string{"viewers", "system:authenticated"}},
		edit:  {Name: "eve", Groups: authed},
		admin: {Name: "alice", Groups: authed},
	}
	type res struct {
		group, resource, sub string
		read, write          int // the least role that may read (get, list, watch) and write
	}
	resources := []res{
		{"", "pods", "", view, edit},
		{"", "pods", "log", view, never},
		{"", "pods", "status", view, never},
		{"", "configmaps", "", view, edit},
		{"", "secrets", "", edit, edit},
		{"", "events", "", view, edit},
		{"", "resourcequotas", "", view, never},
		{"apps", "deployments", "", view, edit},
		{"apps", "deployments", "scale", view, edit},
		{"apps", "deployments", "status", view, never},
		{"apps", "replicasets", "", view, edit},
		{"apps", "daemonsets", "", view, edit},
		{"batch", "jobs", "", view, edit},
		{"rbac.authorization.k8s.io", "roles", "", admin, admin},
		{"rbac.authorization.k8s.io", "rolebindings", "", admin, admin},
		{"rbac.authorization.k8s.io", "clusterroles", "", never, never},
	}
	for _, r := range resources {
		for _, verb := range allVerb {
			need := r.write
			if verb == "get" || verb == "list" || verb == "watch" {
				need = r.read
			}
			for level, u := range users {
				for _, ns := range []string{"dev", "prod"} {
					a := apiserver.Attributes{User: u, Verb: verb, Namespace: ns, APIGroup: r.group, APIVersion: "v1",
						Resource: r.resource, Subresource: r.sub, Name: "x", ResourceRequest: true}
					want := ns == "dev" && level >= need && need != never
					err := e.z.Authorize(context.Background(), a)
					if (err == nil) != want {
						t.Errorf("%s %s %s/%s in %s: err %v, want allowed %v", u.Name, verb, r.resource, r.sub, ns, err, want)
					}
					if err != nil && !api.IsForbidden(err) {
						t.Errorf("%s %s %s: error %v is not Forbidden", u.Name, verb, r.resource, err)
					}
				}
			}
		}
	}
	// system:masters may do everything, anywhere, with no binding needed.
	root := apiserver.User{Name: "root", Groups: []string{"system:masters"}}
	for _, a := range []apiserver.Attributes{
		{User: root, Verb: "delete", Resource: "nodes", Name: "n1", ResourceRequest: true},
		{User: root, Verb: "escalate", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles", ResourceRequest: true},
		{User: root, Verb: "post", Path: "/anything"},
	} {
		if err := e.z.Authorize(context.Background(), a); err != nil {
			t.Errorf("system:masters %s %s: %v", a.Verb, a.Resource+a.Path, err)
		}
	}
}

func TestForbiddenWording(t *testing.T) {
	e := newEnv(t)
	alice := apiserver.User{Name: "alice", Groups: authed}
	err := e.z.Authorize(context.Background(), apiserver.Attributes{User: alice, Verb: "list", Namespace: "dev",
		APIVersion: "v1", Resource: "pods", ResourceRequest: true})
	want := `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "dev"`
	if !api.IsForbidden(err) || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	err = e.z.Authorize(context.Background(), apiserver.Attributes{User: alice, Verb: "get", APIGroup: "apps", APIVersion: "v1",
		Resource: "deployments", Namespace: "prod", Name: "web", ResourceRequest: true})
	want = `deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments" in API group "apps" in the namespace "prod"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	err = e.z.Authorize(context.Background(), apiserver.Attributes{User: alice, Verb: "get", Path: "/metrics"})
	want = `forbidden: User "alice" cannot get path "/metrics"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	// A binding of a role that does not exist says so.
	e.create(t, roleBinding("dev", "dangling", api.RoleRef{Kind: "Role", Name: "gone"}, user("alice")))
	err = e.z.Authorize(context.Background(), apiserver.Attributes{User: alice, Verb: "list", Namespace: "dev",
		APIVersion: "v1", Resource: "pods", ResourceRequest: true})
	if err == nil || !strings.HasSuffix(err.Error(), `: RBAC: role.rbac.authorization.k8s.io "gone" not found`) {
		t.Errorf("dangling binding: %v", err)
	}
}

// TestSubjectsAndRules covers what the matrix does not: ServiceAccounts
// (named in a binding with and without a namespace, and by group),
// resourceNames, subresource wildcards, non-resource URLs, Role vs
// ClusterRole references, and additivity.
func TestSubjectsAndRules(t *testing.T) {
	e := newEnv(t)
	e.create(t,
		&api.Role{ObjectMeta: api.ObjectMeta{Namespace: "dev", Name: "one-cm"}, Rules: []api.PolicyRule{
			{Verbs: []string{"get", "update"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"settings"}}}},
		&api.Role{ObjectMeta: api.ObjectMeta{Namespace: "dev", Name: "statuses"}, Rules: []api.PolicyRule{
			{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*/status"}}}},
		&api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "metrics"}, Rules: []api.PolicyRule{
			{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics", "/debug/*"}}}},
		roleBinding("dev", "sa-cm", api.RoleRef{Kind: "Role", Name: "one-cm"}, api.Subject{Kind: "ServiceAccount", Name: "builder"}),
		roleBinding("dev", "sa-status", api.RoleRef{Kind: "Role", Name: "statuses"},
			api.Subject{Kind: "ServiceAccount", Name: "builder", Namespace: "dev"}),
		roleBinding("prod", "all-sas-view", clusterRole("view"), group("system:serviceaccounts:dev")),
		&api.ClusterRoleBinding{ObjectMeta: api.ObjectMeta{Name: "metrics"}, RoleRef: clusterRole("metrics"), Subjects: []api.Subject{user("prom")}},
	)
	sa := apiserver.User{Name: "system:serviceaccount:dev:builder",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:dev", "system:authenticated"}}
	other := apiserver.User{Name: "system:serviceaccount:other:builder",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:other", "system:authenticated"}}
	prom := apiserver.User{Name: "prom", Groups: authed}
	res := func(u apiserver.User, verb, ns, group, resource, sub, name string) apiserver.Attributes {
		return apiserver.Attributes{User: u, Verb: verb, Namespace: ns, APIGroup: group, APIVersion: "v1",
			Resource: resource, Subresource: sub, Name: name, ResourceRequest: true}
	}
	path := func(u apiserver.User, verb, p string) apiserver.Attributes {
		return apiserver.Attributes{User: u, Verb: verb, Path: p}
	}
	cases := []struct {
		a    apiserver.Attributes
		want bool
	}{
		{res(sa, "get", "dev", "", "configmaps", "", "settings"), true},
		{res(sa, "update", "dev", "", "configmaps", "", "settings"), true},
		{res(sa, "get", "dev", "", "configmaps", "", "other"), false},
		{res(sa, "list", "dev", "", "configmaps", "", ""), false}, // resourceNames never match a list
		{res(sa, "delete", "dev", "", "configmaps", "", "settings"), false},
		{res(sa, "update", "dev", "", "pods", "status", "p"), true},
		{res(sa, "patch", "dev", "apps", "deployments", "status", "d"), true},
		{res(sa, "update", "dev", "", "pods", "", "p"), false},
		{res(sa, "update", "dev", "", "pods", "log", "p"), false},
		{res(sa, "list", "prod", "", "pods", "", ""), true}, // by group
		{res(sa, "list", "prod", "", "secrets", "", ""), false},
		{res(other, "get", "dev", "", "configmaps", "", "settings"), false},
		{res(other, "list", "prod", "", "pods", "", ""), false},
		{path(prom, "get", "/metrics"), true},
		{path(prom, "get", "/debug/pprof/heap"), true},
		{path(prom, "get", "/debug"), false},
		{path(prom, "post", "/metrics"), false},
		{path(sa, "get", "/metrics"), false},
		{path(sa, "get", "/version"), true}, // system:discovery, for every authenticated user
		{path(sa, "get", "/apis/apps/v1"), true},
		{res(sa, "create", "", "authorization.k8s.io", "selfsubjectaccessreviews", "", ""), true},
		{res(sa, "create", "", "authentication.k8s.io", "selfsubjectreviews", "", ""), true},
		{res(prom, "get", "", "", "nodes", "", "n1"), false},
	}
	for _, c := range cases {
		err := e.z.Authorize(context.Background(), c.a)
		if (err == nil) != c.want {
			t.Errorf("%s %s %s/%s %q in %q %s: err %v, want allowed %v", c.a.User.Name, c.a.Verb, c.a.Resource, c.a.Subresource,
				c.a.Name, c.a.Namespace, c.a.Path, err, c.want)
		}
	}
	// Rules are additive and a deletion takes them away again.
	e.create(t, roleBinding("dev", "sa-edit", clusterRole("edit"), group("system:serviceaccounts:dev")))
	if err := e.z.Authorize(context.Background(), res(sa, "delete", "dev", "", "configmaps", "", "settings")); err != nil {
		t.Errorf("after binding edit: %v", err)
	}
	rb := &api.RoleBinding{}
	if err := e.reg.Delete(context.Background(), "dev", "sa-edit", rb, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDenied(t, e, res(sa, "delete", "dev", "", "configmaps", "", "settings"))
}

func waitDenied(t *testing.T, e *env, a apiserver.Attributes) {
	t.Helper()
	var err error
	testutil.Eventually(t, 10*time.Second, fmt.Sprintf("%s %s denied", a.Verb, a.Resource), func() bool {
		err = e.z.Authorize(context.Background(), a)
		return api.IsForbidden(err)
	})
}
