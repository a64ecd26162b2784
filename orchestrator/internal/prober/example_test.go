package prober_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/prober"
)

// A readiness probe against a local HTTP server: the container becomes
// ready after its first success and the change is delivered once.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)

	results := make(chan prober.Result, 16)
	m := prober.New(prober.Config{OnResult: func(r prober.Result) {
		// Never block the worker: drop if the agent is behind. Nothing is
		// lost for good, since the agent's periodic sync reads Ready and
		// Status (RestartRequested) level-triggered.
		select {
		case results <- r:
		default:
		}
	}})
	defer m.Close()

	err := m.AddContainer(prober.Container{
		PodUID: "7f3c", ContainerID: "c-1", PodIP: host,
		Spec: api.Container{
			Name:  "web",
			Ports: []api.ContainerPort{{Name: "http", ContainerPort: int32(port)}},
			ReadinessProbe: &api.Probe{
				ProbeHandler:       api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/healthz", Port: api.FromString("http")}},
				PeriodMilliseconds: 50,
			},
		},
	})
	if err != nil {
		panic(err)
	}
	r := <-results
	fmt.Println(r.ContainerName, r.Kind, "passing:", r.Passing, "changed:", r.Changed)
	fmt.Println("ready:", m.Ready("7f3c", "web"))
	// Output:
	// web Readiness passing: true changed: true
	// ready: true
}
