package docker

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func containerName(cluster string, sb map[string]string, cfg *runtime.ContainerConfig) string {
	return fmt.Sprintf("flotilla_%s_%s_%s_%s_%s_%d", cluster, sb[runtime.LabelNamespace], sb[runtime.LabelPodName],
		sb[runtime.LabelPodUID], cfg.Name, cfg.RestartCount)
}

// CreateContainer implements runtime.Runtime. The container joins the
// sandbox's network and IPC namespaces, runs under Docker's init (tini) so
// signals reach the program, has restart policy "no", and gets the
// sandbox's Pod labels plus its own. Its mounts' Pod volumes are made
// ready first (see volumes.go). Errors: as runtime.Runtime;
// ErrImageNeverPull carries the daemon's "No such image" message.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg *runtime.ContainerConfig) (string, error) {
	const op = "CreateContainer"
	if err := runtime.ValidateContainerConfig(cfg); err != nil {
		return "", &runtime.Error{Op: op, Kind: runtime.ErrInvalid, Err: err}
	}
	sb, err := r.sandboxLabels(ctx, op, sandboxID)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	k, ok := r.known[sandboxID]
	r.mu.Unlock()
	if ok && k.state == runtime.ContainerExited {
		return "", runtime.Errorf(op, sandboxID, runtime.ErrSandboxNotReady, "sandbox is not running")
	}
	labels := r.ownLabels(runtime.KindContainer)
	maps.Copy(labels, cfg.Labels)
	for _, key := range []string{runtime.LabelNamespace, runtime.LabelPodName, runtime.LabelPodUID} {
		labels[key] = sb[key]
	}
	labels[runtime.LabelSandboxID] = sandboxID
	labels[runtime.LabelContainerName] = cfg.Name
	labels[runtime.LabelRestartCount] = strconv.Itoa(cfg.RestartCount)

	env := make([]string, len(cfg.Env))
	for i, e := range cfg.Env {
		env[i] = e.Name + "=" + e.Value
	}
	cc := &container.Config{Image: cfg.Image, Env: env, WorkingDir: cfg.WorkingDir, Labels: labels, StopSignal: cfg.StopSignal}
	if len(cfg.Command) > 0 {
		cc.Entrypoint = slices.Clone(cfg.Command)
	}
	if len(cfg.Args) > 0 {
		cc.Cmd = slices.Clone(cfg.Args)
	}
	yes := true
	hc := &container.HostConfig{
		NetworkMode:   container.NetworkMode("container:" + sandboxID),
		IpcMode:       container.IpcMode("container:" + sandboxID),
		Init:          &yes,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		Resources:     container.Resources{NanoCPUs: cfg.Resources.CPUMillis * 1_000_000, Memory: cfg.Resources.MemoryBytes},
		LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": strconv.FormatInt(r.logMax(), 10), "max-file": "2"}},
	}
	if hc.Mounts, err = r.containerMounts(ctx, sb, cfg.Mounts); err != nil {
		return "", err
	}
	if cc.User, err = r.user(ctx, cfg); err != nil {
		return "", err
	}
	applySecurity(hc, &cfg.Security)
	name := containerName(r.cfg.ClusterID, sb, cfg)
	resp, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cc, HostConfig: hc, Name: name})
	if err != nil {
		switch {
		case cerrdefs.IsConflict(err):
			return "", &runtime.Error{Op: op, ID: name, Kind: runtime.ErrAlreadyExists, Message: cerrMessage(err), Err: err}
		case cerrdefs.IsNotFound(err) && strings.Contains(err.Error(), "image"):
			return "", &runtime.Error{Op: op, ID: cfg.Image, Kind: runtime.ErrImageNeverPull, Message: cerrMessage(err), Err: err}
		case cerrdefs.IsNotFound(err):
			return "", &runtime.Error{Op: op, ID: sandboxID, Kind: runtime.ErrNotFound, Message: cerrMessage(err), Err: err}
		}
		return "", r.wrap(op, name, err)
	}
	return resp.ID, nil
}

// user is Docker's "uid[:gid]" for the container's RunAsUser and
// RunAsGroup: "" for the image's user; with a group alone, the image's
// user with that group. Errors: the image's inspect, wrapped.
func (r *Runtime) user(ctx context.Context, cfg *runtime.ContainerConfig) (string, error) {
	s := &cfg.Security
	switch {
	case s.RunAsUser == nil && s.RunAsGroup == nil:
		return "", nil
	case s.RunAsGroup == nil:
		return strconv.FormatInt(*s.RunAsUser, 10), nil
	case s.RunAsUser != nil:
		return strconv.FormatInt(*s.RunAsUser, 10) + ":" + strconv.FormatInt(*s.RunAsGroup, 10), nil
	}
	u, err := r.ImageUser(ctx, cfg.Image)
	if err != nil {
		return "", err
	}
	u, _, _ = strings.Cut(u, ":")
	if u == "" {
		u = "0"
	}
	return u + ":" + strconv.FormatInt(*s.RunAsGroup, 10), nil
}

