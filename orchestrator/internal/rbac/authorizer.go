package rbac

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
)

// GroupMasters is Kubernetes' superuser group: its members may do
// everything, whatever the bindings say.
const GroupMasters = "system:masters"

// ServiceAccountUserPrefix starts the user name of a ServiceAccount:
// system:serviceaccount:<namespace>:<name>.
const ServiceAccountUserPrefix = "system:serviceaccount:"

// Config configures an Authorizer.
type Config struct {
	// Client lists and watches the four RBAC kinds. Required.
	Client client.Interface
	// SuperGroups are groups whose members may do everything without a
	// binding. nil: GroupMasters only. Put GroupMasters in it when you set
	// it.
	SuperGroups []string
	// Logger receives the informers' list and watch failures. nil: none.
	Logger *zap.Logger
}

// Authorizer is Kubernetes' RBAC authorizer over caches of the Roles,
// ClusterRoles, RoleBindings and ClusterRoleBindings, kept current by
// watches: deciding a request reads no store. Create with New, then Run.
// Safe for concurrent use.
type Authorizer struct {
	cfg                                         Config
	roles, clusterRoles, bindings, clusterBinds *informer.Informer
}

// subjectIndex indexes bindings by the users and groups they name:
// "u:<user>" and "g:<group>", a ServiceAccount as its user name. A
// RoleBinding's keys are prefixed with its namespace and "/", so that the
// lookup of a request in namespace ns finds only the bindings of ns.
const subjectIndex = "subject"

