package strategy

import (
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func newTestService() *api.Service {
	return &api.Service{TypeMeta: api.TypeMeta{APIVersion: api.CoreV1, Kind: "Service"},
		ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []api.ServicePort{{Name: "http", Port: 80, TargetPort: api.FromString("http")}, {Name: "dns", Port: 53, Protocol: api.ProtocolUDP}}}}
}

func TestServiceDefaults(t *testing.T) {
	s := newTestService()
	s.Spec.SessionAffinity = api.ServiceAffinityClientIP
	defaultObject(s)
	sp := s.Spec
	if sp.Type != api.ServiceTypeClusterIP || sp.Ports[0].Protocol != api.ProtocolTCP || sp.Ports[1].TargetPort != api.FromInt(53) ||
		*sp.SessionAffinityConfig.ClientIP.TimeoutSeconds != 10800 || *sp.InternalTrafficPolicy != api.ServiceTrafficPolicyCluster ||
		sp.ExternalTrafficPolicy != "" || len(sp.IPFamilies) != 1 || sp.IPFamilies[0] != api.IPv4Protocol ||
		*sp.IPFamilyPolicy != api.IPFamilyPolicySingleStack {
		t.Errorf("defaults: %+v", sp)
	}
	if err := validate(s); err != nil {
		t.Fatal(err)
	}
	lb := newTestService()
	lb.Spec.Type = api.ServiceTypeLoadBalancer
	if err := defaultAndValidate(lb); err != nil || lb.Spec.ExternalTrafficPolicy != api.ServiceTrafficPolicyCluster ||
		!*lb.Spec.AllocateLoadBalancerNodePorts {
		t.Errorf("LoadBalancer defaults: %+v, %v", lb.Spec, err)
	}
}

