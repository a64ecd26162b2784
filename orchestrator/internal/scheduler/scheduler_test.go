package scheduler_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/controllerutil"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"github.com/flotilla-io/flotilla/orchestrator/internal/scheduler"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type env struct {
	reg   client.Interface
	pods  *informer.Informer
	nodes *informer.Informer
}

func start(t *testing.T) *env { return startWith(t, testutil.Registry(t), nil) }

// startWith runs a scheduler over reg whose Config edit may change.
func startWith(t *testing.T, reg client.Interface, edit func(*scheduler.Config)) *env {
	ctx, cancel := context.WithCancel(context.Background())
	pods := informer.New(reg, &api.Pod{}, client.ListOptions{}, nil)
	nodes := informer.New(reg, &api.Node{}, client.ListOptions{}, nil)
	cfg := scheduler.Config{Client: reg, Pods: pods, Nodes: nodes, RetryInterval: 50 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	s := scheduler.New(cfg)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); pods.Run(ctx) }()
	go func() { defer wg.Done(); nodes.Run(ctx) }()
	go func() {
		defer wg.Done()
		if pods.WaitSynced(ctx) == nil && nodes.WaitSynced(ctx) == nil {
			s.Run(ctx)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &env{reg: reg, pods: pods, nodes: nodes}
}

func (e *env) boundTo(t *testing.T, name string) string {
	t.Helper()
	var node string
	testutil.Eventually(t, 10*time.Second, "pod "+name+" bound", func() bool {
		o, ok := e.pods.Get("default/" + name)
		if ok {
			node = o.(*api.Pod).Spec.NodeName
		}
		return node != ""
	})
	return node
}

func TestFilters(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	mk := func(name string, edit func(*api.Node)) {
		n := readyNode(name)
		n.Status.Capacity = api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("1Gi"), api.ResourcePods: api.MustParse("10")}
		n.Status.Allocatable = n.Status.Capacity
		if edit != nil {
			edit(n)
		}
		if err := e.reg.Create(ctx, n, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("cordoned", func(n *api.Node) { n.Spec.Unschedulable = true })
	mk("tainted", func(n *api.Node) {
		n.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "db", Effect: api.TaintEffectNoSchedule}}
	})
	mk("notready", func(n *api.Node) {
		conditions.SetNode(&n.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionFalse}, api.Now())
	})
	mk("ssd", func(n *api.Node) { n.Labels["disk"] = "ssd" })
	mk("plain", nil)

	// nodeSelector.
	p := pod("wants-ssd", "")
	p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	if err := e.reg.Create(ctx, p, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := e.boundTo(t, "wants-ssd"); n != "ssd" {
		t.Fatalf("wants-ssd on %s", n)
	}
	// Toleration opens the tainted node; the selector forces it.
	p = pod("db", "")
	p.Spec.NodeSelector = map[string]string{api.LabelHostname: "tainted"}
	p.Spec.Tolerations = []api.Toleration{{Key: "dedicated", Operator: api.TolerationOpEqual, Value: "db", Effect: api.TaintEffectNoSchedule}}
	if err := e.reg.Create(ctx, p, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := e.boundTo(t, "db"); n != "tainted" {
		t.Fatalf("db on %s", n)
	}
	// Host ports: two Pods wanting port 80 on ssd/plain go to different nodes.
	for _, name := range []string{"web-a", "web-b"} {
		p = pod(name, "")
		p.Spec.Containers[0].Ports = []api.ContainerPort{{ContainerPort: 80, HostPort: 80}}
		if err := e.reg.Create(ctx, p, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := e.boundTo(t, "web-a"), e.boundTo(t, "web-b")
	if a == b || (a != "ssd" && a != "plain") || (b != "ssd" && b != "plain") {
		t.Fatalf("host port pods on %s and %s", a, b)
	}
	// Too big for anyone: unschedulable with a reason per node.
	p = pod("huge", "")
	p.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceCPU: api.MustParse("2")}
	if err := e.reg.Create(ctx, p, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var msg string
	testutil.Eventually(t, 10*time.Second, "huge unschedulable", func() bool {
		o, ok := e.pods.Get("default/huge")
		if !ok {
			return false
		}
		c := api.GetPodCondition(&o.(*api.Pod).Status, api.PodScheduled)
		if c != nil && c.Status == api.ConditionFalse {
			msg = c.Message
			return true
		}
		return false
	})
	for _, want := range []string{"0/5 nodes are available", "Insufficient cpu", "node(s) were unschedulable", "node(s) were not ready", "untolerated taint"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// A bigger node appears: the Pod is retried and lands there.
	mk("big", func(n *api.Node) {
		n.Status.Capacity[api.ResourceCPU] = api.MustParse("8")
		n.Status.Allocatable = n.Status.Capacity
	})
	if n := e.boundTo(t, "huge"); n != "big" {
		t.Fatalf("huge on %s", n)
	}
}

func TestSpreadsOwnerAcrossNodes(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	var last *api.Node
	for _, n := range []string{"a", "b", "c"} {
		last = readyNode(n)
		if err := e.reg.Create(ctx, last, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The scheduler must know all three nodes before the first Pod comes,
	// or the first Pods spread over the nodes it knows.
	rev, _ := strconv.ParseInt(last.ResourceVersion, 10, 64)
	if err := e.nodes.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	owner := &api.ReplicaSet{TypeMeta: api.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"}, ObjectMeta: api.ObjectMeta{Name: "rs", UID: "u-1"}}
	for i := range 9 {
		p := pod("p"+string(rune('0'+i)), "")
		p.OwnerReferences = []api.OwnerReference{controllerutil.NewControllerRef(owner)}
		if err := e.reg.Create(ctx, p, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	count := map[string]int{}
	for i := range 9 {
		count[e.boundTo(t, "p"+string(rune('0'+i)))]++
	}
	if count["a"] != 3 || count["b"] != 3 || count["c"] != 3 {
		t.Fatalf("spread %v, want 3 per node", count)
	}
}

// Each scheduling attempt is counted by result, as kube-scheduler's
// scheduler_schedule_attempts_total; a bind that keeps failing is
// logged at Warn, rate-limited.
func TestAttemptsCounted(t *testing.T) {
	refused := client.Intercept(testutil.Registry(t), client.Funcs{
		Bind: func(ctx context.Context, c client.Interface, p *api.Pod, node string, o client.UpdateOptions) (*api.Pod, error) {
			if p.Name == "refused" {
				return nil, api.NewForbidden("Pod", p.Name, errors.New("admission says no"))
			}
			return c.Bind(ctx, p, node, o)
		},
	})
	reg := prometheus.NewRegistry()
	met := metrics.New("n1")
	if err := met.Register(reg); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.WarnLevel)
	e := startWith(t, refused, func(c *scheduler.Config) { c.Metrics, c.Logger = met, zap.New(core) })
	ctx := context.Background()
	n := readyNode("plain")
	n.Status.Capacity = api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourcePods: api.MustParse("10")}
	n.Status.Allocatable = n.Status.Capacity
	if err := e.reg.Create(ctx, n, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	huge := pod("huge", "")
	huge.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceCPU: api.MustParse("2")}
	for _, p := range []*api.Pod{pod("fits", ""), huge, pod("refused", "")} {
		if err := e.reg.Create(ctx, p, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.boundTo(t, "fits")
	attempts := func(result string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "scheduler_schedule_attempts_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "result" && l.GetValue() == result {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	testutil.Eventually(t, 10*time.Second, "the refused bind retried", func() bool { return attempts(metrics.Error) >= 3 })
	testutil.Eventually(t, 10*time.Second, "huge found unschedulable", func() bool { return attempts(metrics.Unschedulable) >= 1 })
	if got := attempts(metrics.Scheduled); got != 1 {
		t.Errorf("%v scheduled attempts, want 1 (fits)", got)
	}
	warn := logs.FilterMessage("bind failed; retrying").AllUntimed()
	if len(warn) == 0 || warn[0].ContextMap()["pod"] != "default/refused" {
		t.Fatalf("Warn lines %+v, want the refused bind", warn)
	}
	if errs := attempts(metrics.Error); float64(len(warn)) >= errs {
		t.Errorf("%d Warn lines for %v failed binds: not rate-limited", len(warn), errs)
	}
}
