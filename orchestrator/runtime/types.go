package runtime

import (
	"fmt"
	"time"
)

// PullPolicy says when EnsureImage pulls an image. The zero value is
// PullIfNotPresent.
type PullPolicy string

// Pull policies, with Kubernetes' names.
const (
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
	PullAlways       PullPolicy = "Always"
)

// Valid reports whether p is one of the known policies or empty.
func (p PullPolicy) Valid() bool {
	switch p {
	case "", PullIfNotPresent, PullNever, PullAlways:
		return true
	}
	return false
}

// Protocol is a port's transport protocol. The zero value means TCP.
type Protocol string

// Protocols.
const (
	ProtocolTCP Protocol = "TCP"
	ProtocolUDP Protocol = "UDP"
)

// PortMapping publishes a Pod port on the host.
type PortMapping struct {
	// ContainerPort is the port inside the Pod (1-65535).
	ContainerPort int
	// HostPort is the port on the host (1-65535).
	HostPort int
	// HostIP is the host address to bind; empty means all addresses.
	HostIP string
	// Protocol is TCP (default) or UDP.
	Protocol Protocol
}

// PodSandboxConfig describes the sandbox of one Pod.
type PodSandboxConfig struct {
	// Name, Namespace and UID identify the Pod. Name must be a DNS-1123
	// subdomain (at most 253 characters), Namespace a DNS-1123 label; UID
	// must be 1-64 characters of [A-Za-z0-9-].
	Name      string
	Namespace string
	UID       string
	// Attempt numbers sandboxes of the same Pod (a new sandbox after the
	// old one died gets Attempt+1).
	Attempt int
	// Hostname is the Pod's hostname (a DNS-1123 label); empty means Name
	// cut to 63 characters.
	Hostname string
	// PortMappings publish ports on the host. Containers share the
	// sandbox's network namespace, so host ports are published here, on
	// the sandbox, never on individual containers.
	PortMappings []PortMapping
	// Labels are extra labels put on the sandbox; keys with the
	// LabelPrefix are reserved and rejected.
	Labels map[string]string
}

// SandboxState is the state of a Pod sandbox.
type SandboxState string

// Sandbox states.
const (
	SandboxReady    SandboxState = "Ready"    // running; containers may join
	SandboxNotReady SandboxState = "NotReady" // stopped or died
)

// PodSandboxStatus reports one sandbox.
type PodSandboxStatus struct {
	ID        string
	Name      string
	Namespace string
	UID       string
	Attempt   int
	State     SandboxState
	// IP is the Pod IP; empty when the sandbox is not ready. Implementations
	// without a host-reachable network (the fake) also implement
	// NetworkProber.
	IP           string
	PortMappings []PortMapping
	CreatedAt    time.Time
	// Labels are all labels of the sandbox, the runtime's own included.
	Labels map[string]string
}

// PodSandboxFilter selects sandboxes; empty fields match everything.
type PodSandboxFilter struct {
	ID     string
	UID    string
	State  SandboxState
	Labels map[string]string // every key must have the given value
}

// EnvVar is one environment variable; order is kept.
type EnvVar struct {
	Name  string
	Value string
}

// Resources are hard limits. Zero means unlimited.
type Resources struct {
	CPUMillis   int64 // CPU limit in millicores (1000 = one core)
	MemoryBytes int64 // memory limit in bytes; exceeding it OOM-kills
}

// ContainerPort declares a port a container listens on. It is informational
// (status, probes); publishing on the host is PodSandboxConfig.PortMappings.
type ContainerPort struct {
	Name          string
	ContainerPort int
	Protocol      Protocol
}

// MountType says what backs a mount.
type MountType string

