package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/dockertest"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"go.uber.org/zap/zaptest"
)

// linesImage is internal/lines, which prints "line N" every interval.
const linesImage = "flotilla-e2e/lines:dev"

// TestKubectlLogsOnDocker runs internal/lines on a 2-node Docker-backed
// cluster, one Pod per node, and reads the containers' logs with kubectl
// through node 0's API: the Pod on the other node proves logs cross nodes.
func TestKubectlLogsOnDocker(t *testing.T) {
	bin := kubectlBinary(t)
	dc := newDockerClusterWith(t, 2, clusterOptions{
		logger: zaptest.NewLogger(t),
		test:   []orchestratortest.Option{orchestratortest.WithAPI()},
	})
	dockertest.Image(t, dc.cli, "./internal/lines", linesImage)
	k := newKubectl(t, dc.Kubeconfig(t))
	k.bin = bin

	deploy := k.manifest("lines.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: lines
spec:
  replicas: 2
  selector:
    matchLabels:
      app: lines
  template:
    metadata:
      labels:
        app: lines
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: lines
        image: `+linesImage+`
        imagePullPolicy: IfNotPresent
        args: ["100ms"]
`)
	wantStdout(t, k.runOK("apply", "-f", deploy), "deployment.apps/lines created")
	k.ok("rollout", "status", "deployment/lines", "--timeout=90s")
	pods := strings.Fields(k.ok("get", "pods", "-l", "app=lines", "-o", `jsonpath={range .items[*]}{.metadata.name}/{.spec.nodeName}{" "}{end}`))
	if len(pods) != 2 {
		t.Fatalf("want 2 Pods, got %q", pods)
	}
	// The scheduler spreads a Deployment's Pods across nodes.
	if _, n0, _ := strings.Cut(pods[0], "/"); strings.HasSuffix(pods[1], "/"+n0) {
		t.Fatalf("both Pods on %s; the test needs one on a node other than the API's", n0)
	}
	for _, pn := range pods {
		pod, node, _ := strings.Cut(pn, "/")
		t.Run(node, func(t *testing.T) {
			k := k.withTB(t)
			// The container prints one line per 100 ms from its start.
			r := k.eventually(20*time.Second, "two lines of log", func(r kubectlResult) bool {
				return r.code == 0 && strings.Count(r.stdout, "\n") >= 2
			}, "logs", pod)
			last := checkLines(t, r.stdout, 1)

			tail := k.ok("logs", pod, "--tail=1")
			if n := strings.Count(tail, "\n"); n != 1 || !strings.HasPrefix(tail, "line ") {
				t.Errorf("logs --tail=1: %q", tail)
			}
			k.ok("logs", pod, "-c", "lines")
			// kubectl checks the container name against the Pod itself.
			r = k.fails("logs", pod, "-c", "nosuch")
			wantContains(t, "logs -c nosuch", r.stderr, "error: container nosuch is not valid for pod "+pod)
			// The server refuses one the Pod lacks, too.
			r = k.fails("get", "--raw", "/api/v1/namespaces/default/pods/"+pod+"/log?container=nosuch")
			wantContains(t, "pods/log?container=nosuch", r.stderr, "Error from server (BadRequest)", "nosuch")

			// -f: lines the container prints after kubectl started arrive.
			w := k.watch("logs", "-f", pod)
			w.waitFor(t, "a line printed after "+strconv.Itoa(last+5), 20*time.Second, func(line string) bool {
				n, ok := lineNumber(line)
				return ok && n > last+5
			})
			w.stop(t)
			checkLines(t, strings.Join(w.seen, "\n")+"\n", 1)
		})
	}
	wantContains(t, "logs deployment/lines", k.ok("logs", "deployment/lines", "--tail=1"), "line ")
}

// checkLines fails tb unless out is "line first", "line first+1", ... with
// no gap, and returns the last number.
func checkLines(tb testing.TB, out string, first int) int {
	tb.Helper()
	want := first
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		n, ok := lineNumber(line)
		if !ok || n != want {
			tb.Fatalf("log line %q, want \"line %d\"; log:\n%s", line, want, out)
		}
		want++
	}
	return want - 1
}

// lineNumber parses "line N".
func lineNumber(line string) (int, bool) {
	s, ok := strings.CutPrefix(line, "line ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
