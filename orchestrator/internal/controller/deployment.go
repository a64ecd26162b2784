package controller

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/controllerutil"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"github.com/flotilla-io/flotilla/orchestrator/internal/rollout"
	"go.uber.org/zap"
)

// deploymentController keeps one ReplicaSet per Pod template (named
// <deployment>-<pod-template-hash>, annotated with its revision) and rolls
// out from the old ones to the new one with the rollout package's plans:
// RollingUpdate within maxSurge/maxUnavailable (an old ReplicaSet's Pods
// count until they are gone, even when its spec is already lower) or
// Recreate; minReadySeconds is passed to the new ReplicaSet (availability).
// Every ReplicaSet it scales records the Deployment's size in the
// desired-replicas and max-replicas annotations; when a RollingUpdate
// Deployment is resized while several ReplicaSets have replicas (mid-
// rollout), the change is shared among them in proportion to their sizes
// (rollout.PlanScale) before the rollout goes on, as in Kubernetes. While
// paused, only resizes are applied (shared as above, or, for Recreate, to
// its single active ReplicaSet; with none active, the newest takes the
// whole size): no rollout step, no new ReplicaSet.
// Status carries the Available and Progressing conditions
// (progressDeadlineSeconds, requeued to notice a stall); old ReplicaSets
// beyond revisionHistoryLimit are deleted, paused or not. A template equal
// to an old revision's (a rollback) reuses that ReplicaSet, which becomes
// the newest revision. The Deployment carries its new ReplicaSet's
// revision annotation, written with its own Update (metadata only, so its
// generation stays).
type deploymentController struct {
	reg  client.Interface
	deps *informer.Informer
	rss  *informer.Informer
	rec  *events.Recorder
	log  *zap.Logger
	*loop
}