// Mount types.
const (
	// MountVolume mounts the named, persistent volume Source (created if
	// missing, never removed by the runtime).
	MountVolume MountType = "Volume"
	// MountBind mounts the host path Source (absolute).
	MountBind MountType = "Bind"
	// MountEmptyDir mounts the Pod-scoped scratch volume Source, shared by
	// the Pod's containers, kept across their restarts and removed with
	// the sandbox. Its directory is writable by every user (0777, as
	// Kubernetes makes emptyDir), and set-group-ID to Group if given.
	MountEmptyDir MountType = "EmptyDir"
	// MountFiles mounts the Pod-scoped directory Source holding exactly
	// Files (ConfigMap, Secret, downward API and projected volumes).
	// Containers mounting the same Source with the same Files share it;
	// on disk (MediumDisk), new Files make a new directory for the
	// containers created from then on. With MediumMemory (Secrets) the
	// files live on a tmpfs only, never on a disk of the node, and the
	// Pod's containers share one directory per Source, whose files a new
	// container create or [FilesUpdater.UpdateFiles] replace in place.
	MountFiles MountType = "Files"
)

// Medium is what backs an emptyDir.
type Medium string

// Media.
const (
	// MediumDisk (the zero value) is the node's disk.
	MediumDisk Medium = ""
	// MediumMemory is a tmpfs: fast, counted as memory, gone with the Pod
	// (and when the node restarts).
	MediumMemory Medium = "Memory"
)

// Mount attaches storage to a container.
type Mount struct {
	Type MountType
	// Source is the volume name (Volume), host path (Bind), or the Pod's
	// volume name (EmptyDir, Files): a volume name of [a-zA-Z0-9_.-].
	Source string
	// Target is the absolute path in the container.
	Target   string
	ReadOnly bool
	// SubPath mounts this path inside Source (relative, without "..")
	// instead of its root; Bind and Files mounts only. For Files it must
	// be a file or directory of Files (a missing one is made an empty
	// directory).
	SubPath string
	// Medium (EmptyDir and Files) and SizeBytes (EmptyDir only):
	// SizeBytes bounds a MediumMemory emptyDir; 0 is the runtime's
	// default. A MediumMemory Files mount keeps its files on tmpfs.
	Medium    Medium
	SizeBytes int64
	// Group (EmptyDir and Files) owns the volume's directories and files,
	// with directories set-group-ID and files group-readable (Kubernetes'
	// fsGroup); nil leaves them root's.
	Group *int64
	// Files are the content of a MountFiles mount.
	Files []File
}

// File is one file of a MountFiles mount.
type File struct {
	// Path is relative to the mount's Target, without "..".
	Path string
	Data []byte
	// Mode is the permission bits; zero means 0644.
	Mode uint32
}

// ContainerConfig describes an application container of a Pod.
type ContainerConfig struct {
	// Name is the container's name in the Pod (DNS-1123 label), required.
	Name string
	// Image is the image reference, required. CreateContainer never pulls:
	// call EnsureImage first.
	Image string
	// Command replaces the image's entrypoint; Args its cmd (Kubernetes'
	// meaning of command and args).
	Command []string
	Args    []string
	Env     []EnvVar
	// WorkingDir is absolute or empty (the image's).
	WorkingDir string
	Resources  Resources
	Ports      []ContainerPort
	Mounts     []Mount
	// Labels are extra labels; keys with the LabelPrefix are reserved.
	Labels map[string]string
	// RestartCount is recorded in the LabelRestartCount label; the agent
	// passes how many times it has restarted this Pod container.
	RestartCount int
	// StopSignal is sent by StopContainer; empty means SIGTERM.
	StopSignal string
	// Security holds the container's Linux security settings.
	Security Security
}

// Security holds a container's Linux security settings. The zero value is
// the runtime's defaults: the image's user, the runtime's default
// capabilities and seccomp profile, a writable root filesystem.
type Security struct {
	// RunAsUser and RunAsGroup replace the image's user ID and group ID;
	// nil keeps the image's. With RunAsGroup alone the image's user runs
	// with that group.
	RunAsUser, RunAsGroup *int64
	// SupplementalGroups are added to the process's groups.
	SupplementalGroups []int64
	// ReadOnlyRootFilesystem mounts the image's filesystem read-only
	// (volumes keep their own mode).
	ReadOnlyRootFilesystem bool
	// Privileged gives the container every capability and the host's
	// devices.
	Privileged bool
	// CapAdd and CapDrop add and drop Linux capabilities, named without
	// the "CAP_" prefix ("NET_ADMIN"), or "ALL".
	CapAdd, CapDrop []string
	// NoNewPrivileges keeps the process and its children from gaining
	// privileges (setuid programs, file capabilities).
	NoNewPrivileges bool
	// Seccomp is the seccomp profile.
	Seccomp SeccompProfile
}

