package orchestrator

import (
	"context"
	"fmt"
	"slices"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// ClientAs returns a Client that acts as user, in groups (and
// system:authenticated, which every authenticated user is in), the way
// the Kubernetes API treats a request of that user: every call is first
// authorized (the node authorizer for agents' identities, then RBAC; deny
// by default) and then runs the write pipeline with that user, so
// escalation prevention applies to the Roles and bindings it writes.
// Client() itself stays all-powerful: it is the embedding program. Use
// ClientAs for embedders that act for their own users, and in tests of
// RBAC policies.
//
// A refused call returns a Forbidden error in Kubernetes' words
// (`pods is forbidden: User "alice" cannot list resource "pods" in API
// group "" in the namespace "dev"`), tested with IsForbidden. Decisions
// follow this node's RBAC caches, which a watch keeps current: a binding
// just written takes effect within a moment.
//
// Calls fail with ServiceUnavailable before Start and after Shutdown. On
// an agent-only node, which has no RBAC of its own, every call of the
// returned Client fails with a Forbidden error.
func (c *Cluster) ClientAs(user string, groups ...string) Client {
	u := apiserver.User{Name: user, Groups: slices.Clone(groups)}
	if !slices.Contains(u.Groups, "system:authenticated") {
		u.Groups = append(u.Groups, "system:authenticated")
	}
	if c.agentOnly != nil {
		return &localClient{c: client.Intercept(c.agentOnly.api, refuseAll(u))}
	}
	return &localClient{c: asUser(c.reg, runningAuthorizer{c}, u)}
}

// runningAuthorizer is c's Node,RBAC authorizer, refusing while c is not
// running (RBAC's caches fill only after Start; Authorize would wait).
type runningAuthorizer struct{ c *Cluster }

func (r runningAuthorizer) Authorize(ctx context.Context, a apiserver.Attributes) error {
	r.c.mu.Lock()
	running := r.c.started && !r.c.stopped
	r.c.mu.Unlock()
	if !running {
		return api.NewServiceUnavailable("orchestrator: ClientAs: the node is not running")
	}
	return r.c.userAuthz.Authorize(ctx, a)
}

// asUser wraps c so that each call is authorized for u by z with the
// attributes the API server would give it, and carries u in its context.
func asUser(c client.Interface, z apiserver.Authorizer, u apiserver.User) client.Interface {
	scheme := c.Scheme()
	attrs := func(obj any, verb, ns, name, sub string) (apiserver.Attributes, error) {
		info, ok := scheme.KindFor(obj)
		if !ok {
			return apiserver.Attributes{}, api.NewBadRequest(fmt.Sprintf("%T is not a kind of the scheme", obj))
		}
		return attributesFor(u, info, verb, ns, name, sub), nil
	}
	check := func(ctx context.Context, a apiserver.Attributes, err error) (context.Context, error) {
		if err != nil {
			return ctx, err
		}
		if err := z.Authorize(ctx, a); err != nil {
			return ctx, err
		}
		return apiserver.WithUser(ctx, u), nil
	}
	return client.Intercept(c, client.Funcs{
		Get: func(ctx context.Context, c client.Interface, ns, name string, out api.Object, o client.GetOptions) error {
			a, err := attrs(out, "get", ns, name, "")
			if ctx, err = check(ctx, a, err); err != nil {
				return err
			}
			return c.Get(ctx, ns, name, out, o)
		},
		List: func(ctx context.Context, c client.Interface, list api.ObjectList, o client.ListOptions) error {
			a, err := attrs(list, "list", o.Namespace, "", "")
			if ctx, err = check(ctx, a, err); err != nil {
				return err
			}
			return c.List(ctx, list, o)
		},
		ListObjects: func(ctx context.Context, c client.Interface, info api.KindInfo, o client.ListOptions) ([]api.Object, int64, error) {
			ctx, err := check(ctx, attributesFor(u, info, "list", o.Namespace, "", ""), nil)
			if err != nil {
				return nil, 0, err
			}
			return c.ListObjects(ctx, info, o)
		},
		Watch: func(ctx context.Context, c client.Interface, info api.KindInfo, o client.ListOptions) (api.Watcher, error) {
			ctx, err := check(ctx, attributesFor(u, info, "watch", o.Namespace, "", ""), nil)
			if err != nil {
				return nil, err
			}
			return c.Watch(ctx, info, o)
		},
		Create: func(ctx context.Context, c client.Interface, obj api.Object, o client.CreateOptions) error {
			a, err := attrs(obj, "create", obj.GetNamespace(), "", "")
			if ctx, err = check(ctx, a, err); err != nil {
				return err
			}
			return c.Create(ctx, obj, o)
		},
		Update: func(ctx context.Context, c client.Interface, obj api.Object, o client.UpdateOptions) error {
			a, err := attrs(obj, "update", obj.GetNamespace(), obj.GetName(), "")
			if ctx, err = check(ctx, a, err); err != nil {
				return err
			}
			return c.Update(ctx, obj, o)
		},
		UpdateStatus: func(ctx context.Context, c client.Interface, obj api.Object, o client.UpdateOptions) error {
			a, err := attrs(obj, "update", obj.GetNamespace(), obj.GetName(), "status")
			if ctx, err = check(ctx, a, err); err != nil {
				return err
			}
			return c.UpdateStatus(ctx, obj, o)
		},
		Patch: func(ctx context.Context, c client.Interface, obj api.Object, pt api.PatchType, patch []byte, o client.PatchOptions) error {
			a, err := attrs(obj, "patch", obj.GetNamespace(), obj.GetName(), "")
			if ctx, err = check(ctx, a, err); err != nil {
				return err
			}
			return c.Patch(ctx, obj, pt, patch, o)
		},
		Delete: func(ctx context.Context, c client.Interface, ns, name string, obj api.Object, o client.DeleteOptions) error {
			a, err := attrs(obj, "delete", ns, name, "")
			if ctx, err = check(ctx, a, err); err != nil {
				return err
			}
			return c.Delete(ctx, ns, name, obj, o)
		},
		Bind: func(ctx context.Context, c client.Interface, pod *api.Pod, node string, o client.UpdateOptions) (*api.Pod, error) {
			a, err := attrs(pod, "create", pod.Namespace, pod.Name, "binding")
			if ctx, err = check(ctx, a, err); err != nil {
				return nil, err
			}
			return c.Bind(ctx, pod, node, o)
		},
		RemoveNamespace: func(ctx context.Context, c client.Interface, name, rv string, obj *api.Namespace) error {
			a, err := attrs(obj, "update", "", name, "finalize")
			if ctx, err = check(ctx, a, err); err != nil {
				return err
			}
			return c.RemoveNamespace(ctx, name, rv, obj)
		},
	})
}

// attributesFor is what the API server would authorize for a call of
// verb on info's kind.
func attributesFor(u apiserver.User, info api.KindInfo, verb, ns, name, sub string) apiserver.Attributes {
	group, version := api.SplitAPIVersion(info.APIVersion)
	if !info.Namespaced {
		ns = ""
	}
	return apiserver.Attributes{User: u, Verb: verb, Namespace: ns, APIGroup: group, APIVersion: version,
		Resource: info.Resource, Subresource: sub, Name: name, ResourceRequest: true}
}

// refuseAll is the interceptor of ClientAs on an agent-only node.
func refuseAll(u apiserver.User) client.Funcs {
	no := func() error {
		return api.NewForbidden("", "", fmt.Errorf("orchestrator: ClientAs %q: an agent-only node has no RBAC; use a server", u.Name))
	}
	return client.Funcs{
		Get: func(context.Context, client.Interface, string, string, api.Object, client.GetOptions) error {
			return no()
		},
		List: func(context.Context, client.Interface, api.ObjectList, client.ListOptions) error { return no() },
		ListObjects: func(context.Context, client.Interface, api.KindInfo, client.ListOptions) ([]api.Object, int64, error) {
			return nil, 0, no()
		},
		Watch: func(context.Context, client.Interface, api.KindInfo, client.ListOptions) (api.Watcher, error) {
			return nil, no()
		},
		Create:       func(context.Context, client.Interface, api.Object, client.CreateOptions) error { return no() },
		Update:       func(context.Context, client.Interface, api.Object, client.UpdateOptions) error { return no() },
		UpdateStatus: func(context.Context, client.Interface, api.Object, client.UpdateOptions) error { return no() },
		Patch: func(context.Context, client.Interface, api.Object, api.PatchType, []byte, client.PatchOptions) error {
			return no()
		},
		Delete: func(context.Context, client.Interface, string, string, api.Object, client.DeleteOptions) error {
			return no()
		},
		Bind: func(context.Context, client.Interface, *api.Pod, string, client.UpdateOptions) (*api.Pod, error) {
			return nil, no()
		},
		RemoveNamespace: func(context.Context, client.Interface, string, string, *api.Namespace) error { return no() },
	}
}
