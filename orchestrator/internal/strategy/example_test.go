package strategy_test

import (
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
)

// Defaulting and validating a new object, as the registry does on create:
// every bad field is reported at once, with its path.
func Example() {
	set, err := strategy.NewSet(api.DefaultScheme(), strategy.Builtin())
	if err != nil {
		panic(err)
	}
	obj, err := api.Decode([]byte(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: -1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: web
        ports: [{containerPort: 70000}]
`))
	if err != nil {
		panic(err)
	}
	info, _ := api.DefaultScheme().KindFor(obj)
	s := set.For(info)
	s.PrepareForCreate(obj)
	s.Default(obj)
	for _, fe := range s.Validate(obj) {
		fmt.Println(fe)
	}
	fmt.Println(obj.(*api.Deployment).Spec.Strategy.Type)
	// Output:
	// spec.replicas: Invalid value: -1: must be greater than or equal to 0
	// spec.template.metadata.labels: Invalid value: {"app":"api"}: `selector` does not match template `labels`
	// spec.template.spec.containers[0].image: Required value
	// spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive
	// RollingUpdate
}
