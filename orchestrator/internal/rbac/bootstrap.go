package rbac

import (
	"context"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Groups every authenticated, or unauthenticated, user is in.
const (
	GroupAuthenticated   = "system:authenticated"
	GroupUnauthenticated = "system:unauthenticated"
)

// Verbs in the built-in roles, as Kubernetes' bootstrap policy names them.
var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "delete", "deletecollection", "patch", "update"}
	allVerbs   = append(append([]string{}, writeVerbs...), readVerbs...)
)

func rule(verbs []string, group string, resources ...string) api.PolicyRule {
	return api.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: resources}
}

func urls(verbs []string, paths ...string) api.PolicyRule {
	return api.PolicyRule{Verbs: verbs, NonResourceURLs: paths}
}

// viewRules is Kubernetes' view ClusterRole: read everything in a
// namespace but Secrets and RBAC.
func viewRules() []api.PolicyRule {
	return []api.PolicyRule{
		rule(readVerbs, "", "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
			"pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),
		rule(readVerbs, "", "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
			"replicationcontrollers/status", "resourcequotas", "resourcequotas/status"),
		rule(readVerbs, "", "namespaces"),
		rule(readVerbs, "discovery.k8s.io", "endpointslices"),
		rule(readVerbs, "apps", "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
			"deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale",
			"statefulsets/status"),
		rule(readVerbs, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		rule(readVerbs, "batch", "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
		rule(readVerbs, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
		rule(readVerbs, "networking.k8s.io", "ingresses", "ingresses/status", "networkpolicies"),
	}
}

// editRules is Kubernetes' edit ClusterRole: view, Secrets, and writes of
// the namespaced workload kinds; no RBAC, quotas or namespaces.
func editRules() []api.PolicyRule {
	return append([]api.PolicyRule{
		rule([]string{"impersonate"}, "", "serviceaccounts"),
		rule(allVerbs, "", "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"),
		rule([]string{"create"}, "", "pods/eviction"),
		rule(allVerbs, "", "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
			"replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"),
		rule([]string{"create"}, "", "serviceaccounts/token"),
		rule(allVerbs, "apps", "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
			"replicasets/scale", "statefulsets", "statefulsets/scale"),
		rule(allVerbs, "autoscaling", "horizontalpodautoscalers"),
		rule(allVerbs, "batch", "cronjobs", "jobs"),
		rule(allVerbs, "discovery.k8s.io", "endpointslices"),
		rule(allVerbs, "networking.k8s.io", "ingresses", "networkpolicies"),
		rule(allVerbs, "policy", "poddisruptionbudgets"),
		rule(readVerbs, "", "secrets"),
	}, viewRules()...)
}

// adminRules is Kubernetes' admin ClusterRole: edit, plus Roles and
// RoleBindings of the namespace and local access reviews.
func adminRules() []api.PolicyRule {
	return append([]api.PolicyRule{
		rule([]string{"create"}, "authorization.k8s.io", "localsubjectaccessreviews"),
		rule(allVerbs, api.RbacGroupName, "rolebindings", "roles"),
	}, editRules()...)
}

// BootstrapPolicy returns the built-in ClusterRoles and
// ClusterRoleBindings, Kubernetes' bootstrap policy for the API Flotilla
// serves, each annotated rbac.authorization.kubernetes.io/autoupdate:
// "true":
//
//   - cluster-admin: everything; bound to system:masters.
//   - admin, edit, view: Kubernetes' user-facing roles, meant for
//     RoleBindings in a namespace (admin: edit plus Roles and
//     RoleBindings; edit: writes of workloads, Secrets and ConfigMaps;
//     view: reads of all but Secrets and RBAC). Not bound.
//   - system:basic-user: SelfSubjectAccessReview, SelfSubjectRulesReview
//     and SelfSubjectReview (kubectl auth can-i and whoami); bound to
//     system:authenticated.
//   - system:discovery: the discovery and OpenAPI documents and /version;
//     bound to system:authenticated.
//   - system:public-info-viewer: /healthz, /livez, /readyz and /version;
//     bound to system:authenticated and system:unauthenticated.
//
// Flotilla's own components need no role: the controllers, the scheduler
// and the servers' agents use the server's in-process client, and server
// certificates (flotilla:servers) are a super group; agent-only nodes are
// confined by the node authorizer.
func BootstrapPolicy() ([]api.ClusterRole, []api.ClusterRoleBinding) {
	auto := func(name string) api.ObjectMeta {
		return api.ObjectMeta{Name: name, Annotations: map[string]string{api.AutoUpdateAnnotation: "true"},
			Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}}
	}
	role := func(name string, rules ...api.PolicyRule) api.ClusterRole {
		return api.ClusterRole{TypeMeta: api.TypeMeta{APIVersion: api.RbacV1, Kind: "ClusterRole"}, ObjectMeta: auto(name), Rules: rules}
	}
	bind := func(name string, groups ...string) api.ClusterRoleBinding {
		b := api.ClusterRoleBinding{TypeMeta: api.TypeMeta{APIVersion: api.RbacV1, Kind: "ClusterRoleBinding"}, ObjectMeta: auto(name),
			RoleRef: api.RoleRef{APIGroup: api.RbacGroupName, Kind: "ClusterRole", Name: name}}
		for _, g := range groups {
			b.Subjects = append(b.Subjects, api.Subject{Kind: api.GroupKind, APIGroup: api.RbacGroupName, Name: g})
		}
		return b
	}
	roles := []api.ClusterRole{
		role("cluster-admin",
			api.PolicyRule{Verbs: []string{api.VerbAll}, APIGroups: []string{api.APIGroupAll}, Resources: []string{api.ResourceAll}},
			urls([]string{api.VerbAll}, api.NonResourceAll)),
		role("admin", adminRules()...),
		role("edit", editRules()...),
		role("view", viewRules()...),
		role("system:basic-user",
			rule([]string{"create"}, "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rule([]string{"create"}, "authentication.k8s.io", "selfsubjectreviews")),
		role("system:discovery", urls([]string{"get"}, "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
			"/openapi", "/openapi/*", "/readyz", "/version", "/version/")),
		role("system:public-info-viewer", urls([]string{"get"}, "/healthz", "/livez", "/readyz", "/version", "/version/")),
	}
	bindings := []api.ClusterRoleBinding{
		bind("cluster-admin", GroupMasters),
		bind("system:basic-user", GroupAuthenticated),
		bind("system:discovery", GroupAuthenticated),
		bind("system:public-info-viewer", GroupAuthenticated, GroupUnauthenticated),
	}
	return roles, bindings
}

// EnsureBootstrapPolicy creates the roles and bindings of BootstrapPolicy
// that are missing, and brings back to the built-in rules and subjects
// those still annotated autoupdate "true" that differ (an administrator
// who wants to change one sets the annotation to "false" first, as in
// Kubernetes). It is idempotent; the leader runs it at the start of each
// term.
//
// Errors: the first failed read or write, naming the object.
func EnsureBootstrapPolicy(ctx context.Context, c client.Interface) error {
	roles, bindings := BootstrapPolicy()
	for i := range roles {
		if err := ensure(ctx, c, &roles[i], "ClusterRole",
			func(got, want *api.ClusterRole) bool {
				if rulesEqual(got.Rules, want.Rules) {
					return false
				}
				got.Rules = want.Rules
				return true
			}); err != nil {
			return err
		}
	}
	for i := range bindings {
		if err := ensure(ctx, c, &bindings[i], "ClusterRoleBinding",
			func(got, want *api.ClusterRoleBinding) bool {
				if subjectsEqual(got.Subjects, want.Subjects) {
					return false
				}
				got.Subjects = want.Subjects
				return true
			}); err != nil {
			return err
		}
	}
	return nil
}

// ensure creates the cluster-scoped want (of kind) when it is missing, and
// otherwise, when the stored object is still annotated autoupdate "true",
// lets fix bring it in line (fix reports whether it changed anything) and
// updates it.
func ensure[T any, PT interface {
	*T
	api.Object
}](ctx context.Context, c client.Interface, want PT, kind string, fix func(got, want PT) bool) error {
	got := PT(new(T))
	err := c.Get(ctx, "", want.GetName(), got, client.GetOptions{})
	switch {
	case api.IsNotFound(err):
		err = c.Create(ctx, want.DeepCopyObject(), client.CreateOptions{})
		if api.IsAlreadyExists(err) {
			err = nil
		}
	case err == nil && got.GetAnnotations()[api.AutoUpdateAnnotation] == "true" && fix(got, want):
		err = c.Update(ctx, got, client.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("rbac: bootstrap %s %s: %w", kind, want.GetName(), err)
	}
	return nil
}

func rulesEqual(a, b []api.PolicyRule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if CompactString(a[i]) != CompactString(b[i]) {
			return false
		}
	}
	return true
}

func subjectsEqual(a, b []api.Subject) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
