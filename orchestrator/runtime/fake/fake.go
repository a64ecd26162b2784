package fake

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/internal/eventbus"
	"go.uber.org/zap"
)

// Runtime is an in-memory runtime.Runtime. It also implements
// runtime.Execer, runtime.LogReader and runtime.NetworkProber. Create it
// with New; Start is optional (a no-op) and Close must be called.
type Runtime struct {
	cluster, node string
	now           func() time.Time
	log           *zap.Logger
	registry      func(string) error
	bus           *eventbus.Bus
	prefix        netip.Prefix

	mu         sync.Mutex
	closed     bool
	hook       Hook
	images     map[string]string // ref -> ID
	imageUsers map[string]string // ref -> the user its config gives
	byImage    map[string]Behavior
	byName     map[string]Behavior
	sandboxes  map[string]*sandbox
	containers map[string]*container
	ips        map[netip.Addr]*sandbox
	nextIP     uint32
	timers     sync.WaitGroup // running timer callbacks
}

// Stored statuses carry no Labels: sandboxLabels and containerLabels
// build them when a status is handed out, so that 10,000 idle containers
// do not hold 10,000 label maps.
type sandbox struct {
	status     runtime.PodSandboxStatus
	labels     map[string]string // the caller's, from PodSandboxConfig
	hostname   string            // PodSandboxConfig.Hostname as given
	containers map[string]*container
}

type container struct {
	status   runtime.ContainerStatus
	cfg      runtime.ContainerConfig
	sb       *sandbox
	behavior Behavior
	healthy  bool
	gen      int // bumped on every start and exit; stale timers compare it
	timer    *time.Timer
	logs     []logLine
	changed  chan struct{} // closed and replaced on new output or exit
}

type logLine struct {
	t      time.Time
	stderr bool
	text   string
}

var (
	_ runtime.Runtime        = (*Runtime)(nil)
	_ runtime.Execer         = (*Runtime)(nil)
	_ runtime.LogReader      = (*Runtime)(nil)
	_ runtime.ImageInspector = (*Runtime)(nil)
	_ runtime.NetworkProber  = (*Runtime)(nil)
)

// New returns a fake runtime. It starts no goroutines. Errors: the
// problems of cfg.Validate, each wrapping runtime.ErrInvalid.
func New(cfg Config) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runtime{
		cluster: cfg.ClusterID, node: cfg.NodeName, now: cfg.Now, log: cfg.Logger,
		registry: cfg.Registry, hook: cfg.Hook, bus: eventbus.New(cfg.EventQueue),
		images: map[string]string{}, imageUsers: maps.Clone(cfg.ImageUsers), byImage: maps.Clone(cfg.ImageBehaviors), byName: map[string]Behavior{},
		sandboxes: map[string]*sandbox{}, containers: map[string]*container{}, ips: map[netip.Addr]*sandbox{},
	}
	if r.cluster == "" {
		r.cluster = "fake"
	}
	if r.node == "" {
		r.node = "fake-node"
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = zap.NewNop()
	}
	if r.byImage == nil {
		r.byImage = map[string]Behavior{}
	}
	cidr := cfg.PodCIDR
	if cidr == "" {
		cidr = "10.244.0.0/16"
	}
	r.prefix = netip.MustParsePrefix(cidr).Masked() // validated above
	for _, img := range cfg.Images {
		r.images[img] = imageID(img)
	}
	return r, nil
}

// Start exists for symmetry with the Docker runtime: the fake needs no
// start and works from New on. Errors: runtime.ErrClosed after Close.
func (r *Runtime) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return &runtime.Error{Op: "Start", Kind: runtime.ErrClosed}
	}
	return ctx.Err()
}

// Close stops every timer, ends all event subscriptions and waits for the
// goroutines it owns. Later calls fail with runtime.ErrClosed. It is
// idempotent and returns nil.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		for _, c := range r.containers {
			if c.timer != nil && c.timer.Stop() {
				r.timers.Done()
			}
			c.timer = nil
		}
	}
	r.mu.Unlock()
	r.timers.Wait()
	r.bus.Close()
	return nil
}

// SetHook replaces the per-call hook (nil removes it).
func (r *Runtime) SetHook(h Hook) {
	r.mu.Lock()
	r.hook = h
	r.mu.Unlock()
}

// SetImageBehavior programs containers created from image from now on.
// Errors: runtime.ErrInvalid for negative durations or exit codes out of range.
func (r *Runtime) SetImageBehavior(image string, b Behavior) error {
	if err := b.validate(); err != nil {
		return err
	}
	r.mu.Lock()
	r.byImage[image] = b
	r.mu.Unlock()
	return nil
}

