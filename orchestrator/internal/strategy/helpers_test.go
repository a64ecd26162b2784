package strategy

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
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
func newTestDeployment() *api.Deployment {
	return &api.Deployment{
		TypeMeta:   api.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec: api.DeploymentSpec{
			Replicas: api.Ptr(int32(3)),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: api.PodSpec{Containers: []api.Container{{
					Name:  "web",
					Image: "web:1",
					Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}},
					Resources: api.ResourceRequirements{
						Requests: api.ResourceList{api.ResourceCPU: api.MustParse("100m"), api.ResourceMemory: api.MustParse("64Mi")},
						Limits:   api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("128Mi")},
					},
					ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/ready", Port: api.FromString("http")}}},
				}}},
			},
		},
	}
}

// builtin is the strategy set of the built-in kinds, as the registry
// builds it by default.
func builtin(tb testing.TB) *Set {
	tb.Helper()
	s, err := NewSet(api.DefaultScheme(), Builtin())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// forObject returns obj's kind and strategy; it panics for an
// unregistered type, a mistake in the test itself.
func forObject(obj api.Object) (api.KindInfo, Strategy) {
	info, ok := api.DefaultScheme().KindFor(obj)
	if !ok {
		panic("unregistered type in a test")
	}
	s, err := NewSet(api.DefaultScheme(), Builtin())
	if err != nil {
		panic(err)
	}
	return info, s.For(info)
}

// defaultObject defaults obj with its kind's strategy.
func defaultObject(obj api.Object) {
	_, s := forObject(obj)
	s.Default(obj)
}

// validate runs obj's strategy's Validate and wraps the result as the
// registry does: one Invalid error listing every field, or nil.
func validate(obj api.Object) error {
	info, s := forObject(obj)
	if errs := s.Validate(obj); len(errs) > 0 {
		return api.NewInvalid(info.Kind, obj.GetName(), errs)
	}
	return nil
}

// validateUpdate is validate for ValidateUpdate.
func validateUpdate(old, obj api.Object) error {
	info, s := forObject(obj)
	if errs := s.ValidateUpdate(obj, old); len(errs) > 0 {
		return api.NewInvalid(info.Kind, obj.GetName(), errs)
	}
	return nil
}

// defaultAndValidate is what the registry does to a new object.
func defaultAndValidate(obj api.Object) error {
	defaultObject(obj)
	return validate(obj)
}

// readAPITestdata reads an input shared with package api's tests, so the
// manifests that decode there are the ones validated here.
func readAPITestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "api", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
