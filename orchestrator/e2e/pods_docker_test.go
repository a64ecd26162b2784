package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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
	defer func() {
		if t.Failed() {
			t.Logf("pod %s: %+v", p.Name, cur.Status)
			for _, cs := range cur.Status.ContainerStatuses {
				t.Logf("container %s: %+v %+v", cs.Name, cs.State.Waiting, cs.State.Terminated)
			}
		}
	}()
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

// An init container writes into an emptyDir on disk and one in memory
// (a tmpfs inside the container), and the app reads both; ConfigMap,
// downward API, projected and hostPath volumes are mounted as written,
// read-only where Kubernetes makes them so.
func TestPodVolumesOnDocker(t *testing.T) {
	dc := podCluster(t)
	ctx := context.Background()
	cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: "files", Namespace: orchestrator.DefaultNamespace},
		Data: map[string]string{"app.conf": "listen :8080", "level": "debug"}}
	if err := dc.Client().Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(t.TempDir(), "made")
	size := orchestrator.MustParseQuantity("16Mi")
	ref := orchestrator.LocalObjectReference{Name: "files"}
	p := reportPod("volumes",
		"file:/work/hello", "file:/mem/m", "mount:/mem", "file:/etc/cfg/conf/app.conf", "file:/etc/app.conf",
		"file:/etc/info/labels", "file:/etc/proj/level", "file:/etc/proj/name", "write:/etc/cfg/x=y", "write:/host/f=z")
	p.Labels = map[string]string{"app": "volumes"}
	p.Spec.Volumes = []orchestrator.Volume{
		{Name: "work", VolumeSource: orchestrator.VolumeSource{EmptyDir: &orchestrator.EmptyDirVolumeSource{}}},
		{Name: "mem", VolumeSource: orchestrator.VolumeSource{EmptyDir: &orchestrator.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: &size}}},
		{Name: "cfg", VolumeSource: orchestrator.VolumeSource{ConfigMap: &orchestrator.ConfigMapVolumeSource{LocalObjectReference: ref,
			Items: []orchestrator.KeyToPath{{Key: "app.conf", Path: "conf/app.conf"}}}}},
		{Name: "info", VolumeSource: orchestrator.VolumeSource{DownwardAPI: &orchestrator.DownwardAPIVolumeSource{Items: []orchestrator.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &orchestrator.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}},
		{Name: "proj", VolumeSource: orchestrator.VolumeSource{Projected: &orchestrator.ProjectedVolumeSource{Sources: []orchestrator.VolumeProjection{
			{ConfigMap: &orchestrator.ConfigMapProjection{LocalObjectReference: ref, Items: []orchestrator.KeyToPath{{Key: "level", Path: "level"}}}},
			{DownwardAPI: &orchestrator.DownwardAPIProjection{Items: []orchestrator.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &orchestrator.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
		}}}},
		{Name: "host", VolumeSource: orchestrator.VolumeSource{HostPath: &orchestrator.HostPathVolumeSource{Path: host, Type: orchestrator.Ptr("DirectoryOrCreate")}}},
	}
	p.Spec.InitContainers = []orchestrator.Container{{
		Name: "writer", Image: podImage, ImagePullPolicy: api.PullIfNotPresent,
		Args:         []string{"report", "write:/work/hello=from-init", "write:/mem/m=in-memory", "--exit", "0"},
		VolumeMounts: []orchestrator.VolumeMount{{Name: "work", MountPath: "/work"}, {Name: "mem", MountPath: "/mem"}},
	}}
	p.Spec.Containers[0].VolumeMounts = []orchestrator.VolumeMount{
		{Name: "work", MountPath: "/work"}, {Name: "mem", MountPath: "/mem"},
		{Name: "cfg", MountPath: "/etc/cfg"}, {Name: "cfg", MountPath: "/etc/app.conf", SubPath: "conf/app.conf"},
		{Name: "info", MountPath: "/etc/info"}, {Name: "proj", MountPath: "/etc/proj"}, {Name: "host", MountPath: "/host"},
	}
	lines := dc.runReport(t, p, "app")
	wantLines(t, "volumes", lines,
		`file:/work/hello="from-init"`, `file:/mem/m="in-memory"`,
		`file:/etc/cfg/conf/app.conf="listen :8080"`, `file:/etc/app.conf="listen :8080"`,
		`file:/etc/info/labels="app=\"volumes\""`, `file:/etc/proj/level="debug"`, `file:/etc/proj/name="volumes"`,
		"write:/host/f ok")
	text := strings.Join(lines, "\n")
	if !strings.Contains(text, "mount:/mem=tmpfs /mem tmpfs rw") || !strings.Contains(text, "size=16384k") {
		t.Errorf("the Memory emptyDir is not a 16 MiB tmpfs:\n%s", text)
	}
	if !strings.Contains(text, "write:/etc/cfg/x error:") || !strings.Contains(text, "read-only file system") {
		t.Errorf("the configMap volume was writable:\n%s", text)
	}
	if b, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(b) != "z" {
		t.Errorf("hostPath: %q, %v", b, err)
	}
}

// The securityContext is applied in the container, seen from inside:
// user, group and groups (fsGroup first), a read-only root filesystem,
// capabilities, no_new_privs and seccomp, an emptyDir writable by the
// user; privileged gets every capability and a hostPath of / is mounted;
// runAsNonRoot with an image that runs as root does not start.
func TestPodSecurityOnDocker(t *testing.T) {
	dc := podCluster(t)
	ctx := context.Background()
	id := func(v int64) *int64 { return &v }
	p := reportPod("secure", "status", "write:/root-fs-file=x", "write:/work/f=y")
	p.Spec.SecurityContext = &orchestrator.PodSecurityContext{RunAsUser: id(1000), RunAsGroup: id(3000), FSGroup: id(2000), SupplementalGroups: []int64{4000}}
	p.Spec.Volumes = []orchestrator.Volume{{Name: "work", VolumeSource: orchestrator.VolumeSource{EmptyDir: &orchestrator.EmptyDirVolumeSource{}}}}
	c := &p.Spec.Containers[0]
	c.VolumeMounts = []orchestrator.VolumeMount{{Name: "work", MountPath: "/work"}}
	c.SecurityContext = &orchestrator.SecurityContext{ReadOnlyRootFilesystem: orchestrator.Ptr(true), AllowPrivilegeEscalation: orchestrator.Ptr(false),
		Capabilities:   &orchestrator.Capabilities{Drop: []string{"ALL"}, Add: []string{"NET_BIND_SERVICE"}},
		SeccompProfile: &orchestrator.SeccompProfile{Type: "RuntimeDefault"}}
	lines := dc.runReport(t, p, "app")
	wantLines(t, "secure", lines, "Uid=1000 1000 1000 1000", "Gid=3000 3000 3000 3000", "Groups=2000 3000 4000",
		"CapBnd=0000000000000400", "NoNewPrivs=1", "Seccomp=2", "write:/work/f ok")
	if text := strings.Join(lines, "\n"); !strings.Contains(text, "write:/root-fs-file error:") || !strings.Contains(text, "read-only file system") {
		t.Errorf("the root filesystem was writable:\n%s", text)
	}

	// hostPath / is mounted as asked.
	marker := filepath.Join(t.TempDir(), "marker")
	if err := os.WriteFile(marker, []byte("on the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = reportPod("host-root", "file:/host"+marker, "write:/host"+marker+"=x")
	p.Spec.Volumes = []orchestrator.Volume{{Name: "root", VolumeSource: orchestrator.VolumeSource{HostPath: &orchestrator.HostPathVolumeSource{Path: "/"}}}}
	p.Spec.Containers[0].VolumeMounts = []orchestrator.VolumeMount{{Name: "root", MountPath: "/host", ReadOnly: true}}
	lines = dc.runReport(t, p, "app")
	wantLines(t, "host-root", lines, `file:/host`+marker+`="on the host"`)
	if text := strings.Join(lines, "\n"); !strings.Contains(text, "read-only file system") {
		t.Errorf("the read-only hostPath was writable:\n%s", text)
	}

	// privileged is asked of the daemon. A daemon whose own capabilities
	// are bounded (as on a CI machine in a container) cannot start it:
	// then the Pod fails with the daemon's message.
	p = reportPod("privileged", "status")
	p.Spec.Containers[0].SecurityContext = &orchestrator.SecurityContext{Privileged: orchestrator.Ptr(true)}
	if err := dc.Client().Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	var cur orchestrator.Pod
	dc.Eventually(40*time.Second, "privileged pod done", func() bool {
		return dc.Client().Get(ctx, orchestrator.KeyFor(p), &cur) == nil && api.IsPodTerminal(&cur)
	})
	in, err := dc.cli.ContainerInspect(ctx, containerID(&cur), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !in.Container.HostConfig.Privileged {
		t.Error("the container was not created privileged")
	}
	if cur.Status.Phase == orchestrator.PodFailed {
		term := cur.Status.ContainerStatuses[0].State.Terminated
		if term == nil || term.Reason != "StartError" || term.Message == "" {
			t.Fatalf("privileged pod failed without the daemon's reason: %+v", cur.Status.ContainerStatuses[0].State)
		}
		t.Logf("this daemon cannot start privileged containers: %s", term.Message)
	} else {
		out, err := dc.cli.ContainerLogs(ctx, containerID(&cur), client.ContainerLogsOptions{ShowStdout: true})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = stdcopy.StdCopy(&buf, io.Discard, out)
		out.Close()
		if !strings.Contains(buf.String(), "CapEff=000001ffffffffff") && !strings.Contains(buf.String(), "CapEff=0000003fffffffff") {
			t.Errorf("privileged container without every capability:\n%s", buf.String())
		}
	}

	p = reportPod("nonroot", "status")
	p.Spec.SecurityContext = &orchestrator.PodSecurityContext{RunAsNonRoot: orchestrator.Ptr(true)}
	if err := dc.Client().Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	dc.Eventually(30*time.Second, "runAsNonRoot refused", func() bool {
		var cur orchestrator.Pod
		if err := dc.Client().Get(ctx, orchestrator.KeyFor(p), &cur); err != nil || len(cur.Status.ContainerStatuses) != 1 {
			return false
		}
		w := cur.Status.ContainerStatuses[0].State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError" && strings.HasPrefix(w.Message, "container has runAsNonRoot and image will run as root")
	})
}

// A Pod's hostname is its name (cut to 63 characters, as the kubelet
// cuts it), or spec.hostname.
func TestPodHostnameOnDocker(t *testing.T) {
	dc := podCluster(t)
	long := strings.Repeat("a", 62) + "-b"
	for name, want := range map[string]string{"web-0": "web-0", long: strings.Repeat("a", 62)} {
		lines := dc.runReport(t, reportPod(name, "hostname", "env:HOSTNAME"), "app")
		wantLines(t, name, lines, "hostname="+want, "HOSTNAME="+want)
	}
	p := reportPod("named", "hostname")
	p.Spec.Hostname, p.Spec.Subdomain = "custom", "sub"
	wantLines(t, "named", dc.runReport(t, p, "app"), "hostname=custom")
	for _, rt := range dc.runtimes {
		if idle, target := rt.WarmSandboxes(); idle+target != 0 {
			t.Errorf("the default runtime keeps warm sandboxes (%d of %d), whose hostname is not the Pod's", idle, target)
		}
	}
}
