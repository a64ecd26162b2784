package rollout

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// ReplicaSet is what a plan needs to know of one ReplicaSet.
type ReplicaSet struct {
	// Name identifies the ReplicaSet in errors; plans are index-aligned
	// with their input and do not use it otherwise.
	Name string
	// Replicas is spec.replicas.
	Replicas int32
	// Available is status.availableReplicas. Plans count at most Replicas
	// of them, so a status that lags a scale-down is never trusted to
	// hold more available Pods than the spec keeps.
	Available int32
	// Created orders old ReplicaSets: the oldest are scaled down first
	// (ties by Name).
	Created time.Time
	// Desired is the desired-replicas annotation (the Deployment's size
	// when the ReplicaSet was last scaled), valid when HasDesired.
	Desired    int32
	HasDesired bool
	// MaxReplicas is the max-replicas annotation (that size plus
	// maxSurge); 0 when absent or invalid. PlanScale scales from it.
	MaxReplicas int32
}

// FromReplicaSet reads spec.replicas (nil means 1, the API default),
// status.availableReplicas, the creation time and the desired-replicas
// and max-replicas annotations of rs (an unreadable one counts as absent).
func FromReplicaSet(rs *api.ReplicaSet) ReplicaSet {
	n := int32(1)
	if rs.Spec.Replicas != nil {
		n = *rs.Spec.Replicas
	}
	r := ReplicaSet{Name: rs.Name, Replicas: n, Available: rs.Status.AvailableReplicas, Created: rs.CreationTimestamp.Time}
	r.Desired, r.HasDesired = replicasAnnotation(&rs.ObjectMeta, api.DesiredReplicasAnnotation)
	r.MaxReplicas, _ = replicasAnnotation(&rs.ObjectMeta, api.MaxReplicasAnnotation)
	return r
}

func (r ReplicaSet) available() int32 { return max(0, min(r.Available, r.Replicas)) }

// Plan is one step of a rollout: the spec.replicas each ReplicaSet should
// have now.
type Plan struct {
	// NewReplicas is the new ReplicaSet's spec.replicas.
	NewReplicas int32
	// OldReplicas[i] is the spec.replicas of the i-th old ReplicaSet given.
	OldReplicas []int32
	// CleanedUp is how many not-available old Pods the step removes
	// before touching available ones (reported in Events).
	CleanedUp int32
}

// Changes reports whether applying p to newRS and old changes anything.
func (p Plan) Changes(newRS ReplicaSet, old []ReplicaSet) bool {
	if p.NewReplicas != newRS.Replicas {
		return true
	}
	for i, o := range old {
		if p.OldReplicas[i] != o.Replicas {
			return true
		}
	}
	return false
}

func validateSets(replicas int32, newRS ReplicaSet, old []ReplicaSet) error {
	if replicas < 0 {
		return fmt.Errorf("rollout: spec.replicas: must be >= 0, got %d", replicas)
	}
	check := func(what string, r ReplicaSet) error {
		if r.Replicas < 0 || r.Available < 0 {
			return fmt.Errorf("rollout: %s %q: replicas (%d) and available (%d) must be >= 0", what, r.Name, r.Replicas, r.Available)
		}
		return nil
	}
	if err := check("new ReplicaSet", newRS); err != nil {
		return err
	}
	for _, o := range old {
		if err := check("old ReplicaSet", o); err != nil {
			return err
		}
	}
	return nil
}

