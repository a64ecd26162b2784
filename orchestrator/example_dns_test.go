package orchestrator_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"github.com/miekg/dns"
)

// A node's cluster DNS answers for a Service by name.
func ExampleCluster_DNSAddr() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := fake.New(fake.Config{NodeName: "solo"})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	cfg := orchestrator.TestConfig("solo")
	cfg.Runtime = rt
	cfg.BootstrapExpect = 1
	cfg.DNSAddress = "127.0.0.1:0" // DefaultConfig: 127.0.0.1:1053
	cluster, err := orchestrator.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := cluster.Start(ctx); err != nil {
		panic(err)
	}
	defer cluster.Shutdown(context.Background())

	svc := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{ClusterIP: "10.96.0.50", Selector: map[string]string{"app": "web"},
			Ports: []orchestrator.ServicePort{{Name: "http", Port: 80}}}}
	if err := cluster.Client().Create(ctx, svc); err != nil {
		panic(err)
	}
	q := new(dns.Msg)
	q.SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	for {
		// The node's cache follows the store: poll until it has the
		// Service.
		r, _, err := new(dns.Client).ExchangeContext(ctx, q, cluster.DNSAddr())
		if err != nil {
			panic(err)
		}
		if len(r.Answer) > 0 {
			fmt.Println(r.Answer[0].(*dns.A).A)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output: 10.96.0.50
}
