// Package e2e holds end-to-end tests and benchmarks of whole Flotilla
// clusters running real containers on the local Docker daemon: several
// in-process nodes (orchestratortest.NewCluster), each with its own Docker
// runtime, sharing one cluster ID and one private bridge network.
//
// # Usage
//
//  1. go test ./orchestrator/e2e runs the tests; without a reachable daemon
//     they are skipped, and they fail when CI=true.
//  2. go test ./orchestrator/e2e -run '^$' -bench . -benchtime 5x runs the
//     benchmarks (figures as custom metrics: p50 of the iterations).
//  3. FLOTILLA_BENCH_SWARM=1 go test ./orchestrator/e2e -run '^$' -bench
//     VsSwarm -benchtime 5x also runs BenchmarkVsSwarm: the same figures
//     for Flotilla and Docker Swarm side by side on the local daemon, which
//     it makes a single-node swarm for the run (refusing a daemon already
//     in a swarm) and leaves at the end. Without the opt-in it is skipped.
//
// Every test and benchmark uses a random cluster ID, builds the quickstart
// app (examples/quickstart/app) into the image flotilla-e2e/web:dev with
// dockerimage.BuildGo (cached by content) and, at the end, purges every
// container, volume and network labelled with its cluster ID and checks
// that none is left. The benchmarks with probes, and the Swarm services,
// run internal/benchapp (flotilla-e2e/bench:dev), whose health endpoint
// can be made to fail and which is its own healthcheck command.
//
// # kubectl
//
// TestKubectl drives a 3-node in-process cluster (fake runtime) serving the
// Kubernetes API on loopback with the kubectl binary on PATH, through the
// admin kubeconfig, the way an operator would: apply, get in every output
// format, watch, describe, scale, rollout, patch, explain, dry runs,
// invalid manifests, deletes with every cascade, and the 401s of strangers.
// TestKubectlLogsOnDocker reads the logs of internal/lines containers
// (flotilla-e2e/lines:dev) on a 2-node Docker-backed cluster. Without
// kubectl both are skipped, and they fail when CI=true. The client-go tests
// live in the nested module orchestrator/e2e/clientgo.
//
// # What it does not do
//
// No multi-host clusters (Swarm included: one node) and no assertions on
// timing: figures are benchmark metrics only.
package e2e
