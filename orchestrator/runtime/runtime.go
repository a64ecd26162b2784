package runtime

import (
	"context"
	"io"
	"time"
)

// Runtime is the container runtime seam the node agent drives. It is
// CRI-like: a Pod is a sandbox (the network namespace and Pod IP) plus
// application containers created inside it. Every call that blocks takes a
// context first; every identifier is the runtime's own opaque ID string.
//
// Implementations must be safe for concurrent use. Optional abilities (exec,
// logs, probing of synthetic networks) are separate interfaces found by type
// assertion: [Execer], [LogReader], [NetworkProber], [ImageInspector].
type Runtime interface {
	// EnsureImage makes image available locally according to policy and
	// returns the image's local ID. Errors: ErrImageNeverPull when policy is
	// PullNever and the image is absent; ErrImagePull when a pull was needed
	// and failed (the returned *Error carries the daemon's message);
	// ErrInvalid for an empty image or unknown policy; ErrUnavailable.
	EnsureImage(ctx context.Context, image string, policy PullPolicy) (string, error)

	// RunPodSandbox creates and starts the sandbox of a Pod and returns its
	// ID. It is idempotent per (Pod UID, Attempt): if that sandbox already
	// exists it returns the existing ID, whatever its state (adoption after
	// an agent restart); check PodSandboxStatus and use Attempt+1 for a new
	// sandbox when the old one is NotReady.
	// Errors: ErrInvalid naming the bad fields, ErrUnavailable.
	RunPodSandbox(ctx context.Context, cfg *PodSandboxConfig) (string, error)
	// StopPodSandbox stops every container of the sandbox (SIGKILL, callers
	// stop containers with their grace period first) and the sandbox
	// itself. Stopping a stopped sandbox is a no-op. Errors: ErrNotFound.
	StopPodSandbox(ctx context.Context, id string) error
	// RemovePodSandbox removes the sandbox, all its containers and its
	// emptyDir volumes, stopping them first if needed. Errors: ErrNotFound.
	RemovePodSandbox(ctx context.Context, id string) error
	// PodSandboxStatus reports the sandbox's state and IP. Errors: ErrNotFound.
	PodSandboxStatus(ctx context.Context, id string) (*PodSandboxStatus, error)
	// ListPodSandboxes lists this runtime's sandboxes (this cluster and
	// node only) matching filter; a nil filter matches all.
	ListPodSandboxes(ctx context.Context, filter *PodSandboxFilter) ([]*PodSandboxStatus, error)

	// CreateContainer creates (does not start) a container in a sandbox.
	// Errors: ErrInvalid naming the bad fields; ErrNotFound when the
	// sandbox does not exist; ErrSandboxNotReady when it is not running;
	// ErrAlreadyExists when a container with the same name and restart
	// count already exists in the sandbox; ErrImageNeverPull when the image
	// is not present (CreateContainer never pulls).
	CreateContainer(ctx context.Context, sandboxID string, cfg *ContainerConfig) (string, error)
	// StartContainer starts a created container. Starting a running
	// container is a no-op. Errors: ErrNotFound; ErrStartFailed carrying
	// the runtime's message when the process could not be started.
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends the container's stop signal (SIGTERM unless
	// configured), waits up to grace for it to exit, then kills it. A grace
	// of zero kills at once. Stopping a stopped container is a no-op.
	// Errors: ErrNotFound, ErrInvalid for a negative grace.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer removes a container, killing it if it still runs.
	// Errors: ErrNotFound.
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers lists this runtime's application containers (not
	// sandboxes) matching filter; a nil filter matches all.
	ListContainers(ctx context.Context, filter *ContainerFilter) ([]*ContainerStatus, error)
	// ContainerStatus reports one container. Errors: ErrNotFound.
	ContainerStatus(ctx context.Context, id string) (*ContainerStatus, error)

	// Events subscribes to container and sandbox state changes until ctx is
	// done or the runtime closes, when the channel is closed. The channel
	// is buffered; the runtime never blocks on a slow subscriber: when a
	// subscriber falls more than its buffer behind, queued events are
	// dropped and the next event it receives is EventResync, meaning "list
	// again". Subscribe before listing so nothing falls between the two.
	// Errors: ErrClosed.
	Events(ctx context.Context) (<-chan Event, error)
}

