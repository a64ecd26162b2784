package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/controllerutil"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"github.com/flotilla-io/flotilla/orchestrator/internal/scheduler"
	"go.uber.org/zap"
)

// daemonSetController keeps one Pod of each DaemonSet on every Node that
// should run it, as Kubernetes' DaemonSet controller does:
//
//   - A Node should run the Pod when the template's nodeSelector and
//     required node affinity match it and the template's tolerations, plus
//     the ones every DaemonSet Pod gets (daemonTolerations), tolerate its
//     NoSchedule and NoExecute taints: the scheduler's own predicates
//     decide. A Node that gains an untolerated NoSchedule taint keeps a Pod
//     it runs; an untolerated NoExecute taint or a label no longer
//     matching removes it. Readiness and cordoning do not count, as in
//     Kubernetes: the scheduler binds the Pod once the Node is Ready, and
//     a cordoned Node still takes it.
//   - Each Pod is pinned to its Node by a required node affinity on
//     metadata.name (matchFields) and bound by the scheduler, which thus
//     checks capacity and ports as for any Pod.
//   - Pods carry the controller-revision-hash label (the template's hash);
//     RollingUpdate replaces old Pods while at most maxUnavailable Nodes
//     lack an available Pod (or, with maxSurge, starts the new Pod beside
//     the old one on at most maxSurge Nodes at a time); OnDelete replaces a
//     Pod only once someone deleted it. No ControllerRevisions are kept.
//   - Failed Pods are deleted and replaced; Pods on Nodes that are gone
//     are deleted.
type daemonSetController struct {
	reg   client.Interface
	pods  *informer.Informer
	nodes *informer.Informer
	dss   *informer.Informer
	rec   *events.Recorder
	log   *zap.Logger
	*loop
	exp podExpectations
}

func newDaemonSetController(reg client.Interface, pods, nodes, dss *informer.Informer, rec *events.Recorder, log *zap.Logger, met *metrics.Node) *daemonSetController {
	c := &daemonSetController{reg: reg, pods: pods, nodes: nodes, dss: dss, rec: rec, log: log.Named("daemonset"), exp: podExpectations{pods: pods}}
	c.loop = newLoop("daemonset", 4, log, met, c.reconcile)
	enqueue := func(o api.Object) { c.queue.Add(api.KeyOf(o)) }
	dss.AddHandler(informer.Handler{OnAdd: enqueue, OnUpdate: func(_, o api.Object) { enqueue(o) }, OnDelete: enqueue})
	podEvent := func(o api.Object) {
		if ref := api.GetControllerOf(o); ref != nil && ref.Kind == "DaemonSet" {
			c.queue.Add(api.Key(o.GetNamespace(), ref.Name))
		}
	}
	pods.AddHandler(informer.Handler{OnAdd: podEvent, OnUpdate: func(_, o api.Object) { podEvent(o) }, OnDelete: podEvent})
	all := func() {
		for _, o := range dss.List() {
			enqueue(o)
		}
	}
	nodes.AddHandler(informer.Handler{
		OnAdd:    func(api.Object) { all() },
		OnDelete: func(api.Object) { all() },
		OnUpdate: func(old, cur api.Object) {
			if nodePlacementChanged(old.(*api.Node), cur.(*api.Node)) {
				all()
			}
		},
	})
	return c
}

// nodePlacementChanged reports whether a Node update can change which
// DaemonSets should run on it or whether their Pods can be bound: its
// labels, taints, cordon or readiness. Status heartbeats do not.
func nodePlacementChanged(old, cur *api.Node) bool {
	return !maps.Equal(old.Labels, cur.Labels) || !jsonEqual(old.Spec.Taints, cur.Spec.Taints) ||
		old.Spec.Unschedulable != cur.Spec.Unschedulable || api.IsNodeReady(old) != api.IsNodeReady(cur)
}

