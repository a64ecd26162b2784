package api

import (
	"reflect"
	"testing"
)

func TestDefaultDeployment(t *testing.T) {
	d := &Deployment{
		ObjectMeta: ObjectMeta{Name: "web"},
		Spec: DeploymentSpec{
			Selector: &LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: PodTemplateSpec{
				ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: PodSpec{Containers: []Container{{
					Name: "web", Image: "web:latest",
					Ports:         []ContainerPort{{ContainerPort: 80}},
					Resources:     ResourceRequirements{Limits: ResourceList{ResourceCPU: MustParse("500m")}},
					Env:           []EnvVar{{Name: "N", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}}}},
					LivenessProbe: &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Port: FromInt(80)}}},
					StartupProbe:  &Probe{ProbeHandler: ProbeHandler{TCPSocket: &TCPSocketAction{Port: FromInt(80)}}, PeriodSeconds: 2},
					Lifecycle:     &Lifecycle{PreStop: &LifecycleHandler{HTTPGet: &HTTPGetAction{Port: FromInt(80)}}},
				}},
					Volumes:     []Volume{{Name: "c", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{LocalObjectReference: LocalObjectReference{Name: "c"}}}}},
					Tolerations: []Toleration{{Key: "k", Value: "v"}},
				},
			},
		},
	}
	Default(d)
	if d.APIVersion != AppsV1 || d.Kind != "Deployment" || d.Namespace != "default" {
		t.Errorf("meta = %+v %+v", d.TypeMeta, d.ObjectMeta)
	}
	s := d.Spec
	if *s.Replicas != 1 || *s.RevisionHistoryLimit != 10 || *s.ProgressDeadlineSeconds != 600 ||
		s.Strategy.Type != RollingUpdateDeploymentStrategyType ||
		*s.Strategy.RollingUpdate.MaxSurge != FromString("25%") || *s.Strategy.RollingUpdate.MaxUnavailable != FromString("25%") {
		t.Errorf("deployment spec defaults = %+v %+v", s, s.Strategy.RollingUpdate)
	}
	ps := s.Template.Spec
	if ps.RestartPolicy != RestartPolicyAlways || *ps.TerminationGracePeriodSeconds != 30 {
		t.Errorf("pod spec defaults = %+v", ps)
	}
	c := ps.Containers[0]
	if c.ImagePullPolicy != PullIfNotPresent {
		t.Errorf("imagePullPolicy for :latest = %q, want IfNotPresent (Flotilla choice)", c.ImagePullPolicy)
	}
	if c.Ports[0].Protocol != ProtocolTCP {
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
		lp.InitialDelaySeconds != 0 || lp.HTTPGet.Scheme != URISchemeHTTP || lp.HTTPGet.Path != "/" {
		t.Errorf("probe defaults = %+v %+v", lp, lp.HTTPGet)
	}
	if c.StartupProbe.PeriodSeconds != 2 {
		t.Errorf("explicit period overwritten: %d", c.StartupProbe.PeriodSeconds)
	}
	if h := c.Lifecycle.PreStop.HTTPGet; h.Scheme != URISchemeHTTP || h.Path != "/" {
		t.Errorf("preStop httpGet = %+v", h)
	}
	if *ps.Volumes[0].ConfigMap.DefaultMode != 0o644 || ps.Tolerations[0].Operator != TolerationOpEqual {
		t.Errorf("volume/toleration defaults = %+v %+v", ps.Volumes[0].ConfigMap, ps.Tolerations[0])
	}
	if err := Validate(d); err != nil {
		t.Errorf("defaulted deployment invalid: %v", err)
	}
	// Idempotent.
	again := d.DeepCopy()
	Default(again)
	if !reflect.DeepEqual(again, d) {
		t.Error("Default is not idempotent")
	}
}

func TestDefaultOtherKinds(t *testing.T) {
	tests := []struct {
		obj   Object
		check func(Object) bool
	}{
		{&Pod{}, func(o Object) bool {
			p := o.(*Pod)
			return p.Namespace == "default" && p.Spec.RestartPolicy == RestartPolicyAlways
		}},
		{&Pod{ObjectMeta: ObjectMeta{Namespace: "x"}}, func(o Object) bool { return o.GetNamespace() == "x" }},
		{&Node{}, func(o Object) bool { return o.GetNamespace() == "" }},
		{&Namespace{}, func(o Object) bool { return o.(*Namespace).Status.Phase == NamespaceActive && o.GetNamespace() == "" }},
		{&ReplicaSet{}, func(o Object) bool { return *o.(*ReplicaSet).Spec.Replicas == 1 }},
		{&Event{}, func(o Object) bool { e := o.(*Event); return e.Type == EventTypeNormal && e.Count == 1 }},
		{&ConfigMap{}, func(o Object) bool { return o.GetNamespace() == "default" && o.GetTypeMeta().Kind == "ConfigMap" }},
		{&Deployment{Spec: DeploymentSpec{Strategy: DeploymentStrategy{Type: RecreateDeploymentStrategyType}}},
			func(o Object) bool { return o.(*Deployment).Spec.Strategy.RollingUpdate == nil }},
	}
	for _, tt := range tests {
		Default(tt.obj)
		if !tt.check(tt.obj) {
			t.Errorf("Default(%T) = %+v", tt.obj, tt.obj)
		}
	}
}
