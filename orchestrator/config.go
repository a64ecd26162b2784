package orchestrator

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/autopilot"
	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/dns"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/raftstore"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

func init() {
	// The one way in for in-process test clusters; see package inmem.
	inmem.Install(func(cfg any, n *inmem.Networks) { cfg.(*Config).networks = n })
}

// Role says what a node runs.
type Role string

// Roles.
const (
	// RoleServer nodes hold the cluster state (a Raft voter, or a
	// non-voter beyond Autopilot's voter count), run the control plane
	// (controllers and scheduler) while they lead, and run Pods (an agent)
	// unless DisableAgent is set.
	RoleServer Role = "server"
	// RoleAgent nodes only run Pods: an agent that reads and writes the
	// cluster state of the servers through their HTTPS API (see
	// Config.Role).
	RoleAgent Role = "agent"
)

// EncryptionKey is one AES-256 key for the cluster state at rest; see
// Config.EncryptionKeys.
type EncryptionKey = raftstore.EncryptionKey

// Config configures one node of a cluster. Build it from DefaultConfig
// (production timings) or TestConfig (test timings, loopback only) and set
// at least NodeName and Runtime. A Config must not change after New.
type Config struct {
	// NodeName names this node in Raft, gossip and the Node object. It is
	// required, a DNS-1123 subdomain, and must stay the same across
	// restarts from the same DataDir.
	NodeName string
	// Role says what this node runs. RoleServer (also the zero value) is
	// the cluster state, the control plane while leading, and an agent
	// unless DisableAgent.
	//
	// RoleAgent is an agent only: no Raft store, Autopilot, registry or
	// controllers. It needs real sockets, Join (servers' cluster
	// addresses) and, the first time, an agent JoinToken; BootstrapExpect,
	// BootstrapServers and DisableAgent must be unset. It joins gossip as
	// an agent (never a Raft member), finds the API servers in the gossip
	// records of the live servers (those with an API address) and runs its
	// agent through the HTTPS API with its node certificate, trying the
	// next server when one fails and following servers as they come and
	// go. The servers' node authorizer lets that certificate read Pods,
	// its own Node and the ConfigMaps and Secrets its Pods use, and write only its own
	// Node, the status of its own Pods and Events. On such a node Client
	// is that remote client, RaftAddr is "", IsLeader false, RaftState
	// zero and the trust operations return ErrAgentOnly.
	//
	// An agent-only node serves its Pods' logs (pods/log through any
	// server) on LogAddress, to servers only (mutual TLS).
	//
	// What agent-only nodes cannot do yet: exec, attach or port-forward
	// (no server does yet); renew their certificate (servers renew their
	// own from the CA in the store; an agent's lives CertificateValidity,
	// 90 days by default, and then needs a new join with a fresh
	// DataDir); follow CA renewals and certificate revocations (they read
	// no store; they take the servers' gossip keyring from the discovery
	// service every ten heartbeats).
	Role Role
	// LogAddress (RoleAgent only) is the host:port where an agent-only
	// node serves its Pods' logs to the servers, over mutual TLS with
	// server certificates only; it is advertised in the node's gossip
	// record. Empty means GossipBindAddr's host (all interfaces when that
	// is empty) on a free port. Servers serve logs on their cluster port.
	LogAddress string
	// DataDir holds the Raft log and snapshots. Empty keeps everything in
	// memory: nothing survives Shutdown.
	DataDir string

	// RaftBindAddr is the host:port for Raft and request forwarding
	// (port 0 picks one; Cluster.RaftAddr tells which after Start). Empty
	// means "127.0.0.1:0", reachable from this host only: set it to an
	// address other hosts can reach for a multi-host cluster.
	RaftBindAddr string
	// GossipBindAddr and GossipBindPort are where gossip listens. An empty
	// GossipBindAddr means all interfaces (advertising a private address
	// of this host); GossipBindPort 0 means 7946, or a free port when
	// GossipPickPort is set. Cluster.GossipAddr tells the address to give
	// other nodes in Join.
	GossipBindAddr string
	GossipBindPort int
	// GossipPickPort makes gossip bind a free port instead of 7946.
	GossipPickPort bool
	// Join lists the cluster addresses (Cluster.RaftAddr: the Raft port,
	// which also answers joins and discovery) of existing servers; any one
	// that answers is enough. The node asks it for the gossip addresses of
	// the live members and the gossip keyring, then joins gossip there,
	// retrying until Start's context ends. A node that has no credentials
	// yet also needs JoinToken.
	Join []string

	// JoinToken is a join token from Cluster.CreateJoinToken (or
	// Cluster.BootstrapToken on the founder), needed once: the first time
	// a node joins an existing cluster, when its DataDir holds no
	// credentials. The node checks that the server it reaches (through
	// Join) has the cluster CA the token names — no trust on first use —
	// then proves the token's secret and receives its certificate, the
	// gossip keys and the store's encryption keys, which it keeps under
	// DataDir/trust (0600). An agent token never makes a server. Empty
	// means: found a cluster (BootstrapExpect or BootstrapServers) or
	// restart from DataDir. Not used on in-memory test networks.
	JoinToken string

	// ClusterCA, if set, is the cluster CA to use instead of making one:
	// required when several servers found the cluster together
	// (BootstrapExpect or BootstrapServers with more than one server),
	// since they must share a CA before they can talk. Every founder gets
	// the same value (NewClusterCA makes one); they derive the first gossip
	// and store keys from its key, so nothing else needs sharing. A sole
	// founder without ClusterCA makes a new CA. The CA key is kept in the
	// cluster state, encrypted at rest, so any server can issue
	// certificates. Ignored by nodes that join with a token.
	ClusterCA *ClusterCA

	// APIAddress is where this server serves the Kubernetes API over HTTPS
	// (host:port; port 0 picks a free one, Cluster.APIAddr tells which
	// after Start), so that kubectl and client-go work against the cluster
	// (Cluster.AdminKubeconfig writes their configuration). Empty (the
	// zero value, and TestConfig's) serves no API; DefaultConfig sets
	// ":6443", Kubernetes' port. Only RoleServer nodes serve it.
	//
	// Security defaults, none of which can be turned off: TLS 1.2 or newer
	// only (plain HTTP on the port is refused), with a serving certificate
	// of the cluster CA for this node (SANs: NodeName, localhost,
	// 127.0.0.1, ::1, the bound and advertised addresses and APISANs);
	// every request must authenticate with a client certificate of the
	// cluster CA (CN user, O groups, revoked serials refused) or a bearer
	// token of APITokenFile — there is no anonymous access, except to
	// /healthz, /livez and /readyz. Authorization is RBAC, deny by
	// default: a user may do what their bindings grant and nothing else;
	// the admin kubeconfig's group system:masters may do everything (see
	// "RBAC" in the package doc).
	//
	// On in-memory test networks (no cluster trust) the API still uses a
	// cluster CA: the servers make one and keep it in the cluster state,
	// unencrypted like everything else there.
	APIAddress string
	// APISANs are extra DNS names or IP addresses for the API serving
	// certificate: a load balancer's name, a public address.
	APISANs []string
	// APITokenFile, if set, is a static token file in kube-apiserver's
	// --token-auth-file format (CSV lines token,user,uid,"group1,group2"),
	// read once by Start (a malformed line fails Start, naming the line).
	// Requires APIAddress.
	APITokenFile string

	// ServiceCIDR is the range Services' cluster IPs are allocated from:
	// an IPv4 prefix from /8 to /30 (IPv6 is not supported yet). Its first
	// address is kept for the `kubernetes` Service. The zero value means
	// 10.96.0.0/12, Kubernetes' default. Every server of a cluster must
	// use the same range; a Service keeps an address it holds when the
	// range changes.
	ServiceCIDR netip.Prefix
	// ClusterDomain is the cluster's DNS domain (lower-case RFC 1123
	// labels, no trailing dot): Services are named
	// <svc>.<ns>.svc.<ClusterDomain>. Empty means "cluster.local",
	// Kubernetes' default. Every node of a cluster must use the same one.
	ClusterDomain string
	// DNSAddress is the host:port where this node serves cluster DNS,
	// over UDP and TCP on the same port (port 0 picks a free one, readable
	// from Cluster.DNSAddr after Start). Empty turns cluster DNS off (as
	// in TestConfig). DefaultConfig serves on 127.0.0.1:1053: loopback,
	// so that the node is no open resolver for the network, and a port
	// above 1023, so that it needs no root. Containers do not use it yet:
	// their resolv.conf (dnsPolicy ClusterFirst) waits for the node
	// network design of issue 17.
	DNSAddress string
	// NodePortRange bounds the node ports of NodePort and LoadBalancer
	// Services, inclusive. The zero value means 30000-32767, Kubernetes'
	// default.
	NodePortRange PortRange

	// MaxConnections caps the connections this node's listeners hold at
	// once from anyone (the cluster port's connections, gossip's streams),
	// MaxConnectionsPerHost those from one remote IP; a connection over a
	// cap is closed before its handshake. Handshakes must finish within
	// 5 s and idle write-forwarding connections close after 5 min. Zero
	// means each listener's default: 1,024 in total on both, 64 per host on
	// the cluster port and 128 per host for gossip.
	MaxConnections        int
	MaxConnectionsPerHost int

	// CertificateValidity is the lifetime of node certificates this node
	// issues (to itself, and to nodes that join through it). Each server
	// renews its own certificate, with a new key, once two thirds of it
	// have passed. Zero means 90 days; at least 10 s.
	CertificateValidity time.Duration

	// BootstrapExpect is how many servers found a new cluster: once this
	// many see each other by gossip, they bootstrap Raft together
	// (Autopilot). 1 founds a single-node cluster at once. 0 only joins an
	// existing cluster. Ignored when BootstrapServers is set.
	BootstrapExpect int
	// BootstrapServers, if set, founds the cluster at once with exactly
	// these servers (every founder must pass the same list) instead of
	// waiting for gossip; in-process test clusters use it.
	BootstrapServers []BootstrapServer

	// Runtime runs this node's containers. Required unless DisableAgent.
	// The caller starts and closes it.
	Runtime runtime.Runtime
	// DisableAgent keeps Pods off this node (a control-plane-only server).
	DisableAgent bool
	// StopPodsOnShutdown makes Cluster.Shutdown stop and remove this
	// node's Pods (containers and sandboxes, with each Pod's grace period
	// and preStop hooks) once the agent has stopped. The zero value leaves
	// them running, as kubelet does, to be adopted when the node restarts
	// (the Pods stay bound to it meanwhile; if it stays away, node
	// lifecycle replaces them elsewhere). Cluster.Stop, a crash-like stop,
	// always leaves them running.
	StopPodsOnShutdown bool
	// Capacity is what this node offers to Pods: cpu, memory and pods
	// (e.g. {"cpu": 4, "memory": 8Gi, "pods": 110}). A resource left out
	// is filled in by Start: cpu and memory from this process's cgroup
	// limits (cgroup v2's cpu.max and memory.max, else v1's CFS quota and
	// memory limit), else the host's CPU count and /proc/meminfo's
	// MemTotal; pods DefaultMaxPodsPerNode (110, the kubelet's --max-pods
	// default: the scheduler binds no Pod to a node beyond it). Start logs the figures and where each came
	// from. Memory that cannot be found (no /proc: not Linux) stays out,
	// with a warning: set it here then.
	Capacity ResourceList
	// Labels are the Node's labels (the scheduler matches nodeSelector
	// against them). kubernetes.io/hostname is added.
	Labels map[string]string

	// Timing holds failure detection and control loop timings.
	Timing Timing

	// Limits are the cluster-wide safety limits this server enforces on
	// the writes it serves (see Limits). The zero value means the
	// defaults; give every server the same.
	Limits Limits

	// EventTTL is how long Event objects are kept after they were last
	// recorded (kube-apiserver's --event-ttl); the Raft leader deletes
	// older ones, checking every EventTTL/10 (at most every minute), to
	// the second. Zero means one hour; negative is invalid.
	EventTTL time.Duration

	// GossipKeys encrypt and authenticate gossip (memberlist's keyring,
	// AES-GCM): each key is 16, 24 or 32 bytes (AES-128, -192 or -256).
	// The first key encrypts what this node sends; every key is tried on
	// what it receives, and unencrypted gossip is refused. Gossip is always
	// encrypted on real sockets: empty (the zero value) means a founder
	// makes the key and joining nodes receive it with their certificate,
	// so nobody types one; Cluster.RotateGossipKey replaces it while the
	// cluster runs. Set it only to supply the first key from outside (every
	// founder the same). On in-memory test networks, empty gossips in
	// plaintext.
	GossipKeys [][]byte

	// EncryptionKeys supply the keys that encrypt the cluster state at rest
	// from outside (as Kubernetes' EncryptionConfiguration does). On real
	// sockets the state is always encrypted: empty (the zero value) means
	// the founder makes a random key, servers that join receive it, and
	// each server keeps the keys in DataDir/trust/store.keys (0600);
	// Cluster.RotateEncryptionKey replaces it while the cluster runs. Once
	// encryption is on, a value that is not encrypted is refused, never
	// served.
	//
	// Keys given here encrypt the cluster state at rest with AES-256-GCM
	// (raftstore.Config.EncryptionKeys): every value is sealed before it
	// enters the Raft log, so neither the log, nor snapshots, nor any file
	// under DataDir holds an object in plaintext. Object keys
	// (/registry/<resource>/<namespace>/<name>) are not encrypted. Each
	// key has an ID (1 to 255 bytes, unique in the list) and a Secret of
	// exactly 32 bytes. The first key seals new writes; each key opens the
	// values sealed with it, found by the ID stored with every value, so
	// keep an old key listed while values sealed with it remain. Every
	// server needs the same keys: reading a value sealed with a key this
	// node lacks fails with an error wrapping raftstore.ErrDecrypt. Empty
	// (the zero value) on in-memory test networks stores values in
	// plaintext.
	EncryptionKeys []EncryptionKey

	// Registerer receives this node's Prometheus metrics: the Raft store's
	// flotilla_raftstore_* (registered by New, unregistered by Shutdown);
	// gossip's flotilla_membership_*; and the control loops' (registered
	// by Start, unregistered by Shutdown) under Kubernetes' names where
	// Kubernetes has them: workqueue_* per queue name (depth, adds, queue
	// and work durations, retries), scheduler_schedule_attempts_total and
	// scheduler_scheduling_attempt_duration_seconds by result,
	// flotilla_controller_reconcile_total and _errors_total per
	// controller, flotilla_events_dropped_total per component and reason,
	// and the agent's kubelet_started_pods_total, _errors_total,
	// kubelet_pod_start_duration_seconds (from the Pod's creation),
	// kubelet_runtime_operations_total by operation_type (run_podsandbox
	// for now), flotilla_agent_heartbeat_failures_total and
	// flotilla_agent_pod_sync_failures_total.
	// Each has the constant label node=NodeName, so nodes with different
	// names may share one registerer (New or Start fails if a node of the
	// same name is registered there). nil (the zero value) means no
	// metrics; nothing is ever registered on a global registry.
	// Raft's and memberlist's own metrics (raft_*, memberlist_*) go to
	// go-metrics' process-wide sink instead, which package gometrics
	// bridges to Prometheus once per process.
	Registerer prometheus.Registerer

	// Logger receives logs; nil means zap.NewNop().
	Logger *zap.Logger

	// networks, if set (by package orchestrator/internal/inmem), connect
	// the node over in-memory Raft and gossip networks instead of TCP and
	// UDP: RaftBindAddr is then the node's name on the Raft network
	// (empty: NodeName) and gossip ports count up from 10000 unless
	// GossipBindPort is set.
	networks *inmem.Networks

	// watchHistory, if positive, replaces the store's watch history size
	// (raftstore.Config.HistorySize): tests shrink it to see a watch
	// from a compacted revision refused.
	watchHistory int
}

