package rbac

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
)

// Escalation is the admission plugin of escalation prevention, Kubernetes'
// rule that nobody grants a permission they do not hold:
//
//   - creating or updating a Role or ClusterRole needs every permission
//     its rules grant (in the Role's namespace; cluster-wide for a
//     ClusterRole), or the verb escalate on roles (clusterroles);
//   - creating or updating a RoleBinding or ClusterRoleBinding needs every
//     permission of the role it refers to, or the verb bind on that role.
//
// It judges the user the API server put in the write's context
// (apiserver.UserFrom); a write without one is the embedding program's
// own (the in-process Client, the controllers) and passes, and so do
// members of the Authorizer's super groups. Safe for concurrent use.
type Escalation struct {
	// Authorizer resolves the requester's rules. Set it before the
	// registry serves writes; while nil, every write of a role or binding
	// by an API user is refused (fail closed).
	Authorizer *Authorizer
}

// Name implements admission.Plugin.
func (*Escalation) Name() string { return "RBACEscalation" }

// Handles implements admission.Plugin: creates and updates.
func (*Escalation) Handles(op admission.Operation) bool {
	return op == admission.Create || op == admission.Update
}

// Validate implements admission.Validator.
//
// Errors: Forbidden in Kubernetes' words (`user "alice" (groups=[...]) is
// attempting to grant RBAC permissions not currently held:` and the
// missing rules, one a line); Forbidden when a binding's role does not
// exist and the requester lacks bind; InternalError while Authorizer is
// unset; ctx.Err() while the caches sync.
func (e *Escalation) Validate(ctx context.Context, a *admission.Attributes) error {
	if a.Subresource != "" || a.Kind.APIVersion != api.RbacV1 {
		return nil
	}
	u, ok := apiserver.UserFrom(ctx)
	if !ok {
		return nil
	}
	z := e.Authorizer
	if z == nil {
		return api.NewInternalError(errors.New("rbac: escalation check has no authorizer"))
	}
	if z.superuser(u) {
		return nil
	}
	switch obj := a.Object.(type) {
	case *api.Role:
		if old, ok := a.OldObject.(*api.Role); ok && rulesEqual(old.Rules, obj.Rules) {
			return nil
		}
		return z.confirmRole(ctx, u, a.Kind, obj.Namespace, obj.Name, "roles", obj.Rules)
	case *api.ClusterRole:
		if old, ok := a.OldObject.(*api.ClusterRole); ok && rulesEqual(old.Rules, obj.Rules) {
			return nil
		}
		return z.confirmRole(ctx, u, a.Kind, "", obj.Name, "clusterroles", obj.Rules)
	case *api.RoleBinding:
		if old, ok := a.OldObject.(*api.RoleBinding); ok && subjectsEqual(old.Subjects, obj.Subjects) && old.RoleRef == obj.RoleRef {
			return nil
		}
		return z.confirmBinding(ctx, u, a.Kind, obj.Namespace, obj.Name, obj.RoleRef)
	case *api.ClusterRoleBinding:
		if old, ok := a.OldObject.(*api.ClusterRoleBinding); ok && subjectsEqual(old.Subjects, obj.Subjects) && old.RoleRef == obj.RoleRef {
			return nil
		}
		return z.confirmBinding(ctx, u, a.Kind, "", obj.Name, obj.RoleRef)
	}
	return nil
}

func (z *Authorizer) confirmRole(ctx context.Context, u apiserver.User, info api.KindInfo, ns, name, resource string, rules []api.PolicyRule) error {
	if z.Authorize(ctx, apiserver.Attributes{User: u, Verb: "escalate", Namespace: ns, APIGroup: api.RbacGroupName,
		APIVersion: "v1", Resource: resource, Name: name, ResourceRequest: true}) == nil {
		return nil
	}
	return z.confirmNoEscalation(ctx, u, info, ns, name, rules)
}

func (z *Authorizer) confirmBinding(ctx context.Context, u apiserver.User, info api.KindInfo, ns, name string, ref api.RoleRef) error {
	resource, roleNS := "clusterroles", ""
	if ref.Kind == "Role" {
		resource, roleNS = "roles", ns
	}
	if z.Authorize(ctx, apiserver.Attributes{User: u, Verb: "bind", Namespace: roleNS, APIGroup: api.RbacGroupName,
		APIVersion: "v1", Resource: resource, Name: ref.Name, ResourceRequest: true}) == nil {
		return nil
	}
	rules, err := z.roleRefRules(ctx, ref, ns)
	if api.IsNotFound(err) {
		return api.NewForbidden(info.GroupResource(), name, err)
	}
	if err != nil {
		return err
	}
	return z.confirmNoEscalation(ctx, u, info, ns, name, rules)
}

// confirmNoEscalation refuses unless u holds every permission of rules in
// ns.
func (z *Authorizer) confirmNoEscalation(ctx context.Context, u apiserver.User, info api.KindInfo, ns, name string, rules []api.PolicyRule) error {
	owned, err := z.RulesFor(ctx, u, ns)
	if err != nil {
		return err
	}
	ok, missing := Covers(owned, rules)
	if ok {
		return nil
	}
	lines := make([]string, len(missing))
	for i, r := range missing {
		lines[i] = CompactString(r)
	}
	return api.NewForbidden(info.GroupResource(), name, fmt.Errorf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s",
		u.Name, u.Groups, strings.Join(lines, "\n")))
}