// TestValidateService: each bad input is one error, with Kubernetes'
// field path and message.
func TestValidateService(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*api.Service)
		field  string // "" = valid
		msg    string
	}{
		{"valid", func(*api.Service) {}, "", ""},
		{"headless without ports", func(s *api.Service) { s.Spec.ClusterIP, s.Spec.Ports = "None", nil }, "", ""},
		{"ExternalName", func(s *api.Service) {
			s.Spec = api.ServiceSpec{Type: api.ServiceTypeExternalName, ExternalName: "db.example.com."}
		}, "", ""},
		{"name not a DNS-1035 label", func(s *api.Service) { s.Name = "1web" }, "metadata.name", "DNS-1035 label"},
		{"no ports", func(s *api.Service) { s.Spec.Ports = nil }, "spec.ports", "Required value"},
		{"port 0", func(s *api.Service) { s.Spec.Ports[0].Port = 0 }, "spec.ports[0].port", "must be between 1 and 65535, inclusive"},
		{"port 70000", func(s *api.Service) { s.Spec.Ports[0].Port = 70000 }, "spec.ports[0].port", "must be between 1 and 65535, inclusive"},
		{"duplicate port", func(s *api.Service) { s.Spec.Ports[1].Port, s.Spec.Ports[1].Protocol = 80, api.ProtocolTCP }, "spec.ports[1]", "Duplicate value"},
		{"same port, other protocol", func(s *api.Service) { s.Spec.Ports[1].Port = 80 }, "", ""},
		{"unnamed among several", func(s *api.Service) { s.Spec.Ports[1].Name = "" }, "spec.ports[1].name", "Required value"},
		{"duplicate name", func(s *api.Service) { s.Spec.Ports[1].Name = "http" }, "spec.ports[1].name", "Duplicate value"},
		{"SCTP", func(s *api.Service) { s.Spec.Ports[1].Protocol = api.ProtocolSCTP }, "spec.ports[1].protocol", "Forbidden"},
		{"bad appProtocol", func(s *api.Service) { s.Spec.Ports[0].AppProtocol = api.Ptr("http 2") }, "spec.ports[0].appProtocol", "Invalid value"},
		{"appProtocol", func(s *api.Service) { s.Spec.Ports[0].AppProtocol = api.Ptr("kubernetes.io/h2c") }, "", ""},
		{"unknown protocol", func(s *api.Service) { s.Spec.Ports[1].Protocol = "ICMP" }, "spec.ports[1].protocol", "Unsupported value"},
		{"bad targetPort name", func(s *api.Service) { s.Spec.Ports[0].TargetPort = api.FromString("Http_1") }, "spec.ports[0].targetPort", "Invalid value"},
		{"targetPort 70000", func(s *api.Service) { s.Spec.Ports[0].TargetPort = api.FromInt(70000) }, "spec.ports[0].targetPort", "must be between 1 and 65535"},
		{"nodePort on ClusterIP", func(s *api.Service) { s.Spec.Ports[0].NodePort = 30080 }, "spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'"},
		{"unknown type", func(s *api.Service) { s.Spec.Type = "Ingress" }, "spec.type", "Unsupported value"},
		{"bad clusterIP", func(s *api.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.300", []string{"10.96.0.300"} },
			"spec.clusterIPs[0]", "must be a valid IP address"},
		{"IPv6 clusterIP", func(s *api.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "fd00::1", []string{"fd00::1"} },
			"spec.clusterIPs[0]", "IPv6 is not supported yet"},
		{"clusterIP and clusterIPs differ", func(s *api.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.5", []string{"10.96.0.6"} },
			"spec.clusterIPs", "first value must match `clusterIP`"},
		{"IPv6 family", func(s *api.Service) { s.Spec.IPFamilies = []api.IPFamily{api.IPv6Protocol} }, "spec.ipFamilies[0]", "not supported yet"},
		{"RequireDualStack", func(s *api.Service) { s.Spec.IPFamilyPolicy = api.Ptr(api.IPFamilyPolicyRequireDualStack) }, "spec.ipFamilyPolicy", "not supported yet"},
		{"headless NodePort", func(s *api.Service) {
			s.Spec.Type, s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.ExternalTrafficPolicy = api.ServiceTypeNodePort, "None", []string{"None"}, api.ServiceTrafficPolicyCluster
		}, "spec.clusterIPs[0]", "may not be set to 'None' for NodePort services"},
		{"ExternalName without a name", func(s *api.Service) { s.Spec = api.ServiceSpec{Type: api.ServiceTypeExternalName} }, "spec.externalName", "Required value"},
		{"invalid ExternalName", func(s *api.Service) {
			s.Spec = api.ServiceSpec{Type: api.ServiceTypeExternalName, ExternalName: "db_1.example.com"}
		},
			"spec.externalName", "RFC 1123 subdomain"},
		{"ExternalName with a clusterIP", func(s *api.Service) {
			s.Spec = api.ServiceSpec{Type: api.ServiceTypeExternalName, ExternalName: "db.example.com", ClusterIP: "10.96.0.5"}
		}, "spec.clusterIPs", "may not be set for ExternalName services"},
		{"externalName on ClusterIP", func(s *api.Service) { s.Spec.ExternalName = "db.example.com" }, "spec.externalName", "may only be set when `type` is 'ExternalName'"},
		{"unknown affinity", func(s *api.Service) { s.Spec.SessionAffinity = "Cookie" }, "spec.sessionAffinity", "Unsupported value"},
		{"affinity config with None", func(s *api.Service) {
			s.Spec.SessionAffinityConfig = &api.SessionAffinityConfig{ClientIP: &api.ClientIPConfig{TimeoutSeconds: api.Ptr(int32(5))}}
		}, "spec.sessionAffinityConfig", "must not be set when session affinity is None"},
		{"affinity timeout over a day", func(s *api.Service) {
			s.Spec.SessionAffinity = api.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &api.SessionAffinityConfig{ClientIP: &api.ClientIPConfig{TimeoutSeconds: api.Ptr(int32(86401))}}
		}, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "must be greater than 0 and less than 86400"},
		{"externalTrafficPolicy on ClusterIP", func(s *api.Service) { s.Spec.ExternalTrafficPolicy = api.ServiceTrafficPolicyLocal },
			"spec.externalTrafficPolicy", "may only be set when `type` is 'NodePort' or 'LoadBalancer'"},
		{"unknown internalTrafficPolicy", func(s *api.Service) { s.Spec.InternalTrafficPolicy = api.Ptr(api.ServiceTrafficPolicy("Zone")) },
			"spec.internalTrafficPolicy", "Unsupported value"},
		{"bad selector value", func(s *api.Service) { s.Spec.Selector = map[string]string{"app": "a b"} }, "spec.selector[app]", "Invalid value"},
		{"node port out of range", func(s *api.Service) {
			s.Spec.Type, s.Spec.ExternalTrafficPolicy, s.Spec.Ports[0].NodePort = api.ServiceTypeNodePort, api.ServiceTrafficPolicyCluster, 80
		}, "spec.ports[0].nodePort", "provided port is not in the valid range. The range of valid ports is 30000-32767"},
		{"clusterIP out of range", func(s *api.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.0.0.5", []string{"10.0.0.5"} },
			"spec.clusterIPs", "provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService()
			tt.mutate(s)
			err := defaultAndValidate(s)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			checkFieldErrors(t, err, []string{tt.field})
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v does not say %q", err, tt.msg)
			}
		})
	}
}

