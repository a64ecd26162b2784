package agent

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// A container's environment, command and args, made as the kubelet makes
// them: envFrom sources first (each ConfigMap's or Secret's keys in order,
// with the source's prefix), then env in order, a value's $(VAR) references
// expanded with what is defined before it, valueFrom read from the Pod
// (fieldRef), its resources (resourceFieldRef), a ConfigMap
// (configMapKeyRef) or a Secret (secretKeyRef); then command and args
// expanded with the whole environment. A Secret's values go to the
// runtime and nowhere else: errors name its keys, never its values.
// The Services' environment variables (serviceenv.go) follow the Pod's
// own, which win on conflict.

// reasonConfigError is the waiting reason of a container whose config
// refers to something missing, as the kubelet reports it.
const reasonConfigError = "CreateContainerConfigError"

// configError is a problem with what a container's config refers to (a
// ConfigMap, a Secret or one of their keys missing): the container is not created
// until it is fixed, and waits with reasonConfigError and this message.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// podInfo is what a Pod's containers are made from beyond the Pod
// object: what the downward API exposes (its IP, the sandbox's, and its
// node's addresses) and the ConfigMaps read for it.
type podInfo struct {
	pod     *api.Pod
	podIP   string
	hostIPs []string
	// allocatable stands in for a container's unset limits.
	allocatable api.ResourceList
	// configMaps caches the ConfigMaps read (nil: missing).
	configMaps map[string]*api.ConfigMap
	// secrets caches the Secrets read (nil: missing).
	secrets map[string]*api.Secret
}

// secret returns the Pod's Secret name, read once per podInfo, or nil
// when it does not exist. Errors: the client's, but NotFound.
func (info *podInfo) secret(ctx context.Context, c client.Reader, name string) (*api.Secret, error) {
	if s, ok := info.secrets[name]; ok {
		return s, nil
	}
	s := &api.Secret{}
	err := c.Get(ctx, info.pod.Namespace, name, s, client.GetOptions{})
	switch {
	case api.IsNotFound(err):
		s = nil
	case err != nil:
		return nil, err
	}
	if info.secrets == nil {
		info.secrets = map[string]*api.Secret{}
	}
	info.secrets[name] = s
	return s, nil
}

// configMap returns the Pod's ConfigMap name, read once per podInfo, or
// nil when it does not exist. Errors: the client's, but NotFound.
func (info *podInfo) configMap(ctx context.Context, c client.Reader, name string) (*api.ConfigMap, error) {
	if cm, ok := info.configMaps[name]; ok {
		return cm, nil
	}
	cm := &api.ConfigMap{}
	err := c.Get(ctx, info.pod.Namespace, name, cm, client.GetOptions{})
	switch {
	case api.IsNotFound(err):
		cm = nil
	case err != nil:
		return nil, err
	}
	if info.configMaps == nil {
		info.configMaps = map[string]*api.ConfigMap{}
	}
	info.configMaps[name] = cm
	return cm, nil
}

func (a *Agent) podInfo(pod *api.Pod, podIP string) *podInfo {
	var hostIPs []string
	for _, addr := range a.cfg.Addresses {
		if net.ParseIP(addr.Address) != nil && !slices.Contains(hostIPs, addr.Address) {
			hostIPs = append(hostIPs, addr.Address)
		}
	}
	return &podInfo{pod: pod, podIP: podIP, hostIPs: hostIPs, allocatable: a.cfg.Capacity}
}

// envList is an environment in definition order; defining a name again
// replaces its value in place.
type envList struct {
	vars  []runtime.EnvVar
	index map[string]int
}

func (l *envList) set(name, value string) {
	if l.index == nil {
		l.index = map[string]int{}
	}
	if i, ok := l.index[name]; ok {
		l.vars[i].Value = value
		return
	}
	l.index[name] = len(l.vars)
	l.vars = append(l.vars, runtime.EnvVar{Name: name, Value: value})
}

func (l *envList) lookup(name string) (string, bool) {
	i, ok := l.index[name]
	if !ok {
		return "", false
	}
	return l.vars[i].Value, true
}

