// Package kubeapi holds the benchmarks of issue 15's targets for the
// Kubernetes API that every Flotilla server node serves over HTTPS. It has
// no library code: the benchmarks are in its test files, run only with
// -bench (the default test suite compiles them and runs nothing).
//
// Each benchmark starts an in-process 3-server cluster
// (orchestratortest.NewCluster with WithAPI: the API on 127.0.0.1 over
// TLS, Raft and gossip on in-memory networks, the fake runtime) and runs
// its scenario once per iteration; run them with -benchtime 1x or a small
// count:
//
//	go test ./bench/kubeapi -run '^$' -bench ListPods10000 -benchtime 3x
//	go test ./bench/kubeapi -run '^$' -bench Watch1000 -benchtime 1x
//
// BenchmarkListPods10000 creates -pods Pods (10,000; 10 namespaces, bound
// to a Node object that no agent runs, so nothing starts them) and
// measures `kubectl get pods -A` (wall time and CPU of the kubectl
// process) with kubectl's default chunks of 500 and with --chunk-size=0,
// each beside a baseline: the same kubectl against a server replaying
// recorded responses at no cost. The server's share is timed with a Go
// HTTPS client on a warm HTTP/2 connection: the Table requests kubectl
// makes (chunks of 500), the Table in one request, and the raw LIST as
// JSON in one request.
//
// BenchmarkWatch1000 opens -watchers (1,000) HTTPS watch streams of
// ConfigMaps spread over the 3 servers (-transports HTTP transports,
// one by default) and writes ConfigMaps at -rate (500) per second for
// -write-for (10 s); it counts the events every watcher reads (an event
// not read within -drain of the last write, or read twice, fails the
// benchmark) and reports the delivery latency from the write's
// acknowledgement to the watcher reading the event, and the CPU the
// process spent per delivery. -raft picks the Raft timings.
//
// The memory an idle server's API adds is measured by the program
// bench/apirss, in separate processes.
package kubeapi
