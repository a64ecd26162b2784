package agent_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

func (e *env) service(t *testing.T, ns, name string, spec api.ServiceSpec) *api.Service {
	t.Helper()
	s := &api.Service{ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := e.reg.Create(context.Background(), s, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// envOf waits for pod p's container main to be made and returns its
// environment.
func (e *env) envOf(t *testing.T, p *api.Pod) []runtime.EnvVar {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, "container of "+p.Name, func() bool {
		cs, err := e.rt.ListContainers(context.Background(), &runtime.ContainerFilter{PodUID: string(p.UID)})
		return err == nil && len(cs) > 0
	})
	return e.containerConfig(t, p, "main").Env
}

// Services' Docker-links style variables, as the kubelet makes them: for
// the Services of the Pod's namespace with a cluster IP (not headless,
// not ExternalName, not another namespace's), in Service name order,
// after the Pod's own env, which wins and may refer to them; the
// kubernetes Service's always, even with enableServiceLinks false.
func TestServiceEnv(t *testing.T) {
	e := newEnv(t, fake.Config{})
	ctx := context.Background()
	kube := e.service(t, "default", "kubernetes", api.ServiceSpec{Ports: []api.ServicePort{{Name: "https", Port: 443}}})
	redis := e.service(t, "default", "redis-primary", api.ServiceSpec{Selector: map[string]string{"app": "redis"}, Ports: []api.ServicePort{
		{Name: "redis", Port: 6379}, {Name: "stats-udp", Port: 9121, Protocol: api.ProtocolUDP}}})
	e.service(t, "default", "headless", api.ServiceSpec{ClusterIP: api.ClusterIPNone, Ports: []api.ServicePort{{Port: 80}}})
	e.service(t, "default", "ext", api.ServiceSpec{Type: api.ServiceTypeExternalName, ExternalName: "example.com"})
	if err := e.reg.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop"}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cart := e.service(t, "shop", "cart", api.ServiceSpec{Ports: []api.ServicePort{{Port: 8080}}})
	e.run(t)

	p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{Containers: []api.Container{{
		Name: "main", Image: "app:1",
		Env: []api.EnvVar{
			{Name: "REDIS_PRIMARY_SERVICE_HOST", Value: "mine"},
			{Name: "URL", Value: "$(REDIS_PRIMARY_PORT)/0"},
		},
	}}}})
	ki, ri := kube.Spec.ClusterIP, redis.Spec.ClusterIP
	want := []runtime.EnvVar{
		{Name: "REDIS_PRIMARY_SERVICE_HOST", Value: "mine"},
		{Name: "URL", Value: "tcp://" + ri + ":6379/0"},
		{Name: "KUBERNETES_SERVICE_HOST", Value: ki},
		{Name: "KUBERNETES_SERVICE_PORT", Value: "443"},
		{Name: "KUBERNETES_SERVICE_PORT_HTTPS", Value: "443"},
		{Name: "KUBERNETES_PORT", Value: "tcp://" + ki + ":443"},
		{Name: "KUBERNETES_PORT_443_TCP", Value: "tcp://" + ki + ":443"},
		{Name: "KUBERNETES_PORT_443_TCP_PROTO", Value: "tcp"},
		{Name: "KUBERNETES_PORT_443_TCP_PORT", Value: "443"},
		{Name: "KUBERNETES_PORT_443_TCP_ADDR", Value: ki},
		{Name: "REDIS_PRIMARY_SERVICE_PORT", Value: "6379"},
		{Name: "REDIS_PRIMARY_SERVICE_PORT_REDIS", Value: "6379"},
		{Name: "REDIS_PRIMARY_SERVICE_PORT_STATS_UDP", Value: "9121"},
		{Name: "REDIS_PRIMARY_PORT", Value: "tcp://" + ri + ":6379"},
		{Name: "REDIS_PRIMARY_PORT_6379_TCP", Value: "tcp://" + ri + ":6379"},
		{Name: "REDIS_PRIMARY_PORT_6379_TCP_PROTO", Value: "tcp"},
		{Name: "REDIS_PRIMARY_PORT_6379_TCP_PORT", Value: "6379"},
		{Name: "REDIS_PRIMARY_PORT_6379_TCP_ADDR", Value: ri},
		{Name: "REDIS_PRIMARY_PORT_9121_UDP", Value: "udp://" + ri + ":9121"},
		{Name: "REDIS_PRIMARY_PORT_9121_UDP_PROTO", Value: "udp"},
		{Name: "REDIS_PRIMARY_PORT_9121_UDP_PORT", Value: "9121"},
		{Name: "REDIS_PRIMARY_PORT_9121_UDP_ADDR", Value: ri},
	}
	if got := e.envOf(t, p); !slices.Equal(got, want) {
		t.Errorf("env:\n got %v\nwant %v", got, want)
	}

	// enableServiceLinks false: the kubernetes Service's only.
	off := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "off"}, Spec: api.PodSpec{EnableServiceLinks: api.Ptr(false),
		Containers: []api.Container{{Name: "main", Image: "app:1"}}}})
	if got := e.envOf(t, off); !slices.Equal(got, want[2:10]) {
		t.Errorf("enableServiceLinks false:\n got %v\nwant %v", got, want[2:10])
	}

	// Another namespace: its own Services and the kubernetes Service.
	other := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "o", Namespace: "shop"},
		Spec: api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "main", Image: "app:1"}}}}
	if err := e.reg.Create(ctx, other, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ci := cart.Spec.ClusterIP
	wantOther := append([]runtime.EnvVar{
		{Name: "CART_SERVICE_HOST", Value: ci},
		{Name: "CART_SERVICE_PORT", Value: "8080"},
		{Name: "CART_PORT", Value: "tcp://" + ci + ":8080"},
		{Name: "CART_PORT_8080_TCP", Value: "tcp://" + ci + ":8080"},
		{Name: "CART_PORT_8080_TCP_PROTO", Value: "tcp"},
		{Name: "CART_PORT_8080_TCP_PORT", Value: "8080"},
		{Name: "CART_PORT_8080_TCP_ADDR", Value: ci},
	}, want[2:10]...)
	if got := e.envOf(t, other); !slices.Equal(got, wantOther) {
		t.Errorf("other namespace:\n got %v\nwant %v", got, wantOther)
	}
}
