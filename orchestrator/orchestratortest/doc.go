// Package orchestratortest starts whole Flotilla clusters inside one test
// process, the way net/http/httptest starts HTTP servers.
//
// # Usage
//
//  1. c := orchestratortest.NewCluster(t, 3) starts three nodes connected by
//     in-memory Raft and gossip networks, each with its own in-memory fake
//     container runtime (package runtime/fake) and test timings (failure
//     detection in well under a second). It returns once a leader is elected
//     and every Node is Ready, and registers Shutdown with t.Cleanup.
//  2. Use c.Client() like any orchestrator.Client: create Deployments, list
//     Pods, watch.
//  3. Inject faults: c.StopNode(i) (a crash), c.ShutdownNode(i) (a
//     graceful Shutdown), c.RestartNode(i),
//     c.Partition(i...) / c.Heal(), c.CrashContainer(pod, container, code),
//     and c.Runtime(i) for everything the fake runtime can do (slow starts,
//     failing images, hooks that delay or fail runtime calls).
//  4. Wait for conditions with c.Eventually or your own polling with a
//     deadline — never with sleeps.
//
// With WithTLS and WithAPI, c.AddAgent() adds an agent-only node
// (orchestrator.RoleAgent) that runs its Pods through the servers' HTTPS
// API; give the servers DisableAgent (WithConfig, checking cfg.Role) to
// run Pods on agent-only nodes only.
//
// Logs go to t.Logf through zaptest, so they show only for failed tests or
// under go test -v.
//
// # What it does not do
//
// Nodes restarted with RestartNode come back with empty Raft state (the
// leader then replicates everything to them) unless WithDataDirs is used,
// in which case they restart from their data.
// Partitions cut both Raft and gossip of the given nodes from all others;
// partial partitions between two specific nodes are not modelled for gossip.
package orchestratortest
