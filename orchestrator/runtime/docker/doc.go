// Package docker runs Flotilla Pods as Docker containers through the Docker
// Engine API (github.com/moby/moby/client and its types in
// github.com/moby/moby/api). It implements runtime.Runtime, runtime.Execer
// and runtime.LogReader and needs no image registry.
//
// # Usage
//
//  1. New(ctx, Config{ClusterID: "prod", NodeName: "node-1", Network:
//     "flotilla", CreateNetwork: true}) connects with client.FromEnv and
//     pings the daemon, settling on the highest API version both speak: an
//     unreachable daemon is a runtime.ErrUnavailable naming DOCKER_HOST or
//     the socket. The client speaks API 1.40 (Docker 19.03) and later; an
//     older daemon fails here with the client's "not supported" error.
//  2. Start(ctx) imports the infra image if missing, creates the network,
//     lists this node's containers (adoption), follows the event stream and
//     starts keeping warm sandboxes (below).
//  3. Subscribe with Events, then list (ListPodSandboxes, ListContainers)
//     and drive Pods as described in package runtime.
//  4. Close when done: Pods' containers keep running and the next Runtime
//     with the same ClusterID and NodeName adopts them; idle warm sandboxes
//     are removed. Purge removes everything of a cluster (tests, examples,
//     decommissioning).
//
// Build application images without a registry with the dockerimage
// sub-package (a Go package becomes a FROM scratch image).
//
// # How Pods map to Docker
//
// A Pod sandbox is an infra container on Config.Network (default "bridge")
// that owns the Pod's network and IPC namespaces, publishes its host ports
// and whose address is the Pod IP. It runs a program Flotilla generates
// itself — a static ELF executable of a few bytes of machine code (amd64
// and arm64) that blocks in a system call — imported from an in-memory tar
// as the image flotilla/pause:<content hash>: no pause image is pulled and
// no Go toolchain is needed at run time. Application containers join the
// sandbox's namespaces (network mode container:<sandbox>), so the containers
// of a Pod reach each other on localhost.
//
// Starting a sandbox is most of a Pod's start: the daemon makes a network
// namespace and connects it to the network (≈240 ms on the reference
// machine, against ≈70 ms for a container joining one). So the runtime can
// keep Config.WarmSandboxes started sandboxes that belong to no Pod yet,
// refilled in the background one at a time, and RunPodSandbox claims one by
// renaming it to the Pod's sandbox name (Docker labels cannot change, so a
// claimed warm sandbox's Pod is read from its name). It keeps none by
// default, because a Pod on a warm sandbox has the sandbox's hostname (its
// short container ID), not the Pod's: Docker cannot change a started
// container's hostname, and a container joining another's network
// namespace takes that one's. Pods with host ports or spec.hostname always
// get a sandbox of their own. Unclaimed warm sandboxes are not Pods': they are never listed or
// reported, and a Runtime that finds some left by a crash adopts or
// removes them.
//
// Every container is labelled with the cluster ID, node, namespace, Pod
// name and UID, container name and restart count (runtime.Label*), and
// named deterministically (flotilla_<cluster>_<ns>_<pod>_<uid>_<name>_<restart>)
// so a restarted agent can never create a duplicate. Containers run under
// Docker's init (tini) so signals reach the program, with restart policy
// "no": restarts are the agent's decision. CPU and memory limits become
// NanoCPUs and Memory. Pod volumes (see volumes.go) are Docker volumes
// labelled with the Pod UID and removed with the Pod's sandbox: an emptyDir
// on disk, or a tmpfs for medium Memory held by a helper container for the
// Pod's life; a Files mount (ConfigMap, downward API, projected) is a
// volume per content, filled once through a helper container that never
// starts; a Memory Files mount (Secrets) is a tmpfs volume per Pod volume,
// held by a helper container, written through it with the kubelet's
// ..data layout and rewritten in place by UpdateFiles (see memfiles.go),
// so Secret files never reach a disk of the node. A Files subPath is a bind mount of the volume's directory on the
// daemon's host (Docker before API 1.45 cannot mount a volume's
// subdirectory), so the local volume driver is assumed.
//
// Exits, OOM kills and removals are learned from the Docker event stream,
// filtered by the cluster and node labels and subscribed with Since the last
// event seen, so a lost stream is re-opened without a gap; after a reconnect
// the runtime also lists its containers again, emits events for any
// difference, then runtime.EventResync.
//
// # What it does not do
//
// No registry authentication (pulls are anonymous, and with no registry
// they fail with the daemon's message), no subPath on emptyDir volumes (a
// container could swap the directory for a symbolic link the daemon would
// follow on its host), no update of a Files volume in place (a new content
// is for the containers created after it), no user namespaces, no
// AppArmor profiles or seccomp profile files
// (only the default filter or none),
// health checks, log rotation settings or network policies, no Windows
// containers. ListContainers reports what one list call gives (no
// StartedAt/FinishedAt/Reason/IP; use ContainerStatus). With Docker's init a
// missing executable is exit code 127 after start rather than a start error.
package docker
