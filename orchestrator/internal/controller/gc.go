package controller

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"go.uber.org/zap"
)

// garbageCollector deletes objects whose owners are all gone (background
// propagation), deletes the dependents of an owner deleted in the
// foreground before removing its foregroundDeletion finalizer, and strips
// the owner reference from the dependents of an owner deleted with
// orphan propagation before removing its orphan finalizer.
//
// It watches every kind of the scheme (through the Manager's shared
// informers, metadata-only where no other controller reads the kind), so
// an object of any kind, including kinds added later, is collected when
// its owners are gone.
type garbageCollector struct {
	reg   client.Interface
	kinds map[string]*informer.Informer // kind -> cache
	log   *zap.Logger
	*loop
}

func newGarbageCollector(reg client.Interface, kinds map[string]*informer.Informer, log *zap.Logger, met *metrics.Node) *garbageCollector {
	g := &garbageCollector{reg: reg, kinds: kinds, log: log.Named("gc")}
	g.loop = newLoop("gc", 4, log, met, g.reconcile)
	for kind, inf := range kinds {
		enq := func(o api.Object) {
			g.queue.Add(kind + ":" + api.KeyOf(o))
			if o.GetObjectMeta().DeletionTimestamp != nil {
				g.enqueueDependents(o)
			}
		}
		inf.AddHandler(informer.Handler{
			OnAdd:    enq,
			OnUpdate: func(_, o api.Object) { enq(o) },
			OnDelete: func(o api.Object) {
				g.enqueueDependents(o)
				for _, ref := range o.GetObjectMeta().OwnerReferences {
					g.queue.Add(ref.Kind + ":" + api.Key(o.GetNamespace(), ref.Name))
				}
			},
		})
	}
	return g
}

func (g *garbageCollector) enqueueDependents(owner api.Object) {
	for kind, inf := range g.kinds {
		for _, d := range inf.ByIndex(informer.IndexOwner, string(owner.GetUID())) {
			g.queue.Add(kind + ":" + api.KeyOf(d))
		}
	}
}

func (g *garbageCollector) dependents(owner api.Object) []api.Object {
	var out []api.Object
	for _, inf := range g.kinds {
		out = append(out, inf.ByIndex(informer.IndexOwner, string(owner.GetUID()))...)
	}
	return out
}

func (g *garbageCollector) reconcile(ctx context.Context, key string) (time.Duration, error) {
	kind, objKey, _ := strings.Cut(key, ":")
	inf := g.kinds[kind]
	if inf == nil {
		return 0, nil
	}
	o, ok := inf.Get(objKey)
	if !ok {
		return 0, nil
	}
	m := o.GetObjectMeta()
	if m.DeletionTimestamp != nil {
		switch {
		case slices.Contains(m.Finalizers, api.FinalizerOrphanDependents):
			return 0, g.orphan(ctx, o)
		case slices.Contains(m.Finalizers, api.FinalizerForegroundDeletion):
			return g.foreground(ctx, o)
		}
	}
	if len(m.OwnerReferences) == 0 {
		return 0, nil
	}
	var gone []api.UID
	for _, ref := range m.OwnerReferences {
		exists, err := g.ownerExists(ctx, o.GetNamespace(), ref)
		if err != nil {
			return 0, err
		}
		if !exists {
			gone = append(gone, ref.UID)
		}
	}
	switch {
	case len(gone) == 0:
		return 0, nil
	case len(gone) == len(m.OwnerReferences):
		g.log.Debug("deleting orphaned dependent", zap.String("object", key))
		err := g.reg.Delete(ctx, o.GetNamespace(), o.GetName(), o.DeepCopyObject(), client.DeleteOptions{
			Propagation: api.DeletePropagationBackground, ResourceVersion: o.GetResourceVersion(),
		})
		return 0, ignoreConflict(err)
	default:
		next := o.DeepCopyObject()
		nm := next.GetObjectMeta()
		nm.OwnerReferences = slices.DeleteFunc(nm.OwnerReferences, func(r api.OwnerReference) bool { return slices.Contains(gone, r.UID) })
		return 0, ignoreConflict(g.reg.Update(ctx, next, client.UpdateOptions{}))
	}
}

// ownerExists checks the cache and, before declaring an owner gone,
// the store itself (a cache of another kind may lag).
func (g *garbageCollector) ownerExists(ctx context.Context, namespace string, ref api.OwnerReference) (bool, error) {
	info, ok := g.reg.Scheme().LookupKind(ref.Kind)
	if !ok {
		return true, nil // unknown kinds are never collected
	}
	if !info.Namespaced {
		namespace = ""
	}
	if inf := g.kinds[ref.Kind]; inf != nil {
		if o, ok := inf.Get(api.Key(namespace, ref.Name)); ok && o.GetUID() == ref.UID {
			return true, nil
		}
	}
	owner := info.New()
	err := g.reg.Get(ctx, namespace, ref.Name, owner, client.GetOptions{Consistent: true})
	if api.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return owner.GetUID() == ref.UID, nil
}

func (g *garbageCollector) removeFinalizer(ctx context.Context, o api.Object, f string) error {
	next := o.DeepCopyObject()
	nm := next.GetObjectMeta()
	nm.Finalizers = slices.DeleteFunc(nm.Finalizers, func(s string) bool { return s == f })
	return ignoreConflict(g.reg.Update(ctx, next, client.UpdateOptions{}))
}

func (g *garbageCollector) orphan(ctx context.Context, owner api.Object) error {
	for _, d := range g.dependents(owner) {
		next := d.DeepCopyObject()
		nm := next.GetObjectMeta()
		nm.OwnerReferences = slices.DeleteFunc(nm.OwnerReferences, func(r api.OwnerReference) bool { return r.UID == owner.GetUID() })
		if err := g.reg.Update(ctx, next, client.UpdateOptions{}); ignoreConflict(err) != nil {
			return err
		} else if err != nil {
			return err // conflict: retry with the newer version
		}
	}
	return g.removeFinalizer(ctx, owner, api.FinalizerOrphanDependents)
}

func (g *garbageCollector) foreground(ctx context.Context, owner api.Object) (time.Duration, error) {
	deps := g.dependents(owner)
	if len(deps) == 0 {
		return 0, g.removeFinalizer(ctx, owner, api.FinalizerForegroundDeletion)
	}
	for _, d := range deps {
		if d.GetObjectMeta().DeletionTimestamp != nil {
			continue
		}
		err := g.reg.Delete(ctx, d.GetNamespace(), d.GetName(), d.DeepCopyObject(), client.DeleteOptions{Propagation: api.DeletePropagationForeground})
		if err := ignoreConflict(err); err != nil {
			return 0, err
		}
	}
	// The dependents' deletion events requeue the owner.
	return time.Second, nil
}
