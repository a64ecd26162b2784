package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"go.uber.org/zap"
)

// More than 100 endpoints are split into slices of at most 100; a second
// reconcile with nothing changed writes nothing; Pods leaving shrink the
// slices that held them (endpoints are not moved between slices), and new
// Pods fill slices with room before a new slice is made.
func TestEndpointSlicesChunked(t *testing.T) {
	reg := testutil.Registry(t)
	ctx := context.Background()
	writes := 0
	var mu sync.Mutex
	spy := client.Intercept(reg, client.Funcs{
		Create: func(ctx context.Context, c client.Interface, obj api.Object, o client.CreateOptions) error {
			if _, ok := obj.(*api.EndpointSlice); ok {
				mu.Lock()
				writes++
				mu.Unlock()
			}
			return c.Create(ctx, obj, o)
		},
		Update: func(ctx context.Context, c client.Interface, obj api.Object, o client.UpdateOptions) error {
			if _, ok := obj.(*api.EndpointSlice); ok {
				mu.Lock()
				writes++
				mu.Unlock()
			}
			return c.Update(ctx, obj, o)
		},
	})
	svc := &api.Service{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []api.ServicePort{{Port: 80}}}}
	if err := reg.Create(ctx, svc, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const n = 230
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "default", Labels: map[string]string{"app": "web"}},
				Spec: api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "c", Image: "img"}}}}
			if errs[i] = reg.Create(ctx, p, client.CreateOptions{}); errs[i] != nil {
				return
			}
			p.Status.PodIP = fmt.Sprintf("10.100.%d.%d", i/250, i%250+1)
			p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}
			errs[i] = reg.UpdateStatus(ctx, p, client.UpdateOptions{})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	newInf := func(sample api.Object) *informer.Informer {
		return informer.New(reg, sample, client.ListOptions{}, zap.NewNop())
	}
	services, pods, slicesInf, nodes := newInf(&api.Service{}), newInf(&api.Pod{}), newInf(&api.EndpointSlice{}), newInf(&api.Node{})
	services.AddIndex(informer.IndexNamespace, informer.NamespaceIndex)
	pods.AddIndex(informer.IndexNamespace, informer.NamespaceIndex)
	slicesInf.AddIndex(indexServiceName, serviceNameIndex)
	// Reconciled by hand below: the controller's loop does not run.
	c := newEndpointSliceController(spy, services, pods, slicesInf, nodes, zap.NewNop(), nil)
	for _, inf := range []*informer.Informer{services, pods, slicesInf, nodes} {
		runInformer(t, inf)
	}
	sizes := func() []int {
		var out []int
		for _, o := range slicesInf.ByIndex(indexServiceName, "default/web") {
			out = append(out, len(o.(*api.EndpointSlice).Endpoints))
		}
		slices.Sort(out)
		return out
	}
	reconcileOK := func() {
		t.Helper()
		if _, err := c.reconcile(ctx, "default/web"); err != nil {
			t.Fatal(err)
		}
	}
	reconcileOK()
	if got := sizes(); !slices.Equal(got, []int{30, 100, 100}) || writes != 3 {
		t.Fatalf("slice sizes %v after %d writes, want [30 100 100] after 3", got, writes)
	}
	reconcileOK()
	if writes != 3 {
		t.Fatalf("a reconcile with nothing changed wrote %d times", writes-3)
	}
	for i := range 40 {
		if err := reg.Delete(ctx, "default", fmt.Sprintf("web-%d", i), &api.Pod{}, client.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rev := reg.Revision()
	if err := pods.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	reconcileOK()
	total := func(sz []int) int {
		n := 0
		for _, v := range sz {
			n += v
		}
		return n
	}
	if got := sizes(); len(got) != 3 || total(got) != n-40 || got[2] > 100 {
		t.Fatalf("slice sizes %v after 40 Pods left, want 3 slices holding %d", got, n-40)
	}
	before := writes
	for i := range 15 {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("new-%d", i), Namespace: "default", Labels: map[string]string{"app": "web"}},
			Spec: api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "c", Image: "img"}}}}
		if err := reg.Create(ctx, p, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		p.Status.PodIP = fmt.Sprintf("10.101.0.%d", i+1)
		if err := reg.UpdateStatus(ctx, p, client.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pods.WaitForRevision(ctx, reg.Revision()); err != nil {
		t.Fatal(err)
	}
	reconcileOK()
	if got := sizes(); len(got) != 3 || total(got) != n-40+15 || got[2] > 100 || writes-before > 3 {
		t.Fatalf("slice sizes %v after %d writes, want 3 slices holding %d", got, writes-before, n-40+15)
	}
}

func runInformer(t *testing.T, inf *informer.Informer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { inf.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	if err := inf.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
}

// The endpoint conditions are Kubernetes': ready = ready and not
// terminating; serving = ready; publishNotReadyAddresses makes both true.
// Finished Pods that will not restart, and Pods without an IP, are no
// endpoints.
func TestEndpointConditions(t *testing.T) {
	c := &endpointSliceController{nodes: informer.New(testutil.Registry(t), &api.Node{}, client.ListOptions{}, zap.NewNop())}
	pod := func(ready, terminating bool, phase api.PodPhase, policy api.RestartPolicy) *api.Pod {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "ns", UID: "u"},
			Spec:   api.PodSpec{NodeName: "n1", RestartPolicy: policy},
			Status: api.PodStatus{PodIP: "10.100.0.2", Phase: phase}}
		if ready {
			p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}
		}
		if terminating {
			p.DeletionTimestamp = api.NewTimePtr(api.Now().Time)
		}
		return p
	}
	tests := []struct {
		name                        string
		pod                         *api.Pod
		publish                     bool
		ok, ready, serving, terming bool
	}{
		{"ready", pod(true, false, api.PodRunning, api.RestartPolicyAlways), false, true, true, true, false},
		{"not ready", pod(false, false, api.PodRunning, api.RestartPolicyAlways), false, true, false, false, false},
		{"terminating, still ready", pod(true, true, api.PodRunning, api.RestartPolicyAlways), false, true, false, true, true},
		{"not ready, published", pod(false, false, api.PodRunning, api.RestartPolicyAlways), true, true, true, true, false},
		{"terminating, published", pod(false, true, api.PodRunning, api.RestartPolicyAlways), true, true, true, true, true},
		{"succeeded, Never", pod(false, false, api.PodSucceeded, api.RestartPolicyNever), false, false, false, false, false},
		{"failed, OnFailure", pod(false, false, api.PodFailed, api.RestartPolicyOnFailure), false, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &api.Service{ObjectMeta: api.ObjectMeta{Name: "s"}, Spec: api.ServiceSpec{PublishNotReadyAddresses: tt.publish}}
			ep, ok := c.endpointFor(svc, tt.pod)
			if ok != tt.ok {
				t.Fatalf("endpoint %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			cd := ep.Conditions
			if *cd.Ready != tt.ready || *cd.Serving != tt.serving || *cd.Terminating != tt.terming {
				t.Errorf("ready %v serving %v terminating %v, want %v %v %v", *cd.Ready, *cd.Serving, *cd.Terminating, tt.ready, tt.serving, tt.terming)
			}
		})
	}
	noIP := pod(true, false, api.PodRunning, api.RestartPolicyAlways)
	noIP.Status.PodIP = ""
	if _, ok := c.endpointFor(&api.Service{}, noIP); ok {
		t.Error("a Pod without an IP is an endpoint")
	}
}
