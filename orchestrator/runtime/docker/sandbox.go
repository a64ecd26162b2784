package docker

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

func sandboxName(cluster string, cfg *runtime.PodSandboxConfig) string {
	return fmt.Sprintf("%s%s_%s_%s_%s_%d", sandboxNamePrefix, cluster, cfg.Namespace, cfg.Name, cfg.UID, cfg.Attempt)
}

// RunPodSandbox implements runtime.Runtime: it claims a warm sandbox when
// the Pod can use one (see Config.WarmSandboxes), or else creates and
// starts an infra container running Flotilla's pause program on
// Config.Network, with the Pod's host ports published and an IPC namespace
// the Pod's containers share. Errors: as runtime.Runtime, plus
// runtime.ErrStartFailed with the daemon's message when it cannot start (a
// host port in use).
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg *runtime.PodSandboxConfig) (string, error) {
	const op = "RunPodSandbox"
	if err := runtime.ValidateSandboxConfig(cfg); err != nil {
		return "", &runtime.Error{Op: op, Kind: runtime.ErrInvalid, Err: err}
	}
	if id, err := r.claimWarm(ctx, cfg); err != nil || id != "" {
		return id, err
	}
	pause, err := r.ensurePause(ctx)
	if err != nil {
		return "", err
	}
	labels := r.ownLabels(runtime.KindSandbox)
	maps.Copy(labels, cfg.Labels)
	labels[runtime.LabelNamespace] = cfg.Namespace
	labels[runtime.LabelPodName] = cfg.Name
	labels[runtime.LabelPodUID] = cfg.UID
	labels[runtime.LabelAttempt] = strconv.Itoa(cfg.Attempt)
	hostname := cfg.Hostname
	if hostname == "" {
		hostname = strings.TrimRight(cfg.Name[:min(len(cfg.Name), 63)], "-.")
	}
	exposed, bindings, err := portBindings(cfg.PortMappings)
	if err != nil {
		return "", &runtime.Error{Op: op, Kind: runtime.ErrInvalid, Err: err}
	}
	name := sandboxName(r.cfg.ClusterID, cfg)
	resp, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
		Config: &container.Config{Image: pause, Hostname: hostname, Labels: labels, ExposedPorts: exposed},
		HostConfig: &container.HostConfig{NetworkMode: r.networkMode(), IpcMode: "shareable", PortBindings: bindings,
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled}}})
	if cerrdefs.IsConflict(err) {
		// This Pod's sandbox of this attempt exists: adopt it.
		res, ierr := r.cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
		if ierr != nil {
			return "", r.wrap(op, name, ierr)
		}
		in := res.Container
		l, _ := r.podIdentity(in.Config.Labels, in.Name)
		r.rememberSandbox(in.ID, l)
		if in.State != nil && !in.State.Running && in.State.Status == "created" {
			return in.ID, r.startSandbox(ctx, in.ID)
		}
		return in.ID, nil
	}
	if err != nil {
		return "", r.wrap(op, name, err)
	}
	r.rememberSandbox(resp.ID, labels)
	return resp.ID, r.startSandbox(ctx, resp.ID)
}

// portBindings turns a Pod's port mappings into Docker's exposed ports and
// bindings. An empty HostIP binds every address; any other must be an IP
// address (the Engine API types hold parsed addresses).
func portBindings(mappings []runtime.PortMapping) (network.PortSet, network.PortMap, error) {
	exposed, bindings := network.PortSet{}, network.PortMap{}
	for i, p := range mappings {
		var hostIP netip.Addr
		if p.HostIP != "" {
			ip, err := netip.ParseAddr(p.HostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("portMappings[%d].hostIP: %q is not an IP address", i, p.HostIP)
			}
			hostIP = ip
		}
		// Validated: the port fits 16 bits and the protocol is never empty.
		port, _ := network.PortFrom(uint16(p.ContainerPort), network.IPProtocol(strings.ToLower(string(protoOrTCP(p.Protocol)))))
		exposed[port] = struct{}{}
		bindings[port] = append(bindings[port], network.PortBinding{HostIP: hostIP, HostPort: strconv.Itoa(p.HostPort)})
	}
	return exposed, bindings, nil
}

func (r *Runtime) startSandbox(ctx context.Context, id string) error {
	if _, err := r.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		werr := r.wrap("RunPodSandbox", id, err)
		if !runtime.IsUnavailable(werr) && ctx.Err() == nil {
			// Leave nothing half-made behind (for example a host port in use).
			rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, _ = r.cli.ContainerRemove(rmCtx, id, client.ContainerRemoveOptions{Force: true})
			r.forgetSandbox(id)
			return &runtime.Error{Op: "RunPodSandbox", ID: id, Kind: runtime.ErrStartFailed, Message: cerrMessage(err), Err: err}
		}
		return werr
	}
	return nil
}

