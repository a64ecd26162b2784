package controller

import (
	"context"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"go.uber.org/zap"
)

// namespaceController is Kubernetes' namespace controller: it creates the
// system namespaces when it starts (the registry also creates them on
// first use), and empties a Namespace that is being deleted — every
// namespaced object in it, of every kind of the scheme — before removing
// the Namespace itself.
//
// Nothing can be created in a Terminating namespace (the registry checks
// the Namespace in the same transaction as each create), so once a sweep
// that started after the Namespace was marked finds it empty, it stays
// empty. Objects held by finalizers are waited for; a Namespace with
// metadata finalizers of its own is removed once they are gone.
type namespaceController struct {
	reg        client.Interface
	namespaces *informer.Informer
	kinds      []api.KindInfo // namespaced kinds, in deletion order
	log        *zap.Logger
	*loop
}

// namespaceRetry is how often a Namespace whose content is held by
// finalizers is checked again.
const namespaceRetry = 250 * time.Millisecond

func newNamespaceController(reg client.Interface, namespaces *informer.Informer, log *zap.Logger, met *metrics.Node) *namespaceController {
	c := &namespaceController{reg: reg, namespaces: namespaces, log: log.Named("namespace")}
	for _, k := range reg.Scheme().Kinds() {
		if k.Namespaced {
			c.kinds = append(c.kinds, k)
		}
	}
	// Owners before their dependents (fewer objects recreated meanwhile,
	// which the terminating namespace would refuse anyway), Events last so
	// the ones recorded during the sweep go too.
	rank := func(k api.KindInfo) int {
		switch {
		case k.APIVersion != api.CoreV1:
			return 0
		case k.Kind == "Event":
			return 2
		}
		return 1
	}
	slices.SortStableFunc(c.kinds, func(a, b api.KindInfo) int { return rank(a) - rank(b) })
	c.loop = newLoop("namespace", 2, log, met, c.reconcile)
	enq := func(o api.Object) { c.queue.Add(o.GetName()) }
	namespaces.AddHandler(informer.Handler{OnAdd: enq, OnUpdate: func(_, o api.Object) { enq(o) }, OnDelete: enq})
	return c
}

func (c *namespaceController) run(ctx context.Context) {
	for _, name := range api.SystemNamespaces() {
		c.queue.Add(name)
	}
	c.loop.run(ctx)
}

func (c *namespaceController) reconcile(ctx context.Context, name string) (time.Duration, error) {
	o, ok := c.namespaces.Get(name)
	if !ok {
		if !api.IsSystemNamespace(name) {
			return 0, nil
		}
		err := c.reg.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}}, client.CreateOptions{})
		if api.IsAlreadyExists(err) {
			err = nil
		}
		return 0, err
	}
	ns := o.(*api.Namespace)
	if ns.DeletionTimestamp == nil {
		return 0, nil
	}
	remaining, err := c.deleteContent(ctx, name)
	if err != nil {
		return 0, err
	}
	if remaining > 0 {
		c.log.Debug("namespace content held by finalizers", zap.String("namespace", name), zap.Int("objects", remaining))
		return namespaceRetry, nil
	}
	if len(ns.Finalizers) > 0 {
		return 0, nil // their removal is an update, which requeues
	}
	err = c.reg.RemoveNamespace(ctx, name, ns.ResourceVersion, &api.Namespace{})
	switch {
	case err == nil:
		c.log.Info("namespace deleted", zap.String("namespace", name))
		return 0, nil
	case api.IsNotFound(err), api.IsConflict(err):
		return 0, nil // gone, or changed: the change requeues it
	}
	return 0, err
}

// deleteContent deletes every object in namespace and returns how many
// remain (held by finalizers).
func (c *namespaceController) deleteContent(ctx context.Context, namespace string) (remaining int, _ error) {
	for _, info := range c.kinds {
		objs, _, err := c.reg.ListObjects(ctx, info, client.ListOptions{Namespace: namespace, Consistent: true})
		if err != nil {
			return 0, err
		}
		for _, o := range objs {
			if o.GetObjectMeta().DeletionTimestamp != nil {
				remaining++
				continue
			}
			last := info.New()
			err := c.reg.Delete(ctx, namespace, o.GetName(), last, client.DeleteOptions{Propagation: api.DeletePropagationBackground})
			switch {
			case api.IsNotFound(err):
			case err != nil:
				return 0, err
			case len(last.GetObjectMeta().Finalizers) > 0:
				remaining++
			}
		}
	}
	return remaining, nil
}
