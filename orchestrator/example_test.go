package orchestrator_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// A single-node cluster on the in-memory runtime running a Deployment.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	rt, err := fake.New(fake.Config{NodeName: "solo"})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	cfg := orchestrator.TestConfig("solo") // DefaultConfig() in production
	cfg.Runtime = rt
	cfg.BootstrapExpect = 1
	cluster, err := orchestrator.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := cluster.Start(ctx); err != nil {
		panic(err)
	}
	defer cluster.Shutdown(context.Background())

	deploy, err := orchestrator.Decode([]byte(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example/web:1}]
`))
	if err != nil {
		panic(err)
	}
	c := cluster.Client()
	// The first request waits (up to its context's deadline) for the new
	// cluster to elect its leader.
	if err := c.Apply(ctx, deploy); err != nil {
		panic(err)
	}
	for {
		var pods orchestrator.PodList
		if err := c.List(ctx, &pods, orchestrator.MatchingFields{"status.phase": "Running"}); err != nil {
			panic(err)
		}
		if len(pods.Items) == 2 {
			fmt.Println("2 pods running")
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Output: 2 pods running
}

// Apply keeps what other writers add; Patch takes a typed patch, and
// DryRunAll shows what a write would store without storing it.
func ExampleClient_Apply() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := fake.New(fake.Config{NodeName: "solo"})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	cfg := orchestrator.TestConfig("solo")
	cfg.Runtime, cfg.BootstrapExpect = rt, 1
	cluster, err := orchestrator.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := cluster.Start(ctx); err != nil {
		panic(err)
	}
	defer cluster.Shutdown(context.Background())
	c := cluster.Client()

	manifest := func(level string) *orchestrator.ConfigMap {
		return &orchestrator.ConfigMap{
			ObjectMeta: orchestrator.ObjectMeta{Name: "settings", Labels: map[string]string{"app": "shop"}},
			Data:       map[string]string{"log-level": level},
		}
	}
	if err := c.Apply(ctx, manifest("info"), orchestrator.FieldOwner("deployer")); err != nil {
		panic(err)
	}
	// Another writer labels it with a merge patch.
	label := orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"metadata":{"labels":{"audited":"yes"}}}`))
	if err := c.Patch(ctx, manifest(""), label); err != nil {
		panic(err)
	}
	// A dry run validates and reports, and stores nothing.
	preview := manifest("debug")
	if err := c.Apply(ctx, preview, orchestrator.DryRunAll); err != nil {
		panic(err)
	}
	// Re-applying the changed manifest keeps the other writer's label.
	applied := manifest("debug")
	if err := c.Apply(ctx, applied); err != nil {
		panic(err)
	}
	fmt.Println(preview.Data["log-level"], applied.Data["log-level"], applied.Labels["audited"])
	// Output: debug debug yes
}

// ApplyAll checks every document of a manifest before it stores any:
// here one misspelled kind and a Namespace listed after the object that
// needs it keep the whole file out; fixed, it applies in order.
func ExampleClient_ApplyAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := fake.New(fake.Config{NodeName: "solo"})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	cfg := orchestrator.TestConfig("solo")
	cfg.Runtime, cfg.BootstrapExpect = rt, 1
	cluster, err := orchestrator.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := cluster.Start(ctx); err != nil {
		panic(err)
	}
	defer cluster.Shutdown(context.Background())
	c := cluster.Client()

	config := `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {log-level: info}
`
	shop := `apiVersion: v1
kind: Namespace
metadata: {name: shop}
`
	web := `apiVersion: apps/v1
kind: Deplyment
metadata: {name: web, namespace: shop}
`
	_, err = c.ApplyAll(ctx, []byte(config+"---\n"+web+"---\n"+shop))
	fmt.Println(err)

	web = strings.Replace(web, "Deplyment", "Deployment", 1) + `spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example/web:1}]
`
	objs, err := c.ApplyAll(ctx, []byte(shop+"---\n"+config+"---\n"+web))
	if err != nil {
		panic(err)
	}
	for _, o := range objs {
		name := o.GetName()
		if ns := o.GetNamespace(); ns != "" {
			name = ns + "/" + name
		}
		fmt.Println(o.GetTypeMeta().Kind, name)
	}
	// Output:
	// nothing applied: 2 of 3 objects failed the checks
	// document 1 (line 1, ConfigMap "settings"): Namespace "shop" not found (document 3 creates it: put that document before this one)
	// document 2 (line 6, Deplyment "web"): unsupported kind "Deplyment" in group/version "apps/v1": did you mean "Deployment"?
	// Namespace shop
	// ConfigMap shop/settings
	// Deployment shop/web
}
