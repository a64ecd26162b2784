package agent_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

func (e *env) configMap(t *testing.T, name string, data map[string]string) {
	t.Helper()
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Data: data}
	if err := e.reg.Create(context.Background(), cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitEvent waits for an Event of the Pod with reason whose message
// contains text.
func (e *env) waitEvent(t *testing.T, pod, reason, text string) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, "event "+reason+" "+text, func() bool {
		var evs api.EventList
		if err := e.reg.List(context.Background(), &evs, client.ListOptions{Namespace: "default"}); err != nil {
			return false
		}
		for _, ev := range evs.Items {
			if ev.InvolvedObject.Name == pod && ev.Reason == reason && strings.Contains(ev.Message, text) {
				return true
			}
		}
		return false
	})
}

// The environment is made as the kubelet makes it: envFrom (with its
// prefix; a key starting with a digit is a valid name under Kubernetes'
// relaxed rules), then env in order, with
// $(VAR) expanded from what is defined before; valueFrom from the Pod's
// fields, its resources and a ConfigMap's keys (optional ones may be
// missing); command and args expanded with the whole environment.
func TestEnvSources(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	e.configMap(t, "cfg", map[string]string{"LOG_LEVEL": "debug", "1bad": "x", "MODE": "fast"})
	fieldRef := func(path string) *api.EnvVarSource {
		return &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: path}}
	}
	resource := func(res, divisor string) *api.EnvVarSource {
		s := &api.ResourceFieldSelector{Resource: res}
		if divisor != "" {
			d := api.MustParse(divisor)
			s.Divisor = &d
		}
		return &api.EnvVarSource{ResourceFieldRef: s}
	}
	p := e.create(t, &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "p", Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"team": "a"}},
		Spec: api.PodSpec{ServiceAccountName: "robot", Containers: []api.Container{{
			Name: "main", Image: "app:1",
			Command: []string{"/app", "--level=$(CFG_LOG_LEVEL)"},
			Args:    []string{"$(POD_NAME)", "$$(POD_NAME)", "$(UNDEFINED)", "$POD_NAME", "$(POD_NAME"},
			EnvFrom: []api.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &api.ConfigMapEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}}},
				{ConfigMapRef: &api.ConfigMapEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "absent"}, Optional: api.Ptr(true)}}},
			Env: []api.EnvVar{
				{Name: "POD_NAME", ValueFrom: fieldRef("metadata.name")},
				{Name: "POD_NAMESPACE", ValueFrom: fieldRef("metadata.namespace")},
				{Name: "POD_UID", ValueFrom: fieldRef("metadata.uid")},
				{Name: "APP", ValueFrom: fieldRef("metadata.labels['app']")},
				{Name: "TEAM", ValueFrom: fieldRef("metadata.annotations['team']")},
				{Name: "NODE", ValueFrom: fieldRef("spec.nodeName")},
				{Name: "SA", ValueFrom: fieldRef("spec.serviceAccountName")},
				{Name: "POD_IP", ValueFrom: fieldRef("status.podIP")},
				{Name: "POD_IPS", ValueFrom: fieldRef("status.podIPs")},
				{Name: "HOST_IP", ValueFrom: fieldRef("status.hostIP")},
				{Name: "HOST_IPS", ValueFrom: fieldRef("status.hostIPs")},
				{Name: "CPU_LIMIT_M", ValueFrom: resource("limits.cpu", "1m")},
				{Name: "CPU_LIMIT", ValueFrom: resource("limits.cpu", "")},
				{Name: "CPU_REQUEST", ValueFrom: resource("requests.cpu", "1m")},
				{Name: "MEM_LIMIT_MI", ValueFrom: resource("limits.memory", "1Mi")},
				{Name: "MODE", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}, Key: "MODE"}}},
				{Name: "GONE", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}, Key: "GONE", Optional: api.Ptr(true)}}},
				{Name: "GREETING", Value: "$(POD_NAME) in $(POD_NAMESPACE) at $(LATER), $$(POD_NAME) costs $5"},
				{Name: "LATER", Value: "later"},
				{Name: "CFG_LOG_LEVEL", Value: "$(CFG_LOG_LEVEL)-verbose"},
			},
			Resources: api.ResourceRequirements{Limits: api.ResourceList{api.ResourceCPU: api.MustParse("1500m")}},
		}}},
	})
	p = e.waitPod(t, "p", "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	cfg := e.containerConfig(t, p, "main")
	want := []runtime.EnvVar{
		{Name: "CFG_1bad", Value: "x"},
		{Name: "CFG_LOG_LEVEL", Value: "debug-verbose"},
		{Name: "CFG_MODE", Value: "fast"},
		{Name: "POD_NAME", Value: "p"},
		{Name: "POD_NAMESPACE", Value: "default"},
		{Name: "POD_UID", Value: string(p.UID)},
		{Name: "APP", Value: "web"},
		{Name: "TEAM", Value: "a"},
		{Name: "NODE", Value: "n1"},
		{Name: "SA", Value: "robot"},
		{Name: "POD_IP", Value: p.Status.PodIP},
		{Name: "POD_IPS", Value: p.Status.PodIP},
		{Name: "HOST_IP", Value: "192.0.2.10"},
		{Name: "HOST_IPS", Value: "192.0.2.10"},
		{Name: "CPU_LIMIT_M", Value: "1500"},
		{Name: "CPU_LIMIT", Value: "2"},
		{Name: "CPU_REQUEST", Value: "1500"},  // the request defaults to the limit
		{Name: "MEM_LIMIT_MI", Value: "4096"}, // no limit: the node's allocatable
		{Name: "MODE", Value: "fast"},
		{Name: "GREETING", Value: "p in default at $(LATER), $(POD_NAME) costs $5"},
		{Name: "LATER", Value: "later"},
	}
	if !slices.Equal(cfg.Env, want) {
		t.Errorf("env:\n got %v\nwant %v", cfg.Env, want)
	}
	if want := []string{"/app", "--level=debug-verbose"}; !slices.Equal(cfg.Command, want) {
		t.Errorf("command %q, want %q", cfg.Command, want)
	}
	if want := []string{"p", "$(POD_NAME)", "$(UNDEFINED)", "$POD_NAME", "$(POD_NAME"}; !slices.Equal(cfg.Args, want) {
		t.Errorf("args %q, want %q", cfg.Args, want)
	}
}

