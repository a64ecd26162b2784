package orchestratortest_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// BenchmarkEndpointSliceReadiness measures, on a one-node in-process
// cluster with a Service of 10 Pods, the time from a Pod's readiness
// change in the store (its status write, seen on a watch) to the same
// change in the Service's EndpointSlice (seen on a second watch): the
// EndpointSlice controller's share of "readiness change → endpoint out of
// rotation". Each op flips one Pod's readiness (the fake runtime's probe
// answer) off and on again, two samples. The bound is 100 ms.
func BenchmarkEndpointSliceReadiness(b *testing.B) {
	c := orchestratortest.NewCluster(b, 1, quiet())
	cl := c.Client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []orchestrator.ServicePort{{Name: "http", Port: 80, TargetPort: api.FromString("http")}}}}
	if err := cl.Create(ctx, svc); err != nil {
		b.Fatal(err)
	}
	const pods = 10
	for i := range pods {
		if err := cl.Create(ctx, webPod("web-"+string(rune('a'+i)), c.NodeName(0), true)); err != nil {
			b.Fatal(err)
		}
	}
	c.Eventually(30*time.Second, "every Pod ready in the slice", func() bool {
		eps, _ := serviceSlices(b, cl, "web")
		n := 0
		for _, ep := range eps {
			if isTrue(ep.Conditions.Ready) {
				n++
			}
		}
		return n == pods
	})
	podW, err := cl.Watch(ctx, &orchestrator.PodList{}, orchestrator.InNamespace("default"))
	if err != nil {
		b.Fatal(err)
	}
	defer podW.Stop()
	sliceW, err := cl.Watch(ctx, &orchestrator.EndpointSliceList{}, orchestrator.InNamespace("default"))
	if err != nil {
		b.Fatal(err)
	}
	defer sliceW.Stop()
	p, _ := getPod(b, cl, "web-a")
	id := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "flotilla://")
	var lat []time.Duration
	flip := func(healthy bool) {
		if err := c.Runtime(0).SetHealthy(id, healthy); err != nil {
			b.Fatal(err)
		}
		deadline := time.After(30 * time.Second)
		var podAt, sliceAt time.Time
		for podAt.IsZero() || sliceAt.IsZero() {
			select {
			case ev := <-podW.Events():
				if pod, ok := ev.Object.(*orchestrator.Pod); ok && pod.Name == "web-a" && podAt.IsZero() && orchestrator.IsPodReady(pod) == healthy {
					podAt = time.Now()
				}
			case ev := <-sliceW.Events():
				if es, ok := ev.Object.(*orchestrator.EndpointSlice); ok && sliceAt.IsZero() {
					for _, ep := range es.Endpoints {
						if ep.TargetRef != nil && ep.TargetRef.Name == "web-a" && isTrue(ep.Conditions.Ready) == healthy {
							sliceAt = time.Now()
						}
					}
				}
			case <-deadline:
				b.Fatalf("readiness %v not seen in the Pod (%v) and the slice (%v)", healthy, podAt, sliceAt)
			}
		}
		lat = append(lat, sliceAt.Sub(podAt))
	}
	b.ResetTimer()
	for range b.N {
		flip(false)
		flip(true)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
