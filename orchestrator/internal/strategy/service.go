package strategy

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// ServiceRanges are the pools a Service's allocated values come from.
type ServiceRanges struct {
	// CIDR is the range of cluster IPs (IPv4). Its network and broadcast
	// addresses are never allocated, and its first address is allocated
	// only on request (the `kubernetes` Service asks for it).
	CIDR netip.Prefix
	// FirstNodePort and LastNodePort bound the node ports, inclusive.
	FirstNodePort, LastNodePort int32
}

// DefaultServiceRanges are Kubernetes' defaults: 10.96.0.0/12 and node
// ports 30000-32767.
func DefaultServiceRanges() ServiceRanges {
	return ServiceRanges{CIDR: netip.MustParsePrefix("10.96.0.0/12"), FirstNodePort: 30000, LastNodePort: 32767}
}

// Validate returns every problem of r, each naming its field as in
// orchestrator.Config (ServiceCIDR, NodePortRange).
func (r ServiceRanges) Validate() []error {
	var errs []error
	switch {
	case !r.CIDR.IsValid():
		errs = append(errs, fmt.Errorf("ServiceCIDR: must be an IPv4 prefix such as 10.96.0.0/12"))
	case !r.CIDR.Addr().Is4():
		errs = append(errs, fmt.Errorf("ServiceCIDR %s: IPv6 is not supported yet: use an IPv4 prefix", r.CIDR))
	case r.CIDR.Bits() > 30:
		errs = append(errs, fmt.Errorf("ServiceCIDR %s: must hold at least 4 addresses (a prefix of /30 or shorter)", r.CIDR))
	case r.CIDR.Bits() < 8:
		errs = append(errs, fmt.Errorf("ServiceCIDR %s: must be no larger than a /8", r.CIDR))
	case r.CIDR.Masked() != r.CIDR:
		errs = append(errs, fmt.Errorf("ServiceCIDR %s: has host bits set: did you mean %s?", r.CIDR, r.CIDR.Masked()))
	}
	if r.FirstNodePort < 1 || r.LastNodePort > 65535 || r.FirstNodePort > r.LastNodePort {
		errs = append(errs, fmt.Errorf("NodePortRange %d-%d: must be a range of ports within 1-65535, first <= last", r.FirstNodePort, r.LastNodePort))
	}
	return errs
}

// WithServiceRanges returns regs with the Service strategy using r in
// place of DefaultServiceRanges. r should be valid (see Validate).
func WithServiceRanges(regs []Registration, r ServiceRanges) []Registration {
	out := slices.Clone(regs)
	for i := range out {
		if _, ok := out[i].Strategy.(serviceStrategy); ok {
			out[i].Strategy = serviceStrategy{ranges: r}
		}
	}
	return out
}

// Allocation pools of Services.
const (
	poolServiceIPs = "serviceips"
	poolNodePorts  = "nodeports"
)

// serviceStrategy is Kubernetes' Service strategy: defaults, validation
// (pkg/apis/core/validation's messages and field paths) and allocation of
// cluster IPs and node ports from its ranges.
type serviceStrategy struct {
	deletedWhenUnheld
	ranges ServiceRanges
}

func (serviceStrategy) NamespaceScoped() bool { return true }

func (serviceStrategy) PrepareForCreate(obj api.Object) {
	obj.(*api.Service).Status = api.ServiceStatus{}
}

// PrepareForUpdate keeps the status, and the allocated values an update
// leaves out (as Kubernetes' patchAllocatedValues): a client that applies
// a manifest without clusterIP or nodePort keeps the ones allocated.
func (serviceStrategy) PrepareForUpdate(obj, old api.Object) {
	n, o := obj.(*api.Service), old.(*api.Service)
	n.Status = api.Clone(o.Status)
	if needsClusterIP(n) && needsClusterIP(o) && n.Spec.ClusterIP == "" && len(n.Spec.ClusterIPs) == 0 {
		n.Spec.ClusterIP, n.Spec.ClusterIPs = o.Spec.ClusterIP, slices.Clone(o.Spec.ClusterIPs)
	}
	if needsNodePorts(n) && needsNodePorts(o) {
		for i := range n.Spec.Ports {
			np := &n.Spec.Ports[i]
			if np.NodePort != 0 {
				continue
			}
			for _, op := range o.Spec.Ports {
				if op.Port == np.Port && protocolOr(op.Protocol) == protocolOr(np.Protocol) {
					np.NodePort = op.NodePort
					break
				}
			}
		}
	}
}