// Defaults of the safety limits (see Limits and Config.Capacity).
const (
	// DefaultMaxReplicas: the 10,000 Pods a server is sized for (every
	// server holds every Pod, about 150 MiB of resident memory for
	// 10,000); a million replicas would need gigabytes on each server.
	DefaultMaxReplicas = registry.DefaultMaxReplicas
	// DefaultMaxObjectsPerNamespace: ten times that, so that a workload
	// at the replica limit, its Events (two per Pod as it starts)
	// and its neighbours fit, while a runaway creator stops there.
	DefaultMaxObjectsPerNamespace = registry.DefaultMaxObjectsPerNamespace
	// DefaultMaxPodsPerNode is a node's pods capacity when Config.Capacity
	// does not say: the kubelet's --max-pods default.
	DefaultMaxPodsPerNode = 110
)

// Limits are cluster-wide safety limits on what one request may ask of
// the cluster, until ResourceQuota exists: without them a Deployment of a
// million replicas grew each server's heap past 3 GiB within 90 s. For
// each field, 0 means its default and a negative value turns the limit
// off. (The third limit, Pods per node, is each node's pods capacity:
// see Config.Capacity.)
type Limits struct {
	// MaxReplicas bounds the replicas of one workload (spec.replicas of
	// a Deployment or ReplicaSet). A create, update, patch or apply that
	// asks for more fails with IsInvalid, naming spec.replicas and the
	// limit; an object already over a lowered limit may still be written
	// as long as its replicas do not grow. Default DefaultMaxReplicas
	// (10,000).
	MaxReplicas int
	// MaxObjectsPerNamespace bounds how many objects of one kind (Pods,
	// Events, ConfigMaps, ...) one namespace holds: a create beyond it
	// fails with IsForbidden, naming the namespace and the limit; a
	// controller that cannot create its Pods reports it in its status
	// (a ReplicaSet's ReplicaFailure condition) and an Event. The creates
	// through one server never pass it (near the limit they count and
	// write one at a time); creates through several servers at once may
	// take a namespace a little past it. Default
	// DefaultMaxObjectsPerNamespace (100,000).
	MaxObjectsPerNamespace int
}

