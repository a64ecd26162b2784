package docker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
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
	exposed, bindings := nat.PortSet{}, nat.PortMap{}
	for _, p := range cfg.PortMappings {
		port := nat.Port(fmt.Sprintf("%d/%s", p.ContainerPort, strings.ToLower(string(protoOrTCP(p.Protocol)))))
		exposed[port] = struct{}{}
		bindings[port] = append(bindings[port], nat.PortBinding{HostIP: p.HostIP, HostPort: strconv.Itoa(p.HostPort)})
	}
	name := sandboxName(r.cfg.ClusterID, cfg)
	resp, err := r.cli.ContainerCreate(ctx,
		&container.Config{Image: pause, Hostname: hostname, Labels: labels, ExposedPorts: exposed},
		&container.HostConfig{NetworkMode: r.networkMode(), IpcMode: "shareable", PortBindings: bindings,
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled}},
		nil, nil, name)
	if cerrdefs.IsConflict(err) {
		// This Pod's sandbox of this attempt exists: adopt it.
		in, ierr := r.cli.ContainerInspect(ctx, name)
		if ierr != nil {
			return "", r.wrap(op, name, ierr)
		}
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

func (r *Runtime) startSandbox(ctx context.Context, id string) error {
	if err := r.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		werr := r.wrap("RunPodSandbox", id, err)
		if !runtime.IsUnavailable(werr) && ctx.Err() == nil {
			// Leave nothing half-made behind (for example a host port in use).
			rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = r.cli.ContainerRemove(rmCtx, id, container.RemoveOptions{Force: true})
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
	in, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, r.wrap(op, id, err)
	}
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
	return r.cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: r.ownFilter(runtime.KindContainer, map[string]string{runtime.LabelSandboxID: sandboxID})})
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
			if err := r.cli.ContainerStop(ctx, c.ID, container.StopOptions{Timeout: &zero}); err != nil && !cerrdefs.IsNotFound(err) {
				return r.wrap(op, c.ID, err)
			}
		}
	}
	if err := r.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &zero}); err != nil {
		return r.wrap(op, id, err)
	}
	return nil
}

// RemovePodSandbox implements runtime.Runtime. The Pod's emptyDir volumes
// are removed when no other container (another sandbox attempt's) uses
// them any more.
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
		if err := r.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return r.wrap(op, c.ID, err)
		}
	}
	if err := r.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return r.wrap(op, id, err)
	}
	r.forgetSandbox(id)
	vols, err := r.cli.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", runtime.LabelClusterID+"="+r.cfg.ClusterID),
		filters.Arg("label", runtime.LabelPodUID+"="+labels[runtime.LabelPodUID]),
		filters.Arg("label", runtime.LabelEmptyDir))})
	if err != nil {
		return r.wrap(op, id, err)
	}
	for _, v := range vols.Volumes {
		if err := r.cli.VolumeRemove(ctx, v.Name, false); err != nil && !cerrdefs.IsConflict(err) && !cerrdefs.IsNotFound(err) {
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

func ipOf(ns *container.NetworkSettings, network string) string {
	if ns == nil {
		return ""
	}
	if n, ok := ns.Networks[network]; ok && n != nil && n.IPAddress != "" {
		return n.IPAddress
	}
	for _, n := range ns.Networks {
		if n != nil && n.IPAddress != "" {
			return n.IPAddress
		}
	}
	return ""
}

func portMappings(pm nat.PortMap) []runtime.PortMapping {
	var out []runtime.PortMapping
	for port, bs := range pm {
		for _, b := range bs {
			hp, _ := strconv.Atoi(b.HostPort)
			out = append(out, runtime.PortMapping{ContainerPort: port.Int(), HostPort: hp, HostIP: b.HostIP,
				Protocol: runtime.Protocol(strings.ToUpper(port.Proto()))})
		}
	}
	slices.SortFunc(out, func(a, b runtime.PortMapping) int { return a.HostPort - b.HostPort })
	return out
}

// PodSandboxStatus implements runtime.Runtime.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (*runtime.PodSandboxStatus, error) {
	const op = "PodSandboxStatus"
	in, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, r.wrap(op, id, err)
	}
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
	opts := container.ListOptions{All: true, Filters: r.ownFilter(runtime.KindSandbox, nil)}
	if f.ID != "" {
		opts.Filters.Add("id", f.ID)
	}
	list, err := r.cli.ContainerList(ctx, opts)
	if err != nil {
		return nil, r.wrap("ListPodSandboxes", "", err)
	}
	var out []*runtime.PodSandboxStatus
	for _, c := range list {
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
				s.IP = ipOf(&container.NetworkSettings{Networks: c.NetworkSettings.Networks}, r.network)
			}
		}
		for _, p := range c.Ports {
			if p.PublicPort != 0 {
				s.PortMappings = append(s.PortMappings, runtime.PortMapping{ContainerPort: int(p.PrivatePort), HostPort: int(p.PublicPort),
					HostIP: p.IP, Protocol: runtime.Protocol(strings.ToUpper(p.Type))})
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