// ImageInspector is implemented by runtimes that can say how an image runs
// (the agent checks runAsNonRoot against the image's user, as the kubelet
// does; without this ability it cannot, and refuses to start such a
// container).
type ImageInspector interface {
	// ImageUser returns the user the image's configuration runs its
	// process as, as written there ("1000", "app", "1000:1000"; "" means
	// root). Errors: ErrNotFound when the image is not present.
	ImageUser(ctx context.Context, image string) (string, error)
}

// Execer is implemented by runtimes that can run a command inside a running
// container (exec probes, `flotilla exec`).
type Execer interface {
	// Exec runs cmd in the container and waits for it to finish. A non-zero
	// exit code is not an error; it is reported in the result, and a
	// command that cannot be started (no such file in the image) exits 126
	// or 127 with the engine's message in the output, as in a shell.
	// Stdout and stderr are each truncated to MaxExecOutput bytes. Errors:
	// ErrNotFound; ErrInvalid for an empty cmd; ErrNotRunning when the
	// container does not run.
	Exec(ctx context.Context, id string, cmd []string) (*ExecResult, error)
}

// MaxExecOutput is the most bytes of stdout, and of stderr, that Exec keeps.
const MaxExecOutput = 1 << 20

// ExecResult is the outcome of a command run by [Execer.Exec].
type ExecResult struct {
	ExitCode  int
	Stdout    []byte
	Stderr    []byte
	Truncated bool // output beyond MaxExecOutput was dropped
}

// LogReader is implemented by runtimes that keep container output.
type LogReader interface {
	// Logs writes the container's output to stdout and stderr (either may
	// be nil to drop that stream) and returns when the output is exhausted
	// or, with opts.Follow, when the container stops or ctx is done (then
	// it returns nil). Errors: ErrNotFound (also when opts.Previous is set
	// and there is no previous instance); ErrInvalid for a negative Tail.
	Logs(ctx context.Context, id string, opts LogOptions, stdout, stderr io.Writer) error
}

// LogOptions select which output [LogReader.Logs] returns.
type LogOptions struct {
	// Follow keeps streaming new output until the container stops or ctx
	// is done.
	Follow bool
	// Tail is the number of most recent lines to return; 0 means all.
	Tail int
	// Since drops output written before this time; zero means no limit.
	Since time.Time
	// Timestamps prefixes each line with its RFC 3339 nano time and a space.
	Timestamps bool
	// Previous reads the previous instance of the same Pod container (the
	// one with the highest restart count below this one's) instead.
	Previous bool
}

// FilesUpdater is implemented by runtimes that can replace the files of a
// Pod's MediumMemory Files volume while its containers run (a Secret
// volume updated in place, as the kubelet does).
type FilesUpdater interface {
	// UpdateFiles makes the MediumMemory Files volume m.Source of the Pod
	// of sandbox sandboxID hold exactly m.Files (with m.Group as owner),
	// for every container that mounts it, from now on. Containers see the
	// old set or the new one, switched by one symbolic link (..data, as
	// the kubelet lays out such volumes), never a mix; a file mounted
	// with a subPath is not updated, as in Kubernetes. A volume no
	// container mounted yet is created. Errors: ErrNotFound for an
	// unknown sandbox; ErrSandboxNotReady when it does not run;
	// ErrInvalid for a mount that is not a MediumMemory Files one or a
	// bad path.
	UpdateFiles(ctx context.Context, sandboxID string, m *Mount) error
}

// NetworkProber is implemented by runtimes whose Pod IPs are not reachable
// from the agent's host network (the in-memory fake). A prober that finds
// this interface on its runtime uses it for httpGet, tcpSocket and grpc
// probes instead of dialling the Pod IP; for other runtimes it dials
// directly.
type NetworkProber interface {
	// ProbeHTTP performs an HTTP GET of path on port of the Pod with the
	// given IP and returns the status code. An error means the connection
	// failed (probe failure). Errors: ErrNotFound for an unknown IP.
	ProbeHTTP(ctx context.Context, podIP string, port int, path string) (int, error)
	// ProbeTCP reports whether a TCP connection to port of the Pod with the
	// given IP succeeds (nil) or not (an error).
	ProbeTCP(ctx context.Context, podIP string, port int) error
	// ProbeGRPC calls grpc.health.v1.Health/Check for service on port of
	// the Pod with the given IP and returns the ServingStatus of the
	// answer (1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN). An error means
	// the call failed (probe failure). Errors: ErrNotFound for an unknown
	// IP.
	ProbeGRPC(ctx context.Context, podIP string, port int, service string) (int, error)
}