// containerEnv returns container c's environment and its command and
// args with $(VAR) references expanded. Errors: *configError when a
// ConfigMap, Secret or key it needs is missing (and not optional); the
// client's error when one cannot be read.
func (a *Agent) containerEnv(ctx context.Context, info *podInfo, c *api.Container) (env []runtime.EnvVar, command, args []string, err error) {
	pod := info.pod
	svcEnv, err := a.serviceEnv(ctx, pod)
	if err != nil {
		return nil, nil, nil, err
	}
	var l envList
	// A value's $(VAR) sees the Pod's variables defined before it, then
	// the Services' (the kubelet's MappingFuncFor(env, serviceEnv)).
	lookup := func(name string) (string, bool) {
		if v, ok := l.lookup(name); ok {
			return v, true
		}
		return svcEnv.lookup(name)
	}
	configMap := func(name string) (*api.ConfigMap, error) { return info.configMap(ctx, a.cfg.Client, name) }
	secret := func(name string) (*api.Secret, error) { return info.secret(ctx, a.cfg.Client, name) }
	for _, from := range c.EnvFrom {
		if ref := from.SecretRef; ref != nil {
			s, err := secret(ref.Name)
			if err != nil {
				return nil, nil, nil, err
			}
			if s == nil {
				if isTrue(ref.Optional) {
					continue
				}
				return nil, nil, nil, configErrorf("secret %q not found", ref.Name)
			}
			for _, k := range sortedKeys(s.Data) {
				l.set(from.Prefix+k, string(s.Data[k]))
			}
			continue
		}
		ref := from.ConfigMapRef
		if ref == nil {
			continue // validation requires one of the two
		}
		cm, err := configMap(ref.Name)
		if err != nil {
			return nil, nil, nil, err
		}
		if cm == nil {
			if isTrue(ref.Optional) {
				continue
			}
			return nil, nil, nil, configErrorf("configmap %q not found", ref.Name)
		}
		// The kubelet skips keys that are no valid variable names, with
		// an Event; under Kubernetes' relaxed names (any printable ASCII
		// but '='), which Flotilla validates env with, none is: a
		// ConfigMap key is [-._a-zA-Z0-9]+ and the prefix a valid name.
		for _, k := range sortedKeys(cm.Data) {
			l.set(from.Prefix+k, cm.Data[k])
		}
	}
	for _, e := range c.Env {
		src := e.ValueFrom
		switch {
		case src == nil:
			l.set(e.Name, expand(e.Value, lookup))
		case src.FieldRef != nil:
			v, err := info.fieldValue(src.FieldRef.FieldPath, false)
			if err != nil {
				return nil, nil, nil, configErrorf("env %s: %v", e.Name, err)
			}
			l.set(e.Name, v)
		case src.ResourceFieldRef != nil:
			v, err := info.resourceValue(src.ResourceFieldRef, c.Name)
			if err != nil {
				return nil, nil, nil, configErrorf("env %s: %v", e.Name, err)
			}
			l.set(e.Name, v)
		case src.ConfigMapKeyRef != nil:
			ref := src.ConfigMapKeyRef
			cm, err := configMap(ref.Name)
			if err != nil {
				return nil, nil, nil, err
			}
			var data map[string]string
			if cm != nil {
				data = cm.Data
			}
			v, ok, err := refValue("ConfigMap", pod.Namespace, ref.Name, ref.Key, ref.Optional, cm != nil, data)
			if err != nil {
				return nil, nil, nil, err
			}
			if ok {
				l.set(e.Name, v)
			}
		case src.SecretKeyRef != nil:
			ref := src.SecretKeyRef
			s, err := secret(ref.Name)
			if err != nil {
				return nil, nil, nil, err
			}
			var data map[string][]byte
			if s != nil {
				data = s.Data
			}
			v, ok, err := refValue("Secret", pod.Namespace, ref.Name, ref.Key, ref.Optional, s != nil, data)
			if err != nil {
				return nil, nil, nil, err
			}
			if ok {
				l.set(e.Name, v)
			}
		}
	}
	// The Services' variables come after the Pod's own, which win.
	for _, v := range svcEnv.vars {
		if _, ok := l.lookup(v.Name); !ok {
			l.set(v.Name, v.Value)
		}
	}
	command, args = expandAll(c.Command, l.lookup), expandAll(c.Args, l.lookup)
	return l.vars, command, args, nil
}

