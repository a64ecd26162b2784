package strategy

import (
	"fmt"
	"net/netip"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// endpointSliceStrategy: no status; the address type is immutable.
// Validation is Kubernetes' ValidateEndpointSlice.
type endpointSliceStrategy struct {
	noStatus
	deletedWhenUnheld
}

// Bounds of an EndpointSlice, Kubernetes'.
const (
	maxEndpointsPerSlice = 1000
	maxPortsPerSlice     = 100
)

func (endpointSliceStrategy) NamespaceScoped() bool            { return true }
func (endpointSliceStrategy) PrepareForCreate(api.Object)      {}
func (endpointSliceStrategy) PrepareForUpdate(_, _ api.Object) {}

// Default sets each port's protocol to TCP, as Kubernetes does.
func (endpointSliceStrategy) Default(obj api.Object) {
	es := obj.(*api.EndpointSlice)
	for i := range es.Ports {
		if es.Ports[i].Protocol == nil {
			es.Ports[i].Protocol = api.Ptr(api.ProtocolTCP)
		}
	}
}

func (endpointSliceStrategy) Validate(obj api.Object) api.FieldErrorList {
	es := obj.(*api.EndpointSlice)
	errs := ValidateObjectMeta(&es.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	switch es.AddressType {
	case api.AddressTypeIPv4, api.AddressTypeFQDN:
	case api.AddressTypeIPv6:
		errs = append(errs, api.Forbidden(api.NewPath("addressType"), "IPv6 is not supported yet"))
	case "":
		errs = append(errs, api.Required(api.NewPath("addressType"), ""))
	default:
		errs = append(errs, api.NotSupported(api.NewPath("addressType"), es.AddressType, api.AddressTypeFQDN, api.AddressTypeIPv4, api.AddressTypeIPv6))
	}
	errs = append(errs, validateEndpoints(es.Endpoints, es.AddressType, api.NewPath("endpoints"))...)
	return append(errs, validateEndpointPorts(es.Ports, api.NewPath("ports"))...)
}

func (s endpointSliceStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	if n, o := obj.(*api.EndpointSlice), old.(*api.EndpointSlice); n.AddressType != o.AddressType {
		errs = append(errs, api.Invalid(api.NewPath("addressType"), n.AddressType, "field is immutable"))
	}
	return errs
}

func (endpointSliceStrategy) BumpsGeneration(obj, old api.Object) bool {
	n, o := obj.(*api.EndpointSlice), old.(*api.EndpointSlice)
	return !semanticEqual(n.Endpoints, o.Endpoints) || !semanticEqual(n.Ports, o.Ports) || n.AddressType != o.AddressType
}

func validateEndpoints(eps []api.Endpoint, at api.AddressType, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if len(eps) > maxEndpointsPerSlice {
		errs = append(errs, api.Invalid(p, len(eps), fmt.Sprintf("must have at most %d items", maxEndpointsPerSlice)))
	}
	for i, ep := range eps {
		ip := p.Index(i)
		ap := ip.Child("addresses")
		switch {
		case len(ep.Addresses) == 0:
			errs = append(errs, api.Required(ap, "must contain at least 1 address"))
		case len(ep.Addresses) > 1:
			errs = append(errs, api.Invalid(ap, ep.Addresses, "may not have more than 1 address"))
		}
		for j, a := range ep.Addresses {
			switch at {
			case api.AddressTypeIPv4:
				if ad, err := netip.ParseAddr(a); err != nil || !ad.Is4() {
					errs = append(errs, api.Invalid(ap.Index(j), a, "must be a valid IPv4 address"))
				}
			case api.AddressTypeFQDN:
				for _, msg := range api.IsDNS1123Subdomain(a) {
					errs = append(errs, api.Invalid(ap.Index(j), a, msg))
				}
			}
		}
		if ep.NodeName != nil {
			for _, msg := range api.IsDNS1123Subdomain(*ep.NodeName) {
				errs = append(errs, api.Invalid(ip.Child("nodeName"), *ep.NodeName, msg))
			}
		}
		if ep.Hostname != nil {
			for _, msg := range api.IsDNS1123Label(*ep.Hostname) {
				errs = append(errs, api.Invalid(ip.Child("hostname"), *ep.Hostname, msg))
			}
		}
	}
	return errs
}

func validateEndpointPorts(ports []api.EndpointPort, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if len(ports) > maxPortsPerSlice {
		errs = append(errs, api.Invalid(p, len(ports), fmt.Sprintf("must have at most %d items", maxPortsPerSlice)))
	}
	names := map[string]bool{}
	for i, port := range ports {
		pp := p.Index(i)
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if name != "" {
			for _, msg := range api.IsDNS1123Label(name) {
				errs = append(errs, api.Invalid(pp.Child("name"), name, msg))
			}
		}
		if names[name] {
			errs = append(errs, api.Duplicate(pp.Child("name"), name))
		}
		names[name] = true
		switch {
		case port.Protocol == nil:
			errs = append(errs, api.Required(pp.Child("protocol"), ""))
		case *port.Protocol == api.ProtocolTCP || *port.Protocol == api.ProtocolUDP:
		case *port.Protocol == api.ProtocolSCTP:
			errs = append(errs, api.Forbidden(pp.Child("protocol"), "SCTP is not supported yet: use TCP or UDP"))
		default:
			errs = append(errs, api.NotSupported(pp.Child("protocol"), *port.Protocol, api.ProtocolSCTP, api.ProtocolTCP, api.ProtocolUDP))
		}
		if port.Port != nil && (*port.Port < 0 || *port.Port > 65535) {
			errs = append(errs, api.Invalid(pp.Child("port"), *port.Port, "must be between 0 and 65535, inclusive"))
		}
	}
	return errs
}
