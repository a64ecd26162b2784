package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/controllerutil"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"go.uber.org/zap"
)

// maxBurst bounds the Pods one reconcile creates or deletes; the rest
// follow in the next pass. maxInFlight bounds the writes under way at a
// time.
const (
	maxBurst    = 500
	maxInFlight = 64
)

type replicaSetController struct {
	reg  client.Interface
	pods *informer.Informer
	rss  *informer.Informer
	rec  *events.Recorder
	log  *zap.Logger
	*loop
	exp podExpectations
}

func newReplicaSetController(reg client.Interface, pods, rss *informer.Informer, rec *events.Recorder, log *zap.Logger, met *metrics.Node) *replicaSetController {
	c := &replicaSetController{reg: reg, pods: pods, rss: rss, rec: rec, log: log.Named("replicaset"), exp: podExpectations{pods: pods}}
	c.loop = newLoop("replicaset", 4, log, met, c.reconcile)
	enqueueRS := func(o api.Object) { c.queue.Add(api.KeyOf(o)) }
	rss.AddHandler(informer.Handler{OnAdd: enqueueRS, OnUpdate: func(_, o api.Object) { enqueueRS(o) }, OnDelete: enqueueRS})
	podEvent := func(o api.Object) {
		if ref := api.GetControllerOf(o); ref != nil {
			if ref.Kind == "ReplicaSet" {
				c.queue.Add(api.Key(o.GetNamespace(), ref.Name))
			}
			return
		}
		// An orphan: any ReplicaSet whose selector matches may adopt it.
		for _, r := range rss.ByIndex(informer.IndexNamespace, o.GetNamespace()) {
			rs := r.(*api.ReplicaSet)
			if sel, err := api.LabelSelectorAsSelector(rs.Spec.Selector); err == nil && sel.Matches(o.GetLabels()) {
				c.queue.Add(api.KeyOf(rs))
			}
		}
	}
	pods.AddHandler(informer.Handler{OnAdd: podEvent, OnUpdate: func(_, o api.Object) { podEvent(o) }, OnDelete: podEvent})
	return c
}

func (c *replicaSetController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	o, ok := c.rss.Get(key)
	if !ok {
		return 0, nil // its Pods are the garbage collector's
	}
	rs := o.(*api.ReplicaSet)
	if rs.DeletionTimestamp != nil {
		return 0, nil
	}
	sel, err := api.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return 0, nil // validation keeps this from happening
	}
	var lastRev int64
	note := func(rv string) {
		if n, _ := client.ParseResourceVersion(rv); n > lastRev {
			lastRev = n
		}
	}
	var active, terminal []*api.Pod
	for _, po := range c.pods.ByIndex(informer.IndexNamespace, rs.Namespace) {
		p := po.(*api.Pod)
		ref := api.GetControllerOf(p)
		switch {
		case ref != nil && ref.UID != rs.UID:
			continue
		case ref == nil:
			if p.DeletionTimestamp != nil || api.IsPodTerminal(p) || !sel.Matches(p.Labels) {
				continue
			}
			adopted := p.DeepCopyObject().(*api.Pod)
			adopted.OwnerReferences = append(adopted.OwnerReferences, controllerutil.NewControllerRef(rs))
			if err := c.reg.Update(ctx, adopted, client.UpdateOptions{}); err != nil {
				if api.IsConflict(err) || api.IsNotFound(err) {
					continue
				}
				return 0, err
			}
			note(adopted.ResourceVersion)
			p = adopted
		case !sel.Matches(p.Labels):
			// Owned but no longer selected: release it.
			released := p.DeepCopyObject().(*api.Pod)
			released.OwnerReferences = slices.DeleteFunc(released.OwnerReferences, func(r api.OwnerReference) bool { return r.UID == rs.UID })
			if err := c.reg.Update(ctx, released, client.UpdateOptions{}); err != nil && !api.IsConflict(err) && !api.IsNotFound(err) {
				return 0, err
			}
			note(released.ResourceVersion)
			continue
		}
		if p.DeletionTimestamp != nil {
			continue
		}
		if api.IsPodTerminal(p) {
			terminal = append(terminal, p)
			continue
		}
		active = append(active, p)
	}
	want := int(*rs.Spec.Replicas)
	diff := len(active) - want
	var createErr error
	switch {
	case diff < 0:
		n := min(-diff, maxBurst)
		rev, created, err := c.createPods(ctx, rs, n)
		note(rev)
		createErr = err
		if created > 0 {
			c.rec.Eventf(rs, api.EventTypeNormal, "SuccessfulCreate", "Created %d pod(s)", created)
		}
		if err != nil {
			c.rec.Eventf(rs, api.EventTypeWarning, "FailedCreate", "Error creating pods: %v", err)
		}
	case diff > 0:
		sortForDeletion(active)
		victims := active[:min(diff, maxBurst)]
		deleted, rev, err := deletePods(ctx, c.reg, &c.exp, victims)
		note(fmt.Sprint(rev))
		if deleted > 0 {
			c.rec.Eventf(rs, api.EventTypeNormal, "SuccessfulDelete", "Deleted %d pod(s)", deleted)
		}
		if err != nil {
			return 0, err
		}
	}
	// Failed Pods have been replaced above (they are not active); remove
	// them so they do not pile up.
	if len(terminal) > 0 {
		_, rev, err := deletePods(ctx, c.reg, &c.exp, terminal)
		note(fmt.Sprint(rev))
		if err != nil {
			return 0, err
		}
	}
	if lastRev > 0 {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.pods.WaitForRevision(wctx, lastRev)
		if err == nil {
			err = c.exp.wait(wctx)
		}
		cancel()
		if err != nil {
			return 0, err
		}
	}
	after, err := c.updateStatus(ctx, rs, sel, createErr)
	if err != nil {
		return 0, err
	}
	if createErr != nil {
		return 0, createErr
	}
	if diff < -maxBurst || diff > maxBurst {
		return time.Millisecond, nil
	}
	return after, nil
}

