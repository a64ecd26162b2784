package strategy

import (
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestValidateRoles(t *testing.T) {
	podRule := api.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	cases := []struct {
		name string
		obj  api.Object
		want string // "" for valid; else a substring of the error
	}{
		{"role", &api.Role{ObjectMeta: api.ObjectMeta{Name: "r", Namespace: "dev"}, Rules: []api.PolicyRule{podRule}}, ""},
		{"role with colon in name", &api.Role{ObjectMeta: api.ObjectMeta{Name: "system:r", Namespace: "dev"}}, ""},
		{"role name with slash", &api.Role{ObjectMeta: api.ObjectMeta{Name: "a/b", Namespace: "dev"}}, "metadata.name: Invalid value: \"a/b\": may not contain '/'"},
		{"role without namespace", &api.Role{ObjectMeta: api.ObjectMeta{Name: "r"}}, "metadata.namespace: Required value"},
		{"no verbs", &api.Role{ObjectMeta: api.ObjectMeta{Name: "r", Namespace: "dev"},
			Rules: []api.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}}}},
			"rules[0].verbs: Required value: verbs must contain at least one value"},
		{"no apiGroups", &api.Role{ObjectMeta: api.ObjectMeta{Name: "r", Namespace: "dev"},
			Rules: []api.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}}},
			"rules[0].apiGroups: Required value: resource rules must supply at least one api group"},
		{"no resources", &api.Role{ObjectMeta: api.ObjectMeta{Name: "r", Namespace: "dev"},
			Rules: []api.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}}}},
			"rules[0].resources: Required value: resource rules must supply at least one resource"},
		{"nonResourceURLs in a Role", &api.Role{ObjectMeta: api.ObjectMeta{Name: "r", Namespace: "dev"},
			Rules: []api.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}}},
			"rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs"},
		{"clusterrole nonResourceURLs", &api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "c"},
			Rules: []api.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/api/*"}}}}, ""},
		{"clusterrole both kinds in a rule", &api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "c"},
			Rules: []api.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}, NonResourceURLs: []string{"/healthz"}}}},
			"rules cannot apply to both regular resources and non-resource URLs"},
		{"clusterrole aggregationRule", &api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "c"},
			AggregationRule: &api.AggregationRule{}}, "aggregationRule: Forbidden: not supported yet"},
		{"clusterrole with namespace", &api.ClusterRole{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "dev"}}, "metadata.namespace: Forbidden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := defaultAndValidate(c.obj)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("valid object refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestValidateBindings(t *testing.T) {
	ref := api.RoleRef{Kind: "Role", Name: "r"}
	cases := []struct {
		name string
		obj  api.Object
		want string
	}{
		{"rolebinding defaults apiGroups", &api.RoleBinding{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "dev"}, RoleRef: ref,
			Subjects: []api.Subject{{Kind: "User", Name: "alice"}, {Kind: "Group", Name: "devs"}, {Kind: "ServiceAccount", Name: "default", Namespace: "dev"}}}, ""},
		{"rolebinding SA without namespace", &api.RoleBinding{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "dev"}, RoleRef: ref,
			Subjects: []api.Subject{{Kind: "ServiceAccount", Name: "default"}}}, ""},
		{"clusterrolebinding SA without namespace", &api.ClusterRoleBinding{ObjectMeta: api.ObjectMeta{Name: "b"},
			RoleRef: api.RoleRef{Kind: "ClusterRole", Name: "view"}, Subjects: []api.Subject{{Kind: "ServiceAccount", Name: "default"}}},
			"subjects[0].namespace: Required value"},
		{"clusterrolebinding to a Role", &api.ClusterRoleBinding{ObjectMeta: api.ObjectMeta{Name: "b"}, RoleRef: ref},
			`roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`},
		{"unknown subject kind", &api.RoleBinding{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "dev"}, RoleRef: ref,
			Subjects: []api.Subject{{Kind: "Robot", Name: "r2"}}}, `subjects[0].kind: Unsupported value: "Robot"`},
		{"subject without name", &api.RoleBinding{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "dev"}, RoleRef: ref,
			Subjects: []api.Subject{{Kind: "User"}}}, "subjects[0].name: Required value"},
		{"user of another apiGroup", &api.RoleBinding{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "dev"}, RoleRef: ref,
			Subjects: []api.Subject{{Kind: "User", Name: "a", APIGroup: "example.com"}}}, `subjects[0].apiGroup: Unsupported value: "example.com"`},
		{"roleRef without name", &api.RoleBinding{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "dev"}, RoleRef: api.RoleRef{Kind: "Role"}},
			"roleRef.name: Required value"},
		{"roleRef of another group", &api.RoleBinding{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "dev"},
			RoleRef: api.RoleRef{APIGroup: "x", Kind: "Role", Name: "r"}}, `roleRef.apiGroup: Unsupported value: "x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := defaultAndValidate(c.obj)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("valid object refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	b := &api.RoleBinding{ObjectMeta: api.ObjectMeta{Name: "b", Namespace: "dev"}, RoleRef: ref,
		Subjects: []api.Subject{{Kind: "User", Name: "alice"}}}
	defaultObject(b)
	if b.RoleRef.APIGroup != api.RbacGroupName || b.Subjects[0].APIGroup != api.RbacGroupName {
		t.Errorf("defaults: roleRef %+v, subject %+v; want apiGroup %s", b.RoleRef, b.Subjects[0], api.RbacGroupName)
	}
	changed := api.Clone(*b)
	changed.RoleRef.Name = "other"
	err := validateUpdate(b, &changed)
	if err == nil || !strings.Contains(err.Error(), "roleRef: Invalid value") || !strings.Contains(err.Error(), "cannot change roleRef") {
		t.Errorf("roleRef change: %v, want Invalid cannot change roleRef", err)
	}
	subjects := api.Clone(*b)
	subjects.Subjects = append(subjects.Subjects, api.Subject{Kind: "Group", Name: "g", APIGroup: api.RbacGroupName})
	if err := validateUpdate(b, &subjects); err != nil {
		t.Errorf("subjects change refused: %v", err)
	}
}