// daemonTolerations are added to every DaemonSet Pod, as Kubernetes does:
// it stays on a Node that is not ready or unreachable, and is placed on
// one under pressure or cordoned.
func daemonTolerations(spec *api.PodSpec) []api.Toleration {
	add := []api.Toleration{
		{Key: api.TaintNodeNotReady, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute},
		{Key: api.TaintNodeUnreachable, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute},
		{Key: api.TaintNodeDiskPressure, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoSchedule},
		{Key: api.TaintNodeMemoryPressure, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoSchedule},
		{Key: api.TaintNodePIDPressure, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoSchedule},
		{Key: api.TaintNodeUnschedulable, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoSchedule},
	}
	if spec.HostNetwork {
		add = append(add, api.Toleration{Key: api.TaintNodeNetworkUnavailable, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoSchedule})
	}
	out := slices.Clone(spec.Tolerations)
	for _, t := range add {
		if !slices.ContainsFunc(out, func(o api.Toleration) bool { return o.Key == t.Key && o.Effect == t.Effect }) {
			out = append(out, t)
		}
	}
	return out
}

// nodeShouldRun says whether node should run a Pod of spec (a template
// spec with the daemon tolerations) and whether a Pod already there may
// stay: an untolerated NoSchedule taint keeps new Pods off but lets a
// running one stay.
func nodeShouldRun(spec *api.PodSpec, node *api.Node) (shouldRun, shouldContinue bool) {
	if !scheduler.NodeMatches(spec, node) {
		return false, false
	}
	if _, bad := scheduler.UntoleratedTaint(node.Spec.Taints, spec.Tolerations, api.TaintEffectNoExecute); bad {
		return false, false
	}
	if _, bad := scheduler.UntoleratedTaint(node.Spec.Taints, spec.Tolerations, api.TaintEffectNoSchedule); bad {
		return false, true
	}
	return true, true
}

// targetNode is the Node a DaemonSet Pod is for: its spec.nodeName once
// bound, else the metadata.name its node affinity pins it to.
func targetNode(p *api.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range t.MatchFields {
			if r.Key == "metadata.name" && r.Operator == api.NodeSelectorOpIn && len(r.Values) == 1 {
				return r.Values[0]
			}
		}
	}
	return ""
}

// nodePods is what one Node runs of a DaemonSet.
type nodePods struct {
	live        []*api.Pod // not terminal, not being deleted; oldest first
	terminating int        // being deleted
	failed      []*api.Pod
}