// SeccompProfile selects a container's seccomp profile.
type SeccompProfile string

// Seccomp profiles.
const (
	// SeccompRuntimeDefault (the zero value) is the runtime's default
	// filter.
	SeccompRuntimeDefault SeccompProfile = ""
	// SeccompUnconfined runs without a filter.
	SeccompUnconfined SeccompProfile = "Unconfined"
)

// ContainerState is the lifecycle state of a container.
type ContainerState string

// Container states.
const (
	ContainerCreated ContainerState = "Created"
	ContainerRunning ContainerState = "Running"
	ContainerExited  ContainerState = "Exited"
	ContainerUnknown ContainerState = "Unknown"
)

// Reasons reported in ContainerStatus.Reason (Kubernetes' words).
const (
	ReasonCompleted  = "Completed"  // exited with code 0
	ReasonError      = "Error"      // exited with a non-zero code
	ReasonOOMKilled  = "OOMKilled"  // killed for exceeding its memory limit
	ReasonStartError = "StartError" // the process never started
)

// ContainerStatus reports one application container.
type ContainerStatus struct {
	ID        string
	SandboxID string
	// Name, PodName, Namespace and PodUID come from the labels.
	Name      string
	PodName   string
	Namespace string
	PodUID    string
	Image     string
	ImageID   string
	State     ContainerState
	// ExitCode, Reason and Message are set once the container exited.
	ExitCode   int
	Reason     string
	Message    string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// RestartCount is read from the LabelRestartCount label.
	RestartCount int
	// IP is the sandbox's IP (containers share it).
	IP     string
	Labels map[string]string
}

// ContainerFilter selects containers; empty fields match everything.
type ContainerFilter struct {
	ID        string
	SandboxID string
	PodUID    string
	State     ContainerState
	Labels    map[string]string // every key must have the given value
}

// EventType says what happened.
type EventType string

// Event types.
const (
	EventContainerCreated EventType = "ContainerCreated"
	EventContainerStarted EventType = "ContainerStarted"
	// EventContainerExited carries ExitCode; an OOM kill is reported as
	// EventContainerOOM followed by EventContainerExited.
	EventContainerExited  EventType = "ContainerExited"
	EventContainerOOM     EventType = "ContainerOOM"
	EventContainerRemoved EventType = "ContainerRemoved"
	EventSandboxReady     EventType = "SandboxReady"
	// EventSandboxNotReady: the sandbox stopped or died; its containers lost
	// their network and the agent should recreate the Pod's sandbox.
	EventSandboxNotReady EventType = "SandboxNotReady"
	EventSandboxRemoved  EventType = "SandboxRemoved"
	// EventResync means events may have been lost (slow subscriber, event
	// stream reconnect); the consumer must list again.
	EventResync EventType = "Resync"
)

// Event is a state change of a container or sandbox. For sandbox events
// ContainerID is empty.
type Event struct {
	Type        EventType
	Time        time.Time
	ContainerID string
	SandboxID   string
	PodUID      string
	// Name is the Pod container name (empty for sandbox events).
	Name     string
	ExitCode int
	Labels   map[string]string
}

func (e Event) String() string {
	if e.ContainerID == "" {
		return fmt.Sprintf("%s sandbox=%s pod=%s", e.Type, short(e.SandboxID), e.PodUID)
	}
	return fmt.Sprintf("%s container=%s name=%s pod=%s exit=%d", e.Type, short(e.ContainerID), e.Name, e.PodUID, e.ExitCode)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
