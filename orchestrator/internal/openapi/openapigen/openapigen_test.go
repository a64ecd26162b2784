package openapigen_test

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/orchestrator/internal/openapi/openapigen"
)

func TestGenerateErrors(t *testing.T) {
	if _, err := openapigen.Generate("testdata/missing"); err == nil {
		t.Error("no error for a missing directory")
	}
	if _, err := openapigen.Generate("testdata/notapi"); err == nil || !strings.Contains(err.Error(), "no package api") {
		t.Errorf("a directory without package api: error %v", err)
	}
}

func TestGenerate(t *testing.T) {
	src, err := openapigen.Generate("../../../api")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`case "DeploymentSpec.Strategy":`,     // a field's doc comment
		`return "io.k8s.api.core.v1.PodSpec"`, // a Kubernetes name
		`return "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"`,
		`case "PodSpec.Containers+listMapKey":`, // a marker of k8s.io/api
		`case "Container.Ports+listMapKey":`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %s", want)
		}
	}
}

func TestDefinitionName(t *testing.T) {
	for _, c := range []struct {
		t    reflect.Type
		want string
	}{
		{reflect.TypeFor[appsv1.Deployment](), "io.k8s.api.apps.v1.Deployment"},
		{reflect.TypeFor[metav1.ObjectMeta](), "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
	} {
		if got := openapigen.DefinitionName(c.t); got != c.want {
			t.Errorf("DefinitionName(%s) = %q, want %q", c.t, got, c.want)
		}
	}
}
