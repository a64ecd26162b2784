// Package orchestrator is Flotilla's container orchestrator as a library:
// start a Cluster on each host (or several in one process), declare
// Deployments, ReplicaSets, DaemonSets and Pods with Kubernetes' object model, and the
// cluster schedules, runs, restarts and replaces them.
//
// # Using it
//
//  1. Build a Config from DefaultConfig (production timings) or TestConfig
//     (loopback only, test timings), set NodeName, Runtime (a
//     runtime.Runtime: the Docker runtime or the in-memory fake), how to
//     form the cluster (the first server founds it with BootstrapExpect 1;
//     the others set Join to its cluster address, Cluster.RaftAddr, and
//     JoinToken to a token from Cluster.CreateJoinToken) and optionally
//     DataDir, Capacity, Labels and Logger. For a cluster beyond one host
//     also set the bind addresses and Registerer (Prometheus metrics,
//     never a global registry). Security needs nothing more: see "Cluster
//     trust" below.
//  2. New(cfg) validates it (every problem at once, naming the field) and
//     starts nothing; Start(ctx) starts Raft, gossip, Autopilot, this node's
//     agent and the leadership watch.
//  3. Use Client(): Create, Get, List (label and field selectors), Update,
//     UpdateStatus, Patch (RawPatch with JSON merge, JSON patch or
//     strategic merge patch bytes, or MergeFrom or StrategicMergeFrom an
//     earlier copy), Delete (with propagation), Watch and
//     Apply (kubectl apply's three-way merge: it never drops what other
//     writers added) on typed objects such as *Deployment, decoded from
//     Kubernetes YAML with Decode/DecodeAll (DecodeDocuments reports
//     every document's outcome, with its number and line) or built in
//     Go. ApplyAll applies a whole manifest after a dry run of every
//     document, storing nothing if any fails. Writes take options:
//     DryRunAll, FieldOwner, and for Delete PropagationPolicy and
//     Preconditions.
//  4. Shutdown(ctx) stops the node gracefully (hands off leadership, leaves
//     gossip); it is idempotent.
//
// Every type, constant, sentinel error and error predicate of package api
// is declared here too, under the same name (types.go, generated from api
// by go generate, so the two cannot drift), with a few of api's helpers
// (Decode, DecodeAll, DecodeDocuments, ParseSelector, ...): importing
// orchestrator is enough for everyday work.
//
// For tests, package orchestratortest starts whole clusters in one process
// with orchestratortest.NewCluster(t, 3).
//
// # What runs where
//
// Config.Role decides what a node runs. A server (RoleServer) is a Raft
// server (the state lives in package raftstore under
// /registry/<resource>/<namespace>/<name>, resourceVersion = Raft index),
// a gossip member (package membership) and, unless Config.DisableAgent
// makes it a control-plane-only server, runs an agent that registers its
// Node, renews the Node's Lease (coordination.k8s.io/v1 in the
// kube-node-lease Namespace, named after the Node: its heartbeat, as the
// kubelet's) every Timing.HeartbeatInterval, writes the Node's status when
// it changes (and every ten heartbeats otherwise) and runs the Pods
// bound to it, admitting each first against the node's capacity as the
// kubelet does (one that does not fit fails with OutOfpods, OutOfcpu or
// OutOfmemory and never starts). The Raft leader also runs, within a second of winning
// the election and until it loses it, the scheduler, the ReplicaSet,
// Deployment and DaemonSet controllers, the garbage collector (ownerReferences;
// background, foreground and orphan propagation), the node lifecycle
// controller (a Node whose Lease was not renewed for
// Timing.NodeMonitorGracePeriod, or failed by gossip, becomes NotReady; after Timing.PodEvictionTimeout its Pods are
// deleted and replaced elsewhere) and the namespace controller (it creates
// the namespaces "default", "kube-system" and "kube-node-lease" and, when a Namespace is
// deleted, deletes everything in it before removing it) and the pod
// garbage collector (a Pod bound to a Node that does not exist is marked
// Failed and deleted once the Node has been missing for
// NodeMonitorGracePeriod plus PodEvictionTimeout). Every write of these
// is fenced to the Raft term the node leads (raftstore.OpFence): once
// another node is elected none of them lands, even before the deposed
// leader notices and stops them (it fails with ServiceUnavailable,
// "leadership changed"), so two control planes never act together. Controllers,
// scheduler and agents record Event objects, which the leader deletes
// Config.EventTTL (default one hour) after they were last recorded.
//
// An agent-only node (RoleAgent) runs the agent and nothing else: it
// joins with an agent token (Config.JoinToken, Config.Join), joins gossip
// as an agent (Autopilot makes only servers Raft members), and runs its
// agent through the HTTPS API of the servers that gossip names (servers
// with Config.APIAddress), with its node certificate. The servers' node
// authorizer lets that certificate read Pods, its own Node and the
// ConfigMaps and Secrets its Pods use, and write only its own Node, its own Pods'
// status and Events. It serves its Pods' logs to the servers on
// Config.LogAddress.
//
// # Limits and bad data
//
// Until ResourceQuota exists, safety limits keep one request from making
// every server hold more than it can: Config.Limits bounds the replicas of
// a workload (10,000) and the objects of one kind in a namespace
// (100,000), and each node's pods capacity (Config.Capacity, 110 unless
// set) bounds the Pods the scheduler binds to it. The ReplicaSet
// controller creates Pods with Kubernetes' slow start, so a create bound
// to fail is tried once, not once per replica. Manifests are decoded up
// to MaxManifestBytes (3 MiB), MaxManifestObjects objects and
// MaxNestingDepth levels. A stored object that cannot be read (it does
// not decrypt or decode) is left out of lists and reported (see New)
// rather than stopping every reader of its kind.
//
// # Cluster trust
//
// On real sockets every node is secure with nothing to configure
// (in-process test clusters on in-memory networks are plaintext; package
// orchestratortest's WithTLS runs them on real sockets with all of this):
//
//   - A cluster CA (ECDSA P-256, ten years) is made by the server that
//     founds the cluster alone, or given by the operator (Config.ClusterCA,
//     required when several servers found the cluster together). Its key
//     is kept in the cluster state, encrypted at rest, so any server can
//     issue certificates.
//   - Every node has a certificate and key from it, naming the node
//     (CN system:node:<name>) and its role (O flotilla:servers or
//     flotilla:agents), with its addresses as SANs, valid
//     Config.CertificateValidity (90 days) and renewed by the node, with
//     a new key, after two thirds of that. Certificates can be listed
//     (Cluster.Certificates) and revoked (Cluster.RevokeCertificate).
//   - Joining takes a token (Cluster.CreateJoinToken; the founder's first
//     ones from Cluster.BootstrapToken), as docker swarm join and kubeadm
//     do: it carries the CA's fingerprint, so the new node verifies the
//     server before it proves the token's secret, and it names a role
//     (an agent token never makes a server). Tokens expire (24 hours by
//     default), can be listed and revoked, and only a hash of their secret
//     is stored.
//   - The Raft port (Raft, write forwarding, snapshots, joins) speaks TLS
//     1.3 only, with mutual authentication: a connection without a valid,
//     unexpired, unrevoked certificate of this cluster's CA is closed
//     before any frame is read, and only server certificates may speak
//     Raft or forward writes. The port caps connections per source and in
//     total and times out handshakes and idle connections.
//   - Gossip is encrypted and authenticated (AES-GCM) with a key that
//     travels with the join; a member that claims the server role is
//     added to Raft by Autopilot only after it has shown that server's
//     certificate on its advertised address.
//   - The cluster state is encrypted at rest (AES-256-GCM): every value is
//     sealed before it enters the Raft log, so no file under DataDir
//     (Raft log, snapshots) holds an object in plaintext; once encryption
//     is on, a value that is not encrypted is refused, never served.
//     Object keys (/registry/<resource>/<namespace>/<name>) are not
//     encrypted.
//
// A server keeps its credentials under DataDir/trust, every file 0600:
// node.key and node.crt (its key and certificate), ca.crt (the trusted CA
// certificates), gossip.keys and store.keys (the gossip and store keys).
// Protect DataDir as you would the CA key: whoever reads a server's
// DataDir can read the cluster state.
//
// Rotating, each while the cluster serves:
//
//   - Node certificates renew themselves; nothing to do.
//   - Cluster.RenewCA re-signs the CA certificate with the same key: every
//     certificate issued stays valid; do it well before the CA expires.
//   - Cluster.RotateGossipKey installs a new gossip key on every server,
//     switches to it, then removes the old one.
//   - Cluster.RotateEncryptionKey makes a new store key the primary on
//     every server at the same Raft index, re-encrypts every value with it
//     and retires the old key (old Raft log entries and snapshots keep the
//     old ciphertext until compaction).
//   - To supply keys from outside (as Kubernetes' EncryptionConfiguration
//     does), set Config.GossipKeys and Config.EncryptionKeys on every
//     founder.
//
// # The Kubernetes API
//
// A server with Config.APIAddress set (DefaultConfig: ":6443"; TestConfig
// and the zero value: none) serves the Kubernetes API over HTTPS, so
// kubectl and client-go work against the cluster unchanged:
// Cluster.AdminKubeconfig writes their configuration (the CA, an admin
// client certificate, every server's address as a context of its own).
// Any server answers any request: reads from its own replica, writes
// through Raft to the leader, pods/log from the Pod's node over the
// cluster port. It serves discovery, CRUD with selectors and pagination,
// watch, server-side tables with Kubernetes' columns, strategic merge and
// the other patches, the status, scale and log subresources, OpenAPI v2
// and v3, /version, and /healthz, /livez and /readyz (ready once a leader
// is known and the node has applied what it knows to be committed).
//
// Security defaults, none of which can be turned off:
//
//   - TLS 1.2 or newer only; plain HTTP on the port is refused. The
//     serving certificate is issued by the cluster CA for this node (SANs:
//     its name, localhost, 127.0.0.1, ::1, its bound and advertised
//     addresses and Config.APISANs) and renewed like node certificates.
//   - No anonymous access (only the health endpoints answer without
//     credentials). A request authenticates with a client certificate of
//     the cluster CA, read as Kubernetes does (CN the user, each O a
//     group; expired, foreign or revoked certificates get 401), or a
//     bearer token from Config.APITokenFile (kube-apiserver's CSV token
//     file). Admin certificates are listed by Cluster.Certificates and
//     revoked by Cluster.RevokeCertificate like node certificates.
//   - Authorization is Kubernetes' Node,RBAC, deny by default: a user
//     may do only what a RoleBinding or ClusterRoleBinding grants them
//     (rbac.authorization.k8s.io/v1, below). The admin kubeconfig's
//     group, system:masters, may do everything; so may server
//     certificates (flotilla:servers, the control plane); agent-only
//     nodes' certificates get only what their agent needs (the node
//     authorizer). Refusals are 403 Status errors in Kubernetes' words.
//
// # RBAC
//
// Roles, ClusterRoles, RoleBindings and ClusterRoleBindings are served
// like every kind (kubectl get/apply/describe work on them) and decide
// every API request, with Kubernetes' matching: rules add up; verbs,
// apiGroups and resources take "*"; "pods/log" names a subresource and
// "*/status" every status; resourceNames narrow a rule to named objects;
// non-resource URLs ("/healthz", "/api/*") only in ClusterRoles. Subjects
// are users, groups and ServiceAccounts (system:serviceaccount:<ns>:<name>).
// A binding's roleRef cannot change; ClusterRole aggregation is refused
// (not supported yet).
//
// The leader writes Kubernetes' built-in ClusterRoles at start, annotated
// rbac.authorization.kubernetes.io/autoupdate "true" (set it to "false"
// before changing one, or the leader restores it): cluster-admin (bound to
// system:masters), admin, edit and view (to bind in a namespace),
// system:basic-user, system:discovery and system:public-info-viewer
// (bound to every authenticated user: discovery, /version, kubectl auth
// can-i and whoami).
//
// Escalation prevention: an API user (or a ClientAs Client) may create or
// update a Role only with permissions they hold, and bind a role only if
// they hold its permissions, unless they have the verb escalate (on roles)
// or bind (on the role) — Kubernetes' rule and message. kubectl auth can-i
// (SelfSubjectAccessReview, SubjectAccessReview) and kubectl auth whoami
// (SelfSubjectReview) work.
//
// Client() is the embedding program itself and stays all-powerful.
// ClientAs(user, groups...) returns a Client that is authorized like an
// API request of that user, for programs acting for their own users and
// for tests of a policy. Decisions come from in-memory caches kept
// current by watches (about 6 µs p99 with 1,000 roles and 1,000
// bindings); a binding takes effect on each server within a moment of
// being written.
//
// In-process test clusters on in-memory networks have no cluster trust,
// but their API still uses TLS and client certificates: the servers make
// a cluster CA and keep it in the (unencrypted) cluster state.
// orchestratortest.WithAPI turns the API on for every node of a test
// cluster (TestCluster.APIAddr, TestCluster.Kubeconfig).
//
// Not served yet: exec, attach and port-forward; admission webhooks; ServiceAccount tokens, OIDC and impersonation; API
// aggregation and CRDs.
//
// # How a write flows
//
// Every component — the Client you hold, the agent, the scheduler, the
// controllers and the Event recorders — reads, writes and watches through
// one internal client interface: the seam that the local registry fills
// on a server and an HTTPS client will fill on agent-only nodes, so no
// component knows which it talks to. Every write, whoever makes it and
// whatever the kind, runs one pipeline on the node that takes it:
// (authentication and authorization, with the API server), mutating
// admission, the kind's strategy (server fields, defaults, validation:
// IsInvalid listing every bad field path at once), validating admission
// (NamespaceLifecycle: namespaced objects can only be created in an
// existing Namespace that is not being deleted, IsNotFound / IsForbidden
// otherwise; "default", "kube-system" and "kube-node-lease" cannot be deleted), then one
// Raft transaction, forwarded to the leader, that also checks what
// admission relied on. Status belongs to the server and the controllers:
// Create drops the status of Pods (a new Pod is Pending), Deployments and
// ReplicaSets, Update keeps the stored one, and UpdateStatus changes
// nothing else. Kinds register a strategy, controllers register with a
// manager that shares one informer per kind, and the garbage collector
// follows ownerReferences of every kind.
//
// # Probes, restarts and rollouts
//
// The agent runs each container's liveness, readiness and startup probes
// (httpGet, tcpSocket, exec, grpc) against the Pod's address with
// Kubernetes' defaults and semantics; Probe.PeriodMilliseconds is a
// Flotilla extension for sub-second periods in tests. Results, counts and
// the last failure message are in Pod status through the Flotilla
// extension ContainerStatus.Probes (updated on changes and failures rather
// than every period); each failure is also an Event, reason Unhealthy. A
// failed liveness or startup probe kills the container (preStop hook
// first, then the probe's terminationGracePeriodSeconds or the Pod's) and
// the restart policy decides what follows: the first restart at once,
// then a back-off from Timing.RestartBackoff doubling to
// Timing.MaxRestartBackoff (10 s and 300 s by default), shown as waiting
// reason CrashLoopBackOff with the next restart time.
//
// Deployments roll out with RollingUpdate (maxSurge/maxUnavailable) or
// Recreate, honour paused, minReadySeconds and progressDeadlineSeconds
// (the Progressing condition), and prune history beyond
// revisionHistoryLimit. Rollback (to the previous or a numbered revision)
// and RolloutStatus (progress messages until complete, failed or the
// context ends) are the Go helpers. Resizing a RollingUpdate Deployment
// mid-rollout (even paused) shares the change among its ReplicaSets in
// proportion to their sizes, as Kubernetes does. Paused, a Deployment
// still prunes its history, and a Recreate one is still resized (its one
// active ReplicaSet takes the new size). The Deployment carries
// the deployment.kubernetes.io/revision annotation of its newest
// ReplicaSet, as its ReplicaSets do theirs; writing it does not change
// the Deployment's generation.
//
// # Jobs
//
// A Job (batch/v1) runs Pods until spec.completions of them succeed, at
// most spec.parallelism at a time, as Kubernetes' Job controller does.
// Its selector is generated from its uid (labels
// batch.kubernetes.io/controller-uid and batch.kubernetes.io/job-name,
// and the legacy controller-uid and job-name) unless manualSelector is
// true; its template's restartPolicy is OnFailure (containers restart in
// place, each restart counting as a failure) or Never (a failed Pod is
// replaced). Failures beyond backoffLimit (default 6) fail it with reason
// BackoffLimitExceeded; each retry waits Timing.JobBackoff (10 s),
// doubling with each failure since the last success up to
// Timing.MaxJobBackoff (6 min). activeDeadlineSeconds fails it with
// DeadlineExceeded; suspend deletes its running Pods until it is
// resumed; ttlSecondsAfterFinished deletes it (and its Pods) once it is
// Complete or Failed. An Indexed Job runs each index 0..completions-1
// once, giving the Pod the batch.kubernetes.io/job-completion-index
// annotation and label and JOB_COMPLETION_INDEX, and reports
// status.completedIndexes. podFailurePolicy rules on exit codes
// (FailJob, Ignore, Count) decide what a failed Pod means; rules on Pod
// conditions and the FailIndex action are refused as not supported yet.
// The counts are those of the Job's Pods that exist: a finished Pod
// deleted while its Job runs is no longer counted (Kubernetes keeps it
// counted with a finalizer).
//
// # DaemonSets
//
// A DaemonSet (apps/v1) runs one Pod of its template on every Node that
// the template's nodeSelector and required node affinity match and whose
// NoSchedule and NoExecute taints its tolerations tolerate, judged by the
// scheduler's own predicates. Every DaemonSet Pod also tolerates, as in
// Kubernetes, node.kubernetes.io/not-ready and unreachable (NoExecute: it
// is never evicted from a lost Node), the pressure taints and
// node.kubernetes.io/unschedulable (a cordoned Node still gets it). The
// controller pins each Pod to its Node with a required node affinity on
// metadata.name and lets the scheduler bind it once the Node is Ready. A
// Node that joins or gains the label gets a Pod; one that loses the label
// or gains an untolerated NoExecute taint loses it (an untolerated
// NoSchedule taint keeps a running Pod but places no new one); the Pods
// of a deleted Node are deleted. Pods carry the controller-revision-hash
// label; updateStrategy RollingUpdate replaces them while at most
// maxUnavailable Nodes lack an available Pod (or, with maxSurge, starts
// the new Pod beside the old on at most maxSurge Nodes at a time), and
// OnDelete replaces a Pod only once it is deleted. The status counts are
// Kubernetes' (desired, current, misscheduled, ready, updated, available,
// unavailable). No ControllerRevisions are kept: revisionHistoryLimit is
// validated only, and there is no DaemonSet rollback helper.
//
// # Services and EndpointSlices
//
// A Service (v1) is stored and validated as Kubernetes does it (the same
// field paths and messages): types ClusterIP (the default), NodePort,
// LoadBalancer (served as NodePort; status.loadBalancer.ingress lists the
// Ready nodes' InternalIP addresses), ExternalName and headless
// (clusterIP None); TCP and UDP ports (SCTP and IPv6 are refused with
// Forbidden "not supported yet"), targetPort by number or by container
// port name, sessionAffinity ClientIP (timeout 10,800 s by default),
// publishNotReadyAddresses and the internal and external traffic
// policies. Cluster IPs come from Config.ServiceCIDR (10.96.0.0/12) and
// node ports from Config.NodePortRange (30000-32767). The registry
// records every held value under its own key in the same Raft
// transaction as the Service, so two Services never share an address or
// node port however many are created at once; a value a client asks for
// that is taken or out of range is Invalid with its field path
// ("provided IP is already allocated", "provided port is already
// allocated"); deleting a Service or dropping a port frees its values in
// the same step.
//
// The leader's EndpointSlice controller keeps the EndpointSlices
// (discovery.k8s.io/v1) of every Service with a selector: each matching
// Pod with an IP, with the ready, serving and terminating conditions, its
// node and zone (the node's topology.kubernetes.io/zone label), hostname
// and targetRef, ports resolved by name per Pod, at most 100 endpoints a
// slice, owned by the Service (deleted with it). It reacts to Pod events,
// so a readiness change is in the slices after one reconcile. When the
// API is served (Config.APIAddress), the leader also keeps the
// `kubernetes` Service in default at the service range's first address,
// port 443, with slices of the live servers' API addresses.
//
// Every node with Config.DNSAddress set (DefaultConfig: 127.0.0.1:1053;
// TestConfig: off) serves cluster DNS for Config.ClusterDomain (default
// cluster.local) over UDP and TCP, from its own caches of Services and
// EndpointSlices (through the API on an agent-only node): A records for
// <svc>.<ns>.svc.<domain> (the cluster IP, or a headless Service's ready
// endpoints), <hostname>.<svc>.<ns>.svc.<domain> for endpoints with a
// hostname, SRV for named ports and CNAME for ExternalName; NXDOMAIN for
// other names in the domain; names outside it are REFUSED, not
// forwarded. Cluster.DNSAddr tells where it listens.
//
// Containers get Kubernetes' Service environment variables
// (<SVC>_SERVICE_HOST, <SVC>_SERVICE_PORT, <SVC>_PORT_<port>_<PROTO>...)
// for the Services with a cluster IP in their namespace when they start,
// unless the Pod sets enableServiceLinks false, and the `kubernetes`
// Service's always; the Pod's own env wins.
//
// Not built yet (issue 17's later parts): the proxy that carries Service
// traffic, networking between Pods on different hosts, and containers'
// /etc/resolv.conf pointing at cluster DNS (dnsPolicy ClusterFirst with
// Kubernetes' search list): that waits for the node network design, so
// today a container does not resolve Service names by itself. Services
// and slices carry no traffic yet; NetworkPolicy and Ingress are not
// supported.
//
// # What it does not do yet
//
//   - Agent-only nodes (RoleAgent) do not renew their certificate and do
//     not follow CA renewals or revocations (see Config.Role).
//   - A node restarted with EncryptionKeys that lack the key of stored
//     values starts, but every read of those values fails (with
//     raftstore.ErrDecrypt); Start does not check the keys.
//   - Pod deletion is immediate (no graceful termination phase with a
//     deletionTimestamp): the agent stops the containers, with the Pod's
//     grace period, after the object is gone.
//   - No quota, LimitRange or admission webhooks; no ServiceAccounts or
//     their tokens; no impersonation or ClusterRole aggregation; a
//     Namespace's spec.finalizers are stored but not used.
//   - Services get cluster IPs, node ports, EndpointSlices, DNS names
//     and environment variables, but no traffic flows to them yet: the
//     per-node proxy, containers' resolv.conf (dnsPolicy ClusterFirst),
//     DNS forwarding of outside names and cross-host Pod networking are
//     later work. StatefulSets, volumes
//     from PersistentVolumeClaims and CronJobs are later kinds.
//   - The Kubernetes API serves no server-side apply, exec, attach or
//     port-forward.
package orchestrator
