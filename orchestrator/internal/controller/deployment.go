package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"go.uber.org/zap"
)

// deploymentController keeps one ReplicaSet per Pod template (named
// <deployment>-<pod-template-hash>) at the Deployment's replicas and scales
// the others to zero. Rolling-update pacing (maxSurge/maxUnavailable),
// Recreate ordering, progress deadlines and rollback come with the rollouts
// issue: a new template replaces the old ReplicaSet at once.
type deploymentController struct {
	reg  *registry.Registry
	deps *informer.Informer
	rss  *informer.Informer
	rec  *events.Recorder
	log  *zap.Logger
	*loop
}

func newDeploymentController(reg *registry.Registry, deps, rss *informer.Informer, rec *events.Recorder, log *zap.Logger) *deploymentController {
	c := &deploymentController{reg: reg, deps: deps, rss: rss, rec: rec, log: log.Named("deployment")}
	c.loop = newLoop("deployment", 4, log, c.reconcile)
	enq := func(o api.Object) { c.queue.Add(api.KeyOf(o)) }
	deps.AddHandler(informer.Handler{OnAdd: enq, OnUpdate: func(_, o api.Object) { enq(o) }, OnDelete: enq})
	rsEvent := func(o api.Object) {
		if ref := api.GetControllerOf(o); ref != nil && ref.Kind == "Deployment" {
			c.queue.Add(api.Key(o.GetNamespace(), ref.Name))
		}
	}
	rss.AddHandler(informer.Handler{OnAdd: rsEvent, OnUpdate: func(_, o api.Object) { rsEvent(o) }, OnDelete: rsEvent})
	return c
}

func revisionOf(rs *api.ReplicaSet) int64 {
	n, _ := strconv.ParseInt(rs.Annotations[api.RevisionAnnotation], 10, 64)
	return n
}

func (c *deploymentController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	o, ok := c.deps.Get(key)
	if !ok {
		return 0, nil
	}
	d := o.(*api.Deployment)
	if d.DeletionTimestamp != nil {
		return 0, nil
	}
	sel, err := api.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return 0, nil
	}
	var lastRev int64
	note := func(rv string) {
		if n, _ := registry.ParseResourceVersion(rv); n > lastRev {
			lastRev = n
		}
	}
	var owned []*api.ReplicaSet
	for _, ro := range c.rss.ByIndex(informer.IndexNamespace, d.Namespace) {
		rs := ro.(*api.ReplicaSet)
		ref := api.GetControllerOf(rs)
		switch {
		case ref != nil && ref.UID == d.UID:
			owned = append(owned, rs)
		case ref == nil && rs.DeletionTimestamp == nil && sel.Matches(rs.Labels):
			adopted := rs.DeepCopyObject().(*api.ReplicaSet)
			adopted.OwnerReferences = append(adopted.OwnerReferences, api.NewControllerRef(d))
			if err := c.reg.Update(ctx, adopted); err != nil {
				if api.IsConflict(err) || api.IsNotFound(err) {
					continue
				}
				return 0, err
			}
			note(adopted.ResourceVersion)
			owned = append(owned, adopted)
		}
	}
	hash := api.PodTemplateHash(&d.Spec.Template, d.Status.CollisionCount)
	var newRS *api.ReplicaSet
	var maxRev int64
	for _, rs := range owned {
		if rs.Labels[api.PodTemplateHashLabel] == hash && rs.DeletionTimestamp == nil {
			newRS = rs
		}
		maxRev = max(maxRev, revisionOf(rs))
	}
	want := *d.Spec.Replicas
	if !d.Spec.Paused {
		if newRS == nil {
			rs, err := c.createReplicaSet(ctx, d, hash, maxRev+1)
			if err != nil {
				return 0, err
			}
			if rs == nil {
				return time.Millisecond, nil // hash collision recorded; retry with the new hash
			}
			note(rs.ResourceVersion)
			newRS = rs
			owned = append(owned, rs)
		} else if *newRS.Spec.Replicas != want || revisionOf(newRS) < maxRev {
			next := newRS.DeepCopyObject().(*api.ReplicaSet)
			old := *next.Spec.Replicas
			next.Spec.Replicas = api.Ptr(want)
			if revisionOf(newRS) < maxRev {
				if next.Annotations == nil {
					next.Annotations = map[string]string{}
				}
				next.Annotations[api.RevisionAnnotation] = strconv.FormatInt(maxRev+1, 10)
			}
			if err := c.reg.Update(ctx, next); err != nil {
				return 0, ignoreConflict(err)
			}
			note(next.ResourceVersion)
			if old != want {
				c.rec.Eventf(d, api.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", direction(old, want), next.Name, old, want)
			}
		}
		for _, rs := range owned {
			if rs == newRS || rs.DeletionTimestamp != nil || *rs.Spec.Replicas == 0 {
				continue
			}
			next := rs.DeepCopyObject().(*api.ReplicaSet)
			old := *next.Spec.Replicas
			next.Spec.Replicas = api.Ptr(int32(0))
			if err := c.reg.Update(ctx, next); err != nil {
				return 0, ignoreConflict(err)
			}
			note(next.ResourceVersion)
			c.rec.Eventf(d, api.EventTypeNormal, "ScalingReplicaSet", "Scaled down replica set %s from %d to 0", next.Name, old)
		}
		if err := c.cleanup(ctx, d, owned, newRS); err != nil {
			return 0, err
		}
	}
	if lastRev > 0 {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.rss.WaitForRevision(wctx, lastRev)
		cancel()
		if err != nil {
			return 0, err
		}
	}
	return 0, c.updateStatus(ctx, key)
}

func ignoreConflict(err error) error {
	if api.IsConflict(err) || api.IsNotFound(err) {
		return nil
	}
	return err
}