func (l Limits) registry() registry.Limits {
	return registry.Limits{MaxReplicas: int64(l.MaxReplicas), MaxObjectsPerNamespace: l.MaxObjectsPerNamespace}
}

// BootstrapServer is one founding server: its NodeName and Raft address.
type BootstrapServer struct {
	Name     string
	RaftAddr string
}

// Timing holds the timings that trade failure detection speed for
// stability. Zero fields take DefaultTiming's values.
type Timing struct {
	// Raft selects Raft's timings: "default" (LAN, 1 s election),
	// "fast" (sub-second failover) or "test" (50 ms, one process).
	Raft string
	// Gossip is memberlist's timing; the zero value means FastTiming.
	Gossip membership.Timing
	// HeartbeatInterval is how often each agent renews its Node's Lease
	// (its heartbeat) and checks its Node's status; the status itself is
	// rewritten on change or every ten intervals.
	HeartbeatInterval time.Duration
	// NodeMonitorGracePeriod: a Node whose Lease was not renewed for this
	// long, or failed by gossip, is marked NotReady. Must exceed
	// HeartbeatInterval.
	NodeMonitorGracePeriod time.Duration
	// PodEvictionTimeout: the Pods of a Node NotReady this long are deleted
	// and replaced elsewhere.
	PodEvictionTimeout time.Duration
	// RestartBackoff and MaxRestartBackoff bound container restart
	// backoff: the first restart of a streak is immediate, the next waits
	// RestartBackoff, doubling up to MaxRestartBackoff (CrashLoopBackOff).
	RestartBackoff    time.Duration
	MaxRestartBackoff time.Duration
	// RestartBackoffReset: a container that ran this long before exiting
	// starts a new back-off streak.
	RestartBackoffReset time.Duration
	// ResyncInterval is how often agents re-check every Pod.
	ResyncInterval time.Duration
	// SchedulerRetryInterval: unschedulable Pods are retried at least this
	// often.
	SchedulerRetryInterval time.Duration
	// AutopilotStableTime and AutopilotFailedServerTimeout: see
	// autopilot.Config (StableTime, FailedServerTimeout).
	AutopilotStableTime          time.Duration
	AutopilotFailedServerTimeout time.Duration
	// JobBackoff and MaxJobBackoff bound the back-off between the retries
	// of a failing Job: its next Pod waits JobBackoff after the first
	// failure, doubling with each failure up to MaxJobBackoff (10 s and
	// 6 min by default, as Kubernetes).
	JobBackoff    time.Duration
	MaxJobBackoff time.Duration
}

