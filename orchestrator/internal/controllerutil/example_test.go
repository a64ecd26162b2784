package controllerutil_test

import (
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/controllerutil"
)

// A Deployment's ReplicaSet is named after the hash of its Pod template.
func ExamplePodTemplateHash() {
	tmpl := &api.PodTemplateSpec{
		ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "x"}},
		Spec:       api.PodSpec{Containers: []api.Container{{Name: "x", Image: "x:1"}}},
	}
	fmt.Println("x-" + controllerutil.PodTemplateHash(tmpl, nil))
	// Output:
	// x-c654646
}
