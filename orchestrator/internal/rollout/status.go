package rollout

import (
	"errors"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// ReasonProgressDeadlineExceeded is the Progressing condition's reason
// (status False) once a rollout made no progress for
// progressDeadlineSeconds.
const ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"

// ErrProgressDeadlineExceeded is returned by Status for a rollout that
// ran past its progress deadline.
var ErrProgressDeadlineExceeded = errors.New("rollout: progress deadline exceeded")

// Status describes where the rollout of d stands, in the words of
// "kubectl rollout status", and whether it is complete. Errors:
// ErrProgressDeadlineExceeded (wrapped, naming the Deployment) when the
// Progressing condition says so.
func Status(d *api.Deployment) (msg string, done bool, err error) {
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	if c := api.GetDeploymentCondition(&d.Status, api.DeploymentProgressing); c != nil && c.Reason == ReasonProgressDeadlineExceeded {
		return "", false, fmt.Errorf("deployment %q: %w", d.Name, ErrProgressDeadlineExceeded)
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	switch {
	case s.UpdatedReplicas < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", d.Name, s.UpdatedReplicas, want), false, nil
	case s.Replicas > s.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", d.Name, s.Replicas-s.UpdatedReplicas), false, nil
	case s.AvailableReplicas < s.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", d.Name, s.AvailableReplicas, s.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true, nil
}