// DefaultTiming is for production: a lost node's Pods are replaced within
// about 10 s (5 s grace, 3 s eviction, then scheduling and start).
func DefaultTiming() Timing {
	return Timing{
		Raft:                         "fast",
		Gossip:                       membership.FastTiming(),
		HeartbeatInterval:            time.Second,
		NodeMonitorGracePeriod:       5 * time.Second,
		PodEvictionTimeout:           3 * time.Second,
		RestartBackoff:               10 * time.Second,
		MaxRestartBackoff:            300 * time.Second,
		RestartBackoffReset:          10 * time.Minute,
		ResyncInterval:               10 * time.Second,
		SchedulerRetryInterval:       5 * time.Second,
		AutopilotStableTime:          10 * time.Second,
		AutopilotFailedServerTimeout: 2 * time.Minute,
		JobBackoff:                   10 * time.Second,
		MaxJobBackoff:                6 * time.Minute,
	}
}

// TestTiming is for in-process test clusters: everything in tens to
// hundreds of milliseconds.
func TestTiming() Timing {
	return Timing{
		Raft:                         "test",
		Gossip:                       membership.FastTiming(),
		HeartbeatInterval:            100 * time.Millisecond,
		NodeMonitorGracePeriod:       600 * time.Millisecond,
		PodEvictionTimeout:           200 * time.Millisecond,
		RestartBackoff:               20 * time.Millisecond,
		MaxRestartBackoff:            time.Second,
		RestartBackoffReset:          10 * time.Second,
		ResyncInterval:               time.Second,
		SchedulerRetryInterval:       500 * time.Millisecond,
		AutopilotStableTime:          500 * time.Millisecond,
		AutopilotFailedServerTimeout: 30 * time.Second,
		JobBackoff:                   20 * time.Millisecond,
		MaxJobBackoff:                time.Second,
	}
}

