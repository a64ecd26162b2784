package fake

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"go.uber.org/zap"
)

// Config configures a fake runtime. The zero value is usable: every image can
// be "pulled", containers run until stopped and answer probes on their
// declared ports.
type Config struct {
	// ClusterID and NodeName go into the labels of everything created.
	// Empty means "fake" and "fake-node". Both must be DNS-1123 names.
	ClusterID string
	NodeName  string
	// PodCIDR is the IPv4 prefix synthetic Pod IPs are taken from; empty
	// means 10.244.0.0/16. Give each node of a test cluster its own so Pod
	// IPs are unique cluster-wide. The prefix must be /8 to /30.
	PodCIDR string
	// Images are present from the start (PullNever finds them).
	Images []string
	// ImageUsers gives the user of an image's config, as ImageUser
	// reports it ("1000", "app", "1000:1000"); an image not listed runs
	// as root ("").
	ImageUsers map[string]string
	// Registry decides whether an image can be pulled: nil means every
	// pull succeeds; a non-nil error fails the pull with that message
	// (ErrImagePull).
	Registry func(image string) error
	// ImageBehaviors program containers by image reference; see Behavior.
	// Per-container-name behaviours (SetContainerBehavior) win over these.
	ImageBehaviors map[string]Behavior
	// Hook runs at the start of every Runtime call; see Hook.
	Hook Hook
	// EventQueue is each event subscriber's queue length; 0 means 4096.
	EventQueue int
	// Now is the clock for timestamps; nil means time.Now. Delays and
	// ExitAfter always use real timers.
	Now func() time.Time
	// Logger receives debug logs; nil means zap.NewNop().
	Logger *zap.Logger
}

// Validate returns every problem of c at once, each naming its field.
func (c *Config) Validate() error {
	var errs []error
	if c.ClusterID != "" {
		errs = append(errs, runtime.ValidateName("ClusterID", c.ClusterID))
	}
	if c.NodeName != "" {
		errs = append(errs, runtime.ValidateName("NodeName", c.NodeName))
	}
	if c.PodCIDR != "" {
		p, err := netip.ParsePrefix(c.PodCIDR)
		if err != nil || !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 30 {
			errs = append(errs, fmt.Errorf("%w: PodCIDR: %q must be an IPv4 prefix between /8 and /30", runtime.ErrInvalid, c.PodCIDR))
		}
	}
	if c.EventQueue < 0 {
		errs = append(errs, fmt.Errorf("%w: EventQueue: %d must not be negative", runtime.ErrInvalid, c.EventQueue))
	}
	for img, b := range c.ImageBehaviors {
		if err := b.validate(); err != nil {
			errs = append(errs, fmt.Errorf("ImageBehaviors[%s]: %w", img, err))
		}
	}
	return errors.Join(errs...)
}

// Behavior programs a fake container. The zero value runs until stopped,
// exits 0 on its stop signal at once, and is healthy.
type Behavior struct {
	// ExitAfter, when positive, makes the container exit ExitAfter after
	// each start with ExitCode (Reason Completed for 0, Error otherwise).
	ExitAfter time.Duration
	ExitCode  int
	// StartError, when non-empty, makes StartContainer fail with
	// ErrStartFailed and this message; the container ends Exited with
	// exit code 128 and Reason StartError.
	StartError string
	// StartDelay makes StartContainer take this long (it honours ctx).
	StartDelay time.Duration
	// StopDelay is how long the process takes to exit after its stop
	// signal; if the grace period is shorter it is killed (exit 137).
	StopDelay time.Duration
	// IgnoreStopSignal makes the process ignore its stop signal, so
	// StopContainer always waits the whole grace period and kills it.
	IgnoreStopSignal bool
	// StopExitCode is the exit code after a handled stop signal.
	StopExitCode int
	// OOMAfter, when positive, OOM-kills the container this long after
	// each start (exit 137, Reason OOMKilled).
	OOMAfter time.Duration
	// Logs are written to stdout when the container starts, one per line.
	Logs []string
	// HTTP answers ProbeHTTP; nil answers 200 on every declared container
	// port (503 while the container is unhealthy, see SetHealthy) and
	// refuses other ports.
	HTTP func(port int, path string) int
	// TCP answers ProbeTCP; nil accepts declared ports while healthy.
	TCP func(port int) bool
	// GRPC answers ProbeGRPC with a grpc.health.v1 ServingStatus (1
	// SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN), or -1 when nothing
	// listens on port; nil answers SERVING on declared ports (NOT_SERVING
	// while unhealthy) and refuses other ports.
	GRPC func(port int, service string) int
	// Exec answers Exec; nil returns exit code 0 (1 while unhealthy).
	Exec func(cmd []string) runtime.ExecResult
}

