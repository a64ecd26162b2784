package agent

import (
	"context"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"go.uber.org/zap"
)

// Admission, as the kubelet's: before a Pod's first sandbox starts, the
// agent checks that it fits the node — the Pod count within the node's
// pods capacity, and the cpu and memory requests of the Pods admitted
// before and still active, plus its own, within the node's capacity. A
// Pod that does not fit is failed with the kubelet's reason (OutOfpods,
// OutOfcpu, OutOfmemory) and never started, so a scheduler bug or a stale
// bind from a deposed leader can never overcommit the node.

// admit reports why pod does not fit the node ("" if it does, and it is
// then admitted). A Pod is judged once: admitted Pods stay admitted.
func (a *Agent) admit(pod *api.Pod) (reason, message string) {
	uid := string(pod.UID)
	a.admitMu.Lock()
	defer a.admitMu.Unlock()
	if a.admitted[uid] {
		return "", ""
	}
	live := map[string]bool{}
	var count int64
	var usedCPU, usedMem int64
	for _, o := range a.pods.List() {
		p := o.(*api.Pod)
		puid := string(p.UID)
		if p.Spec.NodeName != a.cfg.NodeName || api.IsPodTerminal(p) {
			continue
		}
		live[puid] = true
		if !a.admitted[puid] || puid == uid {
			continue
		}
		count++
		req := api.ResourceRequests(&p.Spec)
		usedCPU += quantity(req, api.ResourceCPU, true)
		usedMem += quantity(req, api.ResourceMemory, false)
	}
	for id := range a.admitted {
		if !live[id] {
			delete(a.admitted, id) // gone or finished: its share is free
		}
	}
	req := api.ResourceRequests(&pod.Spec)
	capacity := a.cfg.Capacity
	for _, r := range []struct {
		name       api.ResourceName
		reason     string
		want, used int64
		milli      bool
	}{
		{api.ResourcePods, "OutOfpods", 1, count, false},
		{api.ResourceCPU, "OutOfcpu", quantity(req, api.ResourceCPU, true), usedCPU, true},
		{api.ResourceMemory, "OutOfmemory", quantity(req, api.ResourceMemory, false), usedMem, false},
	} {
		q, ok := capacity[r.name]
		if !ok || r.want == 0 {
			continue
		}
		have := q.Value()
		if r.milli {
			have = q.MilliValue()
		}
		if r.used+r.want > have {
			return r.reason, fmt.Sprintf("Pod was rejected: Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d",
				r.name, r.want, r.used, have)
		}
	}
	a.admitted[uid] = true
	return "", ""
}

// markAdmitted admits a Pod that already has a sandbox (it ran before the
// agent restarted, or before this check existed).
func (a *Agent) markAdmitted(uid string) {
	a.admitMu.Lock()
	a.admitted[uid] = true
	a.admitMu.Unlock()
}

// quantity is the request for name in req: millis for cpu, else units.
func quantity(req api.ResourceList, name api.ResourceName, milli bool) int64 {
	q, ok := req[name]
	if !ok {
		return 0
	}
	if milli {
		return q.MilliValue()
	}
	return q.Value()
}

// reject fails a Pod the node cannot admit, as the kubelet does: phase
// Failed with the reason and message, and a Warning Event.
func (a *Agent) reject(ctx context.Context, pod *api.Pod, reason, message string) error {
	a.log.Warn("pod rejected: it does not fit the node", zap.String("pod", api.KeyOf(pod)), zap.String("reason", reason), zap.String("message", message))
	a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, reason, "%s", message)
	next := pod.DeepCopyObject().(*api.Pod)
	next.Status.Phase = api.PodFailed
	next.Status.Reason, next.Status.Message = reason, message
	err := a.cfg.Client.UpdateStatus(ctx, next, client.UpdateOptions{})
	if api.IsConflict(err) || api.IsNotFound(err) {
		return nil // the informer brings the newer version or the deletion
	}
	return err
}