// createPods creates n Pods of rs with Kubernetes' slow start: one
// create at first, and two more for each that succeeds, so the creates
// under way double each round trip (up to maxInFlight) while they
// succeed, and none is started after the first failure. A create bound to
// fail (a full namespace, a template admission refuses) then costs one
// write, not n, and one that starts failing part way costs at most one
// more write than twice the creates that succeeded. Unlike Kubernetes'
// batches, no create waits for a whole batch to end. It returns the
// resourceVersion of the last create, how many it created and the first
// error.
func (c *replicaSetController) createPods(ctx context.Context, rs *api.ReplicaSet, n int) (string, int, error) {
	var names []string
	defer func() { c.exp.expect(names, true) }()
	type result struct {
		pod *api.Pod
		err error
	}
	results := make(chan result, maxInFlight)
	var lastRev int64
	var firstErr error
	created, started, inFlight, credit := 0, 0, 0, 1
	for {
		for credit > 0 && inFlight < maxInFlight && started < n && firstErr == nil {
			credit--
			inFlight++
			started++
			go func() {
				p := podFromTemplate(rs)
				results <- result{p, c.reg.Create(ctx, p, client.CreateOptions{})}
			}()
		}
		if inFlight == 0 {
			break
		}
		r := <-results
		inFlight--
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		created++
		credit += 2
		names = append(names, api.Key(r.pod.Namespace, r.pod.Name))
		if rv, _ := client.ParseResourceVersion(r.pod.ResourceVersion); rv > lastRev {
			lastRev = rv
		}
	}
	return fmt.Sprint(lastRev), created, firstErr
}

func podFromTemplate(rs *api.ReplicaSet) *api.Pod {
	t := api.Clone(rs.Spec.Template)
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{
			GenerateName:    rs.Name + "-",
			Namespace:       rs.Namespace,
			Labels:          maps.Clone(t.Labels),
			Annotations:     maps.Clone(t.Annotations),
			OwnerReferences: []api.OwnerReference{controllerutil.NewControllerRef(rs)},
		},
		Spec: t.Spec,
	}
}

// sortForDeletion orders Pods so the ones to delete first come first:
// unbound before bound, Pending before Running, not ready before ready,
// more restarts first, newer before older.
func sortForDeletion(pods []*api.Pod) {
	rank := func(p *api.Pod) int {
		switch p.Status.Phase {
		case api.PodPending, "":
			return 0
		case api.PodUnknown:
			return 1
		}
		return 2
	}
	restarts := func(p *api.Pod) int32 {
		var n int32
		for _, cs := range p.Status.ContainerStatuses {
			n = max(n, cs.RestartCount)
		}
		return n
	}
	slices.SortStableFunc(pods, func(a, b *api.Pod) int {
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			if a.Spec.NodeName == "" {
				return -1
			}
			return 1
		}
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if ra, rb := api.IsPodReady(a), api.IsPodReady(b); ra != rb {
			if !ra {
				return -1
			}
			return 1
		}
		if ra, rb := restarts(a), restarts(b); ra != rb {
			return int(rb - ra)
		}
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
}

func (c *replicaSetController) updateStatus(ctx context.Context, rs *api.ReplicaSet, sel api.Selector, createErr error) (time.Duration, error) {
	// Re-read: the cache has our writes now.
	o, ok := c.rss.Get(api.KeyOf(rs))
	if !ok {
		return 0, nil
	}
	rs = o.(*api.ReplicaSet)
	now := api.Now()
	var st api.ReplicaSetStatus
	st.Conditions = slices.Clone(rs.Status.Conditions)
	var requeue time.Duration
	templateLabels := api.SelectorFromSet(rs.Spec.Template.Labels)
	for _, po := range c.pods.ByIndex(informer.IndexOwner, string(rs.UID)) {
		p := po.(*api.Pod)
		if !api.IsControlledBy(p, rs) || p.DeletionTimestamp != nil || api.IsPodTerminal(p) {
			continue
		}
		st.Replicas++
		if templateLabels.Matches(p.Labels) {
			st.FullyLabeledReplicas++
		}
		if api.IsPodReady(p) {
			st.ReadyReplicas++
			if api.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				st.AvailableReplicas++
			} else if rs.Spec.MinReadySeconds > 0 {
				requeue = time.Duration(rs.Spec.MinReadySeconds) * time.Second
			}
		}
	}
	st.ObservedGeneration = rs.Generation
	if createErr != nil && !errors.Is(createErr, context.Canceled) {
		conditions.SetReplicaSet(&st, api.ReplicaSetCondition{Type: api.ReplicaSetReplicaFailure, Status: api.ConditionTrue, Reason: "FailedCreate", Message: createErr.Error()}, now)
	} else {
		st.Conditions = slices.DeleteFunc(st.Conditions, func(c api.ReplicaSetCondition) bool { return c.Type == api.ReplicaSetReplicaFailure })
		if len(st.Conditions) == 0 {
			st.Conditions = nil
		}
	}
	if jsonEqual(st, rs.Status) {
		return requeue, nil
	}
	next := rs.DeepCopyObject().(*api.ReplicaSet)
	next.Status = st
	if err := c.reg.UpdateStatus(ctx, next, client.UpdateOptions{}); err != nil {
		if api.IsConflict(err) || api.IsNotFound(err) {
			return 0, nil // the newer version re-queues us
		}
		return 0, err
	}
	return requeue, nil
}
