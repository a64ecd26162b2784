package rollout

import (
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
)

func deployment(replicas int32, deadline int32) *api.Deployment {
	d := &api.Deployment{}
	d.Name = "web"
	d.Spec.Replicas = &replicas
	d.Spec.ProgressDeadlineSeconds = &deadline
	d.Generation, d.Status.ObservedGeneration = 1, 1
	return d
}

func set(d *api.Deployment, c *api.DeploymentCondition, now time.Time) {
	if c != nil {
		conditions.SetDeployment(&d.Status, *c, api.Time{Time: now})
	}
}

func TestProgressLifecycle(t *testing.T) {
	d := deployment(4, 60)
	now := t0
	c := CreatedCondition("web-2")
	set(d, &c, now)
	if in, ok := DeadlineCheckIn(d, now.Add(10*time.Second)); !ok || in != 50*time.Second {
		t.Fatalf("DeadlineCheckIn = %v %v, want 50s", in, ok)
	}
	// Progress at t+30 s moves the deadline.
	now = now.Add(30 * time.Second)
	next := api.DeploymentStatus{ObservedGeneration: 1, Replicas: 5, UpdatedReplicas: 1}
	pc := ProgressingCondition(d, &next, "web-2", now)
	if pc == nil || pc.Status != api.ConditionTrue || pc.Reason != ReasonReplicaSetUpdated {
		t.Fatalf("on progress: %+v", pc)
	}
	set(d, pc, now)
	d.Status.Replicas, d.Status.UpdatedReplicas = next.Replicas, next.UpdatedReplicas
	// No progress: not timed out before the deadline, timed out at it.
	if pc := ProgressingCondition(d, &next, "web-2", now.Add(59*time.Second)); pc != nil {
		t.Fatalf("before deadline: %+v", pc)
	}
	if TimedOut(d, now.Add(59*time.Second)) {
		t.Fatal("timed out early")
	}
	pc = ProgressingCondition(d, &next, "web-2", now.Add(60*time.Second))
	if pc == nil || pc.Status != api.ConditionFalse || pc.Reason != ReasonProgressDeadlineExceeded {
		t.Fatalf("at deadline: %+v", pc)
	}
	set(d, pc, now.Add(60*time.Second))
	if !TimedOut(d, now.Add(61*time.Second)) {
		t.Fatal("not timed out after the condition says so")
	}
	if _, ok := DeadlineCheckIn(d, now); ok {
		t.Fatal("deadline running after timing out")
	}
	if _, _, err := Status(d); err == nil {
		t.Fatal("Status did not report the exceeded deadline")
	}
	// Progress again (e.g. after a rollback) clears it; completion ends it.
	now = now.Add(2 * time.Minute)
	next = api.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 4, ReadyReplicas: 4, AvailableReplicas: 4}
	pc = ProgressingCondition(d, &next, "web-2", now)
	if pc == nil || pc.Status != api.ConditionTrue || pc.Reason != ReasonNewReplicaSetAvailable {
		t.Fatalf("complete: %+v", pc)
	}
	set(d, pc, now)
	d.Status = api.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 4, AvailableReplicas: 4, Conditions: d.Status.Conditions}
	if pc := ProgressingCondition(d, &next, "web-2", now.Add(time.Hour)); pc != nil || TimedOut(d, now.Add(time.Hour)) {
		t.Fatalf("complete deployment timed out: %+v", pc)
	}
}

func TestPauseStopsTheDeadline(t *testing.T) {
	d := deployment(2, 10)
	c := CreatedCondition("web-2")
	set(d, &c, t0)
	d.Spec.Paused = true
	pc := ProgressingCondition(d, &d.Status, "web-2", t0.Add(time.Hour))
	if pc == nil || pc.Status != api.ConditionUnknown || pc.Reason != ReasonDeploymentPaused {
		t.Fatalf("paused: %+v", pc)
	}
	set(d, pc, t0.Add(time.Hour))
	if TimedOut(d, t0.Add(2*time.Hour)) || ProgressingCondition(d, &d.Status, "web-2", t0.Add(2*time.Hour)) != nil {
		t.Fatal("paused deployment timed out or changed condition")
	}
	if _, ok := DeadlineCheckIn(d, t0); ok {
		t.Fatal("deadline running while paused")
	}
	d.Spec.Paused = false
	resumeAt := t0.Add(3 * time.Hour)
	pc = ProgressingCondition(d, &d.Status, "web-2", resumeAt)
	if pc == nil || pc.Reason != ReasonDeploymentResumed {
		t.Fatalf("resumed: %+v", pc)
	}
	set(d, pc, resumeAt)
	if TimedOut(d, resumeAt.Add(9*time.Second)) || !TimedOut(d, resumeAt.Add(10*time.Second)) {
		t.Fatal("deadline after resume does not count from the resume")
	}
}

func TestAvailableCondition(t *testing.T) {
	d := deployment(10, 600)
	b := Bounds{MaxSurge: 3, MaxUnavailable: 2}
	if c := AvailableCondition(d, b, &api.DeploymentStatus{AvailableReplicas: 8}); c.Status != api.ConditionTrue || c.Reason != ReasonMinimumReplicasAvailable {
		t.Fatalf("8 of 10: %+v", c)
	}
	if c := AvailableCondition(d, b, &api.DeploymentStatus{AvailableReplicas: 7}); c.Status != api.ConditionFalse {
		t.Fatalf("7 of 10: %+v", c)
	}
}

func TestProgressed(t *testing.T) {
	base := api.DeploymentStatus{Replicas: 10, UpdatedReplicas: 3, ReadyReplicas: 8, AvailableReplicas: 8}
	tests := []struct {
		next api.DeploymentStatus
		want bool
	}{
		{base, false},
		{api.DeploymentStatus{Replicas: 10, UpdatedReplicas: 4, ReadyReplicas: 8, AvailableReplicas: 8}, true},
		{api.DeploymentStatus{Replicas: 9, UpdatedReplicas: 3, ReadyReplicas: 8, AvailableReplicas: 8}, true},
		{api.DeploymentStatus{Replicas: 10, UpdatedReplicas: 3, ReadyReplicas: 9, AvailableReplicas: 8}, true},
		{api.DeploymentStatus{Replicas: 10, UpdatedReplicas: 3, ReadyReplicas: 8, AvailableReplicas: 9}, true},
		{api.DeploymentStatus{Replicas: 11, UpdatedReplicas: 3, ReadyReplicas: 7, AvailableReplicas: 7}, false},
	}
	for i, tc := range tests {
		if got := Progressed(&base, &tc.next); got != tc.want {
			t.Errorf("case %d: Progressed = %v", i, got)
		}
	}
}
