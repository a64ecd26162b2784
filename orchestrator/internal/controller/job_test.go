package controller

import (
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestIndexSetString(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{0, 1, 2}, "0-2"},
		{[]int{5, 1, 3, 4, 7}, "1,3-5,7"},
	} {
		s := indexSet{}
		for _, i := range tc.in {
			s[i] = true
		}
		if got := s.String(); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The back-off after the k-th failure since the last success is
// base·2^(k-1), capped, counted from the last failure.
func TestJobBackoffLeft(t *testing.T) {
	c := &jobController{backoff: 10 * time.Second, maxBackoff: 6 * time.Minute}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(phase api.PodPhase, finished time.Time) *api.Pod {
		p := &api.Pod{}
		p.Status.Phase = phase
		p.Status.ContainerStatuses = []api.ContainerStatus{{Name: "c", State: api.ContainerState{
			Terminated: &api.ContainerStateTerminated{FinishedAt: api.NewTime(finished)}}}}
		return p
	}
	failures := func(n int) []*api.Pod {
		var out []*api.Pod
		for i := range n {
			out = append(out, pod(api.PodFailed, t0.Add(time.Duration(i)*time.Second)))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		pods jobPods
		now  time.Time
		want time.Duration
	}{
		{"no failure", jobPods{}, t0, 0},
		{"first failure", jobPods{failed: failures(1)}, t0, 10 * time.Second},
		{"third failure", jobPods{failed: failures(3)}, t0.Add(2 * time.Second), 40 * time.Second},
		{"partly waited", jobPods{failed: failures(1)}, t0.Add(4 * time.Second), 6 * time.Second},
		{"capped", jobPods{failed: failures(12)}, t0.Add(11 * time.Second), 6 * time.Minute},
		{"failures before a success do not count", jobPods{failed: failures(3),
			succeeded: []*api.Pod{pod(api.PodSucceeded, t0.Add(5*time.Second))}}, t0.Add(5 * time.Second), 0},
	} {
		if got := c.backoffLeft(&tc.pods, tc.now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFailurePolicyAction(t *testing.T) {
	job := &api.Job{Spec: api.JobSpec{PodFailurePolicy: &api.PodFailurePolicy{Rules: []api.PodFailurePolicyRule{
		{Action: api.PodFailurePolicyActionIgnore, OnExitCodes: &api.PodFailurePolicyOnExitCodesRequirement{
			ContainerName: api.Ptr("side"), Operator: api.PodFailurePolicyOnExitCodesOpIn, Values: []int32{1}}},
		{Action: api.PodFailurePolicyActionFailJob, OnExitCodes: &api.PodFailurePolicyOnExitCodesRequirement{
			Operator: api.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1, 2}}},
	}}}}
	exited := func(name string, code int32) api.ContainerStatus {
		return api.ContainerStatus{Name: name, State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: code}}}
	}
	for _, tc := range []struct {
		name string
		cs   []api.ContainerStatus
		want api.PodFailurePolicyAction
	}{
		{"named container, listed code", []api.ContainerStatus{exited("side", 1)}, api.PodFailurePolicyActionIgnore},
		{"other container, same code", []api.ContainerStatus{exited("main", 1)}, api.PodFailurePolicyActionCount},
		{"NotIn matches", []api.ContainerStatus{exited("main", 7)}, api.PodFailurePolicyActionFailJob},
		{"exit 0 never matches", []api.ContainerStatus{exited("main", 0)}, api.PodFailurePolicyActionCount},
	} {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: "p"}}
		p.Status.ContainerStatuses = tc.cs
		if got, _ := failurePolicyAction(job, p); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
