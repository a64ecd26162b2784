package api

import (
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
	return tm
}

// newTestDeployment returns a valid, undefaulted Deployment.
func newTestDeployment() *Deployment {
	return &Deployment{
		TypeMeta:   TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec: DeploymentSpec{
			Replicas: Ptr(int32(3)),
			Selector: &LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: PodTemplateSpec{
				ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: PodSpec{Containers: []Container{{
					Name:  "web",
					Image: "web:1",
					Ports: []ContainerPort{{Name: "http", ContainerPort: 8080}},
					Resources: ResourceRequirements{
						Requests: ResourceList{ResourceCPU: MustParse("100m"), ResourceMemory: MustParse("64Mi")},
						Limits:   ResourceList{ResourceCPU: MustParse("1"), ResourceMemory: MustParse("128Mi")},
					},
					ReadinessProbe: &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Path: "/ready", Port: FromString("http")}}},
				}}},
			},
		},
	}
}
