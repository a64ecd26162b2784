// Package conditions writes the status conditions of Pods, Nodes,
// Deployments and ReplicaSets the way Kubernetes' controllers do: one
// condition per type, the transition time kept while the status stays
// the same.
//
// Reading a condition is something users do, so the getters
// (api.GetPodCondition, api.IsPodReady, ...) stay in package api; writing
// them is the job of the agent, the scheduler, the registry's binding and
// the controllers, which is why the setters live here.
//
// Usage:
//
//  1. Build the condition as it should be now: its type, status, reason
//     and message (and LastHeartbeatTime for a Node).
//  2. Call the setter of its kind with the time to stamp a transition
//     with: changed := conditions.SetPod(&pod.Status, cond, api.Now()).
//  3. Write the status only when changed is true, so an unchanged state
//     costs no store write.
//
// What it does not do: it never reads or writes the store, and it does not
// decide what a condition should say (the callers do).
package conditions

import "github.com/flotilla-io/flotilla/orchestrator/api"

// accessors lets one set routine serve every condition type: each type
// names its type, status and transition time differently enough that
// generic field access is not possible without them.
type accessors[C any] struct {
	typ        func(*C) string
	status     func(*C) api.ConditionStatus
	transition func(*C) *api.Time
	equal      func(a, b *C) bool
}

// set adds cond or replaces the condition of its type. The transition time
// is kept when the status stays the same and set to now (unless cond
// carries one) when it changes. prepare, if not nil, adjusts cond against
// the current one (nil when absent) before the comparison. It reports
// whether anything changed.
func set[C any](conds *[]C, cond C, now api.Time, a accessors[C], prepare func(cur, next *C)) bool {
	var cur *C
	for i := range *conds {
		if a.typ(&(*conds)[i]) == a.typ(&cond) {
			cur = &(*conds)[i]
			break
		}
	}
	if cur == nil {
		if a.transition(&cond).IsZero() {
			*a.transition(&cond) = now
		}
		if prepare != nil {
			prepare(nil, &cond)
		}
		*conds = append(*conds, cond)
		return true
	}
	if a.status(cur) == a.status(&cond) {
		*a.transition(&cond) = *a.transition(cur)
	} else if a.transition(&cond).IsZero() {
		*a.transition(&cond) = now
	}
	if prepare != nil {
		prepare(cur, &cond)
	}
	if a.equal(cur, &cond) {
		return false
	}
	*cur = cond
	return true
}

// The comparisons use Time.Equal: the same instant may be held with
// different locations or monotonic readings.

var pod = accessors[api.PodCondition]{
	typ:        func(c *api.PodCondition) string { return string(c.Type) },
	status:     func(c *api.PodCondition) api.ConditionStatus { return c.Status },
	transition: func(c *api.PodCondition) *api.Time { return &c.LastTransitionTime },
	equal: func(a, b *api.PodCondition) bool {
		return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
			a.ObservedGeneration == b.ObservedGeneration && a.LastProbeTime.Equal(b.LastProbeTime) &&
			a.LastTransitionTime.Equal(b.LastTransitionTime)
	},
}

var deployment = accessors[api.DeploymentCondition]{
	typ:        func(c *api.DeploymentCondition) string { return string(c.Type) },
	status:     func(c *api.DeploymentCondition) api.ConditionStatus { return c.Status },
	transition: func(c *api.DeploymentCondition) *api.Time { return &c.LastTransitionTime },
	equal: func(a, b *api.DeploymentCondition) bool {
		return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
			a.LastUpdateTime.Equal(b.LastUpdateTime) && a.LastTransitionTime.Equal(b.LastTransitionTime)
	},
}

var replicaSet = accessors[api.ReplicaSetCondition]{
	typ:        func(c *api.ReplicaSetCondition) string { return string(c.Type) },
	status:     func(c *api.ReplicaSetCondition) api.ConditionStatus { return c.Status },
	transition: func(c *api.ReplicaSetCondition) *api.Time { return &c.LastTransitionTime },
	equal: func(a, b *api.ReplicaSetCondition) bool {
		return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
			a.LastTransitionTime.Equal(b.LastTransitionTime)
	},
}

