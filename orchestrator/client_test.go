package orchestrator_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/leakcheck"
	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// Nodes run memberlist, whose goroutines may outlive Shutdown briefly.
func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

const webYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: web:1
        ports: [{containerPort: 8080}]
        resources:
          requests: {cpu: 100m, memory: 64Mi}
`

func decode(t *testing.T, s string) orchestrator.Object {
	t.Helper()
	obj, err := orchestrator.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestBadManifestsAreInvalidAndStoreNothing(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx := context.Background()
	cases := []struct {
		name  string
		edit  func(string) string
		paths []string
	}{
		{"unknown field", func(s string) string { return strings.Replace(s, "replicas: 2", "replicas: 2\n  replica: 3", 1) }, []string{"spec.replica"}},
		{"selector does not match template", func(s string) string { return strings.Replace(s, "labels: {app: web}", "labels: {app: api}", 1) }, []string{"spec.template.metadata.labels"}},
		{"negative replicas", func(s string) string { return strings.Replace(s, "replicas: 2", "replicas: -1", 1) }, []string{"spec.replicas"}},
		{"missing image", func(s string) string { return strings.Replace(s, "        image: web:1\n", "", 1) }, []string{"spec.template.spec.containers[0].image"}},
		{"duplicate container names", func(s string) string {
			return strings.Replace(s, "      - name: app\n", "      - name: app\n        image: x:1\n      - name: app\n", 1)
		}, []string{"spec.template.spec.containers[1].name"}},
		{"invalid name", func(s string) string { return strings.Replace(s, "name: web", "name: Web_1", 1) }, []string{"metadata.name"}},
		{"invalid label", func(s string) string {
			return strings.Replace(s, "metadata:\n  name: web", "metadata:\n  name: web\n  labels: {\"bad key!\": x}", 1)
		}, []string{"metadata.labels"}},
		{"port out of range", func(s string) string { return strings.Replace(s, "8080", "70000", 1) }, []string{"spec.template.spec.containers[0].ports[0].containerPort"}},
		{"malformed quantity", func(s string) string { return strings.Replace(s, "cpu: 100m", "cpu: 100mm", 1) }, []string{"spec.template.spec.containers[0].resources.requests[cpu]"}},
		{"wrong apiVersion", func(s string) string { return strings.Replace(s, "apps/v1", "apps/v2", 1) }, []string{"apiVersion"}},
		{"wrong kind", func(s string) string { return strings.Replace(s, "kind: Deployment", "kind: Deploymnet", 1) }, []string{"kind"}},
		{"several mistakes at once", func(s string) string {
			s = strings.Replace(s, "replicas: 2", "replicas: -1", 1)
			return strings.Replace(s, "        image: web:1\n", "", 1)
		}, []string{"spec.replicas", "spec.template.spec.containers[0].image"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := orchestrator.Decode([]byte(tc.edit(webYAML)))
			if err == nil {
				err = cl.Create(ctx, obj)
			}
			if !orchestrator.IsInvalid(err) {
				t.Fatalf("want Invalid, got %v", err)
			}
			var got []string
			for _, fe := range orchestrator.FieldErrors(err) {
				got = append(got, fe.Field)
			}
			for _, p := range tc.paths {
				found := false
				for _, g := range got {
					if g == p || strings.HasPrefix(g, p) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error for %s; got %v (%v)", p, got, err)
				}
			}
		})
	}
	var list orchestrator.DeploymentList
	if err := cl.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("invalid manifests stored %d deployments", len(list.Items))
	}
}

func TestClientCRUDConflictApplyWatch(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	ctx := context.Background()
	// Use a follower's client: writes are forwarded, reads are linearizable.
	follower := (c.Leader() + 1) % 3
	cl := c.Node(follower).Client()

	d := decode(t, webYAML).(*orchestrator.Deployment)
	if err := cl.Apply(ctx, d); err != nil {
		t.Fatal(err)
	}
	first := d.ResourceVersion
	var got orchestrator.Deployment
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "web"}, &got); err != nil {
		t.Fatal(err)
	}
	// The Deployment controller may already have written status (a newer
	// resourceVersion, same generation): the read must be at least as new.
	if rvAtLeast(got.ResourceVersion, first) != nil || got.Namespace != "default" || got.Generation != 1 {
		t.Fatalf("get after apply: rv %s (apply returned %s) ns %q gen %d", got.ResourceVersion, first, got.Namespace, got.Generation)
	}
	// Apply again with a change: update, generation 2.
	d2 := decode(t, strings.Replace(webYAML, "replicas: 2", "replicas: 4", 1)).(*orchestrator.Deployment)
	if err := cl.Apply(ctx, d2); err != nil {
		t.Fatal(err)
	}
	if d2.Generation != 2 || *d2.Spec.Replicas != 4 {
		t.Fatalf("apply update: generation %d replicas %d", d2.Generation, *d2.Spec.Replicas)
	}
	// Stale resourceVersion.
	got.Spec.Replicas = orchestrator.Ptr(int32(9))
	if err := cl.Update(ctx, &got); !orchestrator.IsConflict(err) {
		t.Fatalf("stale update: want Conflict, got %v", err)
	}
	if err := cl.Create(ctx, decode(t, webYAML)); !orchestrator.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v", err)
	}
	if err := cl.Get(ctx, orchestrator.ObjectKey{Name: "nope"}, &got); !orchestrator.IsNotFound(err) {
		t.Fatalf("missing: %v", err)
	}
	if err := cl.Delete(ctx, &got, orchestrator.Preconditions{ResourceVersion: first}); !orchestrator.IsConflict(err) {
		t.Fatalf("delete with stale precondition: %v", err)
	}

	// Field selectors on Pods.
	c.Eventually(20*time.Second, "4 pods running", func() bool {
		var pods orchestrator.PodList
		return cl.List(ctx, &pods, orchestrator.MatchingFields{"status.phase": "Running"}) == nil && len(pods.Items) == 4
	})
	var pods orchestrator.PodList
	if err := cl.List(ctx, &pods, orchestrator.MatchingFields{"spec.nodeName": c.NodeName(0)}, orchestrator.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != c.NodeName(0) {
			t.Fatalf("field selector returned a pod on %s", p.Spec.NodeName)
		}
	}
	sel, _ := orchestrator.ParseSelector("app in (web),pod-template-hash")
	if err := cl.List(ctx, &pods, orchestrator.MatchingLabelsSelector{Selector: sel}); err != nil || len(pods.Items) != 4 {
		t.Fatalf("label selector: %v %d", err, len(pods.Items))
	}
	if err := cl.List(ctx, &pods, orchestrator.MatchingFields{"spec.bogus": "x"}); !orchestrator.IsBadRequest(err) {
		t.Fatalf("unsupported field selector: %v", err)
	}

	// Watch from the list's resourceVersion sees later changes only.
	var cms orchestrator.ConfigMapList
	if err := cl.List(ctx, &cms, orchestrator.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	w, err := cl.Watch(wctx, &cms, orchestrator.InNamespace("default"), orchestrator.FromResourceVersion(cms.ResourceVersion))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: "cfg"}, Data: map[string]string{"a": "1"}}
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := cl.Patch(ctx, cm, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"data":{"b":"2"}}`))); err != nil {
		t.Fatal(err)
	}
	if cm.Data["a"] != "1" || cm.Data["b"] != "2" {
		t.Fatalf("merge patch result %v", cm.Data)
	}
	if err := cl.Delete(ctx, cm); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for len(seen) < 3 {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch ended: %v (seen %v)", w.Err(), seen)
			}
			seen = append(seen, string(ev.Type)+" "+ev.Object.GetName())
		case <-wctx.Done():
			t.Fatalf("seen %v", seen)
		}
	}
	if strings.Join(seen, ",") != "ADDED cfg,MODIFIED cfg,DELETED cfg" {
		t.Fatalf("watch events %v", seen)
	}
	if _, err := cl.Watch(ctx, &cms, orchestrator.FromResourceVersion("x")); !orchestrator.IsBadRequest(err) {
		t.Fatalf("malformed resourceVersion: %v", err)
	}
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	ctx := context.Background()
	cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: "counter"}, Data: map[string]string{}}
	if err := c.Client().Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 3 {
		cl := c.Node(w).Client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				for {
					var cur orchestrator.ConfigMap
					if err := cl.Get(ctx, orchestrator.ObjectKey{Name: "counter"}, &cur); err != nil {
						t.Error(err)
						return
					}
					if cur.Data == nil {
						cur.Data = map[string]string{}
					}
					cur.Data[string(rune('a'+w))+string(rune('a'+i))] = "1"
					err := cl.Update(ctx, &cur)
					if orchestrator.IsConflict(err) {
						continue
					}
					if err != nil {
						t.Error(err)
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	var got orchestrator.ConfigMap
	if err := c.Client().Get(ctx, orchestrator.ObjectKey{Name: "counter"}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 24 {
		keys := make([]string, 0, len(got.Data))
		for k := range got.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Fatalf("lost updates: have %d keys %v, want 24", len(got.Data), keys)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := orchestrator.Config{
		NodeName:         "Bad Name",
		Role:             "boss",
		BootstrapExpect:  -1,
		BootstrapServers: []orchestrator.BootstrapServer{{Name: "x"}},
		Timing:           orchestrator.Timing{HeartbeatInterval: 2 * time.Second, NodeMonitorGracePeriod: time.Second, Raft: "slow"},
		EventTTL:         -time.Second,
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, field := range []string{"Config.NodeName", "Config.Role", "Config.Runtime", "Config.BootstrapExpect", "Config.BootstrapServers[0]", "Config.BootstrapServers:", "Timing.NodeMonitorGracePeriod", "Timing.Raft", "Config.EventTTL"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("no problem reported for %s in:\n%v", field, err)
		}
	}
	if _, err := orchestrator.New(cfg); err == nil {
		t.Fatal("New accepted an invalid config")
	}
}

func TestShutdownIdempotent(t *testing.T) {
	cfg := orchestrator.TestConfig("solo")
	cfg.DisableAgent = true
	cfg.BootstrapExpect = 1
	c, err := orchestrator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil { // before Start
		t.Fatal(err)
	}
	c, err = orchestrator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for !c.IsLeader() {
		select {
		case <-ctx.Done():
			t.Fatal("single-node cluster never led")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := c.Client().Create(ctx, &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: "team-a"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err == nil {
		t.Fatal("Start after Shutdown succeeded")
	}
}

// rvAtLeast reports an error unless resourceVersion rv is at least min.
func rvAtLeast(rv, min string) error {
	a, err := strconv.ParseInt(rv, 10, 64)
	if err != nil {
		return err
	}
	b, err := strconv.ParseInt(min, 10, 64)
	if err != nil {
		return err
	}
	if a < b {
		return fmt.Errorf("resourceVersion %d is older than %d", a, b)
	}
	return nil
}

// TestWatchSelectorEnterAndLeave: through the Client, an object whose
// labels come to match a watch's selector is ADDED, and DELETED (with its
// last matching labels) when they stop matching.
func TestWatchSelectorEnterAndLeave(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, err := cl.Watch(ctx, &orchestrator.ConfigMapList{}, orchestrator.MatchingLabels{"tier": "web"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: "cfg", Labels: map[string]string{"tier": "db"}}}
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	for _, tier := range []string{"web", "cache"} {
		if err := cl.Patch(ctx, cm, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"metadata":{"labels":{"tier":"`+tier+`"}}}`))); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	for len(seen) < 2 {
		select {
		case ev := <-w.Events():
			seen = append(seen, fmt.Sprintf("%s %s tier=%s", ev.Type, ev.Object.GetName(), ev.Object.GetLabels()["tier"]))
		case <-ctx.Done():
			t.Fatalf("seen %v", seen)
		}
	}
	if got := strings.Join(seen, ","); got != "ADDED cfg tier=web,DELETED cfg tier=web" {
		t.Fatalf("watch events %s", got)
	}
}
