package tables

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Row conditions of finished Pods (kubectl marks them Completed).
var (
	podSucceededConditions = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue,
		Reason: string(api.PodSucceeded), Message: "The pod has completed successfully."}}
	podFailedConditions = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue,
		Reason: string(api.PodFailed), Message: "The pod failed."}}
)

// nodeUnreachablePodReason is the Pod status reason node lifecycle sets on
// the Pods of an unreachable node.
const nodeUnreachablePodReason = "NodeLost"

// podRow is kubectl's Pod row: NAME READY STATUS RESTARTS AGE | IP NODE
// NOMINATED NODE READINESS GATES, with STATUS reasoned as kubectl does
// (the init container or container that explains the Pod best).
func podRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	pod, ok := obj.(*api.Pod)
	if !ok {
		return nil, nil, wrongKind("Pod", obj)
	}
	st := &pod.Status
	total := len(pod.Spec.Containers)
	ready := 0
	restarts, sidecarRestarts := 0, 0
	var lastRestart, lastSidecarRestart time.Time

	reason := string(st.Phase)
	if st.Reason != "" {
		reason = st.Reason
	}
	for _, c := range st.Conditions {
		if c.Type == api.PodScheduled && c.Reason == "SchedulingGated" {
			reason = "SchedulingGated"
		}
	}
	var conds []metav1.TableRowCondition
	switch st.Phase {
	case api.PodSucceeded:
		conds = podSucceededConditions
	case api.PodFailed:
		conds = podFailedConditions
	}

	// Sidecars (init containers with restartPolicy Always) count as
	// containers.
	sidecar := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == string(api.RestartPolicyAlways) {
			sidecar[c.Name] = true
			total++
		}
	}
	later := func(last *time.Time, s api.ContainerState) {
		if s.Terminated != nil && s.Terminated.FinishedAt.After(*last) {
			*last = s.Terminated.FinishedAt.Time
		}
	}

	initializing := false
	for i, c := range st.InitContainerStatuses {
		restarts += int(c.RestartCount)
		later(&lastRestart, c.LastTerminationState)
		if sidecar[c.Name] {
			sidecarRestarts += int(c.RestartCount)
			later(&lastSidecarRestart, c.LastTerminationState)
		}
		term, wait := c.State.Terminated, c.State.Waiting
		switch {
		case term != nil && term.ExitCode == 0:
			continue
		case sidecar[c.Name] && c.Started != nil && *c.Started:
			if c.Ready {
				ready++
			}
			continue
		case term != nil:
			switch {
			case term.Reason != "":
				reason = "Init:" + term.Reason
			case term.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", term.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", term.ExitCode)
			}
		case wait != nil && wait.Reason != "" && wait.Reason != "PodInitializing":
			reason = "Init:" + wait.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if !initializing || conditionTrue(st, api.PodInitialized) {
		restarts, lastRestart = sidecarRestarts, lastSidecarRestart
		running := false
		for i := len(st.ContainerStatuses) - 1; i >= 0; i-- {
			c := st.ContainerStatuses[i]
			restarts += int(c.RestartCount)
			later(&lastRestart, c.LastTerminationState)
			term, wait := c.State.Terminated, c.State.Waiting
			switch {
			case wait != nil && wait.Reason != "":
				reason = wait.Reason
			case term != nil && term.Reason != "":
				reason = term.Reason
			case term != nil && term.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", term.Signal)
			case term != nil:
				reason = fmt.Sprintf("ExitCode:%d", term.ExitCode)
			case c.Ready && c.State.Running != nil:
				running = true
				ready++
			}
		}
		// A Pod some container of which still runs is not Completed.
		if reason == "Completed" && running {
			if conditionTrue(st, api.PodReady) {
				reason = "Running"
			} else {
				reason = "NotReady"
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		if st.Reason == nodeUnreachablePodReason {
			reason = "Unknown"
		} else if st.Phase != api.PodSucceeded && st.Phase != api.PodFailed {
			reason = "Terminating"
		}
	}

	restartCell := fmt.Sprint(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		restartCell = fmt.Sprintf("%d (%s ago)", restarts, duration.HumanDuration(now.Sub(lastRestart)))
	}

	ip := ""
	if len(st.PodIPs) > 0 {
		ip = st.PodIPs[0].IP
	}
	gates := "<none>"
	if n := len(pod.Spec.ReadinessGates); n > 0 {
		met := 0
		for _, g := range pod.Spec.ReadinessGates {
			if conditionTrue(st, g.ConditionType) {
				met++
			}
		}
		gates = fmt.Sprintf("%d/%d", met, n)
	}
	return []any{pod.Name, fmt.Sprintf("%d/%d", ready, total), reason, restartCell, age(pod.CreationTimestamp, now),
		orNone(ip), orNone(pod.Spec.NodeName), orNone(st.NominatedNodeName), gates}, conds, nil
}

// conditionTrue reports whether the Pod's first condition of type t is
// True.
func conditionTrue(st *api.PodStatus, t api.PodConditionType) bool {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}
