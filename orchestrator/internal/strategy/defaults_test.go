package strategy

import (
	"reflect"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestDefaultDeployment(t *testing.T) {
	d := &api.Deployment{
		ObjectMeta: api.ObjectMeta{Name: "web"},
		Spec: api.DeploymentSpec{
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: api.PodSpec{Containers: []api.Container{{
					Name: "web", Image: "web:latest",
					Ports:         []api.ContainerPort{{ContainerPort: 80}},
					Resources:     api.ResourceRequirements{Limits: api.ResourceList{api.ResourceCPU: api.MustParse("500m")}},
					Env:           []api.EnvVar{{Name: "N", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
					LivenessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Port: api.FromInt(80)}}},
					StartupProbe:  &api.Probe{ProbeHandler: api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromInt(80)}}, PeriodSeconds: 2},
					Lifecycle:     &api.Lifecycle{PreStop: &api.LifecycleHandler{HTTPGet: &api.HTTPGetAction{Port: api.FromInt(80)}}},
				}},
					Volumes:     []api.Volume{{Name: "c", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "c"}}}}},
					Tolerations: []api.Toleration{{Key: "k", Value: "v"}},
				},
			},
		},
	}
	defaultObject(d)
	// The namespace and apiVersion/kind are the request's, filled by the
	// registry before admission; Default leaves metadata alone.
	if d.APIVersion != "" || d.Namespace != "" {
		t.Errorf("meta = %+v %+v", d.TypeMeta, d.ObjectMeta)
	}
	s := d.Spec
	if *s.Replicas != 1 || *s.RevisionHistoryLimit != 10 || *s.ProgressDeadlineSeconds != 600 ||
		s.Strategy.Type != api.RollingUpdateDeploymentStrategyType ||
		*s.Strategy.RollingUpdate.MaxSurge != api.FromString("25%") || *s.Strategy.RollingUpdate.MaxUnavailable != api.FromString("25%") {
		t.Errorf("deployment spec defaults = %+v %+v", s, s.Strategy.RollingUpdate)
	}
	ps := s.Template.Spec
	if ps.RestartPolicy != api.RestartPolicyAlways || *ps.TerminationGracePeriodSeconds != 30 {
		t.Errorf("pod spec defaults = %+v", ps)
	}
	c := ps.Containers[0]
	if c.ImagePullPolicy != api.PullIfNotPresent {
		t.Errorf("imagePullPolicy for :latest = %q, want IfNotPresent (Flotilla choice)", c.ImagePullPolicy)
	}
	if c.Ports[0].Protocol != api.ProtocolTCP {
		t.Errorf("protocol = %q", c.Ports[0].Protocol)
	}
	if c.Resources.Requests.Cpu().String() != "500m" {
		t.Errorf("request not defaulted from limit: %v", c.Resources.Requests)
	}
	if c.Env[0].ValueFrom.FieldRef.APIVersion != "v1" {
		t.Errorf("fieldRef apiVersion = %q", c.Env[0].ValueFrom.FieldRef.APIVersion)
	}
	lp := c.LivenessProbe
	if lp.PeriodSeconds != 10 || lp.TimeoutSeconds != 1 || lp.SuccessThreshold != 1 || lp.FailureThreshold != 3 ||
		lp.InitialDelaySeconds != 0 || lp.HTTPGet.Scheme != api.URISchemeHTTP || lp.HTTPGet.Path != "/" {
		t.Errorf("probe defaults = %+v %+v", lp, lp.HTTPGet)
	}
	if c.StartupProbe.PeriodSeconds != 2 {
		t.Errorf("explicit period overwritten: %d", c.StartupProbe.PeriodSeconds)
	}
	if h := c.Lifecycle.PreStop.HTTPGet; h.Scheme != api.URISchemeHTTP || h.Path != "/" {
		t.Errorf("preStop httpGet = %+v", h)
	}
	if *ps.Volumes[0].ConfigMap.DefaultMode != 0o644 || ps.Tolerations[0].Operator != api.TolerationOpEqual {
		t.Errorf("volume/toleration defaults = %+v %+v", ps.Volumes[0].ConfigMap, ps.Tolerations[0])
	}
	d.Namespace = api.DefaultNamespace // the registry's part
	if err := validate(d); err != nil {
		t.Errorf("defaulted deployment invalid: %v", err)
	}
	// Idempotent.
	again := d.DeepCopy()
	defaultObject(again)
	if !reflect.DeepEqual(again, d) {
		t.Error("Default is not idempotent")
	}
}

func TestDefaultOtherKinds(t *testing.T) {
	tests := []struct {
		obj   api.Object
		check func(api.Object) bool
	}{
		{&api.Pod{}, func(o api.Object) bool {
			p := o.(*api.Pod)
			return p.Spec.RestartPolicy == api.RestartPolicyAlways
		}},
		{&api.Node{}, func(o api.Object) bool { return o.GetNamespace() == "" }},
		{&api.Namespace{}, func(o api.Object) bool {
			return o.(*api.Namespace).Status.Phase == api.NamespaceActive && o.GetNamespace() == ""
		}},
		{&api.ReplicaSet{}, func(o api.Object) bool { return *o.(*api.ReplicaSet).Spec.Replicas == 1 }},
		{&api.Event{}, func(o api.Object) bool { e := o.(*api.Event); return e.Type == api.EventTypeNormal && e.Count == 1 }},
		{&api.ConfigMap{}, func(o api.Object) bool { return o.GetNamespace() == "" && o.(*api.ConfigMap).Data == nil }},
		{&api.Deployment{Spec: api.DeploymentSpec{Strategy: api.DeploymentStrategy{Type: api.RecreateDeploymentStrategyType}}},
			func(o api.Object) bool { return o.(*api.Deployment).Spec.Strategy.RollingUpdate == nil }},
	}
	for _, tt := range tests {
		defaultObject(tt.obj)
		if !tt.check(tt.obj) {
			t.Errorf("Default(%T) = %+v", tt.obj, tt.obj)
		}
	}
}
