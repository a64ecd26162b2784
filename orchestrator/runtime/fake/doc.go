// Package fake is an in-memory implementation of runtime.Runtime (plus
// runtime.Execer, runtime.LogReader and runtime.NetworkProber) for
// in-process test clusters. It is a real implementation — a state machine
// per sandbox and container that emits the same events as the Docker
// runtime — with programmable behaviour and fault injection, not a mock.
//
// # Usage
//
//  1. Build it with New(Config{NodeName: ..., PodCIDR: ...}); give each
//     node of a test cluster its own PodCIDR so Pod IPs are unique.
//  2. Program containers by image (Config.ImageBehaviors,
//     SetImageBehavior) or by Pod container name (SetContainerBehavior):
//     exit after a delay with a code, fail to start, start or stop slowly,
//     ignore SIGTERM, OOM after a delay, log lines, answer probes.
//  3. Drive it through the runtime.Runtime interface, exactly as the agent
//     drives the Docker runtime.
//  4. Inject faults while it runs: Crash, OOMKill, KillSandbox,
//     SetHealthy (probe answers), WriteLog, and a per-call Hook (FailOn,
//     DelayOn, Chain, or your own) that can delay or fail any call.
//  5. Close it; Close stops its timers and event subscriptions.
//
// # Probes
//
// Sandboxes get synthetic IPs from Config.PodCIDR that are not reachable on
// the host: nothing listens. An agent's prober that finds
// runtime.NetworkProber on its runtime asks ProbeHTTP/ProbeTCP/ProbeGRPC instead of
// dialling; exec probes go through Exec. By default a running container
// answers HTTP 200 and accepts TCP on the ports it declares
// (ContainerConfig.Ports), and exec exits 0; SetHealthy(id, false) turns
// those into 503, refused and exit 1. Behavior.HTTP/TCP/Exec replace the
// defaults entirely.
//
// # What it does not model
//
// No processes, files, networking or resource accounting: limits, mounts,
// env, command, working dir and security settings are recorded (see
// Runtime.Config) but have no effect; MountFiles are not readable (UpdateFiles
// replaces the Files that Config returns); exec runs nothing; stop signals other
// than "handled after StopDelay" or "ignored" are not modelled; the image
// store is a set of names (no layers, digests or tags resolution); there is
// no daemon restart, so EventResync is only sent to subscribers that fall
// behind. Timestamps use Config.Now, but delays use real timers.
package fake
