package docker

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

// Config configures a Docker runtime.
type Config struct {
	// ClusterID and NodeName are written into the labels of everything the
	// runtime creates, and the runtime only ever lists, adopts and reports
	// objects carrying both, so several nodes (and clusters) can share one
	// daemon. Required; lower-case DNS-1123 names of at most 63 characters.
	ClusterID string
	NodeName  string
	// Network is the Docker network Pod sandboxes join; the Pod IP is the
	// sandbox's address on it. Empty means Docker's default "bridge".
	Network string
	// CreateNetwork makes Start create Network (a bridge network labelled
	// with the cluster ID) when it does not exist; without it a missing
	// Network is an error at Start. It is never removed by the runtime;
	// Purge removes it. Ignored when Network is empty.
	CreateNetwork bool
	// Client is the Engine API client (github.com/moby/moby/client) to
	// use; nil means one built with client.FromEnv (DOCKER_HOST,
	// DOCKER_API_VERSION, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY), which
	// negotiates the API version with the daemon. A given client is not
	// closed by Close.
	Client *client.Client
	// LogMaxBytes caps the output kept per container: Docker's json-file
	// log driver rotates at this size and keeps two files, so Logs can
	// always read it back whatever the daemon's default driver is. 0 means
	// 10 MiB (Kubernetes' kubelet default); it must be at least 64 KiB.
	LogMaxBytes int64
	// EventQueue is each event subscriber's queue length; 0 means 4096.
	EventQueue int
	// ReconnectDelay is the pause between attempts to re-open a lost
	// Docker event stream; 0 means 200 ms.
	ReconnectDelay time.Duration
	// WarmSandboxes is how many started sandboxes that belong to no Pod yet
	// the runtime keeps ready, so that a Pod starts by claiming one instead
	// of waiting for the daemon to make a network namespace (on the
	// reference machine a Pod then starts in about a third of the time).
	// 0 or less (the default) keeps none: every Pod gets a sandbox of its
	// own, whose hostname is the Pod's (its name, or spec.hostname).
	//
	// A positive count trades that for start latency: Docker cannot give a
	// started container another hostname, nor a container joining
	// another's network namespace a hostname of its own, so a Pod started
	// on a warm sandbox has the sandbox's hostname (Docker's short
	// container ID) instead of its name. Pods with host ports or
	// spec.hostname still get a sandbox of their own, with their hostname.
	// Idle warm sandboxes are removed by Close. Size the pool for the
	// bursts a node must absorb: each idle sandbox holds a running pause
	// container (about 5 MB of host memory, mostly its containerd shim)
	// and an address on the network. On the reference machine, 40 new
	// Pods over 3 nodes took 3.9 s with 16 per node and 8.7 s with 4 (the
	// daemon started a sandbox for the rest).
	WarmSandboxes int
	// Logger receives the runtime's logs; nil means zap.NewNop().
	Logger *zap.Logger
}

var networkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Validate returns every problem of c at once, each naming its field and
// wrapping runtime.ErrInvalid.
func (c *Config) Validate() error {
	errs := []error{runtime.ValidateName("ClusterID", c.ClusterID), runtime.ValidateName("NodeName", c.NodeName)}
	if c.Network != "" && !networkName.MatchString(c.Network) {
		errs = append(errs, fmt.Errorf("%w: Network: %q is not a valid Docker network name", runtime.ErrInvalid, c.Network))
	}
	if c.LogMaxBytes != 0 && c.LogMaxBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("%w: LogMaxBytes: %d must be 0 (10 MiB) or at least 65536", runtime.ErrInvalid, c.LogMaxBytes))
	}
	if c.EventQueue < 0 {
		errs = append(errs, fmt.Errorf("%w: EventQueue: %d must not be negative", runtime.ErrInvalid, c.EventQueue))
	}
	if c.ReconnectDelay < 0 {
		errs = append(errs, fmt.Errorf("%w: ReconnectDelay: %v must not be negative", runtime.ErrInvalid, c.ReconnectDelay))
	}
	return errors.Join(errs...)
}
