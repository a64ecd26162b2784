package rollout

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Reasons of the Deployment conditions, in Kubernetes' words.
const (
	ReasonNewReplicaSetAvailable     = "NewReplicaSetAvailable"
	ReasonReplicaSetUpdated          = "ReplicaSetUpdated"
	ReasonNewReplicaSetCreated       = "NewReplicaSetCreated"
	ReasonDeploymentPaused           = "DeploymentPaused"
	ReasonDeploymentResumed          = "DeploymentResumed"
	ReasonMinimumReplicasAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumReplicasUnavailable = "MinimumReplicasUnavailable"
	ReasonReplicaSetCreateError      = "ReplicaSetCreateError"
)

func desired(d *api.Deployment) int32 {
	if d.Spec.Replicas != nil {
		return *d.Spec.Replicas
	}
	return 1
}

func progressDeadline(d *api.Deployment) time.Duration {
	s := api.DefaultProgressDeadlineSeconds
	if d.Spec.ProgressDeadlineSeconds != nil {
		s = *d.Spec.ProgressDeadlineSeconds
	}
	return time.Duration(s) * time.Second
}

// Complete reports whether the Deployment with status st has finished
// rolling out: every desired replica updated and available, no old ones
// left, and the spec observed.
func Complete(d *api.Deployment, st *api.DeploymentStatus) bool {
	n := desired(d)
	return st.UpdatedReplicas == n && st.Replicas == n && st.AvailableReplicas == n && st.ObservedGeneration >= d.Generation
}

// Progressed reports whether status next shows progress over prev: more
// updated, ready or available replicas, or fewer old ones.
func Progressed(prev, next *api.DeploymentStatus) bool {
	return next.UpdatedReplicas > prev.UpdatedReplicas ||
		next.Replicas-next.UpdatedReplicas < prev.Replicas-prev.UpdatedReplicas ||
		next.ReadyReplicas > prev.ReadyReplicas ||
		next.AvailableReplicas > prev.AvailableReplicas
}

// ProgressingCondition returns the Progressing condition the Deployment
// should carry once its status becomes next (d.Status is the previous
// one), or nil to leave the current one alone. newRS names the new
// ReplicaSet in messages. As in Kubernetes: True/NewReplicaSetAvailable
// when complete, True/ReplicaSetUpdated on progress, False/
// ProgressDeadlineExceeded when the current condition has not been
// updated for progressDeadlineSeconds (default 600) at now, and
// Unknown/DeploymentPaused while paused (no deadline runs then). Set it
// with conditions.SetDeployment, which keeps the transition time while
// the status stays the same and stamps LastUpdateTime on every change: that
// update time is where the deadline counts from.
func ProgressingCondition(d *api.Deployment, next *api.DeploymentStatus, newRS string, now time.Time) *api.DeploymentCondition {
	cur := api.GetDeploymentCondition(&d.Status, api.DeploymentProgressing)
	mk := func(s api.ConditionStatus, reason, msg string) *api.DeploymentCondition {
		return &api.DeploymentCondition{Type: api.DeploymentProgressing, Status: s, Reason: reason, Message: msg}
	}
	if d.Spec.Paused {
		if cur != nil && cur.Reason == ReasonDeploymentPaused {
			return nil
		}
		return mk(api.ConditionUnknown, ReasonDeploymentPaused, "Deployment is paused")
	}
	if cur != nil && cur.Reason == ReasonDeploymentPaused {
		// Resumed: the deadline starts again from now.
		return mk(api.ConditionUnknown, ReasonDeploymentResumed, "Deployment is resumed")
	}
	if cur != nil && cur.Reason == ReasonNewReplicaSetAvailable && next.Replicas == next.UpdatedReplicas {
		return nil // complete earlier and nothing new since
	}
	switch {
	case Complete(d, next):
		return mk(api.ConditionTrue, ReasonNewReplicaSetAvailable, fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS))
	case Progressed(&d.Status, next):
		return mk(api.ConditionTrue, ReasonReplicaSetUpdated, fmt.Sprintf("ReplicaSet %q is progressing.", newRS))
	case TimedOut(d, now):
		return mk(api.ConditionFalse, ReasonProgressDeadlineExceeded, fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS))
	}
	return nil
}

// TimedOut reports whether d's rollout has made no progress for its
// progress deadline at now, judged from its Progressing condition.
func TimedOut(d *api.Deployment, now time.Time) bool {
	cur := api.GetDeploymentCondition(&d.Status, api.DeploymentProgressing)
	if cur == nil || d.Spec.Paused {
		return false
	}
	switch cur.Reason {
	case ReasonProgressDeadlineExceeded:
		return true
	case ReasonNewReplicaSetAvailable, ReasonDeploymentPaused:
		return false
	}
	return !cur.LastUpdateTime.Add(progressDeadline(d)).After(now)
}

// DeadlineCheckIn returns when the controller should look at d again to
// notice a timed-out rollout: the time left until its deadline, and false
// when no deadline is running (complete, timed out already, paused, or no
// Progressing condition yet).
func DeadlineCheckIn(d *api.Deployment, now time.Time) (time.Duration, bool) {
	cur := api.GetDeploymentCondition(&d.Status, api.DeploymentProgressing)
	if cur == nil || d.Spec.Paused || cur.Status == api.ConditionFalse {
		return 0, false
	}
	if cur.Reason == ReasonNewReplicaSetAvailable || cur.Reason == ReasonDeploymentPaused {
		return 0, false
	}
	return max(0, cur.LastUpdateTime.Add(progressDeadline(d)).Sub(now)), true
}

// AvailableCondition returns the Available condition for status next:
// True when at least replicas-maxUnavailable replicas are available.
func AvailableCondition(d *api.Deployment, b Bounds, next *api.DeploymentStatus) api.DeploymentCondition {
	if next.AvailableReplicas >= desired(d)-b.MaxUnavailable {
		return api.DeploymentCondition{Type: api.DeploymentAvailable, Status: api.ConditionTrue,
			Reason: ReasonMinimumReplicasAvailable, Message: "Deployment has minimum availability."}
	}
	return api.DeploymentCondition{Type: api.DeploymentAvailable, Status: api.ConditionFalse,
		Reason: ReasonMinimumReplicasUnavailable, Message: "Deployment does not have minimum availability."}
}

// CreateErrorCondition is the Progressing condition to set when the
// controller could not create the new ReplicaSet named newRS, as
// Kubernetes sets it: False, ReplicaSetCreateError, `Failed to create new
// replica set "web-5d8f": <err>`. A False condition stops the deadline.
func CreateErrorCondition(newRS string, err error) api.DeploymentCondition {
	return api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionFalse,
		Reason: ReasonReplicaSetCreateError, Message: fmt.Sprintf("Failed to create new replica set %q: %v", newRS, err)}
}

// CreatedCondition is the Progressing condition to set when the
// controller creates the new ReplicaSet of a rollout; the progress
// deadline counts from it.
func CreatedCondition(newRS string) api.DeploymentCondition {
	return api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionTrue,
		Reason: ReasonNewReplicaSetCreated, Message: fmt.Sprintf("Created new replica set %q", newRS)}
}
