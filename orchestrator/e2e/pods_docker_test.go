package e2e

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/dockertest"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Pods as written, seen from inside their containers on the real daemon:
// each test runs Pods of podapp, which reports what it finds (env, files,
// mounts, user, capabilities, hostname) and exits; the test reads its
// output from the container's logs.

// podImage is podapp, built once per test binary.
const podImage = "flotilla-e2e/podapp:dev"

// podCluster is a one-node Docker cluster with podapp built.
func podCluster(t *testing.T) *dockerCluster {
	t.Helper()
	dc := newDockerCluster(t, 1, false)
	dockertest.Image(t, dc.cli, "./internal/podapp", podImage)
	return dc
}

// reportPod is a Pod whose one container reports items and exits 0.
func reportPod(name string, items ...string) *orchestrator.Pod {
	return &orchestrator.Pod{
		ObjectMeta: orchestrator.ObjectMeta{Name: name, Namespace: orchestrator.DefaultNamespace},
		Spec: orchestrator.PodSpec{
			RestartPolicy:                 orchestrator.RestartPolicyNever,
			TerminationGracePeriodSeconds: orchestrator.Ptr(int64(1)),
			Containers: []orchestrator.Container{{
				Name: "app", Image: podImage, ImagePullPolicy: api.PullIfNotPresent,
				Args: append(append([]string{"report"}, items...), "--exit", "0"),
			}},
		},
	}
}

// runReport creates p, waits until it Succeeded and returns the lines its
// container named container printed.
func (dc *dockerCluster) runReport(t *testing.T, p *orchestrator.Pod, container string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := dc.Client()
	if err := c.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	var cur orchestrator.Pod
	dc.Eventually(40*time.Second, "pod "+p.Name+" succeeded", func() bool {
		if err := c.Get(ctx, orchestrator.KeyFor(p), &cur); err != nil {
			return false
		}
		if cur.Status.Phase == orchestrator.PodFailed {
			t.Fatalf("pod %s failed: %+v", p.Name, cur.Status)
		}
		return cur.Status.Phase == orchestrator.PodSucceeded
	})
	statuses := append(append([]orchestrator.ContainerStatus(nil), cur.Status.InitContainerStatuses...), cur.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if cs.Name != container {
			continue
		}
		id := strings.TrimPrefix(cs.ContainerID, "flotilla://")
		rc, err := dc.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var out, errOut bytes.Buffer
		if _, err := stdcopy.StdCopy(&out, &errOut, rc); err != nil {
			t.Fatal(err)
		}
		if errOut.Len() > 0 {
			t.Logf("%s/%s stderr: %s", p.Name, container, errOut.String())
		}
		var lines []string
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		return lines
	}
	t.Fatalf("pod %s has no container %s: %+v", p.Name, container, cur.Status)
	return nil
}

// wantLines fails t for each of want missing from got.
func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			if g == w {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no line %q in:\n%s", what, w, strings.Join(got, "\n"))
		}
	}
}

// Env from a ConfigMap (a key, and all keys with a prefix), from the
// Pod's fields, and $(VAR) in args, inside a real container.
func TestPodEnvOnDocker(t *testing.T) {
	dc := podCluster(t)
	ctx := context.Background()
	cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: "cfg", Namespace: orchestrator.DefaultNamespace},
		Data: map[string]string{"LOG_LEVEL": "debug", "MODE": "fast"}}
	if err := dc.Client().Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	p := reportPod("env", "env:LEVEL", "env:CFG_MODE", "env:POD_NAME", "env:POD_NAMESPACE", "env:POD_IP", "env:NODE", "env:APP", "args")
	p.Labels = map[string]string{"app": "reporter"}
	c := &p.Spec.Containers[0]
	c.Args = append(c.Args, "$(POD_NAME)-$(LEVEL)")
	fieldRef := func(path string) *orchestrator.EnvVarSource {
		return &orchestrator.EnvVarSource{FieldRef: &orchestrator.ObjectFieldSelector{FieldPath: path}}
	}
	c.EnvFrom = []orchestrator.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &orchestrator.ConfigMapEnvSource{LocalObjectReference: orchestrator.LocalObjectReference{Name: "cfg"}}}}
	c.Env = []orchestrator.EnvVar{
		{Name: "LEVEL", ValueFrom: &orchestrator.EnvVarSource{ConfigMapKeyRef: &orchestrator.ConfigMapKeySelector{
			LocalObjectReference: orchestrator.LocalObjectReference{Name: "cfg"}, Key: "LOG_LEVEL"}}},
		{Name: "POD_NAME", ValueFrom: fieldRef("metadata.name")},
		{Name: "POD_NAMESPACE", ValueFrom: fieldRef("metadata.namespace")},
		{Name: "POD_IP", ValueFrom: fieldRef("status.podIP")},
		{Name: "NODE", ValueFrom: fieldRef("spec.nodeName")},
		{Name: "APP", ValueFrom: fieldRef("metadata.labels['app']")},
	}
	lines := dc.runReport(t, p, "app")
	var cur orchestrator.Pod
	if err := dc.Client().Get(ctx, orchestrator.KeyFor(p), &cur); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "env", lines, "LEVEL=debug", "CFG_MODE=fast", "POD_NAME=env", "POD_NAMESPACE=default",
		"POD_IP="+cur.Status.PodIP, "NODE="+cur.Spec.NodeName, "APP=reporter")
	if !strings.Contains(strings.Join(lines, "\n"), "env-debug") {
		t.Errorf("args not expanded: %q", lines)
	}
}
