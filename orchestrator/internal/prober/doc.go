// Package prober runs the liveness, readiness and startup probes of the
// containers on one node, with Kubernetes' semantics, for the node agent.
//
// # Usage
//
//  1. Build one Manager per agent with New(Config{Runtime: rt, OnResult:
//     fn, Logger: log}). OnResult must not block: hand each Result to the
//     agent's work queue (see Config.OnResult).
//  2. When a container starts (or is adopted after an agent restart),
//     call AddContainer with the Pod UID, the container ID, the Pod IP,
//     the start time and the api.Container (its ports and probes). It
//     validates the probes (errors name the field) and starts one worker
//     goroutine per probe.
//  3. Act on results: a Result with Restart set means a liveness (or
//     startup) probe reached its failureThreshold, so kill the container
//     and restart it as the Pod's restartPolicy says; a Result with Changed
//     set on a readiness probe means the container's Ready condition
//     changed. Failed attempts carry a Message for Events.
//  4. Read the state when writing Pod status: Ready, Started and Reported
//     (counts and last failure message per probe, as of the last attempt
//     worth a status write; Status has the live counters). Write the
//     status again when a Result has Reported set.
//  5. When the container is restarted, AddContainer again with the new
//     container ID (the old probes stop, counts start afresh and readiness
//     is false again until the new instance passes); when it
//     stops for good, RemoveContainer; when the Pod goes, RemovePod.
//  6. Before stopping a container, run its preStop hook with RunHook and a
//     context that ends with the termination grace period (and postStart
//     after starting it): the same httpGet/exec/tcpSocket machinery, plus
//     sleep.
//  7. Close on agent shutdown: it stops every worker and waits for them.
//
// # Semantics
//
// As in Kubernetes: defaults initialDelaySeconds 0, periodSeconds 10,
// timeoutSeconds 1, successThreshold 1, failureThreshold 3, applied here
// too so undefaulted specs work; periodMilliseconds (a Flotilla extension
// for tests) replaces periodSeconds when set. The initial delay counts from
// the container's start. Readiness starts false and needs successThreshold
// consecutive successes; every probe fails after failureThreshold
// consecutive failures. A startup probe gates the others: liveness and
// readiness do not run until it has passed once, and it stops running
// then. httpGet succeeds on a status of 200-399; it sends the configured
// headers (a "Host" header sets the request's host), follows up to 10
// redirects to the same host (a redirect elsewhere is not followed and
// counts as success), reads at most 10 KiB of the body, does not verify
// HTTPS certificates, ignores proxy settings and opens a new connection
// every time. tcpSocket succeeds when a connection opens. exec runs the
// command through runtime.Execer; exit code 0 is success. grpc calls
// grpc.health.v1.Health/Check over cleartext HTTP/2 (implemented on
// net/http, no gRPC module) and succeeds on SERVING.
//
// Every attempt is bounded by timeoutSeconds through its context, and each
// probe has its own goroutine, so a target that hangs delays only its own
// probe. A worker probes at most once per period (an attempt that
// overruns its period is followed by the next at once).
//
// When the runtime implements runtime.NetworkProber (the fake runtime,
// whose Pod IPs are synthetic), httpGet, tcpSocket and grpc probes that
// target the Pod IP go through it: headers, scheme and redirects are then
// the runtime's business (the fake answers by port and path, and by port
// and service for grpc).
//
// # What it does not do
//
// It does not kill or restart containers, write Pod status or Events, or
// watch the runtime: the agent does, from the Results. It does not decide
// when hooks run, nor stop a container after one. It keeps no state
// across a Manager's life: after an agent restart every probe starts from
// its initial state (readiness false), as the kubelet's do. grpc over TLS
// is not supported (nor is it in Kubernetes).
package prober
