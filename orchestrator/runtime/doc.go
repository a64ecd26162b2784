// Package runtime defines the container runtime seam of Flotilla's node
// agent: a small, CRI-like, context-first interface ([Runtime]) with its own
// plain types, independent of the orchestrator's object model (the agent
// translates Pods into these types).
//
// Two implementations exist: runtime/docker runs real containers through the
// Docker Engine API, and runtime/fake runs "containers" in memory with
// programmable behaviour for in-process test clusters.
//
// # Usage
//
//  1. Build a runtime (docker.New or fake.New) and call its Start(ctx)
//     method; both implementations have Start(ctx) error and Close() error,
//     deliberately outside the interface: the program that built the
//     runtime owns its lifecycle, the agent only drives it.
//  2. Subscribe to [Runtime.Events] before listing, so no change between the
//     list and the subscription is missed; on [EventResync] list again.
//  3. List what exists ([Runtime.ListPodSandboxes], [Runtime.ListContainers]
//     filtered by [LabelPodUID]) and adopt it: the runtimes find their own
//     objects by label after a restart.
//  4. For a new Pod: [Runtime.RunPodSandbox] (publishes host ports, gives the
//     Pod IP), then per container [Runtime.EnsureImage],
//     [Runtime.CreateContainer] with RestartCount set, [Runtime.StartContainer].
//  5. On [EventContainerExited] decide whether to restart: create a new
//     container with RestartCount+1 (the previous one can be kept for
//     "logs --previous" and removed later).
//  6. To delete a Pod: [Runtime.StopContainer] each container with the grace
//     period, then [Runtime.RemovePodSandbox].
//  7. Use optional abilities by type assertion: [Execer], [LogReader], and
//     [NetworkProber] for runtimes whose Pod IPs the host cannot reach.
//
// New implementations should pass the conformance suite in
// runtime/runtimetest, which both bundled implementations run.
//
// Errors are *[Error] values wrapping one of the sentinels; test them with
// [IsNotFound], [IsImageNeverPull], [IsImagePull], [IsInvalid] and friends.
// [MessageOf] returns the engine's own message for Pod status.
//
// # What it does not do
//
// The runtime never restarts containers on its own, never pulls an image in
// CreateContainer, has no notion of probes, restart policies or backoff
// (the agent's job), and does not know about Pods beyond the labels it
// writes. Sandboxes are not restarted: a dead sandbox is replaced by a new
// one with a higher Attempt.
package runtime
