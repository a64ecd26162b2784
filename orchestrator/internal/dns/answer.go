package dns

import (
	"net"
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	mdns "github.com/miekg/dns"
)

func (s *Server) serveDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	m := s.answer(req)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := mdns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), mdns.MinMsgSize)
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m) // a client gone away is its problem
}

// answer makes the reply to req.
func (s *Server) answer(req *mdns.Msg) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(req)
	if req.Opcode != mdns.OpcodeQuery || len(req.Question) != 1 {
		m.Rcode = mdns.RcodeNotImplemented
		return m
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if q.Qclass != mdns.ClassINET && q.Qclass != mdns.ClassANY {
		m.Rcode = mdns.RcodeRefused
		return m
	}
	var rel string
	switch {
	case name == s.zone:
	case strings.HasSuffix(name, "."+s.zone):
		rel = strings.TrimSuffix(name, "."+s.zone)
	default:
		m.Rcode = mdns.RcodeRefused // not ours; no forwarding (see doc.go)
		return m
	}
	m.Authoritative = true
	if !s.svcs.Synced() || !s.slices.Synced() {
		m.Rcode = mdns.RcodeServerFailure
		return m
	}
	var labels []string
	if rel != "" {
		labels = strings.Split(rel, ".")
	}
	exists, rrs, extra := s.lookup(labels, q.Name, q.Qtype)
	if !exists {
		m.Rcode = mdns.RcodeNameError
	}
	if len(rrs) == 0 {
		m.Ns = []mdns.RR{s.soa}
	}
	m.Answer, m.Extra = rrs, extra
	return m
}

// lookup resolves the labels of a name below the zone (outermost last)
// for qtype. exists is false for a name that does not exist (NXDOMAIN).
// qname is the question's name, used as is in the records.
func (s *Server) lookup(labels []string, qname string, qtype uint16) (exists bool, rrs, extra []mdns.RR) {
	n := len(labels)
	switch {
	case n == 0: // the zone apex
		if qtype == mdns.TypeSOA || qtype == mdns.TypeANY {
			return true, []mdns.RR{s.soa}, nil
		}
		return true, nil, nil
	case labels[n-1] != "svc":
		return false, nil, nil
	case n == 1:
		return true, nil, nil
	case n == 2: // <ns>.svc exists while a Service lives in ns
		return len(s.svcs.ByIndex("namespace", labels[0])) > 0, nil, nil
	}
	ns := labels[n-2]
	svc := s.service(ns, labels[n-3])
	if svc == nil {
		return false, nil, nil
	}
	svcName := labels[n-3] + "." + ns + ".svc." + s.zone
	switch n {
	case 3:
		return true, s.serviceRecords(svc, svcName, qname, qtype), s.srvExtra(svc, svcName, qtype)
	case 4: // <endpoint>.<svc>.<ns>.svc, or _<proto>.<svc>.<ns>.svc
		if strings.HasPrefix(labels[0], "_") {
			// An empty non-terminal above a port's SRV name exists
			// (RFC 8020: NXDOMAIN would deny the names below it).
			for _, p := range svc.Spec.Ports {
				if p.Name != "" && strings.EqualFold(protocol(p.Protocol), labels[0][1:]) && svc.Spec.Type != api.ServiceTypeExternalName {
					return true, nil, nil
				}
			}
			return false, nil, nil
		}
		if !headless(svc) {
			return false, nil, nil
		}
		var ips []string
		for _, ep := range s.endpoints(svc) {
			if ep.name == labels[0] {
				ips = append(ips, ep.ip)
			}
		}
		if len(ips) == 0 {
			return false, nil, nil
		}
		if qtype != mdns.TypeA && qtype != mdns.TypeANY {
			return true, nil, nil
		}
		return true, aRecords(qname, ips), nil
	case 5: // _<port>._<proto>.<svc>.<ns>.svc
		if !strings.HasPrefix(labels[0], "_") || !strings.HasPrefix(labels[1], "_") || svc.Spec.Type == api.ServiceTypeExternalName {
			return false, nil, nil
		}
		port, proto := labels[0][1:], labels[1][1:]
		var found bool
		for _, p := range svc.Spec.Ports {
			if p.Name == port && strings.EqualFold(protocol(p.Protocol), proto) {
				found = true
			}
		}
		if !found {
			return false, nil, nil
		}
		if qtype != mdns.TypeSRV && qtype != mdns.TypeANY {
			return true, nil, nil
		}
		rrs, extra := s.srv(svc, svcName, qname, port, proto)
		return true, rrs, extra
	}
	return false, nil, nil
}