func protocolOr(p api.Protocol) api.Protocol {
	if p == "" {
		return api.ProtocolTCP
	}
	return p
}

// needsClusterIP: every type but ExternalName has a cluster IP (or None).
func needsClusterIP(s *api.Service) bool {
	return s.Spec.Type != api.ServiceTypeExternalName && s.Spec.ClusterIP != api.ClusterIPNone
}

// needsNodePorts: NodePort, and LoadBalancer unless it opts out.
func needsNodePorts(s *api.Service) bool {
	switch s.Spec.Type {
	case api.ServiceTypeNodePort:
		return true
	case api.ServiceTypeLoadBalancer:
		return s.Spec.AllocateLoadBalancerNodePorts == nil || *s.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// Default sets Kubernetes' defaults: type ClusterIP, sessionAffinity None
// (ClientIP: timeout 10800 s), protocol TCP, targetPort = port, the
// traffic policies Cluster, clusterIP and clusterIPs in step, ipFamilies
// [IPv4] with ipFamilyPolicy SingleStack, and for LoadBalancer
// allocateLoadBalancerNodePorts true.
func (serviceStrategy) Default(obj api.Object) {
	sp := &obj.(*api.Service).Spec
	if sp.Type == "" {
		sp.Type = api.ServiceTypeClusterIP
	}
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = api.ServiceAffinityNone
	}
	if sp.SessionAffinity == api.ServiceAffinityClientIP {
		if sp.SessionAffinityConfig == nil {
			sp.SessionAffinityConfig = &api.SessionAffinityConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP == nil {
			sp.SessionAffinityConfig.ClientIP = &api.ClientIPConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			sp.SessionAffinityConfig.ClientIP.TimeoutSeconds = api.Ptr(api.DefaultClientIPServiceAffinitySeconds)
		}
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = api.ProtocolTCP
		}
		if (p.TargetPort.Type == api.Int && p.TargetPort.IntVal == 0) || (p.TargetPort.Type == api.String && p.TargetPort.StrVal == "") {
			p.TargetPort = api.FromInt(p.Port)
		}
	}
	if sp.Type == api.ServiceTypeExternalName {
		return
	}
	if sp.InternalTrafficPolicy == nil {
		sp.InternalTrafficPolicy = api.Ptr(api.ServiceTrafficPolicyCluster)
	}
	if (sp.Type == api.ServiceTypeNodePort || sp.Type == api.ServiceTypeLoadBalancer) && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = api.ServiceTrafficPolicyCluster
	}
	if sp.Type == api.ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		sp.AllocateLoadBalancerNodePorts = api.Ptr(true)
	}
	switch {
	case sp.ClusterIP != "" && len(sp.ClusterIPs) == 0:
		sp.ClusterIPs = []string{sp.ClusterIP}
	case sp.ClusterIP == "" && len(sp.ClusterIPs) > 0:
		sp.ClusterIP = sp.ClusterIPs[0]
	}
	if len(sp.IPFamilies) == 0 {
		sp.IPFamilies = []api.IPFamily{api.IPv4Protocol}
	}
	if sp.IPFamilyPolicy == nil {
		sp.IPFamilyPolicy = api.Ptr(api.IPFamilyPolicySingleStack)
	}
}