func newDeploymentController(reg client.Interface, deps, rss *informer.Informer, rec *events.Recorder, log *zap.Logger, met *metrics.Node) *deploymentController {
	c := &deploymentController{reg: reg, deps: deps, rss: rss, rec: rec, log: log.Named("deployment")}
	c.loop = newLoop("deployment", 4, log, met, c.reconcile)
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
		if n, _ := client.ParseResourceVersion(rv); n > lastRev {
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
			adopted.OwnerReferences = append(adopted.OwnerReferences, controllerutil.NewControllerRef(d))
			if err := c.reg.Update(ctx, adopted, client.UpdateOptions{}); err != nil {
				if api.IsConflict(err) || api.IsNotFound(err) {
					continue
				}
				return 0, err
			}
			note(adopted.ResourceVersion)
			owned = append(owned, adopted)
		}
	}
	hash := controllerutil.PodTemplateHash(&d.Spec.Template, d.Status.CollisionCount)
	var newRS *api.ReplicaSet
	var maxRev int64
	for _, rs := range owned {
		if rs.Labels[api.PodTemplateHashLabel] == hash && rs.DeletionTimestamp == nil {
			newRS = rs
		}
		maxRev = max(maxRev, revisionOf(rs))
	}
	want := *d.Spec.Replicas
	var started *api.DeploymentCondition // set when this sync starts a rollout
	resized := false
	// A Recreate rollout step resizes the new ReplicaSet itself; paused,
	// there is no step, so the resize is applied here.
	if d.Spec.Strategy.Type != api.RecreateDeploymentStrategyType || d.Spec.Paused {
		rv, ok, err := c.scaleProportionally(ctx, d, owned)
		if err != nil {
			return 0, err
		}
		note(rv)
		resized = ok
	}
	var live []*api.ReplicaSet // old ReplicaSets not being deleted
	oldActive := false
	for _, rs := range owned {
		if rs != newRS && rs.DeletionTimestamp == nil {
			live = append(live, rs)
			if *rs.Spec.Replicas > 0 || rs.Status.Replicas > 0 {
				oldActive = true
			}
		}
	}
	if !d.Spec.Paused && !resized {
		if newRS == nil {
			initial := want
			if oldActive {
				initial = 0 // the rollout plan scales it up
			}
			rs, err := c.createReplicaSet(ctx, d, hash, maxRev+1, initial, maxSurgeOf(d))
			if err != nil {
				return 0, err
			}
			if rs == nil {
				return time.Millisecond, nil // hash collision recorded; retry with the new hash
			}
			note(rs.ResourceVersion)
			newRS = rs
			owned = append(owned, rs)
			cc := rollout.CreatedCondition(rs.Name)
			started = &cc
		} else if revisionOf(newRS) < maxRev {
			// A rollback (or a template returning to an old one): the
			// existing ReplicaSet becomes the newest revision.
			next := newRS.DeepCopyObject().(*api.ReplicaSet)
			rollout.SetRevision(&next.ObjectMeta, maxRev+1)
			if err := c.reg.Update(ctx, next, client.UpdateOptions{}); err != nil {
				return 0, ignoreConflict(err)
			}
			note(next.ResourceVersion)
			newRS = next
			started = &api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionTrue,
				Reason: "FoundNewReplicaSet", Message: fmt.Sprintf("Found new replica set %q", next.Name)}
		}
		rev, err := c.rollOut(ctx, d, newRS, live)
		if err != nil {
			return 0, err
		}
		note(rev)
	}
	// History is pruned even while paused, as in Kubernetes; only
	// ReplicaSets already scaled to zero go, so this sync's scaling does
	// not matter.
	for _, rs := range rollout.HistoryToDelete(live, historyLimit(d)) {
		if err := c.reg.Delete(ctx, rs.Namespace, rs.Name, &api.ReplicaSet{}, client.DeleteOptions{ResourceVersion: rs.ResourceVersion}); err != nil {
			if err := ignoreConflict(err); err != nil {
				return 0, err
			}
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
	return c.updateStatus(ctx, key, started)
}

func historyLimit(d *api.Deployment) int32 {
	if d.Spec.RevisionHistoryLimit != nil {
		return *d.Spec.RevisionHistoryLimit
	}
	return api.DefaultRevisionHistoryLimit
}

// maxSurgeOf is the Deployment's maxSurge as a count: 0 for Recreate or an
// invalid strategy (which validation keeps out).
func maxSurgeOf(d *api.Deployment) int32 {
	if d.Spec.Strategy.Type == api.RecreateDeploymentStrategyType {
		return 0
	}
	b, err := rollout.ResolveBounds(d.Spec.Strategy.RollingUpdate, *d.Spec.Replicas)
	if err != nil {
		return 0
	}
	return b.MaxSurge
}

// scaleProportionally applies a resize of a Deployment to its active
// ReplicaSets (those with spec.replicas > 0) when they were last scaled
// for another size (rollout.IsScalingEvent), sharing the change in
// proportion to their sizes (rollout.PlanScale), and records the new size
// on each of them. A Recreate Deployment is resized only when it has a
// single active ReplicaSet, which gets the whole size (Kubernetes shares
// among several for RollingUpdate only). It reports whether there was
// such a resize (the rollout step then waits for the next sync) and the
// resourceVersion of its last write ("" if none).
func (c *deploymentController) scaleProportionally(ctx context.Context, d *api.Deployment, owned []*api.ReplicaSet) (string, bool, error) {
	want := *d.Spec.Replicas
	var rss []*api.ReplicaSet
	var sets []rollout.ReplicaSet
	for _, rs := range owned {
		if rs.DeletionTimestamp != nil {
			continue
		}
		if r := rollout.FromReplicaSet(rs); r.Replicas > 0 {
			rss, sets = append(rss, rs), append(sets, r)
		}
	}
	var b rollout.Bounds // Recreate: no surge
	if d.Spec.Strategy.Type != api.RecreateDeploymentStrategyType {
		var err error
		if b, err = rollout.ResolveBounds(d.Spec.Strategy.RollingUpdate, want); err != nil {
			return "", false, nil // rollOut reports it
		}
	}
	var to []int32
	switch {
	case len(sets) == 0:
		// Every ReplicaSet at 0 (scaled to zero, then up again): unpaused,
		// the rollout step sizes the new one; paused, as in Kubernetes,
		// the one of the current template takes the whole size, or else
		// the newest.
		if !d.Spec.Paused || want == 0 {
			return "", false, nil
		}
		hash := controllerutil.PodTemplateHash(&d.Spec.Template, d.Status.CollisionCount)
		var newest *api.ReplicaSet
		for _, rs := range owned {
			if rs.DeletionTimestamp != nil || (newest != nil && newest.Labels[api.PodTemplateHashLabel] == hash) {
				continue
			}
			if newest == nil || rs.Labels[api.PodTemplateHashLabel] == hash || revisionOf(rs) > revisionOf(newest) {
				newest = rs
			}
		}
		if newest == nil {
			return "", false, nil
		}
		rss, sets, to = []*api.ReplicaSet{newest}, []rollout.ReplicaSet{rollout.FromReplicaSet(newest)}, []int32{want}
	case !rollout.IsScalingEvent(want, sets):
		return "", false, nil
	case d.Spec.Strategy.Type == api.RecreateDeploymentStrategyType && len(sets) > 1:
		return "", false, nil
	default:
		var err error
		if to, err = rollout.PlanScale(want, b, sets); err != nil {
			return "", false, err
		}
	}
	// Shrink first, so that the total stays within the bound meanwhile.
	order := make([]int, 0, len(rss))
	for i := range rss {
		if to[i] < sets[i].Replicas {
			order = append(order, i)
		}
	}
	for i := range rss {
		if to[i] >= sets[i].Replicas {
			order = append(order, i)
		}
	}
	var lastRV string
	for _, i := range order {
		next := rss[i].DeepCopyObject().(*api.ReplicaSet)
		annotated := rollout.SetReplicasAnnotations(&next.ObjectMeta, want, b.MaxSurge)
		if to[i] == sets[i].Replicas && !annotated {
			continue
		}
		next.Spec.Replicas = api.Ptr(to[i])
		if err := c.reg.Update(ctx, next, client.UpdateOptions{}); err != nil {
			// A conflict brings the ReplicaSet's event, hence another sync.
			return lastRV, true, ignoreConflict(err)
		}
		lastRV = next.ResourceVersion
		if from := sets[i].Replicas; from != to[i] {
			c.rec.Eventf(d, api.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", direction(from, to[i]), next.Name, from, to[i])
		}
	}
	return lastRV, true, nil
}

// rollOut applies one step of the Deployment's strategy to the new
// ReplicaSet and the old ones, and returns the resourceVersion of its last
// write ("" if none).
func (c *deploymentController) rollOut(ctx context.Context, d *api.Deployment, newRS *api.ReplicaSet, live []*api.ReplicaSet) (string, error) {
	want := *d.Spec.Replicas
	cur := rollout.FromReplicaSet(newRS)
	var olds []*api.ReplicaSet
	var old []rollout.ReplicaSet
	oldPods := 0
	for _, rs := range live {
		if *rs.Spec.Replicas == 0 && rs.Status.Replicas == 0 {
			continue
		}
		r := rollout.FromReplicaSet(rs)
		// Pods an old ReplicaSet still has beyond its spec are on their way
		// out but count until they are gone, so the surge bound holds.
		r.Replicas = max(r.Replicas, rs.Status.Replicas)
		olds = append(olds, rs)
		old = append(old, r)
		oldPods += int(rs.Status.Replicas)
	}
	var newReplicas, surge int32
	var oldReplicas []int32
	if d.Spec.Strategy.Type == api.RecreateDeploymentStrategyType {
		p, err := rollout.PlanRecreate(want, cur, old, oldPods)
		if err != nil {
			return "", err
		}
		newReplicas, oldReplicas = p.NewReplicas, p.OldReplicas
	} else {
		b, err := rollout.ResolveBounds(d.Spec.Strategy.RollingUpdate, want)
		if err != nil {
			c.rec.Eventf(d, api.EventTypeWarning, "InvalidStrategy", "%v", err)
			return "", nil // validation keeps such specs out; nothing to do until the spec changes
		}
		p, err := rollout.PlanRollingUpdate(want, b, cur, old)
		if err != nil {
			return "", err
		}
		newReplicas, oldReplicas, surge = p.NewReplicas, p.OldReplicas, b.MaxSurge
	}
	var lastRV string
	scale := func(rs *api.ReplicaSet, to int32) error {
		from := *rs.Spec.Replicas
		next := rs.DeepCopyObject().(*api.ReplicaSet)
		next.Spec.Replicas = api.Ptr(to)
		rollout.SetReplicasAnnotations(&next.ObjectMeta, want, surge)
		if rs == newRS {
			next.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		}
		if err := c.reg.Update(ctx, next, client.UpdateOptions{}); err != nil {
			return err
		}
		lastRV = next.ResourceVersion
		c.rec.Eventf(d, api.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", direction(from, to), next.Name, from, to)
		return nil
	}
	// Scale down first: the plan made room for the new Pods from it.
	for i, rs := range olds {
		if oldReplicas[i] < *rs.Spec.Replicas {
			if err := scale(rs, oldReplicas[i]); err != nil {
				return lastRV, ignoreConflict(err)
			}
		}
	}
	if newReplicas != *newRS.Spec.Replicas || newRS.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		if err := scale(newRS, newReplicas); err != nil {
			return lastRV, ignoreConflict(err)
		}
	}
	return lastRV, nil
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

func (c *deploymentController) createReplicaSet(ctx context.Context, d *api.Deployment, hash string, revision int64, replicas, maxSurge int32) (*api.ReplicaSet, error) {
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
			OwnerReferences: []api.OwnerReference{controllerutil.NewControllerRef(d)},
		},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr(replicas), MinReadySeconds: d.Spec.MinReadySeconds, Selector: &sel, Template: tmpl},
	}
	rollout.SetReplicasAnnotations(&rs.ObjectMeta, *d.Spec.Replicas, maxSurge)
	err := c.reg.Create(ctx, rs, client.CreateOptions{})
	if api.IsAlreadyExists(err) {
		var existing api.ReplicaSet
		if err := c.reg.Get(ctx, d.Namespace, rs.Name, &existing, client.GetOptions{Consistent: true}); err != nil {
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
		return nil, ignoreConflict(c.reg.UpdateStatus(ctx, next, client.UpdateOptions{}))
	}
	if err != nil {
		// As Kubernetes: a Warning Event and the Progressing condition
		// say why nothing happens (a name too long for the ReplicaSet's,
		// a full namespace, ...); the sync is retried with backoff.
		cond := rollout.CreateErrorCondition(rs.Name, err)
		c.rec.Eventf(d, api.EventTypeWarning, cond.Reason, "%s", cond.Message)
		if ctx.Err() == nil {
			next := d.DeepCopyObject().(*api.Deployment)
			if conditions.SetDeployment(&next.Status, cond, api.Now()) {
				if uerr := ignoreConflict(c.reg.UpdateStatus(ctx, next, client.UpdateOptions{})); uerr != nil {
					c.log.Debug("record the failed ReplicaSet create", zap.String("deployment", api.KeyOf(d)), zap.Error(uerr))
				}
			}
		}
		return nil, err
	}
	c.rec.Eventf(d, api.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s to %d", rs.Name, *rs.Spec.Replicas)
	return rs, nil
}

// updateStatus writes the Deployment's revision annotation and status from
// its ReplicaSets and returns when to look again for the progress
// deadline. started, if not nil, is the Progressing condition of a rollout
// this sync started (a new ReplicaSet created, or an old one made the
// newest by a rollback); the progress deadline counts from it.
func (c *deploymentController) updateStatus(ctx context.Context, key string, started *api.DeploymentCondition) (time.Duration, error) {
	o, ok := c.deps.Get(key)
	if !ok {
		return 0, nil
	}
	d := o.(*api.Deployment)
	hash := controllerutil.PodTemplateHash(&d.Spec.Template, d.Status.CollisionCount)
	st := api.Clone(d.Status)
	st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, st.UnavailableReplicas = 0, 0, 0, 0, 0
	var newName string
	var newRev, maxRev int64
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
		}
		if rs.DeletionTimestamp == nil {
			rev := revisionOf(rs)
			maxRev = max(maxRev, rev)
			if rs.Labels[api.PodTemplateHashLabel] == hash {
				newRev = rev
			}
		}
	}
	want := *d.Spec.Replicas
	st.UnavailableReplicas = max(0, want-st.AvailableReplicas)
	st.ObservedGeneration = d.Generation
	now := api.Now()
	var b rollout.Bounds
	if d.Spec.Strategy.Type != api.RecreateDeploymentStrategyType {
		b, _ = rollout.ResolveBounds(d.Spec.Strategy.RollingUpdate, want)
	}
	conditions.SetDeployment(&st, rollout.AvailableCondition(d, b, &st), now)
	if started != nil && !d.Spec.Paused {
		conditions.SetDeployment(&st, *started, now)
	} else if pc := rollout.ProgressingCondition(d, &st, newName, now.Time); pc != nil {
		conditions.SetDeployment(&st, *pc, now)
	}
	next := d.DeepCopyObject().(*api.Deployment)
	next.Status = st
	var requeue time.Duration
	if left, ok := rollout.DeadlineCheckIn(next, now.Time); ok {
		requeue = left + 10*time.Millisecond
	}
	if !jsonEqual(st, d.Status) {
		err := c.reg.UpdateStatus(ctx, next, client.UpdateOptions{})
		if api.IsConflict(err) || api.IsNotFound(err) {
			return requeue, nil
		}
		if err != nil {
			return 0, err
		}
	}
	// Status first: it may carry the start of a rollout, which this sync
	// alone knows. Only the newest revision is recorded, so a paused
	// Deployment whose template went back to an old one keeps its
	// annotation until the resumed rollout makes that ReplicaSet the
	// newest.
	if newRev > 0 && newRev == maxRev && rollout.SetRevision(&next.ObjectMeta, newRev) {
		// A conflict means a newer Deployment, whose event brings another
		// sync.
		if err := ignoreConflict(c.reg.Update(ctx, next, client.UpdateOptions{})); err != nil {
			return 0, err
		}
	}
	return requeue, nil
}