// SetContainerBehavior programs containers created with the Pod container
// name from now on, whatever their image. It wins over image behaviours.
// Errors: as SetImageBehavior.
func (r *Runtime) SetContainerBehavior(name string, b Behavior) error {
	if err := b.validate(); err != nil {
		return err
	}
	r.mu.Lock()
	r.byName[name] = b
	r.mu.Unlock()
	return nil
}

// AddImage makes image present locally.
func (r *Runtime) AddImage(image string) {
	r.mu.Lock()
	r.images[image] = imageID(image)
	r.mu.Unlock()
}

// RemoveImage makes image absent.
func (r *Runtime) RemoveImage(image string) {
	r.mu.Lock()
	delete(r.images, image)
	r.mu.Unlock()
}

func imageID(ref string) string {
	h := sha256.Sum256([]byte(ref))
	return "sha256:" + hex.EncodeToString(h[:])
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}

// call runs the hook and checks the runtime is open.
func (r *Runtime) call(ctx context.Context, c Call) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	h, closed := r.hook, r.closed
	r.mu.Unlock()
	if closed {
		return &runtime.Error{Op: string(c.Op), ID: c.ID, Kind: runtime.ErrClosed}
	}
	if h != nil {
		return h(ctx, c)
	}
	return nil
}

func (r *Runtime) baseLabels(kind string) map[string]string {
	return map[string]string{
		runtime.LabelManaged: "true", runtime.LabelKind: kind,
		runtime.LabelClusterID: r.cluster, runtime.LabelNode: r.node,
	}
}