// PlanRollingUpdate computes one step of a rolling update from the
// desired replicas, the resolved bounds, the new ReplicaSet and the old
// ones (any order).
//
// Scale-up: the new ReplicaSet grows into the room left under
// replicas+MaxSurge (counting every ReplicaSet's spec.replicas), never
// beyond replicas; if it is above replicas it is scaled down to replicas.
//
// Scale-down of old ReplicaSets, oldest first, in two passes:
//  1. Unavailable old Pods are removed, as long as the Pods that would
//     remain (all ReplicaSets, after scale-up) minus the new ReplicaSet's
//     unavailable ones stay at least replicas-MaxUnavailable. They serve
//     nothing, so this costs no availability and unblocks rollouts whose
//     old version is itself broken.
//  2. Available old Pods are removed only down to replicas-MaxUnavailable
//     available Pods over all ReplicaSets.
//
// Both directions are applied in one plan; since scaling up never changes
// the available count, this is as safe as Kubernetes doing them in
// separate syncs. Errors: negative counts, naming the ReplicaSet.
func PlanRollingUpdate(replicas int32, b Bounds, newRS ReplicaSet, old []ReplicaSet) (Plan, error) {
	if err := validateSets(replicas, newRS, old); err != nil {
		return Plan{}, err
	}
	if b.MaxSurge < 0 || b.MaxUnavailable < 0 {
		return Plan{}, fmt.Errorf("rollout: bounds must be >= 0, got maxSurge %d maxUnavailable %d", b.MaxSurge, b.MaxUnavailable)
	}
	plan := Plan{NewReplicas: newRS.Replicas, OldReplicas: make([]int32, len(old))}
	var oldTotal int64
	for i, o := range old {
		plan.OldReplicas[i] = o.Replicas
		oldTotal += int64(o.Replicas)
	}

	// Scale the new ReplicaSet up into the surge room, or down to replicas.
	if newRS.Replicas > replicas {
		plan.NewReplicas = replicas
	} else {
		room := int64(replicas) + int64(b.MaxSurge) - oldTotal - int64(newRS.Replicas)
		if room > 0 {
			plan.NewReplicas = newRS.Replicas + int32(min(room, int64(replicas-newRS.Replicas)))
		}
	}
	if oldTotal == 0 {
		return plan, nil
	}

	minAvailable := int64(replicas) - int64(b.MaxUnavailable)
	newUnavailable := int64(plan.NewReplicas) - int64(newRS.available())
	order := oldestFirst(old)

	// Pass 1: remove old Pods that are not available.
	budget := int64(plan.NewReplicas) + oldTotal - minAvailable - newUnavailable
	for _, i := range order {
		if budget <= 0 {
			break
		}
		unavailable := int64(old[i].Replicas - old[i].available())
		n := min(unavailable, budget)
		plan.OldReplicas[i] -= int32(n)
		plan.CleanedUp += int32(n)
		budget -= n
	}

	// Pass 2: remove available old Pods down to minAvailable.
	available := int64(newRS.available())
	for _, o := range old {
		available += int64(o.available())
	}
	budget = available - minAvailable
	for _, i := range order {
		if budget <= 0 {
			break
		}
		n := min(int64(plan.OldReplicas[i]), budget)
		plan.OldReplicas[i] -= int32(n)
		budget -= n
	}
	return plan, nil
}

func oldestFirst(old []ReplicaSet) []int {
	order := make([]int, len(old))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := old[a].Created.Compare(old[b].Created); c != 0 {
			return c
		}
		return cmp.Compare(old[a].Name, old[b].Name)
	})
	return order
}

// RecreatePlan is one step of a Recreate rollout.
type RecreatePlan struct {
	// OldReplicas[i] is the spec.replicas of the i-th old ReplicaSet: 0.
	OldReplicas []int32
	// NewReplicas is the new ReplicaSet's spec.replicas: unchanged while
	// old Pods remain, replicas once they are all gone.
	NewReplicas int32
	// WaitingForOldPods is true while the new ReplicaSet is held back.
	WaitingForOldPods bool
}

// PlanRecreate computes one step of a Recreate rollout: scale every old
// ReplicaSet to 0, and only when none has spec.replicas left and no old
// Pod is still running (oldPodsRunning, counted by the caller over Pods
// that are not terminal) scale the new one to replicas. Errors: negative
// counts.
func PlanRecreate(replicas int32, newRS ReplicaSet, old []ReplicaSet, oldPodsRunning int) (RecreatePlan, error) {
	if err := validateSets(replicas, newRS, old); err != nil {
		return RecreatePlan{}, err
	}
	if oldPodsRunning < 0 {
		return RecreatePlan{}, fmt.Errorf("rollout: oldPodsRunning must be >= 0, got %d", oldPodsRunning)
	}
	p := RecreatePlan{OldReplicas: make([]int32, len(old)), NewReplicas: newRS.Replicas}
	waiting := oldPodsRunning > 0
	for _, o := range old {
		if o.Replicas > 0 {
			waiting = true
		}
	}
	if waiting {
		p.WaitingForOldPods = true
		return p, nil
	}
	p.NewReplicas = replicas
	return p, nil
}