func (c *daemonSetController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	o, ok := c.dss.Get(key)
	if !ok {
		return 0, nil // its Pods are the garbage collector's
	}
	ds := o.(*api.DaemonSet)
	if ds.DeletionTimestamp != nil {
		return 0, nil
	}
	// The cache must show this controller's last writes before it decides
	// again, or it would create a second Pod on a Node.
	if err := c.exp.wait(ctx); err != nil {
		return 0, err
	}
	hash := controllerutil.PodTemplateHash(&ds.Spec.Template, ds.Status.CollisionCount)
	spec := ds.Spec.Template.Spec
	spec.Tolerations = daemonTolerations(&spec)

	byNode := map[string]*nodePods{}
	for _, po := range c.pods.ByIndex(informer.IndexOwner, string(ds.UID)) {
		p := po.(*api.Pod)
		if !api.IsControlledBy(p, ds) {
			continue
		}
		n := targetNode(p)
		np := byNode[n]
		if np == nil {
			np = &nodePods{}
			byNode[n] = np
		}
		switch {
		case p.DeletionTimestamp != nil:
			np.terminating++
		case p.Status.Phase == api.PodFailed:
			np.failed = append(np.failed, p)
		case p.Status.Phase == api.PodSucceeded:
			np.failed = append(np.failed, p) // a daemon Pod must not end: replace it as well
		default:
			np.live = append(np.live, p)
		}
	}
	for _, np := range byNode {
		slices.SortStableFunc(np.live, func(a, b *api.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	}

	maxSurge, maxUnavailable := 0, 0
	rolling := ds.Spec.UpdateStrategy.Type == api.RollingUpdateDaemonSetStrategyType && ds.Spec.UpdateStrategy.RollingUpdate != nil
	desired := 0
	var toCreate []string
	var toDelete []*api.Pod
	var running []runningNode // Nodes that should run the Pod and run some
	var kept []*nodePods      // Nodes that should not get the Pod but may keep it
	noPod := 0                // Nodes that should run the Pod and run none
	seen := map[string]bool{}
	for _, no := range c.nodes.List() {
		node := no.(*api.Node)
		seen[node.Name] = true
		shouldRun, shouldContinue := nodeShouldRun(&spec, node)
		np := byNode[node.Name]
		if np == nil {
			np = &nodePods{}
		}
		if shouldRun {
			desired++
		}
		toDelete = append(toDelete, np.failed...)
		switch {
		case !shouldContinue:
			toDelete = append(toDelete, np.live...)
		case len(np.live) == 0:
			if !shouldRun {
				break
			}
			noPod++
			// Wait for a Pod being deleted to go first: two Pods of a
			// set on one Node may clash (host ports, files).
			if np.terminating == 0 && len(np.failed) == 0 {
				toCreate = append(toCreate, node.Name)
			}
		case shouldRun:
			running = append(running, runningNode{name: node.Name, pods: np})
		default:
			kept = append(kept, np)
		}
	}
	// Pods of Nodes that are gone, or pinned to no Node at all.
	for name, np := range byNode {
		if !seen[name] {
			toDelete = append(toDelete, np.live...)
			toDelete = append(toDelete, np.failed...)
		}
	}

	if rolling {
		b, err := daemonSetBounds(ds.Spec.UpdateStrategy.RollingUpdate, desired)
		if err != nil {
			return 0, nil // validation keeps this from happening
		}
		maxSurge, maxUnavailable = b.surge, b.unavailable
	}
	now := api.Now()
	avail := func(p *api.Pod) bool { return api.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) }
	isNew := func(p *api.Pod) bool { return p.Labels[api.ControllerRevisionHashLabel] == hash }

	// Extra Pods on a Node: keep one (the newest of the current template,
	// else the oldest), and while surging also the oldest old one.
	trim := slices.Clone(kept)
	for _, n := range running {
		trim = append(trim, n.pods)
	}
	for _, np := range trim {
		live := np.live
		if len(live) < 2 {
			continue
		}
		keep := map[*api.Pod]bool{}
		var newest *api.Pod
		for _, p := range live {
			if isNew(p) {
				newest = p
			}
		}
		if newest != nil {
			keep[newest] = true
			if maxSurge > 0 {
				if i := slices.IndexFunc(live, func(p *api.Pod) bool { return !isNew(p) }); i >= 0 {
					keep[live[i]] = true
				}
			}
		} else {
			keep[live[0]] = true
		}
		var stay []*api.Pod
		for _, p := range live {
			if keep[p] {
				stay = append(stay, p)
			} else {
				toDelete = append(toDelete, p)
			}
		}
		np.live = stay
	}

	var requeue time.Duration
	if rolling {
		dels, creates, waiting := rollingUpdate(running, noPod, maxSurge, maxUnavailable, isNew, avail)
		toDelete = append(toDelete, dels...)
		toCreate = append(toCreate, creates...)
		if waiting {
			requeue = time.Second
		}
	}

	created, createErr := c.createPods(ctx, ds, hash, toCreate)
	if created > 0 {
		c.rec.Eventf(ds, api.EventTypeNormal, "SuccessfulCreate", "Created %d pod(s)", created)
	}
	if createErr != nil {
		c.rec.Eventf(ds, api.EventTypeWarning, "FailedCreate", "Error creating pods: %v", createErr)
	}
	deleted, _, deleteErr := deletePods(ctx, c.reg, &c.exp, toDelete)
	if deleted > 0 {
		c.rec.Eventf(ds, api.EventTypeNormal, "SuccessfulDelete", "Deleted %d pod(s)", deleted)
	}
	if err := c.exp.wait(ctx); err != nil {
		return 0, err
	}
	after, err := c.updateStatus(ctx, key, hash)
	if err := errors.Join(createErr, deleteErr, err); err != nil {
		return 0, err
	}
	if requeue == 0 || (after > 0 && after < requeue) {
		requeue = after
	}
	return requeue, nil
}

type dsBounds struct{ surge, unavailable int }

// daemonSetBounds resolves maxSurge and maxUnavailable against the Nodes
// that should run the Pod, both rounded up as Kubernetes does for
// DaemonSets; when both come to 0, maxUnavailable is 1.
func daemonSetBounds(ru *api.RollingUpdateDaemonSet, desired int) (dsBounds, error) {
	resolve := func(v *api.IntOrString) (int, error) {
		if v == nil {
			return 0, nil
		}
		if v.Type == api.Int {
			return int(v.IntVal), nil
		}
		pct, err := api.ParsePercent(v.StrVal)
		if err != nil {
			return 0, err
		}
		return (pct*desired + 99) / 100, nil
	}
	s, err1 := resolve(ru.MaxSurge)
	u, err2 := resolve(ru.MaxUnavailable)
	if err := errors.Join(err1, err2); err != nil {
		return dsBounds{}, err
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return dsBounds{surge: s, unavailable: u}, nil
}

// runningNode is a Node that should run the Pod and runs one or more.
type runningNode struct {
	name string
	pods *nodePods
}

// rollingUpdate chooses the old Pods to delete and the Nodes to start a
// new Pod on beside an old one, by Kubernetes' arithmetic. unavailable is
// the number of Nodes that should run the Pod and run none yet.
//
//   - Without surge, a Node counts as unavailable while it lacks an
//     available Pod; an old Pod that is not available is replaced at once,
//     and available old Pods are deleted only while fewer than
//     maxUnavailable Nodes are unavailable, so that the update never makes
//     more than maxUnavailable Nodes lack one.
//   - With surge, a new Pod starts beside an available old one on at most
//     maxSurge Nodes at a time, and the old Pod goes once the new one is
//     available; an old Pod that is not available gets its new one at
//     once.
//
// waiting reports a Pod that is ready but not yet available
// (minReadySeconds), which no event will announce.
func rollingUpdate(running []runningNode, unavailable, maxSurge, maxUnavailable int, isNew, avail func(*api.Pod) bool) (dels []*api.Pod, creates []string, waiting bool) {
	slices.SortFunc(running, func(a, b runningNode) int { return cmp.Compare(a.name, b.name) })
	var oldAvailable []*api.Pod
	var candidates []string
	surging := 0
	for _, n := range running {
		var newP, oldP *api.Pod
		for _, p := range n.pods.live {
			if isNew(p) {
				newP = p
			} else if oldP == nil {
				oldP = p
			}
		}
		if newP != nil && !avail(newP) && api.IsPodReady(newP) {
			waiting = true
		}
		switch {
		case oldP == nil:
			if !avail(newP) {
				unavailable++
			}
		case maxSurge == 0 && newP == nil:
			if avail(oldP) {
				oldAvailable = append(oldAvailable, oldP)
			} else {
				unavailable++
				dels = append(dels, oldP)
			}
		case maxSurge == 0:
			// Both, left from a surge before the strategy changed: the
			// old one goes once the new one serves.
			if avail(newP) {
				dels = append(dels, oldP)
			} else {
				unavailable++
			}
		case newP == nil:
			if avail(oldP) {
				candidates = append(candidates, n.name)
			} else {
				creates = append(creates, n.name)
			}
		default:
			if avail(newP) {
				dels = append(dels, oldP)
			} else {
				surging++
			}
		}
	}
	if maxSurge == 0 {
		budget := max(0, min(maxUnavailable-unavailable, len(oldAvailable)))
		return append(dels, oldAvailable[:budget]...), creates, waiting
	}
	budget := max(0, min(maxSurge-surging, len(candidates)))
	return dels, append(creates, candidates[:budget]...), waiting
}

// createPods creates a Pod of ds for each Node, concurrently (at most
// maxInFlight at a time), and returns how many it created and the
// errors.
func (c *daemonSetController) createPods(ctx context.Context, ds *api.DaemonSet, hash string, nodes []string) (int, error) {
	var mu sync.Mutex
	var errs []error
	var keys []string
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for _, n := range nodes {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p := daemonPod(ds, hash, n)
			err := c.reg.Create(ctx, p, client.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n, err))
				return
			}
			keys = append(keys, api.Key(p.Namespace, p.Name))
		}()
	}
	wg.Wait()
	c.exp.expect(keys, true)
	return len(keys), errors.Join(errs...)
}

