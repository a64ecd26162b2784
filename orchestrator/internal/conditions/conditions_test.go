package conditions

import (
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestSet(t *testing.T) {
	t0 := api.NewTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := api.NewTime(t0.Add(time.Minute))
	t2 := api.NewTime(t0.Add(2 * time.Minute))
	var ps api.PodStatus
	if !SetPod(&ps, api.PodCondition{Type: api.PodReady, Status: api.ConditionFalse, Reason: "Starting"}, t0) {
		t.Error("add reported no change")
	}
	if SetPod(&ps, api.PodCondition{Type: api.PodReady, Status: api.ConditionFalse, Reason: "Starting"}, t1) {
		t.Error("same condition reported a change")
	}
	if !SetPod(&ps, api.PodCondition{Type: api.PodReady, Status: api.ConditionFalse, Reason: "Probing"}, t1) {
		t.Error("reason change not reported")
	}
	if c := api.GetPodCondition(&ps, api.PodReady); !c.LastTransitionTime.Equal(t0) || c.Reason != "Probing" {
		t.Errorf("transition time moved without a status change: %+v", c)
	}
	pod := &api.Pod{Status: ps}
	if api.IsPodReady(pod) {
		t.Error("ready while False")
	}
	SetPod(&pod.Status, api.PodCondition{Type: api.PodReady, Status: api.ConditionTrue}, t2)
	if c := api.GetPodCondition(&pod.Status, api.PodReady); !c.LastTransitionTime.Equal(t2) || !api.IsPodReady(pod) || len(pod.Status.Conditions) != 1 {
		t.Errorf("after transition: %+v", pod.Status.Conditions)
	}
	if !api.IsPodAvailable(pod, 0, t2) || api.IsPodAvailable(pod, 30, t2) || !api.IsPodAvailable(pod, 30, api.NewTime(t2.Add(30*time.Second))) {
		t.Error("IsPodAvailable with minReadySeconds")
	}

	var ds api.DeploymentStatus
	SetDeployment(&ds, api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionTrue, Reason: "NewReplicaSetCreated"}, t0)
	SetDeployment(&ds, api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionTrue, Reason: "NewReplicaSetAvailable"}, t1)
	c := api.GetDeploymentCondition(&ds, api.DeploymentProgressing)
	if !c.LastTransitionTime.Equal(t0) || !c.LastUpdateTime.Equal(t1) {
		t.Errorf("deployment condition times = %+v", c)
	}
	if SetDeployment(&ds, api.DeploymentCondition{Type: api.DeploymentProgressing, Status: api.ConditionTrue, Reason: "NewReplicaSetAvailable"}, t2) {
		t.Error("unchanged deployment condition reported a change")
	}
	if !RemoveDeployment(&ds, api.DeploymentProgressing) || api.GetDeploymentCondition(&ds, api.DeploymentProgressing) != nil {
		t.Error("RemoveDeployment")
	}

	var rs api.ReplicaSetStatus
	SetReplicaSet(&rs, api.ReplicaSetCondition{Type: api.ReplicaSetReplicaFailure, Status: api.ConditionTrue}, t0)
	if SetReplicaSet(&rs, api.ReplicaSetCondition{Type: api.ReplicaSetReplicaFailure, Status: api.ConditionTrue}, t1) ||
		!api.GetReplicaSetCondition(&rs, api.ReplicaSetReplicaFailure).LastTransitionTime.Equal(t0) {
		t.Error("replicaset condition")
	}

	n := &api.Node{}
	SetNode(&n.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: t0}, t0)
	if !SetNode(&n.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: t1}, t1) {
		t.Error("heartbeat change not reported")
	}
	if c := api.GetNodeCondition(&n.Status, api.NodeReady); !c.LastTransitionTime.Equal(t0) || !api.IsNodeReady(n) {
		t.Errorf("node condition = %+v", c)
	}
	SetNode(&n.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionUnknown}, t2)
	if api.IsNodeReady(n) || !api.GetNodeCondition(&n.Status, api.NodeReady).LastTransitionTime.Equal(t2) {
		t.Error("node not-ready transition")
	}
}

func TestTimeEquality(t *testing.T) {
	// The same instant in another location is not a change.
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var ps api.PodStatus
	SetPod(&ps, api.PodCondition{Type: api.PodReady, Status: api.ConditionTrue, LastProbeTime: api.Time{Time: t0}}, api.NewTime(t0))
	if SetPod(&ps, api.PodCondition{Type: api.PodReady, Status: api.ConditionTrue, LastProbeTime: api.Time{Time: t0.In(time.FixedZone("x", 3600))}}, api.NewTime(t0)) {
		t.Error("same instant in another zone reported as a change")
	}
}