func expandAll(in []string, lookup func(string) (string, bool)) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, lookup)
	}
	return out
}

// expand replaces the $(VAR) references of s with Kubernetes' rules: a
// defined VAR is replaced by its value; an undefined one stays as
// written; "$$" is an escaped "$" (so "$$(VAR)" gives "$(VAR)"); any other
// "$", and a "$(" never closed, stay as they are.
func expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// fieldValue returns the value of a downward API fieldRef of the Pod.
// Whole label and annotation maps (allowed in volumes only) are lines of
// key="value", sorted by key. Errors: an unsupported path (validation
// refuses them, so only for a Pod stored before).
func (info *podInfo) fieldValue(path string, whole bool) (string, error) {
	pod := info.pod
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return info.podIP, nil
	case "status.podIPs":
		return info.podIP, nil
	case "status.hostIP":
		if len(info.hostIPs) == 0 {
			return "", nil
		}
		return info.hostIPs[0], nil
	case "status.hostIPs":
		return strings.Join(info.hostIPs, ","), nil
	case "metadata.labels":
		if whole {
			return formatMap(pod.Labels), nil
		}
	case "metadata.annotations":
		if whole {
			return formatMap(pod.Annotations), nil
		}
	}
	for _, m := range []struct {
		prefix string
		values map[string]string
	}{{"metadata.labels['", pod.Labels}, {"metadata.annotations['", pod.Annotations}} {
		if key, ok := strings.CutPrefix(path, m.prefix); ok && strings.HasSuffix(key, "']") {
			return m.values[strings.TrimSuffix(key, "']")], nil
		}
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

// formatMap is the downward API's text of a label or annotation map.
func formatMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// resourceValue returns a container's resource for a resourceFieldRef:
// the request or limit in units of the divisor (default 1), rounded up,
// as the kubelet does; an unset limit is the node's allocatable amount.
// The container is sel's, or self's when sel names none. Errors: an
// unknown container or resource.
func (info *podInfo) resourceValue(sel *api.ResourceFieldSelector, self string) (string, error) {
	name := sel.ContainerName
	if name == "" {
		name = self
	}
	var c *api.Container
	for _, list := range [][]api.Container{info.pod.Spec.InitContainers, info.pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				c = &list[i]
			}
		}
	}
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef: no container %q in the Pod", name)
	}
	kind, res, _ := strings.Cut(sel.Resource, ".")
	var q api.Quantity
	var ok bool
	switch kind {
	case "limits":
		if q, ok = c.Resources.Limits[api.ResourceName(res)]; !ok {
			q = info.allocatable[api.ResourceName(res)]
		}
	case "requests":
		q = c.Resources.Requests[api.ResourceName(res)]
	default:
		return "", fmt.Errorf("resourceFieldRef: unsupported resource %q", sel.Resource)
	}
	divisor := api.MustParse("1")
	if sel.Divisor != nil && sel.Divisor.Sign() > 0 {
		divisor = *sel.Divisor
	}
	if res == string(api.ResourceCPU) {
		return strconv.FormatInt(ceilDiv(q.MilliValue(), divisor.MilliValue()), 10), nil
	}
	return strconv.FormatInt(ceilDiv(q.Value(), divisor.Value()), 10), nil
}

// ceilDiv is ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int64) int64 {
	if b <= 0 {
		return 0
	}
	return a/b + min(1, a%b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func isTrue(b *bool) bool { return b != nil && *b }

// refValue is the value of key in the data of the ConfigMap or Secret (kind)
// name, which exists or not: ok is false when an optional reference finds
// no object or no key; a required one is a configuration error in the
// kubelet's words. The error names the key, never a value.
func refValue[V ~string | ~[]byte](kind, namespace, name, key string, optional *bool, exists bool, data map[string]V) (v string, ok bool, err error) {
	if !exists {
		if isTrue(optional) {
			return "", false, nil
		}
		return "", false, configErrorf("%s %q not found", strings.ToLower(kind), name)
	}
	val, found := data[key]
	if !found {
		if isTrue(optional) {
			return "", false, nil
		}
		return "", false, configErrorf("couldn't find key %s in %s %s/%s", key, kind, namespace, name)
	}
	return string(val), true, nil
}
