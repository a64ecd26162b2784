package rollout

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// SetReplicasAnnotations records the Deployment's size on meta (a
// ReplicaSet being scaled): replicas in the desired-replicas annotation and
// replicas+maxSurge in the max-replicas annotation. It reports whether
// that changed anything.
func SetReplicasAnnotations(meta *api.ObjectMeta, replicas, maxSurge int32) bool {
	desired := strconv.FormatInt(int64(replicas), 10)
	most := strconv.FormatInt(int64(replicas)+int64(maxSurge), 10)
	if meta.Annotations[api.DesiredReplicasAnnotation] == desired && meta.Annotations[api.MaxReplicasAnnotation] == most {
		return false
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[api.DesiredReplicasAnnotation] = desired
	meta.Annotations[api.MaxReplicasAnnotation] = most
	return true
}

// replicasAnnotation reads a non-negative int32 annotation.
func replicasAnnotation(meta *api.ObjectMeta, name string) (int32, bool) {
	v, ok := meta.Annotations[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, false
	}
	return int32(n), true
}

// IsScalingEvent reports whether the Deployment was resized to replicas
// since its active ReplicaSets (those with Replicas > 0) were last scaled:
// one of them records another desired size (Desired, with HasDesired). A
// ReplicaSet without the annotation does not count, so ReplicaSets made
// before the annotations existed start proportional scaling only after
// their first scale.
func IsScalingEvent(replicas int32, sets []ReplicaSet) bool {
	for _, s := range sets {
		if s.Replicas > 0 && s.HasDesired && s.Desired != replicas {
			return true
		}
	}
	return false
}

// PlanScale computes the spec.replicas of each ReplicaSet (index-aligned
// with sets) when a Deployment is resized to replicas, given its resolved
// bounds, as Kubernetes' proportional scaling does.
//
// With no active ReplicaSet (Replicas > 0) nothing changes; with one, it
// gets replicas. With several (a rollout in progress), the difference
// between replicas+MaxSurge (0 when replicas is 0) and the sum of all
// Replicas is shared among the active ReplicaSets in proportion to their
// sizes: each would become Replicas × (replicas+MaxSurge) / MaxReplicas,
// rounded half up, where MaxReplicas is the max-replicas annotation of
// when it was last scaled (the sum of all Replicas when it is missing or
// 0). Shares are handed out largest ReplicaSet first — on equal sizes the
// newest first when growing and the oldest first when shrinking — and
// none is given more than what is left to distribute; what rounding leaves
// over goes to the first (largest) one. A ReplicaSet never moves against
// the direction of the resize and never goes below 0; a scale to 0 takes
// every ReplicaSet to 0. Inactive ReplicaSets stay at 0.
//
// Because a ReplicaSet already scaled carries the new max-replicas, its
// share comes out as 0, so running PlanScale again after only some of
// its results were applied finishes the job without scaling anything
// twice. Errors: negative counts or bounds.
func PlanScale(replicas int32, b Bounds, sets []ReplicaSet) ([]int32, error) {
	if replicas < 0 {
		return nil, fmt.Errorf("rollout: spec.replicas: must be >= 0, got %d", replicas)
	}
	for _, s := range sets {
		if s.Replicas < 0 {
			return nil, fmt.Errorf("rollout: ReplicaSet %q: replicas (%d) must be >= 0", s.Name, s.Replicas)
		}
	}
	if b.MaxSurge < 0 || b.MaxUnavailable < 0 {
		return nil, fmt.Errorf("rollout: bounds must be >= 0, got maxSurge %d maxUnavailable %d", b.MaxSurge, b.MaxUnavailable)
	}
	out := make([]int32, len(sets))
	var active []int
	var total int64
	for i, s := range sets {
		out[i] = s.Replicas
		total += int64(s.Replicas)
		if s.Replicas > 0 {
			active = append(active, i)
		}
	}
	switch len(active) {
	case 0:
		return out, nil
	case 1:
		out[active[0]] = replicas
		return out, nil
	}
	allowed := int64(0)
	if replicas > 0 {
		allowed = int64(replicas) + int64(b.MaxSurge)
	}
	toAdd := allowed - total
	if toAdd == 0 {
		return out, nil
	}
	grow := toAdd > 0
	slices.SortStableFunc(active, func(x, y int) int {
		if c := cmp.Compare(sets[y].Replicas, sets[x].Replicas); c != 0 {
			return c
		}
		c := sets[x].Created.Compare(sets[y].Created) // oldest first
		if grow {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(sets[x].Name, sets[y].Name)
	})
	var added int64
	for _, i := range active {
		share := proportion(sets[i], replicas, allowed, total)
		left := toAdd - added
		if grow {
			share = max(0, min(share, left))
		} else {
			share = min(0, max(share, left, -int64(sets[i].Replicas)))
		}
		out[i] += int32(share)
		added += share
	}
	first := active[0]
	out[first] = int32(max(0, int64(out[first])+toAdd-added))
	return out, nil
}

// proportion is how much s should change when the Deployment goes from
// s's recorded max-replicas (or total) to allowed Pods.
func proportion(s ReplicaSet, replicas int32, allowed, total int64) int64 {
	if replicas == 0 {
		return -int64(s.Replicas)
	}
	base := int64(s.MaxReplicas)
	if base <= 0 {
		base = total
	}
	n := int64(s.Replicas) * allowed
	q, r := n/base, n%base
	if 2*r >= base {
		q++
	}
	return q - int64(s.Replicas)
}