// DefaultConfig returns a server configuration with DefaultTiming that
// serves the Kubernetes API on port 6443 (Config.APIAddress).
func DefaultConfig() Config {
	return Config{Role: RoleServer, Timing: DefaultTiming(), APIAddress: ":6443", DNSAddress: "127.0.0.1:1053"}
}

// TestConfig returns a server configuration with TestTiming named name,
// reachable on loopback only: Raft and gossip listen on free ports of
// 127.0.0.1.
func TestConfig(name string) Config {
	return Config{NodeName: name, Role: RoleServer, Timing: TestTiming(), GossipBindAddr: "127.0.0.1", GossipPickPort: true}
}

func (t Timing) withDefaults() Timing {
	d := DefaultTiming()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	if t.Raft == "" {
		t.Raft = d.Raft
	}
	if t.Gossip == (membership.Timing{}) {
		t.Gossip = d.Gossip
	}
	set(&t.HeartbeatInterval, d.HeartbeatInterval)
	set(&t.NodeMonitorGracePeriod, d.NodeMonitorGracePeriod)
	set(&t.PodEvictionTimeout, d.PodEvictionTimeout)
	set(&t.RestartBackoff, d.RestartBackoff)
	set(&t.MaxRestartBackoff, d.MaxRestartBackoff)
	set(&t.RestartBackoffReset, d.RestartBackoffReset)
	set(&t.ResyncInterval, d.ResyncInterval)
	set(&t.SchedulerRetryInterval, d.SchedulerRetryInterval)
	set(&t.AutopilotStableTime, d.AutopilotStableTime)
	set(&t.AutopilotFailedServerTimeout, d.AutopilotFailedServerTimeout)
	set(&t.JobBackoff, d.JobBackoff)
	set(&t.MaxJobBackoff, d.MaxJobBackoff)
	return t
}

