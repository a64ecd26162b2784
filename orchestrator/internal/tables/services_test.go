package tables

import (
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestServices(t *testing.T) {
	tcp := func(port, nodePort int32) api.ServicePort {
		return api.ServicePort{Port: port, NodePort: nodePort, Protocol: api.ProtocolTCP}
	}
	golden(t, "services", convert(t, "Service",
		&api.Service{ObjectMeta: meta("kubernetes", 30*24*time.Hour), Spec: api.ServiceSpec{Type: api.ServiceTypeClusterIP,
			ClusterIP: "10.96.0.1", ClusterIPs: []string{"10.96.0.1"}, Ports: []api.ServicePort{tcp(443, 0)}}},
		&api.Service{ObjectMeta: meta("web", time.Hour), Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
			ClusterIP: "10.96.12.7", ClusterIPs: []string{"10.96.12.7"},
			Ports: []api.ServicePort{tcp(80, 30080), {Port: 53, NodePort: 30053, Protocol: api.ProtocolUDP}}}},
		&api.Service{ObjectMeta: meta("lb", time.Minute), Spec: api.ServiceSpec{Type: api.ServiceTypeLoadBalancer, ClusterIP: "10.96.3.3",
			Ports: []api.ServicePort{tcp(443, 31443)}},
			Status: api.ServiceStatus{LoadBalancer: api.LoadBalancerStatus{Ingress: []api.LoadBalancerIngress{{IP: "192.0.2.10"}, {IP: "192.0.2.11"}}}}},
		&api.Service{ObjectMeta: meta("pending", time.Minute), Spec: api.ServiceSpec{Type: api.ServiceTypeLoadBalancer, ClusterIP: "10.96.3.4",
			Ports: []api.ServicePort{tcp(443, 31444)}}},
		&api.Service{ObjectMeta: meta("db", 2*time.Hour), Spec: api.ServiceSpec{Type: api.ServiceTypeClusterIP, ClusterIP: "None",
			ClusterIPs: []string{"None"}, Selector: map[string]string{"app": "db"}}},
		&api.Service{ObjectMeta: meta("search", 5*time.Minute), Spec: api.ServiceSpec{Type: api.ServiceTypeExternalName, ExternalName: "search.example.com"}},
	))
	golden(t, "endpointslices", convert(t, "EndpointSlice",
		&api.EndpointSlice{ObjectMeta: meta("web-x7k2p", time.Hour), AddressType: api.AddressTypeIPv4,
			Ports:     []api.EndpointPort{{Port: api.Ptr(int32(8080))}, {Port: api.Ptr(int32(5353))}},
			Endpoints: []api.Endpoint{{Addresses: []string{"10.244.0.5"}}, {Addresses: []string{"10.244.1.5"}}, {Addresses: []string{"10.244.1.6"}}, {Addresses: []string{"10.244.2.9"}}}},
		&api.EndpointSlice{ObjectMeta: meta("empty-abcde", time.Minute), AddressType: api.AddressTypeIPv4},
	))
}