func (r *Runtime) rememberSandbox(id string, labels map[string]string) {
	r.mu.Lock()
	if r.sandboxes == nil {
		r.sandboxes = map[string]map[string]string{}
	}
	r.sandboxes[id] = maps.Clone(labels)
	r.mu.Unlock()
}

func (r *Runtime) forgetSandbox(id string) {
	r.mu.Lock()
	delete(r.sandboxes, id)
	r.mu.Unlock()
}

// sandboxLabels returns a sandbox's labels from the cache or the daemon,
// checking that it is one of ours.
func (r *Runtime) sandboxLabels(ctx context.Context, op, id string) (map[string]string, error) {
	r.mu.Lock()
	l, ok := r.sandboxes[id]
	r.mu.Unlock()
	if ok {
		return l, nil
	}
	res, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, r.wrap(op, id, err)
	}
	in := res.Container
	l, pod := r.podIdentity(in.Config.Labels, in.Name)
	if !r.ours(l, runtime.KindSandbox) || !pod {
		return nil, runtime.Errorf(op, id, runtime.ErrNotFound, "no sandbox %s of cluster %s on node %s", id, r.cfg.ClusterID, r.cfg.NodeName)
	}
	r.rememberSandbox(in.ID, l)
	return l, nil
}

func (r *Runtime) ours(labels map[string]string, kind string) bool {
	return labels[runtime.LabelClusterID] == r.cfg.ClusterID && labels[runtime.LabelNode] == r.cfg.NodeName && labels[runtime.LabelKind] == kind
}

// podContainers lists the application containers of a sandbox.
func (r *Runtime) podContainers(ctx context.Context, sandboxID string) ([]container.Summary, error) {
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: r.ownFilter(runtime.KindContainer, map[string]string{runtime.LabelSandboxID: sandboxID})})
	return res.Items, err
}

// StopPodSandbox implements runtime.Runtime.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	const op = "StopPodSandbox"
	if _, err := r.sandboxLabels(ctx, op, id); err != nil {
		return err
	}
	list, err := r.podContainers(ctx, id)
	if err != nil {
		return r.wrap(op, id, err)
	}
	zero := 0
	for _, c := range list {
		if c.State == container.StateRunning {
			if _, err := r.cli.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: &zero}); err != nil && !cerrdefs.IsNotFound(err) {
				return r.wrap(op, c.ID, err)
			}
		}
	}
	if _, err := r.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &zero}); err != nil {
		return r.wrap(op, id, err)
	}
	return nil
}

// RemovePodSandbox implements runtime.Runtime. The Pod's helper
// containers go, and its volumes (emptyDirs, Files) when no other
// container (another sandbox attempt's) uses them any more.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	const op = "RemovePodSandbox"
	labels, err := r.sandboxLabels(ctx, op, id)
	if err != nil {
		return err
	}
	list, err := r.podContainers(ctx, id)
	if err != nil {
		return r.wrap(op, id, err)
	}
	for _, c := range list {
		if _, err := r.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return r.wrap(op, c.ID, err)
		}
	}
	if _, err := r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return r.wrap(op, id, err)
	}
	r.forgetSandbox(id)
	if err := r.removeHelpers(ctx, labels[runtime.LabelPodUID]); err != nil {
		return err
	}
	vols, err := r.cli.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label",
		runtime.LabelClusterID+"="+r.cfg.ClusterID,
		runtime.LabelPodUID+"="+labels[runtime.LabelPodUID],
		runtime.LabelEmptyDir)})
	if err != nil {
		return r.wrap(op, id, err)
	}
	for _, v := range vols.Items {
		if _, err := r.cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{}); err != nil && !cerrdefs.IsConflict(err) && !cerrdefs.IsNotFound(err) {
			r.log.Warn("removing emptyDir volume", zap.String("volume", v.Name), zap.Error(err))
		}
	}
	return nil
}