// applySecurity puts the container's security settings into its host
// config.
func applySecurity(hc *container.HostConfig, s *runtime.Security) {
	for _, g := range s.SupplementalGroups {
		hc.GroupAdd = append(hc.GroupAdd, strconv.FormatInt(g, 10))
	}
	hc.ReadonlyRootfs = s.ReadOnlyRootFilesystem
	hc.Privileged = s.Privileged
	hc.CapAdd, hc.CapDrop = slices.Clone(s.CapAdd), slices.Clone(s.CapDrop)
	if s.NoNewPrivileges {
		hc.SecurityOpt = append(hc.SecurityOpt, "no-new-privileges")
	}
	if s.Seccomp == runtime.SeccompUnconfined {
		hc.SecurityOpt = append(hc.SecurityOpt, "seccomp=unconfined")
	}
}

// ImageUser implements runtime.ImageInspector from the image's config.
// Errors: ErrNotFound when the image is absent; the daemon's, wrapped.
func (r *Runtime) ImageUser(ctx context.Context, image string) (string, error) {
	in, err := r.cli.ImageInspect(ctx, image)
	if err != nil {
		return "", r.wrap("ImageUser", image, err)
	}
	if in.Config == nil {
		return "", nil
	}
	return in.Config.User, nil
}

func (r *Runtime) logMax() int64 {
	if r.cfg.LogMaxBytes == 0 {
		return 10 << 20
	}
	return r.cfg.LogMaxBytes
}

// ensureVolume creates a labelled volume unless it exists (an existing
// volume keeps its labels).
func (r *Runtime) ensureVolume(ctx context.Context, name string, extra map[string]string) error {
	labels := map[string]string{runtime.LabelManaged: "true", runtime.LabelKind: runtime.KindVolume, runtime.LabelClusterID: r.cfg.ClusterID}
	maps.Copy(labels, extra)
	if _, err := r.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Labels: labels}); err != nil {
		return r.wrap("CreateContainer", name, fmt.Errorf("create volume: %w", err))
	}
	return nil
}

// StartContainer implements runtime.Runtime. Starting an exited container
// runs it again (same ID), as Docker does; the agent normally creates a
// new container with a higher restart count instead. Errors:
// ErrStartFailed with the daemon's message (e.g. the executable is missing);
// ErrSandboxNotReady when the sandbox is not running.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	const op = "StartContainer"
	_, err := r.cli.ContainerStart(ctx, id, client.ContainerStartOptions{})
	if err == nil {
		return nil
	}
	werr := r.wrap(op, id, err)
	if runtime.IsNotFound(werr) || runtime.IsUnavailable(werr) || ctx.Err() != nil {
		return werr
	}
	msg := cerrMessage(err)
	if strings.Contains(msg, "join") && strings.Contains(msg, "non running container") {
		return &runtime.Error{Op: op, ID: id, Kind: runtime.ErrSandboxNotReady, Message: msg, Err: err}
	}
	return &runtime.Error{Op: op, ID: id, Kind: runtime.ErrStartFailed, Message: msg, Err: err}
}

// StopContainer implements runtime.Runtime with millisecond grace periods:
// it sends the stop signal, waits for the exit up to grace, then SIGKILL.
// If ctx ends first it returns ctx's error and the container may still be
// stopping.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	const op = "StopContainer"
	if err := runtime.ValidateGrace(grace); err != nil {
		return &runtime.Error{Op: op, ID: id, Kind: runtime.ErrInvalid, Err: err}
	}
	res, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return r.wrap(op, id, err)
	}
	in := res.Container
	if in.State == nil || !in.State.Running {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	wait := r.cli.ContainerWait(wctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	waitC, errC := wait.Result, wait.Error
	answered := false
	defer func() {
		// The client's goroutine sends an exit on an unbuffered channel:
		// unless it was taken, take it once cancel has cut the request
		// short, or that goroutine blocks forever if the exit came first.
		cancel()
		if !answered {
			go func() {
				select {
				case <-waitC:
				case <-errC:
				}
			}()
		}
	}()
	sig := "SIGKILL"
	if grace > 0 {
		sig = "SIGTERM"
		if in.Config != nil && in.Config.StopSignal != "" {
			sig = in.Config.StopSignal
		}
	}
	if err := r.kill(ctx, id, sig); err != nil {
		return err
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for {
		select {
		case <-waitC:
			answered = true
			return nil
		case err := <-errC:
			answered = true
			if ctx.Err() != nil {
				return fmt.Errorf("%s %s: %w", op, id, ctx.Err())
			}
			if cerrdefs.IsNotFound(err) {
				return nil // removed meanwhile
			}
			return r.wrap(op, id, err)
		case <-timer.C:
			if err := r.kill(ctx, id, "SIGKILL"); err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("%s %s: %w", op, id, ctx.Err())
		}
	}
}

// kill signals a container; "not running" counts as done.
func (r *Runtime) kill(ctx context.Context, id, sig string) error {
	_, err := r.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: sig})
	if err == nil || cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "is not running") {
		return nil
	}
	return r.wrap("StopContainer", id, err)
}