var job = accessors[api.JobCondition]{
	typ:        func(c *api.JobCondition) string { return string(c.Type) },
	status:     func(c *api.JobCondition) api.ConditionStatus { return c.Status },
	transition: func(c *api.JobCondition) *api.Time { return &c.LastTransitionTime },
	equal: func(a, b *api.JobCondition) bool {
		return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
			a.LastProbeTime.Equal(b.LastProbeTime) && a.LastTransitionTime.Equal(b.LastTransitionTime)
	},
}

var node = accessors[api.NodeCondition]{
	typ:        func(c *api.NodeCondition) string { return string(c.Type) },
	status:     func(c *api.NodeCondition) api.ConditionStatus { return c.Status },
	transition: func(c *api.NodeCondition) *api.Time { return &c.LastTransitionTime },
	equal: func(a, b *api.NodeCondition) bool {
		return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
			a.LastHeartbeatTime.Equal(b.LastHeartbeatTime) && a.LastTransitionTime.Equal(b.LastTransitionTime)
	},
}

// SetPod adds or updates a Pod condition. LastTransitionTime is kept when
// the status does not change and set to now (if cond does not carry one)
// when it does. It reports whether anything changed.
func SetPod(status *api.PodStatus, cond api.PodCondition, now api.Time) bool {
	return set(&status.Conditions, cond, now, pod, nil)
}

// SetDeployment adds or updates a Deployment condition, keeping
// LastTransitionTime when the status does not change; LastUpdateTime is
// set to now whenever the condition changes. It reports whether anything
// changed.
func SetDeployment(status *api.DeploymentStatus, cond api.DeploymentCondition, now api.Time) bool {
	return set(&status.Conditions, cond, now, deployment, func(cur, next *api.DeploymentCondition) {
		if cur == nil {
			if next.LastUpdateTime.IsZero() {
				next.LastUpdateTime = now
			}
			return
		}
		// Compare without the update time; stamp it only on a change.
		next.LastUpdateTime = cur.LastUpdateTime
		if !deployment.equal(cur, next) {
			next.LastUpdateTime = now
		}
	})
}

// RemoveDeployment removes the Deployment condition of the given type and
// reports whether it was present.
func RemoveDeployment(status *api.DeploymentStatus, t api.DeploymentConditionType) bool {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			status.Conditions = append(status.Conditions[:i], status.Conditions[i+1:]...)
			return true
		}
	}
	return false
}

// SetReplicaSet adds or updates a ReplicaSet condition, keeping
// LastTransitionTime when the status does not change. It reports whether
// anything changed.
func SetReplicaSet(status *api.ReplicaSetStatus, cond api.ReplicaSetCondition, now api.Time) bool {
	return set(&status.Conditions, cond, now, replicaSet, nil)
}

// SetNode adds or updates a Node condition, keeping LastTransitionTime
// when the status does not change (LastHeartbeatTime is taken from cond).
// It reports whether anything changed.
func SetNode(status *api.NodeStatus, cond api.NodeCondition, now api.Time) bool {
	return set(&status.Conditions, cond, now, node, nil)
}

// SetJob adds or updates a Job condition, keeping LastTransitionTime when
// the status does not change; LastProbeTime is set to now whenever the
// condition changes, as Kubernetes' Job controller does. It reports
// whether anything changed.
func SetJob(status *api.JobStatus, cond api.JobCondition, now api.Time) bool {
	return set(&status.Conditions, cond, now, job, func(cur, next *api.JobCondition) {
		if cur == nil {
			if next.LastProbeTime.IsZero() {
				next.LastProbeTime = now
			}
			return
		}
		next.LastProbeTime = cur.LastProbeTime
		if !job.equal(cur, next) {
			next.LastProbeTime = now
		}
	})
}
