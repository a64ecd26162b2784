package rollout

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
)

func rs(name, rev string, spec, status int32, created time.Duration) *api.ReplicaSet {
	r := &api.ReplicaSet{}
	r.Name = name
	if rev != "" {
		r.Annotations = map[string]string{api.RevisionAnnotation: rev}
	}
	r.Spec.Replicas = &spec
	r.Status.Replicas = status
	r.CreationTimestamp = api.Time{Time: t0.Add(created)}
	return r
}

func names(rss []*api.ReplicaSet) []string {
	var out []string
	for _, r := range rss {
		out = append(out, r.Name)
	}
	return out
}

func TestRevisions(t *testing.T) {
	a, b, c := rs("a", "1", 0, 0, 0), rs("b", "3", 0, 0, 1), rs("c", "", 0, 0, 2)
	bad := rs("bad", "x7", 0, 0, 3)
	all := []*api.ReplicaSet{a, b, c, bad}
	if r, err := Revision(a); r != 1 || err != nil {
		t.Fatalf("Revision(a) = %d, %v", r, err)
	}
	if r, err := Revision(c); r != 0 || err != nil {
		t.Fatalf("missing annotation: %d, %v", r, err)
	}
	if _, err := Revision(bad); err == nil || !strings.Contains(err.Error(), api.RevisionAnnotation) {
		t.Fatalf("bad annotation: err %v", err)
	}
	if m := MaxRevision(all); m != 3 {
		t.Fatalf("MaxRevision = %d", m)
	}
	if n := NextRevision(all); n != 4 {
		t.Fatalf("NextRevision = %d", n)
	}
	if NextRevision(nil) != 1 {
		t.Fatal("NextRevision(nil) != 1")
	}
	if FindRevision(all, 3) != b || FindRevision(all, 2) != nil || FindRevision(all, 0) != nil {
		t.Fatal("FindRevision")
	}
	if PreviousRevision(all, 3) != a || PreviousRevision(all, 1) != nil || PreviousRevision(all, 10) != b {
		t.Fatal("PreviousRevision")
	}
	m := &api.ObjectMeta{}
	if !SetRevision(m, 5) || m.Annotations[api.RevisionAnnotation] != "5" || SetRevision(m, 5) {
		t.Fatalf("SetRevision: %v", m.Annotations)
	}
}

func TestHistoryToDelete(t *testing.T) {
	deleting := rs("deleting", "1", 0, 0, 0)
	deleting.DeletionTimestamp = &api.Time{Time: t0}
	scaled := rs("r2-has-pods", "2", 0, 1, 0) // status still reports a Pod
	lagging := rs("r3-unobserved", "3", 0, 0, 0)
	lagging.Generation = 2
	lagging.Status.ObservedGeneration = 1
	old := []*api.ReplicaSet{
		rs("r7", "7", 0, 0, 7),
		rs("r4", "4", 0, 0, 4),
		deleting, scaled, lagging,
		rs("r5-running", "5", 2, 2, 5),
		rs("r6", "6", 0, 0, 6),
		rs("r8", "8", 0, 0, 8),
	}
	tests := []struct {
		limit int32
		want  []string
	}{
		{10, nil},
		{7, nil},
		{6, []string{"r4"}},
		{4, []string{"r4", "r6", "r7"}},
		{0, []string{"r4", "r6", "r7", "r8"}},
		{-1, []string{"r4", "r6", "r7", "r8"}},
	}
	for _, tc := range tests {
		got := names(HistoryToDelete(old, tc.limit))
		if !slices.Equal(got, tc.want) {
			t.Errorf("limit %d: got %v, want %v", tc.limit, got, tc.want)
		}
	}
	// nil spec.replicas means 1: never deleted.
	d := rs("nil-spec", "1", 0, 0, 0)
	d.Spec.Replicas = nil
	if got := HistoryToDelete([]*api.ReplicaSet{d}, 0); len(got) != 0 {
		t.Fatalf("deleted a ReplicaSet with default replicas: %v", names(got))
	}
}

func TestStatus(t *testing.T) {
	d := &api.Deployment{}
	d.Name = "web"
	d.Spec.Replicas = api.Ptr(int32(5))
	d.Generation = 2
	d.Status.ObservedGeneration = 1
	if msg, done, err := Status(d); done || err != nil || !strings.Contains(msg, "spec update to be observed") {
		t.Fatalf("unobserved: %q %v %v", msg, done, err)
	}
	d.Status.ObservedGeneration = 2
	steps := []struct {
		replicas, updated, available int32
		want                         string
		done                         bool
	}{
		{6, 2, 4, `Waiting for deployment "web" rollout to finish: 2 out of 5 new replicas have been updated...`, false},
		{7, 5, 4, `Waiting for deployment "web" rollout to finish: 2 old replicas are pending termination...`, false},
		{5, 5, 2, `Waiting for deployment "web" rollout to finish: 2 of 5 updated replicas are available...`, false},
		{5, 5, 5, `deployment "web" successfully rolled out`, true},
	}
	for _, s := range steps {
		d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = s.replicas, s.updated, s.available
		msg, done, err := Status(d)
		if msg != s.want || done != s.done || err != nil {
			t.Errorf("%+v: got %q %v %v", s, msg, done, err)
		}
	}
	conditions.SetDeployment(&d.Status, api.DeploymentCondition{
		Type: api.DeploymentProgressing, Status: api.ConditionFalse, Reason: ReasonProgressDeadlineExceeded,
	}, api.Time{Time: t0})
	if _, _, err := Status(d); !errors.Is(err, ErrProgressDeadlineExceeded) || !strings.Contains(err.Error(), `"web"`) {
		t.Fatalf("deadline: err %v", err)
	}
}
