// Package rollout holds the arithmetic of Deployment rollouts as pure
// functions, for the Deployment controller: how far to scale the new and
// old ReplicaSets in one step of a RollingUpdate or Recreate rollout,
// how to share a resize among them mid-rollout (proportional scaling),
// revision and size annotations, the choice of old ReplicaSets to prune, the
// Progressing and Available conditions with the progress deadline, and
// the "rollout status" message.
//
// # Usage
//
//  1. Resolve the strategy's bounds against the desired replicas with
//     ResolveBounds (maxSurge rounds up, maxUnavailable rounds down, and
//     1 unavailable is allowed when both come out 0, as in Kubernetes).
//  2. Describe the new ReplicaSet and the old ones with FromReplicaSet
//     (spec.replicas and status.availableReplicas) and call
//     PlanRollingUpdate or PlanRecreate. Apply the returned replica counts
//     (only those that differ) to the ReplicaSets' specs.
//  3. Run again whenever a ReplicaSet's status changes (level-triggered):
//     each plan is one safe step computed from observed state only, so a
//     missed event or a controller restart loses nothing. Whenever a
//     ReplicaSet is scaled, record the Deployment's size on it with
//     SetReplicasAnnotations.
//  4. Before a rollout step, check IsScalingEvent over the active
//     ReplicaSets: if the Deployment was resized since they were last
//     scaled, apply PlanScale instead (it shares the change among them in
//     proportion to their sizes, as Kubernetes does), annotate every
//     active ReplicaSet with the new size, and leave the rollout step to
//     the next run. This holds for paused Deployments too.
//  5. Give a new ReplicaSet NextRevision(all ReplicaSets) with SetRevision;
//     find a rollback target with FindRevision or PreviousRevision.
//  6. After a step, delete the ReplicaSets HistoryToDelete returns.
//  7. With the new status computed, set CreatedCondition when the new
//     ReplicaSet was just created, else ProgressingCondition (if not nil),
//     and AvailableCondition, through conditions.SetDeployment; requeue
//     the Deployment after DeadlineCheckIn to notice a stalled rollout.
//  8. Report progress to users with Status.
//
// # Guarantees of PlanRollingUpdate
//
// Given observed counts, a plan never makes the sum of spec.replicas over
// all ReplicaSets exceed replicas+maxSurge (it only scales up into the
// room left) and never scales down available Pods when that could take
// the available count below replicas-maxUnavailable. Old Pods that are not
// available are removed first, since that costs no availability. A new
// version that never becomes available therefore stalls the rollout with
// the old Pods still serving.
//
// # What it does not do
//
// It reads and writes nothing: no API calls, no Pods, no events, no
// timers. It does not decide which Pods a ReplicaSet deletes (its
// controller should delete unavailable Pods first), does not compute
// template hashes (controllerutil.PodTemplateHash) or status counts, does not read
// a clock (now is passed in). PlanScale bounds the total by
// replicas+maxSurge but, like Kubernetes' proportional scaling, does not
// weigh availability: a resize is the user's decision.
package rollout
