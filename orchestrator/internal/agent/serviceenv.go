package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
)

// Service environment variables, as the kubelet makes them: for every
// Service with a cluster IP in the Pod's namespace (unless the Pod sets
// enableServiceLinks false), and always for the `kubernetes` Service of
// the default namespace, the Docker-links style variables below. They
// are read once, when the container is made: Services made later do not
// appear, as in Kubernetes. A Pod's own env and envFrom win on conflict,
// and its env values may refer to them with $(VAR).

// masterService is the Service whose variables every container gets.
const masterService = "kubernetes"

// servicesSyncTimeout bounds the wait for the Service cache's first list
// before a container is made; past it the container is retried later,
// never started without the variables.
const servicesSyncTimeout = 5 * time.Second

// errServicesNotSynced is returned while the Services were never read:
// the container is retried with backoff, as the kubelet does.
var errServicesNotSynced = errors.New("agent: services have not yet been read at least once, cannot construct envvars")

// serviceEnv returns the Service environment variables of pod's
// containers, in a stable order (by Service name). Errors:
// errServicesNotSynced (wrapped) when the Service cache has not listed
// within servicesSyncTimeout.
func (a *Agent) serviceEnv(ctx context.Context, pod *api.Pod) (*envList, error) {
	if !a.services.Synced() {
		wctx, cancel := context.WithTimeout(ctx, servicesSyncTimeout)
		err := a.services.WaitSynced(wctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errServicesNotSynced, err)
		}
	}
	byName := map[string]*api.Service{}
	if o, ok := a.services.Get(api.Key("default", masterService)); ok {
		byName[masterService] = o.(*api.Service)
	}
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		for _, o := range a.services.ByIndex(informer.IndexNamespace, pod.Namespace) {
			byName[o.GetName()] = o.(*api.Service)
		}
	}
	names := make([]string, 0, len(byName))
	for n, svc := range byName {
		if hasClusterIP(svc) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var l envList
	for _, n := range names {
		addServiceEnv(&l, byName[n])
	}
	return &l, nil
}

func hasClusterIP(svc *api.Service) bool {
	return svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != api.ClusterIPNone
}

// envName is name upper-cased with dashes as underscores.
func envName(name string) string { return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) }

// addServiceEnv adds svc's variables to l.
func addServiceEnv(l *envList, svc *api.Service) {
	name := envName(svc.Name)
	ip := svc.Spec.ClusterIP
	l.set(name+"_SERVICE_HOST", ip)
	for i, p := range svc.Spec.Ports {
		port := strconv.Itoa(int(p.Port))
		if i == 0 {
			l.set(name+"_SERVICE_PORT", port)
		}
		if p.Name != "" {
			l.set(name+"_SERVICE_PORT_"+envName(p.Name), port)
		}
	}
	for i, p := range svc.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = api.ProtocolTCP
		}
		port := strconv.Itoa(int(p.Port))
		url := strings.ToLower(string(proto)) + "://" + net.JoinHostPort(ip, port)
		if i == 0 {
			l.set(name+"_PORT", url)
		}
		prefix := name + "_PORT_" + port + "_" + strings.ToUpper(string(proto))
		l.set(prefix, url)
		l.set(prefix+"_PROTO", strings.ToLower(string(proto)))
		l.set(prefix+"_PORT", port)
		l.set(prefix+"_ADDR", ip)
	}
}
