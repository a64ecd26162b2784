package scheduler_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/scheduler"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/raftstore"
)

func readyNode(name string) *api.Node {
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{api.LabelHostname: name}}}
	n.Status.Capacity = api.ResourceList{api.ResourceCPU: api.MustParse("32"), api.ResourceMemory: api.MustParse("128Gi"), api.ResourcePods: api.MustParse("110")}
	n.Status.Allocatable = n.Status.Capacity
	conditions.SetNode(&n.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionTrue}, api.Now())
	return n
}

func pod(name, node string) *api.Pod {
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "bench"}},
		Spec: api.PodSpec{
			NodeName: node,
			Containers: []api.Container{{Name: "c", Image: "img:1", Resources: api.ResourceRequirements{
				Requests: api.ResourceList{api.ResourceCPU: api.MustParse("100m"), api.ResourceMemory: api.MustParse("100Mi")},
			}}},
		},
	}
}

// createAll writes objects with 64 concurrent writers (raftstore batches
// them into few Raft entries).
func createAll(tb testing.TB, reg client.Interface, n int, mk func(i int) api.Object) {
	tb.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	ch := make(chan int)
	errs := make(chan error, 1)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				if err := reg.Create(ctx, mk(i), client.CreateOptions{}); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		ch <- i
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
}

// BenchmarkSchedule measures scheduling throughput: 1,000 Ready nodes that
// already hold 30,000 Pods, then b.N pending Pods created up front; the
// clock runs from starting the scheduler until every pending Pod is bound
// (its binding written through Raft and seen by the informer).
func BenchmarkSchedule(b *testing.B) {
	const nodes, existing = 1000, 30000
	st := testutil.StoreWith(b, func(c *raftstore.Config) { c.HistorySize = 200000; c.WatchBuffer = 4096 })
	reg := testutil.RegistryOn(b, st)
	createAll(b, reg, nodes, func(i int) api.Object { return readyNode(fmt.Sprintf("node-%04d", i)) })
	createAll(b, reg, existing, func(i int) api.Object { return pod(fmt.Sprintf("old-%05d", i), fmt.Sprintf("node-%04d", i%nodes)) })
	createAll(b, reg, b.N, func(i int) api.Object { return pod(fmt.Sprintf("new-%07d", i), "") })

	ctx, cancel := context.WithCancel(context.Background())
	pods := informer.New(reg, &api.Pod{}, client.ListOptions{}, nil)
	nodeInf := informer.New(reg, &api.Node{}, client.ListOptions{}, nil)
	s := scheduler.New(scheduler.Config{Client: reg, Pods: pods, Nodes: nodeInf})
	var bound sync.WaitGroup
	bound.Add(b.N)
	var once sync.Map
	pods.AddHandler(informer.Handler{OnUpdate: func(_, o api.Object) {
		if p := o.(*api.Pod); p.Spec.NodeName != "" && p.Name[:4] == "new-" {
			if _, dup := once.LoadOrStore(p.Name, true); !dup {
				bound.Done()
			}
		}
	}})
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Add(2)
	go func() { defer wg.Done(); pods.Run(ctx) }()
	go func() { defer wg.Done(); nodeInf.Run(ctx) }()
	if err := pods.WaitSynced(ctx); err != nil {
		b.Fatal(err)
	}
	if err := nodeInf.WaitSynced(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	wg.Add(1)
	go func() { defer wg.Done(); s.Run(ctx) }()
	bound.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pods/s")
}