// EnsureImage implements runtime.Runtime.
func (r *Runtime) EnsureImage(ctx context.Context, image string, policy runtime.PullPolicy) (string, error) {
	const op = "EnsureImage"
	if err := r.call(ctx, Call{Op: OpEnsureImage, Image: image}); err != nil {
		return "", err
	}
	if image == "" {
		return "", runtime.Errorf(op, "", runtime.ErrInvalid, "image: must not be empty")
	}
	if !policy.Valid() {
		return "", runtime.Errorf(op, image, runtime.ErrInvalid, "policy: %q must be IfNotPresent, Never or Always", policy)
	}
	r.mu.Lock()
	id, ok := r.images[image]
	r.mu.Unlock()
	if ok && policy != runtime.PullAlways {
		return id, nil
	}
	if policy == runtime.PullNever {
		return "", runtime.Errorf(op, image, runtime.ErrImageNeverPull, "image %q is not present locally and pull policy is Never", image)
	}
	if r.registry != nil {
		if err := r.registry(image); err != nil {
			return "", &runtime.Error{Op: op, ID: image, Kind: runtime.ErrImagePull, Message: err.Error(), Err: err}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.images[image] = imageID(image)
	return r.images[image], nil
}

func (r *Runtime) allocIP() (netip.Addr, bool) {
	size := uint32(1) << (32 - r.prefix.Bits())
	base := binary.BigEndian.Uint32(r.prefix.Addr().AsSlice())
	for range size {
		r.nextIP = r.nextIP%(size-2) + 1 // skip network and broadcast
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], base+r.nextIP)
		a := netip.AddrFrom4(b)
		if _, used := r.ips[a]; !used {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// RunPodSandbox implements runtime.Runtime. The sandbox gets a synthetic IP
// from Config.PodCIDR, reachable only through ProbeHTTP/ProbeTCP.
// Errors: ErrInvalid; ErrUnavailable when the Pod CIDR is exhausted.
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg *runtime.PodSandboxConfig) (string, error) {
	const op = "RunPodSandbox"
	var name string
	if cfg != nil {
		name = cfg.Name
	}
	if err := r.call(ctx, Call{Op: OpRunPodSandbox, Name: name}); err != nil {
		return "", err
	}
	if err := runtime.ValidateSandboxConfig(cfg); err != nil {
		return "", &runtime.Error{Op: op, Kind: runtime.ErrInvalid, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sb := range r.sandboxes {
		if sb.status.UID == cfg.UID && sb.status.Attempt == cfg.Attempt {
			return sb.status.ID, nil
		}
	}
	ip, ok := r.allocIP()
	if !ok {
		return "", runtime.Errorf(op, "", runtime.ErrUnavailable, "no free IP in %s", r.prefix)
	}
	sb := &sandbox{labels: maps.Clone(cfg.Labels), hostname: cfg.Hostname, containers: map[string]*container{}, status: runtime.PodSandboxStatus{
		ID: newID(), Name: cfg.Name, Namespace: cfg.Namespace, UID: cfg.UID, Attempt: cfg.Attempt,
		State: runtime.SandboxReady, IP: ip.String(), PortMappings: slices.Clone(cfg.PortMappings),
		CreatedAt: r.now(),
	}}
	r.sandboxes[sb.status.ID] = sb
	r.ips[ip] = sb
	r.publishSandbox(runtime.EventSandboxReady, sb)
	return sb.status.ID, nil
}

// sandboxLabels builds a sandbox's labels: the runtime's own, the
// caller's, and the Pod's identity.
func (r *Runtime) sandboxLabels(sb *sandbox) map[string]string {
	labels := r.baseLabels(runtime.KindSandbox)
	maps.Copy(labels, sb.labels)
	labels[runtime.LabelNamespace] = sb.status.Namespace
	labels[runtime.LabelPodName] = sb.status.Name
	labels[runtime.LabelPodUID] = sb.status.UID
	labels[runtime.LabelAttempt] = strconv.Itoa(sb.status.Attempt)
	return labels
}

// containerLabels builds a container's labels: the runtime's own, the
// caller's, its Pod's identity and its own.
func (r *Runtime) containerLabels(c *container) map[string]string {
	labels := r.baseLabels(runtime.KindContainer)
	maps.Copy(labels, c.cfg.Labels)
	labels[runtime.LabelNamespace] = c.sb.status.Namespace
	labels[runtime.LabelPodName] = c.sb.status.Name
	labels[runtime.LabelPodUID] = c.sb.status.UID
	labels[runtime.LabelSandboxID] = c.sb.status.ID
	labels[runtime.LabelContainerName] = c.cfg.Name
	labels[runtime.LabelRestartCount] = strconv.Itoa(c.cfg.RestartCount)
	return labels
}

func (r *Runtime) publishSandbox(t runtime.EventType, sb *sandbox) {
	r.bus.Publish(runtime.Event{Type: t, Time: r.now(), SandboxID: sb.status.ID, PodUID: sb.status.UID, Labels: r.sandboxLabels(sb)})
}

func (r *Runtime) publish(t runtime.EventType, c *container) {
	r.bus.Publish(runtime.Event{Type: t, Time: r.now(), ContainerID: c.status.ID, SandboxID: c.status.SandboxID,
		PodUID: c.status.PodUID, Name: c.status.Name, ExitCode: c.status.ExitCode, Labels: r.containerLabels(c)})
}

func (r *Runtime) sandboxLocked(op, id string) (*sandbox, error) {
	sb, ok := r.sandboxes[id]
	if !ok {
		return nil, runtime.Errorf(op, id, runtime.ErrNotFound, "no such sandbox")
	}
	return sb, nil
}

// StopPodSandbox implements runtime.Runtime: it kills the sandbox's running
// containers (exit 137) and marks it NotReady; the IP stays reserved until
// removal.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	if err := r.call(ctx, Call{Op: OpStopPodSandbox, ID: id}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandboxLocked("StopPodSandbox", id)
	if err != nil {
		return err
	}
	for _, c := range sb.containers {
		if c.status.State == runtime.ContainerRunning {
			r.exitLocked(c, 137, runtime.ReasonError, "killed: sandbox stopped")
		}
	}
	if sb.status.State == runtime.SandboxReady {
		sb.status.State = runtime.SandboxNotReady
		r.publishSandbox(runtime.EventSandboxNotReady, sb)
	}
	return nil
}

// RemovePodSandbox implements runtime.Runtime.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	if err := r.call(ctx, Call{Op: OpRemovePodSandbox, ID: id}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandboxLocked("RemovePodSandbox", id)
	if err != nil {
		return err
	}
	for _, c := range sb.containers {
		r.removeLocked(c)
	}
	if sb.status.State == runtime.SandboxReady {
		sb.status.State = runtime.SandboxNotReady
		r.publishSandbox(runtime.EventSandboxNotReady, sb)
	}
	delete(r.ips, netip.MustParseAddr(sb.status.IP))
	delete(r.sandboxes, id)
	r.publishSandbox(runtime.EventSandboxRemoved, sb)
	return nil
}

func (r *Runtime) sandboxCopy(sb *sandbox) *runtime.PodSandboxStatus {
	s := sb.status
	s.Labels = r.sandboxLabels(sb)
	s.PortMappings = slices.Clone(s.PortMappings)
	if s.State != runtime.SandboxReady {
		s.IP = ""
	}
	return &s
}

// PodSandboxStatus implements runtime.Runtime.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (*runtime.PodSandboxStatus, error) {
	if err := r.call(ctx, Call{Op: OpPodSandboxStatus, ID: id}); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandboxLocked("PodSandboxStatus", id)
	if err != nil {
		return nil, err
	}
	return r.sandboxCopy(sb), nil
}

// ListPodSandboxes implements runtime.Runtime.
func (r *Runtime) ListPodSandboxes(ctx context.Context, f *runtime.PodSandboxFilter) ([]*runtime.PodSandboxStatus, error) {
	if err := r.call(ctx, Call{Op: OpListPodSandboxes}); err != nil {
		return nil, err
	}
	if f == nil {
		f = &runtime.PodSandboxFilter{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*runtime.PodSandboxStatus
	for _, sb := range r.sandboxes {
		s := &sb.status
		if (f.ID != "" && f.ID != s.ID) || (f.UID != "" && f.UID != s.UID) || (f.State != "" && f.State != s.State) ||
			(len(f.Labels) > 0 && !runtime.MatchLabels(r.sandboxLabels(sb), f.Labels)) {
			continue
		}
		out = append(out, r.sandboxCopy(sb))
	}
	slices.SortFunc(out, func(a, b *runtime.PodSandboxStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// CreateContainer implements runtime.Runtime.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg *runtime.ContainerConfig) (string, error) {
	const op = "CreateContainer"
	var name, image string
	if cfg != nil {
		name, image = cfg.Name, cfg.Image
	}
	if err := r.call(ctx, Call{Op: OpCreateContainer, ID: sandboxID, Name: name, Image: image}); err != nil {
		return "", err
	}
	if err := runtime.ValidateContainerConfig(cfg); err != nil {
		return "", &runtime.Error{Op: op, Kind: runtime.ErrInvalid, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandboxLocked(op, sandboxID)
	if err != nil {
		return "", err
	}
	if sb.status.State != runtime.SandboxReady {
		return "", runtime.Errorf(op, sandboxID, runtime.ErrSandboxNotReady, "sandbox is not running")
	}
	imgID, ok := r.images[cfg.Image]
	if !ok {
		return "", runtime.Errorf(op, cfg.Image, runtime.ErrImageNeverPull, "image %q is not present locally", cfg.Image)
	}
	for _, c := range sb.containers {
		if c.status.Name == cfg.Name && c.status.RestartCount == cfg.RestartCount {
			return "", runtime.Errorf(op, c.status.ID, runtime.ErrAlreadyExists, "container %q with restart count %d exists", cfg.Name, cfg.RestartCount)
		}
	}
	b, ok := r.byName[cfg.Name]
	if !ok {
		b = r.byImage[cfg.Image]
	}
	c := &container{sb: sb, behavior: b, healthy: true, changed: make(chan struct{}), cfg: cloneConfig(cfg), status: runtime.ContainerStatus{
		ID: newID(), SandboxID: sb.status.ID, Name: cfg.Name, PodName: sb.status.Name, Namespace: sb.status.Namespace,
		PodUID: sb.status.UID, Image: cfg.Image, ImageID: imgID, State: runtime.ContainerCreated, CreatedAt: r.now(),
		RestartCount: cfg.RestartCount,
	}}
	r.containers[c.status.ID] = c
	sb.containers[c.status.ID] = c
	r.publish(runtime.EventContainerCreated, c)
	return c.status.ID, nil
}

func cloneConfig(cfg *runtime.ContainerConfig) runtime.ContainerConfig {
	c := *cfg
	c.Command, c.Args, c.Env, c.Ports = slices.Clone(c.Command), slices.Clone(c.Args), slices.Clone(c.Env), slices.Clone(c.Ports)
	c.Mounts, c.Labels = slices.Clone(c.Mounts), maps.Clone(c.Labels)
	for i := range c.Mounts {
		c.Mounts[i].Files, c.Mounts[i].Group = slices.Clone(c.Mounts[i].Files), clonePtr(c.Mounts[i].Group)
	}
	s := &c.Security
	s.RunAsUser, s.RunAsGroup = clonePtr(s.RunAsUser), clonePtr(s.RunAsGroup)
	s.SupplementalGroups, s.CapAdd, s.CapDrop = slices.Clone(s.SupplementalGroups), slices.Clone(s.CapAdd), slices.Clone(s.CapDrop)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// ImageUser implements runtime.ImageInspector: the user Config.ImageUsers
// gives the image ("" for root when it gives none). Errors: ErrNotFound
// when the image is absent.
func (r *Runtime) ImageUser(ctx context.Context, image string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.images[image]; !ok {
		return "", runtime.Errorf("ImageUser", image, runtime.ErrNotFound, "image %q is not present locally", image)
	}
	return r.imageUsers[image], nil
}

// Config returns a copy of the configuration a container was created
// with, so tests can assert what the agent asked for. Errors: ErrNotFound.
func (r *Runtime) Config(id string) (*runtime.ContainerConfig, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.containerLocked("Config", id)
	if err != nil {
		return nil, err
	}
	cfg := cloneConfig(&c.cfg)
	return &cfg, nil
}

// SandboxConfig returns the configuration a sandbox was created with, so
// tests can assert what the agent asked for. Errors: ErrNotFound.
func (r *Runtime) SandboxConfig(id string) (*runtime.PodSandboxConfig, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandboxLocked("SandboxConfig", id)
	if err != nil {
		return nil, err
	}
	st := sb.status
	return &runtime.PodSandboxConfig{Name: st.Name, Namespace: st.Namespace, UID: st.UID, Attempt: st.Attempt,
		Hostname: sb.hostname, PortMappings: slices.Clone(st.PortMappings), Labels: maps.Clone(sb.labels)}, nil
}

func (r *Runtime) containerLocked(op, id string) (*container, error) {
	c, ok := r.containers[id]
	if !ok {
		return nil, runtime.Errorf(op, id, runtime.ErrNotFound, "no such container")
	}
	return c, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StartContainer implements runtime.Runtime. Starting an exited container
// runs it again (same ID and restart count), as Docker does.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	const op = "StartContainer"
	if err := r.call(ctx, Call{Op: OpStartContainer, ID: id}); err != nil {
		return err
	}
	r.mu.Lock()
	c, err := r.containerLocked(op, id)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	delay := c.behavior.StartDelay
	r.mu.Unlock()
	if err := sleep(ctx, delay); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return &runtime.Error{Op: op, ID: id, Kind: runtime.ErrClosed}
	}
	if c, err = r.containerLocked(op, id); err != nil {
		return err
	}
	if c.status.State == runtime.ContainerRunning {
		return nil
	}
	if c.sb.status.State != runtime.SandboxReady {
		return runtime.Errorf(op, id, runtime.ErrSandboxNotReady, "sandbox %s is not running", c.sb.status.ID)
	}
	b := c.behavior
	if b.StartError != "" {
		c.status.StartedAt = time.Time{}
		r.exitLocked(c, 128, runtime.ReasonStartError, b.StartError)
		return runtime.Errorf(op, id, runtime.ErrStartFailed, "%s", b.StartError)
	}
	now := r.now()
	c.gen++
	c.status.State, c.status.StartedAt, c.status.FinishedAt = runtime.ContainerRunning, now, time.Time{}
	c.status.ExitCode, c.status.Reason, c.status.Message = 0, "", ""
	r.publish(runtime.EventContainerStarted, c)
	for _, l := range b.Logs {
		c.logs = append(c.logs, logLine{t: now, text: l})
	}
	r.notifyLocked(c)
	switch {
	case b.OOMAfter > 0 && (b.ExitAfter <= 0 || b.OOMAfter <= b.ExitAfter):
		r.scheduleLocked(c, b.OOMAfter, func() { r.oomLocked(c) })
	case b.ExitAfter > 0:
		code := b.ExitCode
		r.scheduleLocked(c, b.ExitAfter, func() { r.exitLocked(c, code, "", "") })
	}
	return nil
}

// scheduleLocked runs fn under the lock after d, unless the container has
// been started or exited again in between or the runtime closed.
func (r *Runtime) scheduleLocked(c *container, d time.Duration, fn func()) {
	gen := c.gen
	r.timers.Add(1)
	c.timer = time.AfterFunc(d, func() {
		defer r.timers.Done()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.closed || c.gen != gen || c.status.State != runtime.ContainerRunning {
			return
		}
		c.timer = nil
		fn()
	})
}

func (r *Runtime) notifyLocked(c *container) {
	close(c.changed)
	c.changed = make(chan struct{})
}

// exitLocked moves a container to Exited. An empty reason is derived
// from the code.
func (r *Runtime) exitLocked(c *container, code int, reason, msg string) {
	if c.timer != nil && c.timer.Stop() {
		r.timers.Done()
	}
	c.timer = nil
	c.gen++
	if reason == "" {
		reason = runtime.ReasonCompleted
		if code != 0 {
			reason = runtime.ReasonError
		}
	}
	c.status.State, c.status.ExitCode, c.status.Reason, c.status.Message = runtime.ContainerExited, code, reason, msg
	c.status.FinishedAt = r.now()
	r.publish(runtime.EventContainerExited, c)
	r.notifyLocked(c)
}

func (r *Runtime) oomLocked(c *container) {
	r.publish(runtime.EventContainerOOM, c)
	r.exitLocked(c, 137, runtime.ReasonOOMKilled, "memory limit exceeded")
}

// StopContainer implements runtime.Runtime. It blocks while the program
// "handles" its stop signal (Behavior.StopDelay, IgnoreStopSignal). When
// ctx ends first the container is killed (exit 137) and ctx's error
// returned.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	const op = "StopContainer"
	if err := r.call(ctx, Call{Op: OpStopContainer, ID: id, Grace: grace}); err != nil {
		return err
	}
	if err := runtime.ValidateGrace(grace); err != nil {
		return &runtime.Error{Op: op, ID: id, Kind: runtime.ErrInvalid, Err: err}
	}
	r.mu.Lock()
	c, err := r.containerLocked(op, id)
	if err != nil || c.status.State != runtime.ContainerRunning {
		r.mu.Unlock()
		return err
	}
	gen, b := c.gen, c.behavior
	r.mu.Unlock()

	wait, code := b.StopDelay, b.StopExitCode
	if b.IgnoreStopSignal || wait > grace {
		wait, code = grace, 137
	}
	werr := sleep(ctx, wait)
	if werr != nil {
		code = 137
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.gen == gen && c.status.State == runtime.ContainerRunning {
		msg := ""
		if code == 137 {
			msg = "killed after grace period"
		}
		r.exitLocked(c, code, "", msg)
	}
	return werr
}

func (r *Runtime) removeLocked(c *container) {
	if c.status.State == runtime.ContainerRunning {
		r.exitLocked(c, 137, "", "killed: removed")
	}
	delete(r.containers, c.status.ID)
	delete(c.sb.containers, c.status.ID)
	c.status.State = runtime.ContainerUnknown
	r.publish(runtime.EventContainerRemoved, c)
	r.notifyLocked(c)
}

// RemoveContainer implements runtime.Runtime.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	if err := r.call(ctx, Call{Op: OpRemoveContainer, ID: id}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.containerLocked("RemoveContainer", id)
	if err != nil {
		return err
	}
	r.removeLocked(c)
	return nil
}

func (r *Runtime) statusCopy(c *container) *runtime.ContainerStatus {
	s := c.status
	s.Labels = r.containerLabels(c)
	if c.sb.status.State == runtime.SandboxReady {
		s.IP = c.sb.status.IP
	}
	return &s
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(ctx context.Context, f *runtime.ContainerFilter) ([]*runtime.ContainerStatus, error) {
	if err := r.call(ctx, Call{Op: OpListContainers}); err != nil {
		return nil, err
	}
	if f == nil {
		f = &runtime.ContainerFilter{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*runtime.ContainerStatus
	for _, c := range r.containers {
		s := &c.status
		if (f.ID != "" && f.ID != s.ID) || (f.SandboxID != "" && f.SandboxID != s.SandboxID) || (f.PodUID != "" && f.PodUID != s.PodUID) ||
			(f.State != "" && f.State != s.State) || (len(f.Labels) > 0 && !runtime.MatchLabels(r.containerLabels(c), f.Labels)) {
			continue
		}
		out = append(out, r.statusCopy(c))
	}
	slices.SortFunc(out, func(a, b *runtime.ContainerStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// ContainerStatus implements runtime.Runtime.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (*runtime.ContainerStatus, error) {
	if err := r.call(ctx, Call{Op: OpContainerStatus, ID: id}); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.containerLocked("ContainerStatus", id)
	if err != nil {
		return nil, err
	}
	return r.statusCopy(c), nil
}

// Events implements runtime.Runtime. Errors: runtime.ErrClosed.
func (r *Runtime) Events(ctx context.Context) (<-chan runtime.Event, error) {
	ch, err := r.bus.Subscribe(ctx)
	if err != nil {
		return nil, &runtime.Error{Op: "Events", Kind: runtime.ErrClosed}
	}
	return ch, nil
}
