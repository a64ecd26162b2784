// Package backoff decides when the node agent may restart a container that
// exited: the restart policy (Always, OnFailure, Never) and Kubernetes'
// crash-loop back-off, as pure logic with no goroutines and no clock of its
// own (every time is passed in).
//
// # Usage
//
//  1. Build one Backoff per agent with New(DefaultConfig()) (or a Config
//     with short durations in tests).
//  2. When a container exits, ask ShouldRestart(policy, exitCode). If it
//     says no, the container stays terminated.
//  3. Otherwise call Exited(key, startedAt, finishedAt) with a key naming
//     the Pod container (Key(podUID, name)). It returns the Decision: the
//     earliest time the container may start again and the delay in force.
//     The first restart of a streak is allowed at once; after that the
//     delay is Config.Initial, doubling up to Config.Max. A container that
//     ran at least Config.ResetAfter before exiting starts a new streak.
//  4. While now is before Decision.RestartAt, report the container as
//     waiting with Reason (CrashLoopBackOff) and Message(decision, ...),
//     which names the next restart time, and requeue
//     the Pod for RestartAt; then restart it.
//  5. Call Forget(key) (or ForgetPod) when the Pod is deleted, so the state
//     does not grow without bound.
//
// # What it does not do
//
// It starts, stops and times nothing: the agent owns timers and requeues.
// It does not persist state; after an agent restart every container starts
// a fresh streak (as the kubelet's in-memory back-off does). It does not
// look at Pod phase or at init containers.
package backoff
