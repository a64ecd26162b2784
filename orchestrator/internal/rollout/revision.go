package rollout

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Revision returns the revision recorded in obj's
// deployment.kubernetes.io/revision annotation; 0 when it is absent.
// Errors: a value that is not a non-negative integer, naming the
// annotation.
func Revision(obj api.Object) (int64, error) {
	v, ok := obj.GetAnnotations()[api.RevisionAnnotation]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("rollout: metadata.annotations[%s]: invalid revision %q", api.RevisionAnnotation, v)
	}
	return n, nil
}

// SetRevision records rev in meta's revision annotation and reports
// whether that changed it.
func SetRevision(meta *api.ObjectMeta, rev int64) bool {
	s := strconv.FormatInt(rev, 10)
	if meta.Annotations[api.RevisionAnnotation] == s {
		return false
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[api.RevisionAnnotation] = s
	return true
}

// MaxRevision returns the highest revision among rss; ReplicaSets with an
// unreadable annotation count as 0.
func MaxRevision(rss []*api.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		if r, err := Revision(rs); err == nil {
			m = max(m, r)
		}
	}
	return m
}

// NextRevision is the revision a new (or re-activated, as on rollback)
// ReplicaSet gets: one above every existing one.
func NextRevision(rss []*api.ReplicaSet) int64 { return MaxRevision(rss) + 1 }

// FindRevision returns the ReplicaSet of rss with revision rev, or nil.
func FindRevision(rss []*api.ReplicaSet, rev int64) *api.ReplicaSet {
	for _, rs := range rss {
		if r, err := Revision(rs); err == nil && r == rev && rev > 0 {
			return rs
		}
	}
	return nil
}

// PreviousRevision returns the ReplicaSet with the highest revision below
// current (the target of "rollout undo" without --to-revision), or nil
// when there is none.
func PreviousRevision(rss []*api.ReplicaSet, current int64) *api.ReplicaSet {
	var best *api.ReplicaSet
	var bestRev int64
	for _, rs := range rss {
		r, err := Revision(rs)
		if err != nil || r <= 0 || r >= current {
			continue
		}
		if r > bestRev {
			best, bestRev = rs, r
		}
	}
	return best
}

// HistoryToDelete chooses the old ReplicaSets to delete so that at most
// limit remain (revisionHistoryLimit): the lowest revisions first (ties by
// creation time, then name). Only ReplicaSets scaled to zero in spec and
// status, whose status has caught up with their spec (observedGeneration
// >= generation) and that are not already being deleted are ever chosen,
// so history that still has Pods is kept even beyond the limit. old must
// not contain the new ReplicaSet. A negative limit counts as 0.
func HistoryToDelete(old []*api.ReplicaSet, limit int32) []*api.ReplicaSet {
	var live []*api.ReplicaSet
	for _, rs := range old {
		if rs.DeletionTimestamp == nil {
			live = append(live, rs)
		}
	}
	excess := len(live) - int(max(limit, 0))
	if excess <= 0 {
		return nil
	}
	rev := func(rs *api.ReplicaSet) int64 { r, _ := Revision(rs); return r }
	slices.SortStableFunc(live, func(a, b *api.ReplicaSet) int {
		if c := cmp.Compare(rev(a), rev(b)); c != 0 {
			return c
		}
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	var out []*api.ReplicaSet
	for _, rs := range live {
		if len(out) == excess {
			break
		}
		scaledToZero := rs.Spec.Replicas != nil && *rs.Spec.Replicas == 0 && rs.Status.Replicas == 0
		if scaledToZero && rs.Status.ObservedGeneration >= rs.Generation {
			out = append(out, rs)
		}
	}
	return out
}
