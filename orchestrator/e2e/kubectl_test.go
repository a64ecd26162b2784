package e2e

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// The manifests of TestKubectl, in the namespace kube-e2e.
const (
	kubectlNamespace = "kube-e2e"

	kubectlApp = `apiVersion: v1
kind: Namespace
metadata:
  name: kube-e2e
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: kube-e2e
  labels:
    app: web
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: kube-e2e
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: web
        tier: front
    spec:
      containers:
      - name: web
        image: example.invalid/web:1
        ports:
        - containerPort: 8080
`
)

// kubectlAppChanged is kubectlApp with another colour and image.
var kubectlAppChanged = strings.NewReplacer("color: blue", "color: green", "example.invalid/web:1", "example.invalid/web:2").Replace(kubectlApp)

// newAPICluster starts n in-process nodes (fake runtime) serving the
// Kubernetes API on loopback, and returns the cluster and a kubectl with
// its admin kubeconfig.
func newAPICluster(tb testing.TB, n int, opts ...orchestratortest.Option) (*orchestratortest.TestCluster, *kubectl) {
	tb.Helper()
	bin := kubectlBinary(tb) // skip before starting anything
	tc := orchestratortest.NewCluster(tb, n, append([]orchestratortest.Option{orchestratortest.WithAPI()}, opts...)...)
	k := newKubectl(tb, tc.Kubeconfig(tb))
	k.bin = bin
	return tc, k
}