func TestValidateEndpointSlice(t *testing.T) {
	good := func() *api.EndpointSlice {
		return &api.EndpointSlice{TypeMeta: api.TypeMeta{APIVersion: api.DiscoveryV1, Kind: "EndpointSlice"},
			ObjectMeta: api.ObjectMeta{Name: "web-abc", Namespace: "shop"}, AddressType: api.AddressTypeIPv4,
			Endpoints: []api.Endpoint{{Addresses: []string{"10.244.0.5"}, NodeName: api.Ptr("n1")}},
			Ports:     []api.EndpointPort{{Name: api.Ptr("http"), Port: api.Ptr(int32(8080))}}}
	}
	tests := []struct {
		name   string
		mutate func(*api.EndpointSlice)
		field  string
	}{
		{"valid", func(*api.EndpointSlice) {}, ""},
		{"no address type", func(e *api.EndpointSlice) { e.AddressType = "" }, "addressType"},
		{"IPv6", func(e *api.EndpointSlice) { e.AddressType = api.AddressTypeIPv6 }, "addressType"},
		{"not an IPv4 address", func(e *api.EndpointSlice) { e.Endpoints[0].Addresses[0] = "fd00::5" }, "endpoints[0].addresses[0]"},
		{"no address", func(e *api.EndpointSlice) { e.Endpoints[0].Addresses = nil }, "endpoints[0].addresses"},
		{"two ports of one name", func(e *api.EndpointSlice) { e.Ports = append(e.Ports, e.Ports[0]) }, "ports[1].name"},
		{"port 70000", func(e *api.EndpointSlice) { e.Ports[0].Port = api.Ptr(int32(70000)) }, "ports[0].port"},
		{"bad node name", func(e *api.EndpointSlice) { e.Endpoints[0].NodeName = api.Ptr("N_1") }, "endpoints[0].nodeName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good()
			tt.mutate(e)
			err := defaultAndValidate(e)
			if tt.field == "" {
				checkFieldErrors(t, err, nil)
				return
			}
			checkFieldErrors(t, err, []string{tt.field})
		})
	}
	old := good()
	defaultObject(old)
	n := old.DeepCopy()
	n.AddressType = api.AddressTypeFQDN
	n.Endpoints[0].Addresses[0] = "db.example.com"
	checkFieldErrors(t, validateUpdate(old, n), []string{"addressType"})
}
