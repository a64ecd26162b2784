package client

import (
	"context"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Funcs replace calls of an Interface for Intercept. Each func receives
// the wrapped Interface, so it can fail a call, change it, count it, or
// pass it on. A nil func passes the call through unchanged. The funcs run
// on the caller's goroutine and must be safe for concurrent use.
type Funcs struct {
	Get             func(ctx context.Context, c Interface, namespace, name string, out api.Object, o GetOptions) error
	List            func(ctx context.Context, c Interface, list api.ObjectList, o ListOptions) error
	ListObjects     func(ctx context.Context, c Interface, info api.KindInfo, o ListOptions) ([]api.Object, int64, error)
	Watch           func(ctx context.Context, c Interface, info api.KindInfo, o ListOptions) (api.Watcher, error)
	Create          func(ctx context.Context, c Interface, obj api.Object, o CreateOptions) error
	Update          func(ctx context.Context, c Interface, obj api.Object, o UpdateOptions) error
	UpdateStatus    func(ctx context.Context, c Interface, obj api.Object, o UpdateOptions) error
	Patch           func(ctx context.Context, c Interface, obj api.Object, pt api.PatchType, patch []byte, o PatchOptions) error
	Delete          func(ctx context.Context, c Interface, namespace, name string, obj api.Object, o DeleteOptions) error
	Bind            func(ctx context.Context, c Interface, pod *api.Pod, nodeName string, o UpdateOptions) (*api.Pod, error)
	RemoveNamespace func(ctx context.Context, c Interface, name, rv string, obj *api.Namespace) error
}

// Intercept returns an Interface that calls f's funcs instead of c's
// methods where they are set: fault injection for tests of the
// components behind the seam (a failing write, a slow read, a conflict on
// the third try). The result does not implement Scanner, so Scan goes
// through ListObjects and its interceptor.
func Intercept(c Interface, f Funcs) Interface { return &intercepted{c, f} }

type intercepted struct {
	c Interface
	f Funcs
}

func (i *intercepted) Scheme() *api.Scheme { return i.c.Scheme() }

func (i *intercepted) Get(ctx context.Context, namespace, name string, out api.Object, o GetOptions) error {
	if i.f.Get != nil {
		return i.f.Get(ctx, i.c, namespace, name, out, o)
	}
	return i.c.Get(ctx, namespace, name, out, o)
}

func (i *intercepted) List(ctx context.Context, list api.ObjectList, o ListOptions) error {
	if i.f.List != nil {
		return i.f.List(ctx, i.c, list, o)
	}
	return i.c.List(ctx, list, o)
}

func (i *intercepted) ListObjects(ctx context.Context, info api.KindInfo, o ListOptions) ([]api.Object, int64, error) {
	if i.f.ListObjects != nil {
		return i.f.ListObjects(ctx, i.c, info, o)
	}
	return i.c.ListObjects(ctx, info, o)
}

func (i *intercepted) Watch(ctx context.Context, info api.KindInfo, o ListOptions) (api.Watcher, error) {
	if i.f.Watch != nil {
		return i.f.Watch(ctx, i.c, info, o)
	}
	return i.c.Watch(ctx, info, o)
}

func (i *intercepted) Create(ctx context.Context, obj api.Object, o CreateOptions) error {
	if i.f.Create != nil {
		return i.f.Create(ctx, i.c, obj, o)
	}
	return i.c.Create(ctx, obj, o)
}

func (i *intercepted) Update(ctx context.Context, obj api.Object, o UpdateOptions) error {
	if i.f.Update != nil {
		return i.f.Update(ctx, i.c, obj, o)
	}
	return i.c.Update(ctx, obj, o)
}

func (i *intercepted) UpdateStatus(ctx context.Context, obj api.Object, o UpdateOptions) error {
	if i.f.UpdateStatus != nil {
		return i.f.UpdateStatus(ctx, i.c, obj, o)
	}
	return i.c.UpdateStatus(ctx, obj, o)
}

func (i *intercepted) Patch(ctx context.Context, obj api.Object, pt api.PatchType, patch []byte, o PatchOptions) error {
	if i.f.Patch != nil {
		return i.f.Patch(ctx, i.c, obj, pt, patch, o)
	}
	return i.c.Patch(ctx, obj, pt, patch, o)
}

func (i *intercepted) Delete(ctx context.Context, namespace, name string, obj api.Object, o DeleteOptions) error {
	if i.f.Delete != nil {
		return i.f.Delete(ctx, i.c, namespace, name, obj, o)
	}
	return i.c.Delete(ctx, namespace, name, obj, o)
}

func (i *intercepted) Bind(ctx context.Context, pod *api.Pod, nodeName string, o UpdateOptions) (*api.Pod, error) {
	if i.f.Bind != nil {
		return i.f.Bind(ctx, i.c, pod, nodeName, o)
	}
	return i.c.Bind(ctx, pod, nodeName, o)
}

func (i *intercepted) RemoveNamespace(ctx context.Context, name, rv string, obj *api.Namespace) error {
	if i.f.RemoveNamespace != nil {
		return i.f.RemoveNamespace(ctx, i.c, name, rv, obj)
	}
	return i.c.RemoveNamespace(ctx, name, rv, obj)
}