// Claims: the cluster IP (pool serviceips) and the node ports (pool
// nodeports; one port used by a TCP and a UDP port of the Service counts
// once).
func (serviceStrategy) Claims(obj api.Object) []Claim {
	s := obj.(*api.Service)
	var out []Claim
	if needsClusterIP(s) && s.Spec.ClusterIP != "" {
		if a, err := netip.ParseAddr(s.Spec.ClusterIP); err == nil {
			out = append(out, Claim{Pool: poolServiceIPs, Value: a.String(), Field: api.NewPath("spec", "clusterIPs"),
				BadValue: s.Spec.ClusterIPs, Taken: fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", a)})
		}
	}
	if s.Spec.Type != api.ServiceTypeNodePort && s.Spec.Type != api.ServiceTypeLoadBalancer {
		return out
	}
	seen := map[int32]bool{}
	for i, p := range s.Spec.Ports {
		if p.NodePort <= 0 || p.NodePort > 65535 || seen[p.NodePort] {
			continue
		}
		seen[p.NodePort] = true
		out = append(out, Claim{Pool: poolNodePorts, Value: strconv.Itoa(int(p.NodePort)),
			Field: api.NewPath("spec", "ports").Index(i).Child("nodePort"), BadValue: p.NodePort,
			Taken: "provided port is already allocated"})
	}
	return out
}

// Allocate picks a free cluster IP (never the range's first address,
// kept for the `kubernetes` Service) and a free node port for every port
// without one, at random so that concurrent creates seldom collide.
func (s serviceStrategy) Allocate(obj, old api.Object, taken func(pool string) map[string]bool) api.FieldErrorList {
	svc := obj.(*api.Service)
	sp := &svc.Spec
	var errs api.FieldErrorList
	if needsClusterIP(svc) && sp.ClusterIP == "" && len(sp.ClusterIPs) == 0 {
		if ip, ok := s.freeIP(taken(poolServiceIPs)); ok {
			sp.ClusterIP, sp.ClusterIPs = ip, []string{ip}
		} else {
			errs = append(errs, api.Invalid(api.NewPath("spec", "clusterIPs"), sp.ClusterIPs,
				fmt.Sprintf("failed to allocate a serviceIP: range %s is full", s.ranges.CIDR)))
		}
	}
	if !needsNodePorts(svc) {
		return errs
	}
	var held map[string]bool
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.NodePort != 0 {
			continue
		}
		if held == nil {
			held = maps.Clone(taken(poolNodePorts))
			if held == nil {
				held = map[string]bool{}
			}
			for _, q := range sp.Ports {
				held[strconv.Itoa(int(q.NodePort))] = true
			}
		}
		port, ok := s.freePort(held)
		if !ok {
			errs = append(errs, api.Invalid(api.NewPath("spec", "ports").Index(i).Child("nodePort"), p.NodePort,
				fmt.Sprintf("failed to allocate a nodePort: range %d-%d is full", s.ranges.FirstNodePort, s.ranges.LastNodePort)))
			continue
		}
		held[strconv.Itoa(int(port))] = true
		p.NodePort = port
	}
	return errs
}

// ipRange returns the first and last allocatable addresses of the CIDR
// (without the network and broadcast addresses) as integers.
func (s serviceStrategy) ipRange() (first, last uint32) {
	b := s.ranges.CIDR.Masked().Addr().As4()
	base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	size := uint32(1) << (32 - s.ranges.CIDR.Bits())
	return base + 1, base + size - 2
}

func u32ToAddr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// freeIP picks a free address other than the range's first, starting at
// a random one and going up.
func (s serviceStrategy) freeIP(taken map[string]bool) (string, bool) {
	first, last := s.ipRange()
	first++ // the first address is for the `kubernetes` Service
	if first > last {
		return "", false
	}
	n := uint64(last-first) + 1
	start := rand.Uint64N(n)
	for i := range n {
		a := u32ToAddr(first + uint32((start+i)%n)).String()
		if !taken[a] {
			return a, true
		}
	}
	return "", false
}

func (s serviceStrategy) freePort(taken map[string]bool) (int32, bool) {
	n := int64(s.ranges.LastNodePort-s.ranges.FirstNodePort) + 1
	start := rand.Int64N(n)
	for i := range n {
		p := s.ranges.FirstNodePort + int32((start+i)%n)
		if !taken[strconv.Itoa(int(p))] {
			return p, true
		}
	}
	return 0, false
}

func (s serviceStrategy) Validate(obj api.Object) api.FieldErrorList {
	svc := obj.(*api.Service)
	errs := ValidateObjectMeta(&svc.ObjectMeta, true, api.IsDNS1035Label, api.NewPath("metadata"))
	errs = append(errs, validateServiceSpec(svc, api.NewPath("spec"))...)
	return append(errs, s.validateRanges(svc, nil)...)
}

func (s serviceStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	n, o := obj.(*api.Service), old.(*api.Service)
	errs := ValidateObjectMeta(&n.ObjectMeta, true, api.IsDNS1035Label, api.NewPath("metadata"))
	errs = append(errs, ValidateObjectMetaUpdate(&n.ObjectMeta, &o.ObjectMeta)...)
	errs = append(errs, validateServiceSpec(n, api.NewPath("spec"))...)
	errs = append(errs, s.validateRanges(n, o)...)
	// The cluster IP is immutable, except that a Service may become or
	// stop being an ExternalName Service (which has none).
	if o.Spec.Type != api.ServiceTypeExternalName && n.Spec.Type != api.ServiceTypeExternalName &&
		len(o.Spec.ClusterIPs) > 0 && (len(n.Spec.ClusterIPs) == 0 || n.Spec.ClusterIPs[0] != o.Spec.ClusterIPs[0]) {
		var v any = n.Spec.ClusterIPs
		p := api.NewPath("spec", "clusterIPs")
		if len(n.Spec.ClusterIPs) > 0 {
			v, p = n.Spec.ClusterIPs[0], p.Index(0)
		}
		errs = append(errs, api.Invalid(p, v, "field is immutable"))
	}
	return errs
}

// validateRanges checks that the cluster IP and node ports a Service
// asks for lie in the ranges; values it held already (old) are not
// checked again, so that a change of range strands no Service.
func (s serviceStrategy) validateRanges(svc, old *api.Service) api.FieldErrorList {
	var errs api.FieldErrorList
	var held map[string]bool
	if old != nil {
		held = map[string]bool{}
		for _, c := range s.Claims(old) {
			held[c.Pool+"/"+c.Value] = true
		}
	}
	first, last := s.ipRange()
	for _, c := range s.Claims(svc) {
		if held[c.Pool+"/"+c.Value] {
			continue
		}
		switch c.Pool {
		case poolServiceIPs:
			a := netip.MustParseAddr(c.Value)
			if !a.Is4() {
				continue // refused by validateServiceSpec
			}
			b := a.As4()
			v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			if v < first || v > last {
				errs = append(errs, api.Invalid(c.Field, c.BadValue, fmt.Sprintf(
					"failed to allocate IP %s: provided IP is not in the valid range. The range of valid IPs is %s", c.Value, s.ranges.CIDR)))
			}
		case poolNodePorts:
			p, _ := strconv.Atoi(c.Value)
			if int32(p) < s.ranges.FirstNodePort || int32(p) > s.ranges.LastNodePort {
				errs = append(errs, api.Invalid(c.Field, c.BadValue, fmt.Sprintf(
					"provided port is not in the valid range. The range of valid ports is %d-%d", s.ranges.FirstNodePort, s.ranges.LastNodePort)))
			}
		}
	}
	return errs
}

func (serviceStrategy) BumpsGeneration(obj, old api.Object) bool {
	return !semanticEqual(obj.(*api.Service).Spec, old.(*api.Service).Spec)
}

func (serviceStrategy) Status() StatusStrategy { return serviceStatusStrategy{} }

type serviceStatusStrategy struct{}

func (serviceStatusStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Service).Spec = api.Clone(old.(*api.Service).Spec)
}