// Validate reports every problem with c at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("orchestrator: Config.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.NodeName == "" {
		bad("NodeName", "required")
	} else if msgs := api.IsDNS1123Subdomain(c.NodeName); len(msgs) > 0 {
		bad("NodeName", "%q: %s", c.NodeName, msgs[0])
	}
	parts := c.parts()
	switch c.Role {
	case "", RoleServer, RoleAgent:
	default:
		bad("Role", "%q: want %q or %q", c.Role, RoleServer, RoleAgent)
	}
	if !parts.store {
		errs = append(errs, c.validateAgentOnly()...)
	}
	if err := c.validateLogAddress(); err != nil {
		errs = append(errs, err)
	}
	if c.Runtime == nil && parts.agent {
		bad("Runtime", "required unless DisableAgent is set")
	}
	if c.BootstrapExpect < 0 {
		bad("BootstrapExpect", "must not be negative, got %d", c.BootstrapExpect)
	}
	if len(c.BootstrapServers) > 0 {
		self := false
		seen := map[string]bool{}
		for i, s := range c.BootstrapServers {
			if s.Name == "" || s.RaftAddr == "" {
				bad(fmt.Sprintf("BootstrapServers[%d]", i), "Name and RaftAddr are required")
			}
			if seen[s.Name] {
				bad(fmt.Sprintf("BootstrapServers[%d].Name", i), "duplicate %q", s.Name)
			}
			seen[s.Name] = true
			self = self || s.Name == c.NodeName
		}
		if !self {
			bad("BootstrapServers", "must include this node (%q)", c.NodeName)
		}
	}
	if c.ClusterDomain != "" {
		if err := dns.ValidateDomain(c.ClusterDomain); err != nil {
			bad("ClusterDomain", "%v", err)
		}
	}
	if c.DNSAddress != "" {
		if _, port, err := net.SplitHostPort(c.DNSAddress); err != nil {
			bad("DNSAddress", "%q: want host:port: %v", c.DNSAddress, err)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("DNSAddress", "%q: port %q is not a number from 0 to 65535", c.DNSAddress, port)
		}
	}
	if c.APIAddress != "" {
		if _, port, err := net.SplitHostPort(c.APIAddress); err != nil {
			bad("APIAddress", "%q: want host:port: %v", c.APIAddress, err)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("APIAddress", "%q: port %q is not a number from 0 to 65535", c.APIAddress, port)
		}
		if c.Role == RoleAgent {
			bad("APIAddress", "only %q nodes serve the API", RoleServer)
		}
	}
	for i, san := range c.APISANs {
		if net.ParseIP(san) == nil {
			if msgs := api.IsDNS1123Subdomain(strings.ToLower(san)); len(msgs) > 0 {
				bad(fmt.Sprintf("APISANs[%d]", i), "%q is neither an IP address nor a DNS name: %s", san, msgs[0])
			}
		}
	}
	if c.APITokenFile != "" && c.APIAddress == "" {
		bad("APITokenFile", "set without APIAddress: no API is served to use it")
	}
	if len(c.APISANs) > 0 && c.APIAddress == "" {
		bad("APISANs", "set without APIAddress: no API is served")
	}
	if c.networks != nil && (c.JoinToken != "" || c.ClusterCA != nil) {
		bad("JoinToken", "in-memory test networks run without cluster trust: leave JoinToken and ClusterCA empty, or use real sockets")
	}
	if c.JoinToken != "" {
		if _, err := trust.ParseToken(c.JoinToken); err != nil {
			bad("JoinToken", "%v", err)
		}
	}
	if c.ClusterCA != nil {
		if _, err := trust.ParseCA(c.ClusterCA.CertPEM, c.ClusterCA.KeyPEM); err != nil {
			bad("ClusterCA", "%v", err)
		}
	}
	if c.MaxConnections < 0 {
		bad("MaxConnections", "%d is negative", c.MaxConnections)
	}
	if c.MaxConnectionsPerHost < 0 {
		bad("MaxConnectionsPerHost", "%d is negative", c.MaxConnectionsPerHost)
	}
	if c.CertificateValidity != 0 && c.CertificateValidity < 10*time.Second {
		bad("CertificateValidity", "%v is below 10s", c.CertificateValidity)
	}
	if c.EventTTL < 0 {
		bad("EventTTL", "must not be negative, got %v", c.EventTTL)
	}
	if c.GossipBindPort < 0 || c.GossipBindPort > 65535 {
		bad("GossipBindPort", "%d out of range 0-65535", c.GossipBindPort)
	}
	for i, k := range c.GossipKeys {
		if n := len(k); n != 16 && n != 24 && n != 32 {
			bad(fmt.Sprintf("GossipKeys[%d]", i), "%d bytes, want 16, 24 or 32 (AES-128, -192 or -256)", n)
		}
	}
	ids := map[string]bool{}
	for i, k := range c.EncryptionKeys {
		field := fmt.Sprintf("EncryptionKeys[%d]", i)
		if k.ID == "" || len(k.ID) > 255 {
			bad(field+".ID", "%d bytes, want 1 to 255", len(k.ID))
		} else if ids[k.ID] {
			bad(field+".ID", "duplicate %q", k.ID)
		}
		ids[k.ID] = true
		if len(k.Secret) != 32 {
			bad(field+".Secret", "%d bytes, want 32 (AES-256)", len(k.Secret))
		}
	}
	for name, q := range c.Capacity {
		if q.Sign() < 0 {
			bad("Capacity["+string(name)+"]", "must not be negative")
		}
	}
	if errs := api.ValidateLabels(c.Labels, api.NewPath("Labels")); len(errs) > 0 {
		for _, e := range errs {
			bad("Labels", "%s", e.Error())
		}
	}
	t := c.Timing.withDefaults()
	switch t.Raft {
	case "default", "fast", "test":
	default:
		bad("Timing.Raft", "%q: want default, fast or test", c.Timing.Raft)
	}
	if t.NodeMonitorGracePeriod <= t.HeartbeatInterval {
		bad("Timing.NodeMonitorGracePeriod", "%v must exceed Timing.HeartbeatInterval %v", t.NodeMonitorGracePeriod, t.HeartbeatInterval)
	}
	if t.MaxJobBackoff < t.JobBackoff {
		bad("Timing.MaxJobBackoff", "%v is below Timing.JobBackoff %v", t.MaxJobBackoff, t.JobBackoff)
	}
	if t.MaxRestartBackoff < t.RestartBackoff {
		bad("Timing.MaxRestartBackoff", "%v is below Timing.RestartBackoff %v", t.MaxRestartBackoff, t.RestartBackoff)
	}
	errs = append(errs, c.validateServiceRanges()...)
	if t.AutopilotFailedServerTimeout < t.AutopilotStableTime {
		bad("Timing.AutopilotFailedServerTimeout", "%v is below Timing.AutopilotStableTime %v", t.AutopilotFailedServerTimeout, t.AutopilotStableTime)
	}
	return errors.Join(errs...)
}

