// Package client is the seam between Flotilla's components and the
// cluster state: the agent, informers, Event recorders, the scheduler and
// every controller read, write and watch objects through Interface, never
// through the registry type itself.
//
// Two implementations fill it: the local registry (this node's Raft
// replica, on a server) and, with the API server, an HTTPS client (an
// agent-only node, or a program outside the cluster). A component cannot
// tell them apart, so the same agent runs on either kind of node, and a
// test can hand a component an Interface with faults injected (see
// Intercept).
//
// Usage:
//
//  1. Hold an Interface (Cluster builds one per node; tests can wrap it).
//  2. Read with Get or List (Consistent for a linearizable read, else the
//     serving replica's state), or ListObjects by KindInfo.
//  3. Write with Create, Update, UpdateStatus, Patch, Delete, Bind: every
//     verb takes its options value, so new options never change a
//     signature.
//  4. Follow changes with Watch from a List's revision; re-list on TooOld.
//
// Every error is an *api.StatusError (check it with api.IsNotFound,
// api.IsConflict, ...) or the caller's context error.
//
// What it does not do: it caches nothing (informers do), and it does not
// retry conflicts (callers re-read and decide).
package client
