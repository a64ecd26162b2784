package strategy

import (
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// The rbac.authorization.k8s.io/v1 kinds: no status, Kubernetes'
// defaults (a subject's and a roleRef's apiGroup) and validation (rules
// with verbs; non-resource URLs only in ClusterRoles; subjects User,
// Group and ServiceAccount; a binding's roleRef immutable). Whether a
// requester may grant what a role or binding holds (escalation
// prevention) is decided on the API path by package rbac, which knows
// the requesting user.

type roleStrategy struct {
	noStatus
	deletedWhenUnheld
}

func (roleStrategy) NamespaceScoped() bool                    { return true }
func (roleStrategy) PrepareForCreate(api.Object)              {}
func (roleStrategy) PrepareForUpdate(api.Object, api.Object)  {}
func (roleStrategy) Default(api.Object)                       {}
func (roleStrategy) BumpsGeneration(obj, old api.Object) bool { return rulesChanged(obj, old) }

func (roleStrategy) Validate(obj api.Object) api.FieldErrorList {
	r := obj.(*api.Role)
	errs := ValidateObjectMeta(&r.ObjectMeta, true, isValidPathSegmentName, api.NewPath("metadata"))
	for i := range r.Rules {
		errs = append(errs, validatePolicyRule(&r.Rules[i], true, api.NewPath("rules").Index(i))...)
	}
	return errs
}

func (s roleStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
}

type clusterRoleStrategy struct {
	noStatus
	deletedWhenUnheld
}

func (clusterRoleStrategy) NamespaceScoped() bool                    { return false }
func (clusterRoleStrategy) PrepareForCreate(api.Object)              {}
func (clusterRoleStrategy) PrepareForUpdate(api.Object, api.Object)  {}
func (clusterRoleStrategy) Default(api.Object)                       {}
func (clusterRoleStrategy) BumpsGeneration(obj, old api.Object) bool { return rulesChanged(obj, old) }

func (clusterRoleStrategy) Validate(obj api.Object) api.FieldErrorList {
	r := obj.(*api.ClusterRole)
	errs := ValidateObjectMeta(&r.ObjectMeta, false, isValidPathSegmentName, api.NewPath("metadata"))
	for i := range r.Rules {
		errs = append(errs, validatePolicyRule(&r.Rules[i], false, api.NewPath("rules").Index(i))...)
	}
	if r.AggregationRule != nil {
		errs = append(errs, notSupported(api.NewPath("aggregationRule")))
	}
	return errs
}

func (s clusterRoleStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
}

type roleBindingStrategy struct {
	noStatus
	deletedWhenUnheld
}

func (roleBindingStrategy) NamespaceScoped() bool                   { return true }
func (roleBindingStrategy) PrepareForCreate(api.Object)             {}
func (roleBindingStrategy) PrepareForUpdate(api.Object, api.Object) {}

func (roleBindingStrategy) Default(obj api.Object) {
	b := obj.(*api.RoleBinding)
	defaultBinding(&b.RoleRef, b.Subjects)
}

func (roleBindingStrategy) Validate(obj api.Object) api.FieldErrorList {
	b := obj.(*api.RoleBinding)
	errs := ValidateObjectMeta(&b.ObjectMeta, true, isValidPathSegmentName, api.NewPath("metadata"))
	return append(errs, validateBinding(&b.RoleRef, b.Subjects, true)...)
}

func (s roleBindingStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	return append(errs, validateRoleRefUpdate(obj.(*api.RoleBinding).RoleRef, old.(*api.RoleBinding).RoleRef)...)
}

func (roleBindingStrategy) BumpsGeneration(obj, old api.Object) bool {
	n, o := obj.(*api.RoleBinding), old.(*api.RoleBinding)
	return !semanticEqual(n.Subjects, o.Subjects) || n.RoleRef != o.RoleRef
}

type clusterRoleBindingStrategy struct {
	noStatus
	deletedWhenUnheld
}

func (clusterRoleBindingStrategy) NamespaceScoped() bool                   { return false }
func (clusterRoleBindingStrategy) PrepareForCreate(api.Object)             {}
func (clusterRoleBindingStrategy) PrepareForUpdate(api.Object, api.Object) {}

func (clusterRoleBindingStrategy) Default(obj api.Object) {
	b := obj.(*api.ClusterRoleBinding)
	defaultBinding(&b.RoleRef, b.Subjects)
}

func (clusterRoleBindingStrategy) Validate(obj api.Object) api.FieldErrorList {
	b := obj.(*api.ClusterRoleBinding)
	errs := ValidateObjectMeta(&b.ObjectMeta, false, isValidPathSegmentName, api.NewPath("metadata"))
	return append(errs, validateBinding(&b.RoleRef, b.Subjects, false)...)
}

func (s clusterRoleBindingStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	return append(errs, validateRoleRefUpdate(obj.(*api.ClusterRoleBinding).RoleRef, old.(*api.ClusterRoleBinding).RoleRef)...)
}

func (clusterRoleBindingStrategy) BumpsGeneration(obj, old api.Object) bool {
	n, o := obj.(*api.ClusterRoleBinding), old.(*api.ClusterRoleBinding)
	return !semanticEqual(n.Subjects, o.Subjects) || n.RoleRef != o.RoleRef
}

func rulesChanged(obj, old api.Object) bool {
	switch n := obj.(type) {
	case *api.Role:
		return !semanticEqual(n.Rules, old.(*api.Role).Rules)
	case *api.ClusterRole:
		o := old.(*api.ClusterRole)
		return !semanticEqual(n.Rules, o.Rules) || !semanticEqual(n.AggregationRule, o.AggregationRule)
	}
	return false
}

// defaultBinding sets Kubernetes' v1 defaults: the roleRef's apiGroup
// and the apiGroup of User and Group subjects.
func defaultBinding(ref *api.RoleRef, subjects []api.Subject) {
	if ref.APIGroup == "" {
		ref.APIGroup = api.RbacGroupName
	}
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup == "" && (s.Kind == api.UserKind || s.Kind == api.GroupKind) {
			s.APIGroup = api.RbacGroupName
		}
	}
}