// TestKubectl drives one 3-node cluster with kubectl v1.32 the way an
// operator would, checking what kubectl prints and how it exits. The
// subtests share the cluster and run in order.
func TestKubectl(t *testing.T) {
	tc, k := newAPICluster(t, 3)
	ns := []string{"-n", kubectlNamespace}
	app := k.manifest("app.yaml", kubectlApp)
	appChanged := k.manifest("app-changed.yaml", kubectlAppChanged)

	step := func(name string, f func(t *testing.T, k *kubectl)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { f(t, k.withTB(t)) }) {
			t.Logf("%s failed; the later steps may fail because of it", name)
		}
	}

	step("unauthorized", testUnauthorized)

	step("discovery", func(t *testing.T, k *kubectl) {
		v := k.ok("version")
		wantContains(t, "version", v, "Client Version: v1.32", "Server Version: v")
		versions := k.ok("api-versions")
		wantContains(t, "api-versions", versions, "v1\n", "apps/v1\n", "batch/v1\n")
		res := k.ok("api-resources")
		for _, row := range [][]string{
			{"deployments", "deploy", "apps/v1", "true", "Deployment"},
			{"pods", "po", "v1", "true", "Pod"},
			{"namespaces", "ns", "v1", "false", "Namespace"},
			{"configmaps", "cm", "v1", "true", "ConfigMap"},
		} {
			found := false
			for _, line := range strings.Split(res, "\n") {
				if slices.Equal(strings.Fields(line), row) {
					found = true
				}
			}
			if !found {
				t.Errorf("api-resources: no row %v in\n%s", row, res)
			}
		}
		wantStdout(t, k.runOK("api-resources", "--namespaced=false", "--api-group=apps", "-o", "name"))
		// (No cluster-info: it lists Services, a kind Flotilla does not
		// serve yet.)
	})

	step("apply", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK("apply", "-f", app),
			"namespace/kube-e2e created", "configmap/settings created", "deployment.apps/web created")
		wantStdout(t, k.runOK("apply", "-f", appChanged),
			"namespace/kube-e2e unchanged", "configmap/settings configured", "deployment.apps/web configured")
		wantStdout(t, k.runOK("apply", "-f", appChanged),
			"namespace/kube-e2e unchanged", "configmap/settings unchanged", "deployment.apps/web unchanged")
		// diff: nothing against the applied file (exit 0), the change
		// against the first one (exit 1), both through server dry runs.
		if r := k.run("diff", "-f", appChanged); r.code != 0 || r.stdout != "" {
			t.Errorf("diff against the applied manifests: %v", r)
		}
		if r := k.run("diff", "-f", app); r.code != 1 || !strings.Contains(r.stdout, "-  color: green") || !strings.Contains(r.stdout, "+  color: blue") {
			t.Errorf("diff against the first manifests: want exit 1 and the colour change, got %v", r)
		}
		out := k.ok(append(ns, "get", "configmap", "settings", "-o", "jsonpath={.data.color}")...)
		if out != "green" {
			t.Errorf("color after apply: %q, want green", out)
		}
	})

	step("rollout status", func(t *testing.T, k *kubectl) {
		out := k.ok(append(ns, "rollout", "status", "deployment/web", "--timeout=60s")...)
		wantContains(t, "rollout status", out, `deployment "web" successfully rolled out`)
	})

	step("get", func(t *testing.T, k *kubectl) {
		wide := k.ok(append(ns, "get", "deployments", "-o", "wide")...)
		wantContains(t, "get -o wide", wide, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR",
			"web", "2/2", "example.invalid/web:2", "app=web")

		yamlOut := k.ok(append(ns, "get", "deployment", "web", "-o", "yaml")...)
		wantContains(t, "get -o yaml", yamlOut, "apiVersion: apps/v1", "kind: Deployment", "name: web", "namespace: kube-e2e", "replicas: 2")

		var d struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name            string `json:"name"`
				ResourceVersion string `json:"resourceVersion"`
				UID             string `json:"uid"`
			} `json:"metadata"`
			Spec struct {
				Replicas int `json:"replicas"`
			} `json:"spec"`
		}
		jsonOut := k.ok(append(ns, "get", "deployment", "web", "-o", "json")...)
		if err := json.Unmarshal([]byte(jsonOut), &d); err != nil {
			t.Fatalf("get -o json: %v\n%s", err, jsonOut)
		}
		if d.Kind != "Deployment" || d.Metadata.Name != "web" || d.Spec.Replicas != 2 || d.Metadata.ResourceVersion == "" || d.Metadata.UID == "" {
			t.Errorf("get -o json: %+v", d)
		}

		wantStdout(t, k.runOK(append(ns, "get", "deployment,configmap", "-l", "app=web", "-o", "name")...),
			"deployment.apps/web", "configmap/settings")
		if out := k.ok(append(ns, "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")...); out != "example.invalid/web:2" {
			t.Errorf("jsonpath image: %q", out)
		}

		pods := k.ok(append(ns, "get", "pods", "-l", "app=web,tier=front", "-o", "name")...)
		if n := len(strings.Fields(pods)); n != 2 {
			t.Errorf("get pods -l: %d Pods, want 2:\n%s", n, pods)
		}
		running := k.ok(append(ns, "get", "pods", "--field-selector", "status.phase=Running", "-o", "name")...)
		if running != pods {
			t.Errorf("get pods --field-selector status.phase=Running:\n%s\nwant\n%s", running, pods)
		}
		none := k.run(append(ns, "get", "pods", "--field-selector", "status.phase=Pending")...)
		if none.code != 0 || !strings.Contains(none.stderr, "No resources found in kube-e2e namespace.") {
			t.Errorf("get pods --field-selector status.phase=Pending: %v", none)
		}

		all := k.ok("get", "configmaps", "-A")
		wantContains(t, "get configmaps -A", all, "NAMESPACE", "NAME", "DATA", "AGE", "kube-e2e", "settings")

		podsWide := k.ok(append(ns, "get", "pods", "-o", "wide", "--show-labels", "-L", "tier")...)
		wantContains(t, "get pods -o wide --show-labels -L tier", podsWide, "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
			"TIER", "LABELS", "1/1", "Running", "node-", "front", "app=web")
		// Pages of one (limit and continue) list every Pod.
		if chunked := k.ok(append(ns, "get", "pods", "--chunk-size=1", "-o", "name")...); chunked != pods {
			t.Errorf("get pods --chunk-size=1:\n%s\nwant\n%s", chunked, pods)
		}
		sorted := k.ok("get", "namespaces", "--sort-by=.metadata.name", "-o", "name")
		if names := strings.Fields(sorted); !slices.IsSorted(names) || !slices.Contains(names, "namespace/kube-e2e") {
			t.Errorf("get namespaces --sort-by=.metadata.name: %q", names)
		}
		// The "all" category, from discovery.
		wantContains(t, "get all", k.ok(append(ns, "get", "all", "-o", "name")...), "deployment.apps/web", "replicaset.apps/web-", "pod/web-")
		nodes := k.ok("get", "nodes")
		wantContains(t, "get nodes", nodes, "NAME", "STATUS", "ROLES", "AGE", "VERSION", "node-0", "node-1", "node-2", "Ready")
	})

	step("get -w", func(t *testing.T, k *kubectl) {
		w := k.watch(append(ns, "get", "configmap", "settings", "-w", "-o", "jsonpath={.data.color}{\"\\n\"}")...)
		w.waitLine(t, "green", 20*time.Second)
		k.ok(append(ns, "patch", "configmap", "settings", "-p", `{"data":{"color":"red"}}`)...)
		w.waitLine(t, "red", 20*time.Second)
		w.stop(t)

		// The default output: a table, then a row per change.
		w = k.watch(append(ns, "get", "configmaps", "-w")...)
		w.waitFor(t, "the header", 20*time.Second, func(line string) bool { return strings.Fields(line)[0] == "NAME" })
		w.waitFor(t, "the row of settings", 20*time.Second, func(line string) bool { return strings.Fields(line)[0] == "settings" })
		k.ok(append(ns, "patch", "configmap", "settings", "-p", `{"data":{"color":"green"}}`)...)
		w.waitFor(t, "a second row of settings", 20*time.Second, func(line string) bool { return strings.Fields(line)[0] == "settings" })
		w.stop(t)
	})

	step("describe", func(t *testing.T, k *kubectl) {
		d := k.ok(append(ns, "describe", "deployment", "web")...)
		wantContains(t, "describe deployment", d, "Name:", "web", "Namespace:", "kube-e2e", "Selector:", "app=web",
			"Replicas:", "2 desired | 2 updated | 2 total | 2 available | 0 unavailable",
			"StrategyType:", "RollingUpdate", "Pod Template:", "example.invalid/web:2",
			"Conditions:", "Available", "NewReplicaSet:", "Events:", "ScalingReplicaSet")
		pod := strings.TrimPrefix(strings.Fields(k.ok(append(ns, "get", "pods", "-l", "app=web", "-o", "name")...))[0], "pod/")
		p := k.ok(append(ns, "describe", "pod", pod)...)
		wantContains(t, "describe pod", p, "Name:", pod, "Node:", "node-", "Status:", "Running", "Controlled By:", "ReplicaSet/web-",
			"Containers:", "web:", "Image:", "example.invalid/web:2", "Conditions:", "Ready", "Events:", "Scheduled", "Successfully assigned", "Started")
	})

	step("through a follower", func(t *testing.T, k *kubectl) {
		f := (tc.Leader() + 1) % tc.Len()
		cluster := k.ok("config", "view", "--minify", "-o", "jsonpath={.clusters[0].name}")
		cfg, err := os.ReadFile(k.kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		fk := k.withKubeconfig(k.manifest("kubeconfig-follower", string(cfg)))
		fk.ok("config", "set-cluster", cluster, "--server=https://"+tc.APIAddr(f))
		via := k.manifest("via.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: via-follower\n  namespace: kube-e2e\ndata:\n  node: "+tc.NodeName(f)+"\n")
		wantStdout(t, fk.runOK("apply", "-f", via), "configmap/via-follower created")
		k.eventually(10*time.Second, "the ConfigMap through the first node", outputIs(tc.NodeName(f)),
			append(ns, "get", "configmap", "via-follower", "-o", "jsonpath={.data.node}")...)
		wantStdout(t, fk.runOK(append(ns, "delete", "configmap", "via-follower")...), `configmap "via-follower" deleted`)
	})

	step("label, annotate and patch", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK(append(ns, "label", "deployment", "web", "team=blue")...), "deployment.apps/web labeled")
		wantStdout(t, k.runOK(append(ns, "annotate", "deployment", "web", "owner=ops")...), "deployment.apps/web annotated")
		wantStdout(t, k.runOK(append(ns, "label", "deployment", "web", "team-")...), "deployment.apps/web unlabeled")
		wantStdout(t, k.runOK(append(ns, "patch", "configmap", "settings", "--type=merge", "-p", `{"data":{"size":"L"}}`)...), "configmap/settings patched")
		wantStdout(t, k.runOK(append(ns, "patch", "configmap", "settings", "--type=json", "-p", `[{"op":"remove","path":"/data/size"}]`)...), "configmap/settings patched")
		wantStdout(t, k.runOK(append(ns, "patch", "configmap", "settings", "--type=merge", "-p", `{"data":{"color":"red"}}`)...), "configmap/settings patched (no change)")
		replaced := k.manifest("replace.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: kube-e2e\n  labels:\n    app: web\ndata:\n  color: red\n")
		wantStdout(t, k.runOK("replace", "-f", replaced), "configmap/settings replaced")
		got := k.ok(append(ns, "get", "deployment", "web", "-o", `jsonpath={.metadata.labels.team}|{.metadata.annotations.owner}`)...)
		if got != "|ops" {
			t.Errorf("label and annotation: %q, want |ops", got)
		}
		if got := k.ok(append(ns, "get", "configmap", "settings", "-o", "jsonpath={.data}")...); got != `{"color":"red"}` {
			t.Errorf("configmap data after the patches: %s", got)
		}
	})

	step("wait", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK(append(ns, "wait", "--for=condition=Available", "deployment/web", "--timeout=30s")...), "deployment.apps/web condition met")
		k.ok(append(ns, "wait", "--for=jsonpath={.status.phase}=Running", "pods", "-l", "app=web", "--timeout=30s")...)
	})

	step("describe node and events", func(t *testing.T, k *kubectl) {
		pod := strings.Fields(k.ok(append(ns, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name} {.items[0].spec.nodeName}")...))
		if len(pod) != 2 {
			t.Fatalf("a Pod and its node: %q", pod)
		}
		d := k.ok("describe", "node", pod[1])
		wantContains(t, "describe node", d, "Name:", pod[1], "Conditions:", "Ready", "Capacity:", "Allocatable:",
			"Non-terminated Pods:", pod[0], "Allocated resources:")
		ev := k.ok(append(ns, "get", "events", "--field-selector", "involvedObject.name="+pod[0])...)
		wantContains(t, "get events --field-selector involvedObject.name", ev, "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE", "Scheduled", "pod/"+pod[0])
		wantContains(t, "events", k.ok(append(ns, "events", "--for", "pod/"+pod[0])...), "Scheduled", "Started")
	})

	step("scale", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK(append(ns, "scale", "deployment", "web", "--replicas=3")...), "deployment.apps/web scaled")
		k.eventually(30*time.Second, "3 available replicas", outputIs("3"),
			append(ns, "get", "deployment", "web", "-o", "jsonpath={.status.availableReplicas}")...)
	})

	step("rollout history and undo", func(t *testing.T, k *kubectl) {
		h := k.ok(append(ns, "rollout", "history", "deployment/web")...)
		wantContains(t, "rollout history", h, "deployment.apps/web", "REVISION", "CHANGE-CAUSE", "1 ", "2 ")
		h2 := k.ok(append(ns, "rollout", "history", "deployment/web", "--revision=1")...)
		wantContains(t, "rollout history --revision=1", h2, "example.invalid/web:1")
		wantStdout(t, k.runOK(append(ns, "rollout", "undo", "deployment/web")...), "deployment.apps/web rolled back")
		k.ok(append(ns, "rollout", "status", "deployment/web", "--timeout=60s")...)
		if img := k.ok(append(ns, "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")...); img != "example.invalid/web:1" {
			t.Errorf("image after undo: %q, want example.invalid/web:1", img)
		}
	})

	step("rollout restart", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK(append(ns, "rollout", "restart", "deployment/web")...), "deployment.apps/web restarted")
		at := k.ok(append(ns, "get", "deployment", "web", "-o", `jsonpath={.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}`)...)
		if _, err := time.Parse(time.RFC3339, at); err != nil {
			t.Errorf("restartedAt annotation %q: %v", at, err)
		}
		k.ok(append(ns, "rollout", "status", "deployment/web", "--timeout=60s")...)
	})

	step("rollout pause and resume", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK(append(ns, "rollout", "pause", "deployment/web")...), "deployment.apps/web paused")
		if p := k.ok(append(ns, "get", "deployment", "web", "-o", "jsonpath={.spec.paused}")...); p != "true" {
			t.Errorf("spec.paused after pause: %q", p)
		}
		wantStdout(t, k.runOK(append(ns, "rollout", "resume", "deployment/web")...), "deployment.apps/web resumed")
		if p := k.ok(append(ns, "get", "deployment", "web", "-o", "jsonpath={.spec.paused}")...); p != "" && p != "false" {
			t.Errorf("spec.paused after resume: %q", p)
		}
	})

	step("explain", func(t *testing.T, k *kubectl) {
		out := k.ok("explain", "deployment.spec.strategy")
		wantContains(t, "explain", out, "KIND:", "Deployment", "VERSION:", "v1", "FIELD: strategy <DeploymentStrategy>",
			"DESCRIPTION:", "FIELDS:", "rollingUpdate", "<RollingUpdateDeployment>", "type", "<string>")
	})

	step("apply --dry-run=server", func(t *testing.T, k *kubectl) {
		dry := k.manifest("dry.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n  namespace: kube-e2e\ndata:\n  a: b\n")
		wantStdout(t, k.runOK("apply", "--dry-run=server", "-f", dry), "configmap/dry created (server dry run)")
		r := k.fails(append(ns, "get", "configmap", "dry")...)
		wantContains(t, "get after dry run", r.stderr, `Error from server (NotFound): configmaps "dry" not found`)
	})

	step("create deployment", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK(append(ns, "create", "deployment", "nginx", "--image=nginx")...), "deployment.apps/nginx created")
		if img := k.ok(append(ns, "get", "deployment", "nginx", "-o", "jsonpath={.spec.template.spec.containers[0].image}")...); img != "nginx" {
			t.Errorf("image of the created Deployment: %q", img)
		}
	})

	step("create configmap and namespace", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK(append(ns, "create", "configmap", "literal", "--from-literal=a=1", "--from-literal=b=2")...), "configmap/literal created")
		if got := k.ok(append(ns, "get", "configmap", "literal", "-o", "jsonpath={.data}")...); got != `{"a":"1","b":"2"}` {
			t.Errorf("data of the created ConfigMap: %s", got)
		}
		wantStdout(t, k.runOK("create", "namespace", "kube-e2e-extra"), "namespace/kube-e2e-extra created")
		wantStdout(t, k.runOK("delete", "namespace", "kube-e2e-extra"), `namespace "kube-e2e-extra" deleted`)
	})

	step("invalid manifests", func(t *testing.T, k *kubectl) {
		negative := k.manifest("negative.yaml", strings.Replace(strings.Replace(kubectlAppDeployment(), "replicas: 2", "replicas: -1", 1), "name: web", "name: bad", 1))
		r := k.fails("apply", "-f", negative)
		wantContains(t, "replicas: -1", r.stderr, `The Deployment "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`)
		r = k.fails(append(ns, "get", "deployment", "bad")...)
		wantContains(t, "get after an invalid apply", r.stderr, `deployments.apps "bad" not found`)

		unknown := k.manifest("unknown.yaml", strings.Replace(strings.Replace(kubectlAppDeployment(), "replicas: 2", "replicaz: 2", 1), "name: web", "name: bad", 1))
		r = k.fails("apply", "-f", unknown)
		wantContains(t, "unknown field", r.stderr, `unknown field "spec.replicaz"`)
		r = k.fails("create", "-f", unknown)
		wantContains(t, "unknown field (create)", r.stderr, `unknown field "spec.replicaz"`)
		r = k.fails(append(ns, "get", "deployment", "bad")...)
		wantContains(t, "get after an unknown field", r.stderr, `deployments.apps "bad" not found`)
	})

	step("delete --cascade=orphan", func(t *testing.T, k *kubectl) {
		orphan := k.manifest("orphan.yaml", strings.ReplaceAll(kubectlAppDeployment(), "web", "orphan"))
		wantStdout(t, k.runOK("apply", "-f", orphan), "deployment.apps/orphan created")
		rs := strings.Fields(k.eventually(30*time.Second, "a ReplicaSet of orphan", func(r kubectlResult) bool {
			return r.code == 0 && len(strings.Fields(r.stdout)) == 1
		}, append(ns, "get", "replicasets", "-l", "app=orphan", "-o", "name")...).stdout)
		wantStdout(t, k.runOK(append(ns, "delete", "deployment", "orphan", "--cascade=orphan")...), `deployment.apps "orphan" deleted`)
		k.eventually(20*time.Second, "the orphaned ReplicaSet without an owner", outputIs(""),
			append(ns, "get", rs[0], "-o", "jsonpath={.metadata.ownerReferences}")...)
		k.ok(append(ns, "delete", rs[0])...)
	})

	step("delete --cascade=foreground", func(t *testing.T, k *kubectl) {
		wantStdout(t, k.runOK(append(ns, "delete", "deployment", "web", "--cascade=foreground")...), `deployment.apps "web" deleted`)
		k.eventually(30*time.Second, "no ReplicaSet or Pod of web left", func(r kubectlResult) bool {
			return r.code == 0 && strings.TrimSpace(r.stdout) == ""
		}, append(ns, "get", "replicasets,pods", "-l", "app=web", "-o", "name")...)
		r := k.fails(append(ns, "get", "deployment", "web")...)
		wantContains(t, "get after delete", r.stderr, `Error from server (NotFound): deployments.apps "web" not found`)
	})

	step("delete -f", func(t *testing.T, k *kubectl) {
		// kubectl waits for the Namespace to be finalized. (Whether it
		// still finds the ConfigMap depends on how fast the Namespace's
		// contents go.)
		out := k.ok("delete", "-f", appChanged, "--ignore-not-found", "--timeout=60s")
		wantContains(t, "delete -f", out, `namespace "kube-e2e" deleted`)
		r := k.fails("get", "namespace", kubectlNamespace)
		wantContains(t, "get after delete -f", r.stderr, `Error from server (NotFound): namespaces "kube-e2e" not found`)
	})
}

// kubectlAppDeployment is the Deployment of kubectlApp alone.
func kubectlAppDeployment() string {
	docs := strings.Split(kubectlApp, "---\n")
	return docs[len(docs)-1]
}