// withDefaults returns c with the zero values that have a default filled in.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Role == "" {
		c.Role = RoleServer
	}
	c.Timing = c.Timing.withDefaults()
	if c.CertificateValidity == 0 {
		c.CertificateValidity = 90 * 24 * time.Hour
	}
	return c
}

// trusted reports whether the node uses cluster trust: always on real
// sockets; never on in-memory test networks.
func (c Config) trusted() bool { return c.networks == nil }

// parts says which components a node runs: its role decides, not a switch
// spread over New and Start.
type parts struct {
	// store: a Raft server with the cluster state, a server in gossip,
	// and Autopilot.
	store bool
	// controlPlane: the controllers and scheduler, while this node leads.
	// Only a node with the store can lead.
	controlPlane bool
	// agent: runs this node's Pods and keeps its Node object.
	agent bool
}

func (c Config) parts() parts {
	if c.Role == RoleAgent {
		return parts{agent: true}
	}
	return parts{store: true, controlPlane: true, agent: !c.DisableAgent}
}

// raftConfig is the Raft store's configuration for c (with defaults
// applied); log is Config.Logger: the store names its logger raftstore
// and adds the node field itself.
func (c Config) raftConfig(log *zap.Logger) raftstore.Config {
	var rc raftstore.Config
	switch c.Timing.Raft {
	case "default":
		rc = raftstore.DefaultConfig()
	case "fast":
		rc = raftstore.FastConfig()
	default:
		rc = raftstore.TestConfig(c.NodeName)
	}
	rc.NodeID = c.NodeName
	rc.DataDir = c.DataDir
	rc.EncryptionKeys = c.EncryptionKeys
	rc.Registerer = c.Registerer
	rc.BindAddr = c.RaftBindAddr
	if c.networks != nil {
		rc.Network = c.networks.Raft
		if rc.BindAddr == "" {
			rc.BindAddr = c.NodeName
		}
	} else if rc.BindAddr == "" {
		rc.BindAddr = "127.0.0.1:0"
	}
	rc.MaxConns, rc.MaxConnsPerHost = c.MaxConnections, c.MaxConnectionsPerHost
	if c.watchHistory > 0 {
		rc.HistorySize = c.watchHistory
	}
	rc.Logger = log
	return rc
}