// A ConfigMap or key that is missing (and not optional) keeps the
// container from starting, with reason CreateContainerConfigError and the
// kubelet's message, until it exists.
func TestEnvMissingConfigMap(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	keyRef := func(name, key string) *api.EnvVarSource {
		return &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{LocalObjectReference: api.LocalObjectReference{Name: name}, Key: key}}
	}
	e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "no-map"}, Spec: api.PodSpec{Containers: []api.Container{{
		Name: "main", Image: "app:1", Env: []api.EnvVar{{Name: "X", ValueFrom: keyRef("late", "x")}}}}}})
	e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "no-key"}, Spec: api.PodSpec{Containers: []api.Container{{
		Name: "main", Image: "app:1", Env: []api.EnvVar{{Name: "Y", ValueFrom: keyRef("present", "y")}}}}}})
	e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "no-env-from"}, Spec: api.PodSpec{Containers: []api.Container{{
		Name: "main", Image: "app:1", EnvFrom: []api.EnvFromSource{{ConfigMapRef: &api.ConfigMapEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "late"}}}}}}}})
	e.configMap(t, "present", map[string]string{"other": "1"})
	waiting := func(name, msg string) {
		t.Helper()
		p := e.waitPod(t, name, "waiting with "+msg, func(p *api.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "CreateContainerConfigError" &&
				cs[0].State.Waiting.Message == msg
		})
		if p.Status.Phase != api.PodPending {
			t.Errorf("%s: phase %s, want Pending", name, p.Status.Phase)
		}
		cs, _ := e.rt.ListContainers(context.Background(), &runtime.ContainerFilter{PodUID: string(p.UID)})
		if len(cs) != 0 {
			t.Errorf("%s: %d containers created", name, len(cs))
		}
	}
	waiting("no-map", `configmap "late" not found`)
	waiting("no-key", "couldn't find key y in ConfigMap default/present")
	waiting("no-env-from", `configmap "late" not found`)
	e.waitEvent(t, "no-map", "Failed", `Error: configmap "late" not found`)

	e.configMap(t, "late", map[string]string{"x": "1"})
	for _, name := range []string{"no-map", "no-env-from"} {
		e.waitPod(t, name, "running once the ConfigMap exists", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	}
}