// New returns an Authorizer that decides nothing until Run has synced its
// caches (Authorize waits for that).
//
// Errors: Config.Client is nil.
func New(cfg Config) (*Authorizer, error) {
	if cfg.Client == nil {
		return nil, errors.New("rbac: Config.Client is required")
	}
	if cfg.SuperGroups == nil {
		cfg.SuperGroups = []string{GroupMasters}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	log := cfg.Logger.Named("rbac")
	z := &Authorizer{cfg: cfg,
		roles:        informer.New(cfg.Client, &api.Role{}, client.ListOptions{}, log),
		clusterRoles: informer.New(cfg.Client, &api.ClusterRole{}, client.ListOptions{}, log),
		bindings:     informer.New(cfg.Client, &api.RoleBinding{}, client.ListOptions{}, log),
		clusterBinds: informer.New(cfg.Client, &api.ClusterRoleBinding{}, client.ListOptions{}, log),
	}
	z.bindings.AddIndex(subjectIndex, func(o api.Object) []string {
		b := o.(*api.RoleBinding)
		keys := subjectKeys(b.Subjects, b.Namespace)
		for i := range keys {
			keys[i] = b.Namespace + "/" + keys[i]
		}
		return keys
	})
	z.clusterBinds.AddIndex(subjectIndex, func(o api.Object) []string {
		return subjectKeys(o.(*api.ClusterRoleBinding).Subjects, "")
	})
	return z, nil
}

// subjectKeys are the index keys of subjects; a ServiceAccount without a
// namespace is in the binding's (ns).
func subjectKeys(subjects []api.Subject, ns string) []string {
	keys := make([]string, 0, len(subjects))
	for _, s := range subjects {
		switch s.Kind {
		case api.UserKind:
			keys = append(keys, "u:"+s.Name)
		case api.GroupKind:
			keys = append(keys, "g:"+s.Name)
		case api.ServiceAccountKind:
			sns := s.Namespace
			if sns == "" {
				sns = ns
			}
			keys = append(keys, "u:"+ServiceAccountUserPrefix+sns+":"+s.Name)
		}
	}
	return keys
}

// Run keeps the caches current until ctx ends. Call it once; it returns
// when every informer has stopped.
func (z *Authorizer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, inf := range []*informer.Informer{z.roles, z.clusterRoles, z.bindings, z.clusterBinds} {
		wg.Go(func() { inf.Run(ctx) })
	}
	wg.Wait()
}

// WaitSynced waits until the caches hold the store's state at the time
// Run started.
//
// Errors: ctx.Err() when ctx ends first.
func (z *Authorizer) WaitSynced(ctx context.Context) error {
	for _, inf := range []*informer.Informer{z.roles, z.clusterRoles, z.bindings, z.clusterBinds} {
		if err := inf.WaitSynced(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (z *Authorizer) synced() bool {
	return z.roles.Synced() && z.clusterRoles.Synced() && z.bindings.Synced() && z.clusterBinds.Synced()
}

// Authorize allows a when a is by a member of a super group, or when a
// rule of a role bound to a's user, one of its groups or its
// ServiceAccount allows it: a ClusterRoleBinding's anywhere, a
// RoleBinding's only in its namespace. Rules add up; without one, the
// request is refused.
//
// Errors: Forbidden in Kubernetes' wording (`User "alice" cannot list
// resource "pods" in API group "" in the namespace "dev"`), with
// "RBAC: ... not found" appended for bindings of roles that do not exist;
// ctx.Err() when ctx ends before the caches are synced.
func (z *Authorizer) Authorize(ctx context.Context, a apiserver.Attributes) error {
	if z.superuser(a.User) {
		return nil
	}
	if !z.synced() {
		if err := z.WaitSynced(ctx); err != nil {
			return fmt.Errorf("rbac: waiting for the caches: %w", err)
		}
	}
	var missing []string
	allowed := z.visit(a.User, a.Namespace, !a.ResourceRequest, func(rules []api.PolicyRule) bool {
		for i := range rules {
			if RuleAllows(&rules[i], a) {
				return true
			}
		}
		return false
	}, &missing)
	if allowed {
		return nil
	}
	reason := ""
	if len(missing) > 0 {
		reason = "RBAC: " + strings.Join(missing, ", ")
	}
	return apiserver.Forbidden(a, reason)
}

func (z *Authorizer) superuser(u apiserver.User) bool {
	for _, g := range u.Groups {
		if slices.Contains(z.cfg.SuperGroups, g) {
			return true
		}
	}
	return false
}

// visit calls f with the rules of each role bound to u (cluster-wide,
// then in ns unless clusterOnly) until f returns true, and reports
// whether it did. Bindings of roles not found add to *missing.
func (z *Authorizer) visit(u apiserver.User, ns string, clusterOnly bool, f func([]api.PolicyRule) bool, missing *[]string) bool {
	keys := make([]string, 0, 1+len(u.Groups))
	keys = append(keys, "u:"+u.Name)
	for _, g := range u.Groups {
		keys = append(keys, "g:"+g)
	}
	for _, k := range keys {
		for _, o := range z.clusterBinds.ByIndex(subjectIndex, k) {
			b := o.(*api.ClusterRoleBinding)
			if rules, ok := z.clusterRoleRules(b.RoleRef.Name, missing); ok && f(rules) {
				return true
			}
		}
	}
	if clusterOnly || ns == "" {
		return false
	}
	for _, k := range keys {
		for _, o := range z.bindings.ByIndex(subjectIndex, ns+"/"+k) {
			b := o.(*api.RoleBinding)
			var rules []api.PolicyRule
			var ok bool
			if b.RoleRef.Kind == "Role" {
				rules, ok = z.roleRules(b.Namespace, b.RoleRef.Name, missing)
			} else {
				rules, ok = z.clusterRoleRules(b.RoleRef.Name, missing)
			}
			if ok && f(rules) {
				return true
			}
		}
	}
	return false
}

func (z *Authorizer) clusterRoleRules(name string, missing *[]string) ([]api.PolicyRule, bool) {
	o, ok := z.clusterRoles.Get(name)
	if !ok {
		if missing != nil {
			*missing = append(*missing, fmt.Sprintf("clusterrole.rbac.authorization.k8s.io %q not found", name))
		}
		return nil, false
	}
	return o.(*api.ClusterRole).Rules, true
}

func (z *Authorizer) roleRules(ns, name string, missing *[]string) ([]api.PolicyRule, bool) {
	o, ok := z.roles.Get(ns + "/" + name)
	if !ok {
		if missing != nil {
			*missing = append(*missing, fmt.Sprintf("role.rbac.authorization.k8s.io %q not found", name))
		}
		return nil, false
	}
	return o.(*api.Role).Rules, true
}

// RulesFor returns every rule that applies to u in namespace ns (the
// cluster-wide ones only for ns ""), as `kubectl auth can-i --list` and
// escalation prevention read them. A member of a super group gets one
// rule granting everything.
//
// Errors: ctx.Err() when ctx ends before the caches are synced.
func (z *Authorizer) RulesFor(ctx context.Context, u apiserver.User, ns string) ([]api.PolicyRule, error) {
	if z.superuser(u) {
		return []api.PolicyRule{
			{Verbs: []string{api.VerbAll}, APIGroups: []string{api.APIGroupAll}, Resources: []string{api.ResourceAll}},
			{Verbs: []string{api.VerbAll}, NonResourceURLs: []string{api.NonResourceAll}},
		}, nil
	}
	if err := z.WaitSynced(ctx); err != nil {
		return nil, fmt.Errorf("rbac: waiting for the caches: %w", err)
	}
	var out []api.PolicyRule
	z.visit(u, ns, false, func(rules []api.PolicyRule) bool {
		out = append(out, rules...)
		return false
	}, nil)
	return out, nil
}

// roleRefRules returns the rules of the role ref names for a binding in
// ns ("" for a ClusterRoleBinding): from the cache, or, for a role the
// cache does not hold yet (created just before its binding), from a
// linearizable read.
//
// Errors: NotFound naming the role; the read's error.
func (z *Authorizer) roleRefRules(ctx context.Context, ref api.RoleRef, ns string) ([]api.PolicyRule, error) {
	if ref.Kind == "Role" {
		if rules, ok := z.roleRules(ns, ref.Name, nil); ok {
			return rules, nil
		}
		var r api.Role
		if err := z.cfg.Client.Get(ctx, ns, ref.Name, &r, client.GetOptions{Consistent: true}); err != nil {
			return nil, err
		}
		return r.Rules, nil
	}
	if rules, ok := z.clusterRoleRules(ref.Name, nil); ok {
		return rules, nil
	}
	var r api.ClusterRole
	if err := z.cfg.Client.Get(ctx, "", ref.Name, &r, client.GetOptions{Consistent: true}); err != nil {
		return nil, err
	}
	return r.Rules, nil
}

// WaitFor waits until the cache of obj's kind reflects obj as written
// (its resourceVersion, as a write returned it), so that a decision right
// after a write of a role or binding sees it.
//
// Errors: obj is not of an RBAC kind or has no numeric resourceVersion;
// ctx.Err().
func (z *Authorizer) WaitFor(ctx context.Context, obj api.Object) error {
	rev, err := strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
	if err != nil {
		return fmt.Errorf("rbac: WaitFor: resourceVersion %q: %w", obj.GetResourceVersion(), err)
	}
	var inf *informer.Informer
	switch obj.(type) {
	case *api.Role:
		inf = z.roles
	case *api.ClusterRole:
		inf = z.clusterRoles
	case *api.RoleBinding:
		inf = z.bindings
	case *api.ClusterRoleBinding:
		inf = z.clusterBinds
	default:
		return fmt.Errorf("rbac: WaitFor: %T is not an RBAC kind", obj)
	}
	return inf.WaitForRevision(ctx, rev)
}