// gossipConfig is membership's configuration for c (with defaults
// applied): raftAddr is the started store's address, advertised in the
// node's record; join the gossip addresses discovered through Config.Join;
// log is Config.Logger (membership adds the node field itself).
func (c Config) gossipConfig(raftAddr string, join []string, log *zap.Logger) membership.Config {
	mc := membership.DefaultConfig()
	mc.Timing = c.Timing.Gossip
	mc.NodeName = c.NodeName
	mc.BindAddr = c.GossipBindAddr
	mc.BindPort = c.GossipBindPort
	if mc.BindPort == 0 && !c.GossipPickPort && c.networks == nil {
		mc.BindPort = 7946
	}
	if c.networks != nil {
		mc.Network = c.networks.Gossip
	}
	mc.Join = join
	mc.GossipKeys = c.GossipKeys
	mc.MaxStreams, mc.MaxStreamsPerHost = c.MaxConnections, c.MaxConnectionsPerHost
	mc.Registerer = c.Registerer
	mc.Logger = log.Named("membership")
	mc.Record = membership.Record{Role: membership.RoleAgent}
	if c.parts().store {
		mc.Record = membership.Record{Role: membership.RoleServer, RPCAddr: raftAddr}
	}
	if q, ok := c.Capacity[api.ResourceCPU]; ok {
		mc.Record.Capacity.MilliCPU = q.MilliValue()
	}
	if q, ok := c.Capacity[api.ResourceMemory]; ok {
		mc.Record.Capacity.MemoryBytes = q.Value()
	}
	if q, ok := c.Capacity[api.ResourcePods]; ok {
		mc.Record.Capacity.Pods = int(q.Value())
	}
	return mc
}

// autopilotConfig is Autopilot's configuration for c (with defaults
// applied): expect is the BootstrapExpect left once an explicit bootstrap
// was done (0 then); log is Config.Logger (Autopilot adds the node field
// itself).
func (c Config) autopilotConfig(store autopilot.RaftCluster, gossip autopilot.Gossip, expect int, log *zap.Logger) autopilot.Config {
	t := c.Timing
	return autopilot.Config{
		Raft: store, Gossip: gossip, BootstrapExpect: expect,
		StableTime: t.AutopilotStableTime, FailedServerTimeout: t.AutopilotFailedServerTimeout,
		Interval: min(t.AutopilotStableTime/5, t.HeartbeatInterval*10),
		Logger:   log.Named("autopilot"),
	}
}