func direction(from, to int32) string {
	if to > from {
		return "up"
	}
	return "down"
}

func (c *deploymentController) createReplicaSet(ctx context.Context, d *api.Deployment, hash string, revision int64) (*api.ReplicaSet, error) {
	tmpl := api.Clone(d.Spec.Template)
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[api.PodTemplateHashLabel] = hash
	sel := api.Clone(*d.Spec.Selector)
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[api.PodTemplateHashLabel] = hash
	labels := maps.Clone(tmpl.Labels)
	annotations := maps.Clone(d.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[api.RevisionAnnotation] = strconv.FormatInt(revision, 10)
	rs := &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{
			Name: d.Name + "-" + hash, Namespace: d.Namespace, Labels: labels, Annotations: annotations,
			OwnerReferences: []api.OwnerReference{api.NewControllerRef(d)},
		},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr(*d.Spec.Replicas), MinReadySeconds: d.Spec.MinReadySeconds, Selector: &sel, Template: tmpl},
	}
	err := c.reg.Create(ctx, rs)
	if api.IsAlreadyExists(err) {
		var existing api.ReplicaSet
		if err := c.reg.Get(ctx, d.Namespace, rs.Name, &existing, registry.ReadOptions{Consistent: true}); err != nil {
			return nil, err
		}
		if api.IsControlledBy(&existing, d) {
			return &existing, nil
		}
		// A foreign ReplicaSet holds the name: change the hash.
		next := d.DeepCopyObject().(*api.Deployment)
		cc := int32(0)
		if next.Status.CollisionCount != nil {
			cc = *next.Status.CollisionCount
		}
		next.Status.CollisionCount = api.Ptr(cc + 1)
		return nil, ignoreConflict(c.reg.UpdateStatus(ctx, next))
	}
	if err != nil {
		c.rec.Eventf(d, api.EventTypeWarning, "FailedCreate", "Failed to create replica set: %v", err)
		return nil, err
	}
	c.rec.Eventf(d, api.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s to %d", rs.Name, *rs.Spec.Replicas)
	return rs, nil
}

// cleanup deletes old, empty ReplicaSets beyond revisionHistoryLimit.
func (c *deploymentController) cleanup(ctx context.Context, d *api.Deployment, owned []*api.ReplicaSet, newRS *api.ReplicaSet) error {
	limit := 10
	if d.Spec.RevisionHistoryLimit != nil {
		limit = int(*d.Spec.RevisionHistoryLimit)
	}
	var old []*api.ReplicaSet
	for _, rs := range owned {
		if rs != newRS && rs.DeletionTimestamp == nil && *rs.Spec.Replicas == 0 && rs.Status.Replicas == 0 {
			old = append(old, rs)
		}
	}
	if len(old) <= limit {
		return nil
	}
	slices.SortFunc(old, func(a, b *api.ReplicaSet) int { return int(revisionOf(a) - revisionOf(b)) })
	for _, rs := range old[:len(old)-limit] {
		if err := c.reg.Delete(ctx, rs.Namespace, rs.Name, &api.ReplicaSet{}, registry.DeleteOptions{ResourceVersion: rs.ResourceVersion}); err != nil {
			if err := ignoreConflict(err); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *deploymentController) updateStatus(ctx context.Context, key string) error {
	o, ok := c.deps.Get(key)
	if !ok {
		return nil
	}
	d := o.(*api.Deployment)
	hash := api.PodTemplateHash(&d.Spec.Template, d.Status.CollisionCount)
	st := api.Clone(d.Status)
	st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, st.UnavailableReplicas = 0, 0, 0, 0, 0
	var newName string
	oldPods := int32(0)
	for _, ro := range c.rss.ByIndex(informer.IndexOwner, string(d.UID)) {
		rs := ro.(*api.ReplicaSet)
		if !api.IsControlledBy(rs, d) {
			continue
		}
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
		if rs.Labels[api.PodTemplateHashLabel] == hash {
			st.UpdatedReplicas = rs.Status.Replicas
			newName = rs.Name
		} else {
			oldPods += rs.Status.Replicas
		}
	}
	want := *d.Spec.Replicas
	st.UnavailableReplicas = max(0, want-st.AvailableReplicas)
	st.ObservedGeneration = d.Generation
	now := api.Now()
	maxUnavailable := 0
	if d.Spec.Strategy.RollingUpdate != nil && d.Spec.Strategy.RollingUpdate.MaxUnavailable != nil {
		maxUnavailable, _ = api.ScaledValueFromIntOrPercent(d.Spec.Strategy.RollingUpdate.MaxUnavailable, int(want), false)
	}
	if int(st.AvailableReplicas) >= int(want)-maxUnavailable {
		api.SetDeploymentCondition(&st, api.DeploymentCondition{Type: api.DeploymentAvailable, Status: api.ConditionTrue, Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability."}, now)
	} else {
		api.SetDeploymentCondition(&st, api.DeploymentCondition{Type: api.DeploymentAvailable, Status: api.ConditionFalse, Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability."}, now)
	}
	if newName != "" {
		if st.UpdatedReplicas == want && st.AvailableReplicas == want && oldPods == 0 {
			api.SetDeploymentCondition(&st, api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionTrue, Reason: "NewReplicaSetAvailable", Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", newName)}, now)
		} else {
			api.SetDeploymentCondition(&st, api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionTrue, Reason: "ReplicaSetUpdated", Message: fmt.Sprintf("ReplicaSet %q is progressing.", newName)}, now)
		}
	}
	if jsonEqual(st, d.Status) {
		return nil
	}
	next := d.DeepCopyObject().(*api.Deployment)
	next.Status = st
	return ignoreConflict(c.reg.UpdateStatus(ctx, next))
}