// serviceRecords answers qtype for the name of svc itself.
func (s *Server) serviceRecords(svc *api.Service, svcName, qname string, qtype uint16) []mdns.RR {
	if svc.Spec.Type == api.ServiceTypeExternalName {
		if svc.Spec.ExternalName == "" {
			return nil
		}
		return []mdns.RR{&mdns.CNAME{Hdr: hdr(qname, mdns.TypeCNAME), Target: mdns.Fqdn(strings.ToLower(svc.Spec.ExternalName))}}
	}
	switch qtype {
	case mdns.TypeA, mdns.TypeANY:
		if !headless(svc) {
			if svc.Spec.ClusterIP == "" {
				return nil
			}
			return aRecords(qname, []string{svc.Spec.ClusterIP})
		}
		var ips []string
		for _, ep := range s.endpoints(svc) {
			if !slices.Contains(ips, ep.ip) {
				ips = append(ips, ep.ip)
			}
		}
		return aRecords(qname, ips)
	case mdns.TypeSRV:
		var rrs []mdns.RR
		for _, p := range svc.Spec.Ports {
			if p.Name == "" {
				continue
			}
			r, _ := s.srv(svc, svcName, qname, p.Name, strings.ToLower(protocol(p.Protocol)))
			rrs = append(rrs, r...)
		}
		return rrs
	}
	return nil
}

// srvExtra is the additional section of an SRV query on a headless
// Service's own name: its endpoints' A records.
func (s *Server) srvExtra(svc *api.Service, svcName string, qtype uint16) []mdns.RR {
	if qtype != mdns.TypeSRV || !headless(svc) || svc.Spec.Type == api.ServiceTypeExternalName {
		return nil
	}
	var extra []mdns.RR
	for _, ep := range s.endpoints(svc) {
		extra = append(extra, aRecords(ep.name+"."+svcName, []string{ep.ip})...)
	}
	return extra
}

// srv returns the SRV records of svc's port named port with protocol
// proto (lower case) and, for a headless Service, the targets' A records.
func (s *Server) srv(svc *api.Service, svcName, qname, port, proto string) (rrs, extra []mdns.RR) {
	if !headless(svc) {
		for _, p := range svc.Spec.Ports {
			if p.Name == port && strings.EqualFold(protocol(p.Protocol), proto) {
				rrs = append(rrs, &mdns.SRV{Hdr: hdr(qname, mdns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(p.Port), Target: svcName})
			}
		}
		return rrs, nil
	}
	for _, ep := range s.endpoints(svc) {
		for _, p := range ep.ports {
			if p.name != port || !strings.EqualFold(p.proto, proto) {
				continue
			}
			target := ep.name + "." + svcName
			rrs = append(rrs, &mdns.SRV{Hdr: hdr(qname, mdns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(p.port), Target: target})
			extra = append(extra, aRecords(target, []string{ep.ip})...)
		}
	}
	return rrs, extra
}

func (s *Server) service(ns, name string) *api.Service {
	o, ok := s.svcs.Get(api.Key(ns, name))
	if !ok {
		return nil
	}
	return o.(*api.Service)
}

func headless(svc *api.Service) bool { return svc.Spec.ClusterIP == api.ClusterIPNone }

func protocol(p api.Protocol) string {
	if p == "" {
		return string(api.ProtocolTCP)
	}
	return string(p)
}

type endpointPort struct {
	name, proto string
	port        int32
}

// endpoint is one address a Service's name resolves to.
type endpoint struct {
	ip    string
	name  string // the endpoint's hostname, or its address with dashes
	ports []endpointPort
}

// endpoints returns the IPv4 endpoints of svc's EndpointSlices that take
// traffic: ready (or with no readiness given, which Kubernetes reads as
// ready), or every one when svc publishes not-ready addresses.
func (s *Server) endpoints(svc *api.Service) []endpoint {
	var out []endpoint
	for _, o := range s.slices.ByIndex(sliceIndex, api.KeyOf(svc)) {
		sl := o.(*api.EndpointSlice)
		if sl.AddressType != api.AddressTypeIPv4 {
			continue
		}
		var ports []endpointPort
		for _, p := range sl.Ports {
			if p.Port == nil {
				continue
			}
			ep := endpointPort{port: *p.Port, proto: string(api.ProtocolTCP)}
			if p.Name != nil {
				ep.name = *p.Name
			}
			if p.Protocol != nil {
				ep.proto = string(*p.Protocol)
			}
			ports = append(ports, ep)
		}
		for _, e := range sl.Endpoints {
			ready := e.Conditions.Ready == nil || *e.Conditions.Ready
			if !ready && !svc.Spec.PublishNotReadyAddresses || len(e.Addresses) == 0 {
				continue
			}
			ip := net.ParseIP(e.Addresses[0]).To4()
			if ip == nil {
				continue
			}
			name := strings.ReplaceAll(ip.String(), ".", "-")
			if e.Hostname != nil && *e.Hostname != "" {
				name = strings.ToLower(*e.Hostname)
			}
			out = append(out, endpoint{ip: ip.String(), name: name, ports: ports})
		}
	}
	slices.SortFunc(out, func(a, b endpoint) int { return strings.Compare(a.ip, b.ip) })
	return out
}

func hdr(name string, t uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: TTL}
}

func aRecords(name string, ips []string) []mdns.RR {
	out := make([]mdns.RR, 0, len(ips))
	for _, s := range ips {
		ip := net.ParseIP(s).To4()
		if ip == nil {
			continue
		}
		out = append(out, &mdns.A{Hdr: hdr(name, mdns.TypeA), A: ip})
	}
	return out
}