// daemonPod is ds's Pod for node: the template with the hash label, the
// daemon tolerations, and its required node affinity replaced by one
// term pinning it to node (the template's own terms were checked when
// the Node was chosen), as Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity.
func daemonPod(ds *api.DaemonSet, hash, node string) *api.Pod {
	t := api.Clone(ds.Spec.Template)
	labels := maps.Clone(t.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[api.ControllerRevisionHashLabel] = hash
	spec := t.Spec
	spec.Tolerations = daemonTolerations(&spec)
	if spec.Affinity == nil {
		spec.Affinity = &api.Affinity{}
	}
	if spec.Affinity.NodeAffinity == nil {
		spec.Affinity.NodeAffinity = &api.NodeAffinity{}
	}
	spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &api.NodeSelector{
		NodeSelectorTerms: []api.NodeSelectorTerm{{MatchFields: []api.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: api.NodeSelectorOpIn, Values: []string{node}},
		}}},
	}
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{
			GenerateName:    ds.Name + "-",
			Namespace:       ds.Namespace,
			Labels:          labels,
			Annotations:     maps.Clone(t.Annotations),
			OwnerReferences: []api.OwnerReference{controllerutil.NewControllerRef(ds)},
		},
		Spec: spec,
	}
}

// updateStatus writes the counts Kubernetes reports, from the cache
// (which shows this reconcile's writes), and returns when to look again
// for a Pod that becomes available after minReadySeconds.
func (c *daemonSetController) updateStatus(ctx context.Context, key, hash string) (time.Duration, error) {
	o, ok := c.dss.Get(key)
	if !ok {
		return 0, nil
	}
	ds := o.(*api.DaemonSet)
	spec := ds.Spec.Template.Spec
	spec.Tolerations = daemonTolerations(&spec)
	byNode := map[string][]*api.Pod{}
	for _, po := range c.pods.ByIndex(informer.IndexOwner, string(ds.UID)) {
		p := po.(*api.Pod)
		if !api.IsControlledBy(p, ds) || p.DeletionTimestamp != nil || api.IsPodTerminal(p) {
			continue
		}
		byNode[targetNode(p)] = append(byNode[targetNode(p)], p)
	}
	now := api.Now()
	var st api.DaemonSetStatus
	var requeue time.Duration
	for _, no := range c.nodes.List() {
		node := no.(*api.Node)
		shouldRun, _ := nodeShouldRun(&spec, node)
		pods := byNode[node.Name]
		if !shouldRun {
			if len(pods) > 0 {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		if len(pods) == 0 {
			continue
		}
		st.CurrentNumberScheduled++
		var ready, available, updated bool
		for _, p := range pods {
			if api.IsPodReady(p) {
				ready = true
				if api.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) {
					available = true
				} else {
					requeue = time.Duration(ds.Spec.MinReadySeconds) * time.Second
				}
			}
			if p.Labels[api.ControllerRevisionHashLabel] == hash {
				updated = true
			}
		}
		if ready {
			st.NumberReady++
		}
		if available {
			st.NumberAvailable++
		}
		if updated {
			st.UpdatedNumberScheduled++
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	st.ObservedGeneration = ds.Generation
	st.CollisionCount = ds.Status.CollisionCount
	st.Conditions = ds.Status.Conditions
	if jsonEqual(st, ds.Status) {
		return requeue, nil
	}
	next := ds.DeepCopyObject().(*api.DaemonSet)
	next.Status = st
	if err := c.reg.UpdateStatus(ctx, next, client.UpdateOptions{}); err != nil {
		if api.IsConflict(err) || api.IsNotFound(err) {
			return 0, nil // the newer version re-queues us
		}
		return 0, err
	}
	return requeue, nil
}