// validatePolicyRule is Kubernetes' ValidatePolicyRule.
func validatePolicyRule(r *api.PolicyRule, namespaced bool, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if len(r.Verbs) == 0 {
		errs = append(errs, api.Required(p.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(r.NonResourceURLs) > 0 {
		if namespaced {
			errs = append(errs, api.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
			errs = append(errs, api.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		for i, u := range r.NonResourceURLs {
			if !strings.HasPrefix(u, "/") && u != api.NonResourceAll {
				errs = append(errs, api.Invalid(p.Child("nonResourceURLs").Index(i), u, `must start with "/" or be "*"`))
			}
		}
		return errs
	}
	if len(r.APIGroups) == 0 {
		errs = append(errs, api.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(r.Resources) == 0 {
		errs = append(errs, api.Required(p.Child("resources"), "resource rules must supply at least one resource"))
	}
	return errs
}

func validateBinding(ref *api.RoleRef, subjects []api.Subject, namespaced bool) api.FieldErrorList {
	var errs api.FieldErrorList
	rp := api.NewPath("roleRef")
	if ref.APIGroup != api.RbacGroupName {
		errs = append(errs, api.NotSupported(rp.Child("apiGroup"), ref.APIGroup, api.RbacGroupName))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	if !slices.Contains(kinds, ref.Kind) {
		errs = append(errs, api.NotSupported(rp.Child("kind"), ref.Kind, kinds...))
	}
	if ref.Name == "" {
		errs = append(errs, api.Required(rp.Child("name"), ""))
	} else {
		for _, msg := range isValidPathSegmentName(ref.Name) {
			errs = append(errs, api.Invalid(rp.Child("name"), ref.Name, msg))
		}
	}
	for i := range subjects {
		errs = append(errs, validateSubject(&subjects[i], namespaced, api.NewPath("subjects").Index(i))...)
	}
	return errs
}

// validateSubject is Kubernetes' ValidateRoleBindingSubject.
func validateSubject(s *api.Subject, namespaced bool, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if s.Name == "" {
		errs = append(errs, api.Required(p.Child("name"), ""))
	}
	switch s.Kind {
	case api.ServiceAccountKind:
		if s.Name != "" {
			for _, msg := range api.IsDNS1123Subdomain(s.Name) {
				errs = append(errs, api.Invalid(p.Child("name"), s.Name, msg))
			}
		}
		if s.APIGroup != "" {
			errs = append(errs, api.NotSupported(p.Child("apiGroup"), s.APIGroup, ""))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, api.Required(p.Child("namespace"), ""))
		}
	case api.UserKind, api.GroupKind:
		if s.APIGroup != api.RbacGroupName {
			errs = append(errs, api.NotSupported(p.Child("apiGroup"), s.APIGroup, api.RbacGroupName))
		}
	default:
		errs = append(errs, api.NotSupported(p.Child("kind"), s.Kind, api.ServiceAccountKind, api.UserKind, api.GroupKind))
	}
	return errs
}

func validateRoleRefUpdate(n, o api.RoleRef) api.FieldErrorList {
	if n != o {
		return api.FieldErrorList{api.Invalid(api.NewPath("roleRef"), n, "cannot change roleRef")}
	}
	return nil
}

// isValidPathSegmentName is Kubernetes' rule for RBAC object names: any
// name that can be one segment of a URL path.
func isValidPathSegmentName(name string) []string {
	var errs []string
	if name == "." || name == ".." {
		errs = append(errs, "may not be '"+name+"'")
	}
	for _, bad := range []string{"/", "%"} {
		if strings.Contains(name, bad) {
			errs = append(errs, "may not contain '"+bad+"'")
		}
	}
	return errs
}
