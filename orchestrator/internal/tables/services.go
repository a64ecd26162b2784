package tables

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// servicePrinters are the columns of Services and EndpointSlices, as
// kubectl prints them. Read-only.
var servicePrinters = map[string]printer{
	"Service": {columns: []metav1.TableColumnDefinition{
		colName,
		col("Type", "string", "The type of the service."),
		col("Cluster-IP", "string", "The cluster IP of the service."),
		col("External-IP", "string", "The external IP addresses of the service."),
		col("Port(s)", "string", "The ports of the service."),
		colAge,
		wide("Selector", "string", "The label selector of the service's pods."),
	}, row: serviceRow},
	"EndpointSlice": {columns: []metav1.TableColumnDefinition{
		colName,
		col("AddressType", "string", "The type of the addresses of the slice."),
		col("Ports", "string", "The ports of the slice."),
		col("Endpoints", "string", "The addresses of the slice's endpoints."),
		colAge,
	}, row: endpointSliceRow},
}

func serviceRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	s, ok := obj.(*api.Service)
	if !ok {
		return nil, nil, wrongKind("Service", obj)
	}
	clusterIP := strings.Join(s.Spec.ClusterIPs, ",")
	if clusterIP == "" {
		clusterIP = s.Spec.ClusterIP
	}
	external := "<none>"
	switch s.Spec.Type {
	case api.ServiceTypeExternalName:
		external = s.Spec.ExternalName
	case api.ServiceTypeLoadBalancer:
		var ips []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		external = "<pending>"
		if len(ips) > 0 {
			external = strings.Join(ips, ",")
		}
	}
	ports := make([]string, 0, len(s.Spec.Ports))
	for _, p := range s.Spec.Ports {
		if p.NodePort != 0 {
			ports = append(ports, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
		} else {
			ports = append(ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
	}
	portCell := strings.Join(ports, ",")
	if portCell == "" {
		portCell = "<none>"
	}
	return []any{s.Name, string(s.Spec.Type), orNone(clusterIP), external, portCell, age(s.CreationTimestamp, now),
		formatLabels(s.Spec.Selector)}, nil, nil
}

func endpointSliceRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	es, ok := obj.(*api.EndpointSlice)
	if !ok {
		return nil, nil, wrongKind("EndpointSlice", obj)
	}
	var ports []string
	for _, p := range es.Ports {
		switch {
		case p.Port != nil:
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			ports = append(ports, *p.Name)
		default:
			ports = append(ports, "*")
		}
	}
	var addrs []string
	for _, ep := range es.Endpoints {
		addrs = append(addrs, ep.Addresses...)
	}
	return []any{es.Name, string(es.AddressType), firstThree(ports), firstThree(addrs), age(es.CreationTimestamp, now)}, nil, nil
}

// firstThree is kubectl's list cell: up to three items, "+ N more...",
// "<unset>" when empty.
func firstThree(list []string) string {
	switch {
	case len(list) == 0:
		return "<unset>"
	case len(list) > 3:
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:3], ","), len(list)-3)
	}
	return strings.Join(list, ",")
}
