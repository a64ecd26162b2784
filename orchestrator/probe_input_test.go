package orchestrator_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// probedYAML is a valid Deployment with a liveness and a readiness probe
// and an explicit rolling-update strategy.
const probedYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: probed
spec:
  replicas: 2
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 25%}
  selector:
    matchLabels: {app: probed}
  template:
    metadata:
      labels: {app: probed}
    spec:
      containers:
      - name: app
        image: web:1
        ports: [{name: http, containerPort: 8080}]
        livenessProbe:
          tcpSocket: {port: http}
          periodSeconds: 5
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 2
`

// TestBadProbesAndStrategiesStoreNothing sends each bad probe and
// rollout setting as a manifest to Create, and as a change to Update of a
// stored Deployment: each is IsInvalid naming its field, and nothing is
// stored or changed.
func TestBadProbesAndStrategiesStoreNothing(t *testing.T) {
	const c0 = "spec.template.spec.containers[0]"
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx := context.Background()
	cases := []struct {
		name     string
		old, new string
		paths    []string
	}{
		{"probe with no handler", "          tcpSocket: {port: http}\n", "", []string{c0 + ".livenessProbe"}},
		{"probe with two handlers", "          tcpSocket: {port: http}\n", "          tcpSocket: {port: http}\n          exec: {command: [/app, check]}\n", []string{c0 + ".livenessProbe"}},
		{"port name not declared", "tcpSocket: {port: http}", "tcpSocket: {port: admin}", []string{c0 + ".livenessProbe.tcpSocket.port"}},
		{"negative period", "periodSeconds: 2", "periodSeconds: -2", []string{c0 + ".readinessProbe.periodSeconds"}},
		{"negative sub-second period", "periodSeconds: 2", "periodMilliseconds: -100", []string{c0 + ".readinessProbe.periodMilliseconds"}},
		{"negative period beside a sub-second one", "periodSeconds: 2", "periodSeconds: -5\n          periodMilliseconds: 200", []string{c0 + ".readinessProbe.periodSeconds"}},
		{"liveness successThreshold not 1", "periodSeconds: 5", "periodSeconds: 5\n          successThreshold: 2", []string{c0 + ".livenessProbe.successThreshold"}},
		{"negative timeout and thresholds", "periodSeconds: 2", "periodSeconds: 2\n          timeoutSeconds: -1\n          failureThreshold: -3", []string{c0 + ".readinessProbe.timeoutSeconds", c0 + ".readinessProbe.failureThreshold"}},
		{"maxSurge and maxUnavailable both 0", "{maxSurge: 1, maxUnavailable: 25%}", "{maxSurge: 0, maxUnavailable: 0%}", []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{"percentage over 100%", "maxUnavailable: 25%", "maxUnavailable: 101%", []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{"malformed percentage", "maxSurge: 1", "maxSurge: 10 %", []string{"spec.strategy.rollingUpdate.maxSurge"}},
	}
	check := func(t *testing.T, err error, paths []string) {
		t.Helper()
		if !orchestrator.IsInvalid(err) {
			t.Fatalf("want IsInvalid, got %v", err)
		}
		got := orchestrator.FieldErrors(err).Fields()
		slices.Sort(got)
		want := slices.Sorted(slices.Values(paths))
		if !slices.Equal(got, want) {
			t.Fatalf("field paths %q, want %q (%v)", got, want, err)
		}
		for _, p := range paths {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("message does not name %s: %v", p, err)
			}
		}
	}
	for _, tc := range cases {
		manifest := strings.Replace(probedYAML, tc.old, tc.new, 1)
		if manifest == probedYAML {
			t.Fatalf("%s: the edit does not apply", tc.name)
		}
		t.Run("create/"+tc.name, func(t *testing.T) {
			obj, err := orchestrator.Decode([]byte(manifest))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			check(t, cl.Create(ctx, obj), tc.paths)
			var list orchestrator.DeploymentList
			if err := cl.List(ctx, &list); err != nil || len(list.Items) != 0 {
				t.Fatalf("stored: %v, %d Deployments", err, len(list.Items))
			}
		})
	}
	if err := cl.Create(ctx, decode(t, probedYAML)); err != nil {
		t.Fatal(err)
	}
	var stored orchestrator.Deployment
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "probed"}, &stored); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run("update/"+tc.name, func(t *testing.T) {
			var err error
			for { // the controllers may write status between Get and Update
				var cur orchestrator.Deployment
				if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "probed"}, &cur); err != nil {
					t.Fatal(err)
				}
				d := decode(t, strings.Replace(probedYAML, tc.old, tc.new, 1)).(*orchestrator.Deployment)
				d.ObjectMeta = cur.ObjectMeta
				if err = cl.Update(ctx, d); !orchestrator.IsConflict(err) {
					break
				}
			}
			check(t, err, tc.paths)
			var now orchestrator.Deployment
			if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "probed"}, &now); err != nil {
				t.Fatal(err)
			}
			if now.Generation != stored.Generation || now.Spec.Template.Spec.Containers[0].LivenessProbe.TCPSocket == nil ||
				now.Spec.Strategy.RollingUpdate.MaxSurge.String() != "1" {
				t.Fatalf("the stored Deployment changed: generation %d -> %d, spec %+v", stored.Generation, now.Generation, now.Spec)
			}
		})
	}
}