// RemoveContainer implements runtime.Runtime.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	_, err := r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	return r.wrap("RemoveContainer", id, err)
}

var exitedRE = regexp.MustCompile(`^Exited \((-?\d+)\)`)

// ListContainers implements runtime.Runtime from one container list call:
// the statuses carry IDs, names, image, state, exit code (parsed from
// Docker's summary), creation time, restart count and labels, but not
// StartedAt, FinishedAt, Reason or IP; use ContainerStatus for those.
func (r *Runtime) ListContainers(ctx context.Context, f *runtime.ContainerFilter) ([]*runtime.ContainerStatus, error) {
	if f == nil {
		f = &runtime.ContainerFilter{}
	}
	extra := maps.Clone(f.Labels)
	if extra == nil {
		extra = map[string]string{}
	}
	if f.SandboxID != "" {
		extra[runtime.LabelSandboxID] = f.SandboxID
	}
	if f.PodUID != "" {
		extra[runtime.LabelPodUID] = f.PodUID
	}
	opts := client.ContainerListOptions{All: true, Filters: r.ownFilter(runtime.KindContainer, extra)}
	if f.ID != "" {
		opts.Filters.Add("id", f.ID)
	}
	list, err := r.cli.ContainerList(ctx, opts)
	if err != nil {
		return nil, r.wrap("ListContainers", "", err)
	}
	out := make([]*runtime.ContainerStatus, 0, len(list.Items))
	for _, c := range list.Items {
		s := statusFromLabels(c.ID, c.Labels)
		s.Image, s.ImageID, s.State, s.CreatedAt = c.Image, c.ImageID, stateOf(string(c.State)), time.Unix(c.Created, 0)
		if m := exitedRE.FindStringSubmatch(c.Status); m != nil {
			s.ExitCode, _ = strconv.Atoi(m[1])
		}
		if (f.State != "" && f.State != s.State) || (f.ID != "" && f.ID != c.ID) {
			continue // Docker's id filter also matches prefixes
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *runtime.ContainerStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func statusFromLabels(id string, l map[string]string) *runtime.ContainerStatus {
	return &runtime.ContainerStatus{ID: id, SandboxID: l[runtime.LabelSandboxID], Name: l[runtime.LabelContainerName],
		PodName: l[runtime.LabelPodName], Namespace: l[runtime.LabelNamespace], PodUID: l[runtime.LabelPodUID],
		RestartCount: runtime.RestartCountOf(l), Labels: l}
}

// ContainerStatus implements runtime.Runtime (one inspect of the container
// and one of its sandbox for the IP).
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (*runtime.ContainerStatus, error) {
	const op = "ContainerStatus"
	res, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, r.wrap(op, id, err)
	}
	in := res.Container
	if in.Config == nil || !r.ours(in.Config.Labels, runtime.KindContainer) {
		return nil, runtime.Errorf(op, id, runtime.ErrNotFound, "no container %s of cluster %s on node %s", id, r.cfg.ClusterID, r.cfg.NodeName)
	}
	s := statusFromLabels(in.ID, in.Config.Labels)
	s.Image, s.ImageID, s.CreatedAt = in.Config.Image, in.Image, parseTime(in.Created)
	s.State = runtime.ContainerUnknown
	if st := in.State; st != nil {
		s.State = stateOf(string(st.Status))
		if s.State == runtime.ContainerCreated && st.Error != "" {
			// Its process could not be started: Docker keeps it
			// "created"; it is over (Reason StartError below).
			s.State = runtime.ContainerExited
			if st.ExitCode == 0 {
				st.ExitCode = 128
			}
		}
		s.StartedAt, s.FinishedAt = parseTime(st.StartedAt), parseTime(st.FinishedAt)
		if s.State == runtime.ContainerExited || st.Error != "" {
			s.ExitCode = st.ExitCode
			switch {
			case st.OOMKilled:
				s.Reason = runtime.ReasonOOMKilled
			case st.Error != "":
				s.Reason, s.Message = runtime.ReasonStartError, st.Error
			case st.ExitCode == 0:
				s.Reason = runtime.ReasonCompleted
			default:
				s.Reason = runtime.ReasonError
			}
		}
	}
	if s.State == runtime.ContainerRunning {
		if sb, err := r.cli.ContainerInspect(ctx, s.SandboxID, client.ContainerInspectOptions{}); err == nil && sb.Container.State != nil && sb.Container.State.Running {
			s.IP = ipOf(sb.Container.NetworkSettings, r.network)
		}
	}
	return s, nil
}