func (serviceStatusStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	svc := obj.(*api.Service)
	errs := ValidateObjectMetaUpdate(&svc.ObjectMeta, old.GetObjectMeta())
	p := api.NewPath("status", "loadBalancer", "ingress")
	for i, in := range svc.Status.LoadBalancer.Ingress {
		ip := p.Index(i)
		if in.IP != "" {
			if _, err := netip.ParseAddr(in.IP); err != nil {
				errs = append(errs, api.Invalid(ip.Child("ip"), in.IP, "must be a valid IP address"))
			}
		}
		if in.Hostname != "" {
			for _, msg := range api.IsDNS1123Subdomain(in.Hostname) {
				errs = append(errs, api.Invalid(ip.Child("hostname"), in.Hostname, msg))
			}
		}
	}
	return errs
}

var supportedServiceTypes = []api.ServiceType{api.ServiceTypeClusterIP, api.ServiceTypeExternalName, api.ServiceTypeLoadBalancer, api.ServiceTypeNodePort}

// validateServiceSpec is Kubernetes' ValidateService for what Flotilla
// serves: its messages and field paths, IPv4 only, TCP and UDP only.
func validateServiceSpec(svc *api.Service, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	sp := &svc.Spec
	headless := sp.ClusterIP == api.ClusterIPNone
	switch sp.Type {
	case api.ServiceTypeClusterIP, api.ServiceTypeNodePort, api.ServiceTypeLoadBalancer:
	case api.ServiceTypeExternalName:
		if len(sp.ClusterIPs) > 0 || sp.ClusterIP != "" {
			errs = append(errs, api.Forbidden(p.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if len(sp.IPFamilies) > 0 {
			errs = append(errs, api.Forbidden(p.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if sp.IPFamilyPolicy != nil {
			errs = append(errs, api.Forbidden(p.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		name := strings.TrimSuffix(sp.ExternalName, ".")
		if name == "" {
			errs = append(errs, api.Required(p.Child("externalName"), ""))
		} else {
			for _, msg := range api.IsDNS1123Subdomain(name) {
				errs = append(errs, api.Invalid(p.Child("externalName"), sp.ExternalName, msg))
			}
		}
	case "":
		errs = append(errs, api.Required(p.Child("type"), ""))
	default:
		errs = append(errs, api.NotSupported(p.Child("type"), sp.Type, supportedServiceTypes...))
	}
	if sp.Type != api.ServiceTypeExternalName && sp.ExternalName != "" {
		errs = append(errs, api.Forbidden(p.Child("externalName"), "may only be set when `type` is 'ExternalName'"))
	}
	errs = append(errs, validateClusterIPs(sp, p)...)
	if headless && (sp.Type == api.ServiceTypeNodePort || sp.Type == api.ServiceTypeLoadBalancer) {
		errs = append(errs, api.Invalid(p.Child("clusterIPs").Index(0), sp.ClusterIP, fmt.Sprintf("may not be set to 'None' for %s services", sp.Type)))
	}
	if len(sp.Ports) == 0 && !headless && sp.Type != api.ServiceTypeExternalName {
		errs = append(errs, api.Required(p.Child("ports"), ""))
	}
	errs = append(errs, validateServicePorts(sp, p.Child("ports"))...)
	errs = append(errs, api.ValidateLabels(sp.Selector, p.Child("selector"))...)

	switch sp.SessionAffinity {
	case api.ServiceAffinityNone:
		if sp.SessionAffinityConfig != nil {
			errs = append(errs, api.Forbidden(p.Child("sessionAffinityConfig"), fmt.Sprintf("must not be set when session affinity is %s", api.ServiceAffinityNone)))
		}
	case api.ServiceAffinityClientIP:
		cp := p.Child("sessionAffinityConfig")
		switch {
		case sp.SessionAffinityConfig == nil:
			errs = append(errs, api.Required(cp, fmt.Sprintf("when session affinity type is %s", api.ServiceAffinityClientIP)))
		case sp.SessionAffinityConfig.ClientIP == nil:
			errs = append(errs, api.Required(cp.Child("clientIP"), fmt.Sprintf("when session affinity type is %s", api.ServiceAffinityClientIP)))
		case sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil:
			errs = append(errs, api.Required(cp.Child("clientIP", "timeoutSeconds"), fmt.Sprintf("when session affinity type is %s", api.ServiceAffinityClientIP)))
		default:
			if t := *sp.SessionAffinityConfig.ClientIP.TimeoutSeconds; t <= 0 || t > api.MaxClientIPServiceAffinitySeconds {
				errs = append(errs, api.Invalid(cp.Child("clientIP", "timeoutSeconds"), t,
					fmt.Sprintf("must be greater than 0 and less than %d", api.MaxClientIPServiceAffinitySeconds)))
			}
		}
	case "":
		errs = append(errs, api.Required(p.Child("sessionAffinity"), ""))
	default:
		errs = append(errs, api.NotSupported(p.Child("sessionAffinity"), sp.SessionAffinity, api.ServiceAffinityClientIP, api.ServiceAffinityNone))
	}
	if sp.Type == api.ServiceTypeExternalName && sp.SessionAffinity == api.ServiceAffinityClientIP {
		errs = append(errs, api.Invalid(p.Child("sessionAffinity"), sp.SessionAffinity, "must be None when type is ExternalName"))
	}
	errs = append(errs, validateTrafficPolicies(sp, p)...)
	if sp.AllocateLoadBalancerNodePorts != nil && sp.Type != api.ServiceTypeLoadBalancer {
		errs = append(errs, api.Forbidden(p.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if sp.Type == api.ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		errs = append(errs, api.Required(p.Child("allocateLoadBalancerNodePorts"), ""))
	}
	return errs
}

func validateClusterIPs(sp *api.ServiceSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	ipsPath := p.Child("clusterIPs")
	if sp.Type != api.ServiceTypeExternalName {
		if len(sp.ClusterIPs) > 0 && sp.ClusterIP != sp.ClusterIPs[0] {
			errs = append(errs, api.Invalid(ipsPath, sp.ClusterIPs, "first value must match `clusterIP`"))
		}
		if len(sp.ClusterIPs) > 1 {
			errs = append(errs, api.Forbidden(ipsPath.Index(1), "a second cluster IP (dual-stack) is not supported yet"))
		}
		for i, ip := range sp.ClusterIPs {
			if i == 0 && ip == api.ClusterIPNone {
				continue
			}
			if ip == api.ClusterIPNone {
				errs = append(errs, api.Invalid(ipsPath.Index(i), ip, "'None' must be the first and only value"))
				continue
			}
			a, err := netip.ParseAddr(ip)
			switch {
			case err != nil || a.Zone() != "":
				errs = append(errs, api.Invalid(ipsPath.Index(i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
			case !a.Is4():
				errs = append(errs, api.Forbidden(ipsPath.Index(i), "IPv6 is not supported yet"))
			}
		}
	}
	for i, f := range sp.IPFamilies {
		fp := p.Child("ipFamilies").Index(i)
		switch f {
		case api.IPv4Protocol:
			if i > 0 {
				errs = append(errs, api.Duplicate(fp, f))
			}
		case api.IPv6Protocol:
			errs = append(errs, api.Forbidden(fp, "IPv6 is not supported yet"))
		default:
			errs = append(errs, api.NotSupported(fp, f, api.IPv4Protocol, api.IPv6Protocol))
		}
	}
	if sp.IPFamilyPolicy != nil {
		fp := p.Child("ipFamilyPolicy")
		switch *sp.IPFamilyPolicy {
		case api.IPFamilyPolicySingleStack, api.IPFamilyPolicyPreferDualStack:
		case api.IPFamilyPolicyRequireDualStack:
			errs = append(errs, api.Forbidden(fp, "RequireDualStack: dual-stack (IPv6) is not supported yet"))
		default:
			errs = append(errs, api.NotSupported(fp, *sp.IPFamilyPolicy, api.IPFamilyPolicySingleStack, api.IPFamilyPolicyPreferDualStack, api.IPFamilyPolicyRequireDualStack))
		}
	}
	return errs
}

func validateServicePorts(sp *api.ServiceSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	names := map[string]bool{}
	type key struct {
		port     int32
		protocol api.Protocol
	}
	ports := map[key]bool{}
	nodePorts := map[key]bool{}
	for i, port := range sp.Ports {
		pp := p.Index(i)
		if len(sp.Ports) > 1 && port.Name == "" {
			errs = append(errs, api.Required(pp.Child("name"), ""))
		} else if port.Name != "" {
			for _, msg := range api.IsDNS1123Label(port.Name) {
				errs = append(errs, api.Invalid(pp.Child("name"), port.Name, msg))
			}
			if names[port.Name] {
				errs = append(errs, api.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		errs = append(errs, validatePortNumber(port.Port, pp.Child("port"))...)
		if port.AppProtocol != nil {
			for _, msg := range api.IsQualifiedName(*port.AppProtocol) {
				errs = append(errs, api.Invalid(pp.Child("appProtocol"), *port.AppProtocol, msg))
			}
		}
		switch port.Protocol {
		case api.ProtocolTCP, api.ProtocolUDP:
		case api.ProtocolSCTP:
			errs = append(errs, api.Forbidden(pp.Child("protocol"), "SCTP is not supported yet: use TCP or UDP"))
		case "":
			errs = append(errs, api.Required(pp.Child("protocol"), ""))
		default:
			errs = append(errs, api.NotSupported(pp.Child("protocol"), port.Protocol, api.ProtocolSCTP, api.ProtocolTCP, api.ProtocolUDP))
		}
		tp := pp.Child("targetPort")
		if port.TargetPort.Type == api.Int {
			errs = append(errs, validatePortNumber(port.TargetPort.IntVal, tp)...)
		} else {
			for _, msg := range api.IsIANASvcName(port.TargetPort.StrVal) {
				errs = append(errs, api.Invalid(tp, port.TargetPort.StrVal, msg))
			}
		}
		k := key{port.Port, port.Protocol}
		if ports[k] {
			errs = append(errs, api.Duplicate(pp, fmt.Sprintf("%d/%s", port.Port, port.Protocol)))
		}
		ports[k] = true
		if port.NodePort != 0 {
			np := pp.Child("nodePort")
			switch sp.Type {
			case api.ServiceTypeClusterIP:
				errs = append(errs, api.Forbidden(np, "may not be used when `type` is 'ClusterIP'"))
			case api.ServiceTypeExternalName:
				errs = append(errs, api.Forbidden(np, "may not be used when `type` is 'ExternalName'"))
			}
			errs = append(errs, validatePortNumber(port.NodePort, np)...)
			nk := key{port.NodePort, port.Protocol}
			if nodePorts[nk] {
				errs = append(errs, api.Duplicate(np, port.NodePort))
			}
			nodePorts[nk] = true
		}
	}
	return errs
}

func validateTrafficPolicies(sp *api.ServiceSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	nodePorts := sp.Type == api.ServiceTypeNodePort || sp.Type == api.ServiceTypeLoadBalancer
	ep := p.Child("externalTrafficPolicy")
	switch {
	case !nodePorts && sp.ExternalTrafficPolicy != "":
		errs = append(errs, api.Invalid(ep, sp.ExternalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
	case nodePorts && sp.ExternalTrafficPolicy == "":
		errs = append(errs, api.Required(ep, ""))
	case nodePorts && sp.ExternalTrafficPolicy != api.ServiceTrafficPolicyCluster && sp.ExternalTrafficPolicy != api.ServiceTrafficPolicyLocal:
		errs = append(errs, api.NotSupported(ep, sp.ExternalTrafficPolicy, api.ServiceTrafficPolicyCluster, api.ServiceTrafficPolicyLocal))
	}
	ip := p.Child("internalTrafficPolicy")
	switch {
	case sp.Type == api.ServiceTypeExternalName:
	case sp.InternalTrafficPolicy == nil:
		errs = append(errs, api.Required(ip, ""))
	case *sp.InternalTrafficPolicy != api.ServiceTrafficPolicyCluster && *sp.InternalTrafficPolicy != api.ServiceTrafficPolicyLocal:
		errs = append(errs, api.NotSupported(ip, *sp.InternalTrafficPolicy, api.ServiceTrafficPolicyCluster, api.ServiceTrafficPolicyLocal))
	}
	return errs
}