func (b Behavior) validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{"ExitAfter": b.ExitAfter, "StartDelay": b.StartDelay, "StopDelay": b.StopDelay, "OOMAfter": b.OOMAfter} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%w: %s: %v must not be negative", runtime.ErrInvalid, name, d))
		}
	}
	if b.ExitCode < 0 || b.ExitCode > 255 {
		errs = append(errs, fmt.Errorf("%w: ExitCode: %d must be in 0-255", runtime.ErrInvalid, b.ExitCode))
	}
	if b.StopExitCode < 0 || b.StopExitCode > 255 {
		errs = append(errs, fmt.Errorf("%w: StopExitCode: %d must be in 0-255", runtime.ErrInvalid, b.StopExitCode))
	}
	return errors.Join(errs...)
}

// Call describes a Runtime call to a Hook.
type Call struct {
	Op    Op
	ID    string // container or sandbox ID, if the call has one
	Name  string // container name (CreateContainer) or Pod name (RunPodSandbox)
	Image string // EnsureImage and CreateContainer
	// Grace is StopContainer's grace period (0 for other calls).
	Grace time.Duration
}

// Op names a Runtime method.
type Op string

// Ops passed to hooks.
const (
	OpEnsureImage      Op = "EnsureImage"
	OpRunPodSandbox    Op = "RunPodSandbox"
	OpStopPodSandbox   Op = "StopPodSandbox"
	OpRemovePodSandbox Op = "RemovePodSandbox"
	OpPodSandboxStatus Op = "PodSandboxStatus"
	OpListPodSandboxes Op = "ListPodSandboxes"
	OpCreateContainer  Op = "CreateContainer"
	OpStartContainer   Op = "StartContainer"
	OpStopContainer    Op = "StopContainer"
	OpRemoveContainer  Op = "RemoveContainer"
	OpListContainers   Op = "ListContainers"
	OpContainerStatus  Op = "ContainerStatus"
	OpExec             Op = "Exec"
	OpLogs             Op = "Logs"
	OpUpdateFiles      Op = "UpdateFiles"
)

// Hook runs before a Runtime call does anything. It may block (honouring
// ctx) to inject delay, and a non-nil error is returned by the call as is,
// without any effect. Hooks run without the runtime's lock, concurrently.
type Hook func(ctx context.Context, c Call) error

// FailOn returns a Hook failing calls of op with err.
func FailOn(op Op, err error) Hook {
	return func(_ context.Context, c Call) error {
		if c.Op == op {
			return err
		}
		return nil
	}
}

// DelayOn returns a Hook delaying calls of op by d (or until ctx is done,
// then the call fails with ctx's error).
func DelayOn(op Op, d time.Duration) Hook {
	return func(ctx context.Context, c Call) error {
		if c.Op != op {
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
}

// Chain runs hooks in order and returns the first error.
func Chain(hooks ...Hook) Hook {
	return func(ctx context.Context, c Call) error {
		for _, h := range hooks {
			if h == nil {
				continue
			}
			if err := h(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}
}