func protoOrTCP(p runtime.Protocol) runtime.Protocol {
	if p == "" {
		return runtime.ProtocolTCP
	}
	return p
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

func (r *Runtime) sandboxStatus(in container.InspectResponse) *runtime.PodSandboxStatus {
	l, _ := r.podIdentity(in.Config.Labels, in.Name)
	attempt, _ := strconv.Atoi(l[runtime.LabelAttempt])
	s := &runtime.PodSandboxStatus{ID: in.ID, Name: l[runtime.LabelPodName], Namespace: l[runtime.LabelNamespace],
		UID: l[runtime.LabelPodUID], Attempt: attempt, State: runtime.SandboxNotReady, CreatedAt: parseTime(in.Created), Labels: l}
	if in.State != nil && in.State.Running {
		s.State = runtime.SandboxReady
		s.IP = ipOf(in.NetworkSettings, r.network)
	}
	if in.HostConfig != nil {
		s.PortMappings = portMappings(in.HostConfig.PortBindings)
	}
	return s
}

func ipOf(ns *container.NetworkSettings, name string) string {
	if ns == nil {
		return ""
	}
	return ipOn(ns.Networks, name)
}

// ipOn returns the address on network name, else the first one found.
func ipOn(networks map[string]*network.EndpointSettings, name string) string {
	if n, ok := networks[name]; ok && n != nil && n.IPAddress.IsValid() {
		return n.IPAddress.String()
	}
	for _, n := range networks {
		if n != nil && n.IPAddress.IsValid() {
			return n.IPAddress.String()
		}
	}
	return ""
}

// addrString is a's text, empty for no address (Docker's "all addresses").
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func portMappings(pm network.PortMap) []runtime.PortMapping {
	var out []runtime.PortMapping
	for port, bs := range pm {
		for _, b := range bs {
			hp, _ := strconv.Atoi(b.HostPort)
			out = append(out, runtime.PortMapping{ContainerPort: int(port.Num()), HostPort: hp, HostIP: addrString(b.HostIP),
				Protocol: runtime.Protocol(strings.ToUpper(string(port.Proto())))})
		}
	}
	slices.SortFunc(out, func(a, b runtime.PortMapping) int { return a.HostPort - b.HostPort })
	return out
}

// PodSandboxStatus implements runtime.Runtime.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (*runtime.PodSandboxStatus, error) {
	const op = "PodSandboxStatus"
	res, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, r.wrap(op, id, err)
	}
	in := res.Container
	if _, pod := r.podIdentity(in.Config.Labels, in.Name); !r.ours(in.Config.Labels, runtime.KindSandbox) || !pod {
		return nil, runtime.Errorf(op, id, runtime.ErrNotFound, "no sandbox %s of cluster %s on node %s", id, r.cfg.ClusterID, r.cfg.NodeName)
	}
	return r.sandboxStatus(in), nil
}

// ListPodSandboxes implements runtime.Runtime from one container list
// call (no inspect per sandbox). Unclaimed warm sandboxes are no Pod's and
// are not listed; a claimed one's Pod comes from its name, so the UID and
// label filters apply here rather than in the daemon.
func (r *Runtime) ListPodSandboxes(ctx context.Context, f *runtime.PodSandboxFilter) ([]*runtime.PodSandboxStatus, error) {
	if f == nil {
		f = &runtime.PodSandboxFilter{}
	}
	opts := client.ContainerListOptions{All: true, Filters: r.ownFilter(runtime.KindSandbox, nil)}
	if f.ID != "" {
		opts.Filters.Add("id", f.ID)
	}
	list, err := r.cli.ContainerList(ctx, opts)
	if err != nil {
		return nil, r.wrap("ListPodSandboxes", "", err)
	}
	var out []*runtime.PodSandboxStatus
	for _, c := range list.Items {
		name := ""
		if len(c.Names) > 0 {
			name = c.Names[0]
		}
		l, pod := r.podIdentity(c.Labels, name)
		if !pod || (f.UID != "" && l[runtime.LabelPodUID] != f.UID) || !hasLabels(l, f.Labels) {
			continue
		}
		attempt, _ := strconv.Atoi(l[runtime.LabelAttempt])
		s := &runtime.PodSandboxStatus{ID: c.ID, Name: l[runtime.LabelPodName], Namespace: l[runtime.LabelNamespace], UID: l[runtime.LabelPodUID],
			Attempt: attempt, State: runtime.SandboxNotReady, CreatedAt: time.Unix(c.Created, 0), Labels: l}
		if c.State == container.StateRunning {
			s.State = runtime.SandboxReady
			if c.NetworkSettings != nil {
				s.IP = ipOn(c.NetworkSettings.Networks, r.network)
			}
		}
		for _, p := range c.Ports {
			if p.PublicPort != 0 {
				s.PortMappings = append(s.PortMappings, runtime.PortMapping{ContainerPort: int(p.PrivatePort), HostPort: int(p.PublicPort),
					HostIP: addrString(p.IP), Protocol: runtime.Protocol(strings.ToUpper(p.Type))})
			}
		}
		if (f.State != "" && f.State != s.State) || (f.ID != "" && f.ID != c.ID) {
			continue // Docker's id filter also matches prefixes
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *runtime.PodSandboxStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// hasLabels reports whether labels hold every key and value of want.
func hasLabels(labels, want map[string]string) bool {
	for k, v := range want {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
