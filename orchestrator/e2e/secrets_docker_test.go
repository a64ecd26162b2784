package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
)

// A Secret as env and as a secret volume, inside a real container: the
// files are on a read-only tmpfs, and a Secret update reaches them in
// place within a few seconds while the environment keeps its value.
func TestPodSecretsOnDocker(t *testing.T) {
	dc := podCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := dc.Client()
	s := &orchestrator.Secret{ObjectMeta: orchestrator.ObjectMeta{Name: "db", Namespace: orchestrator.DefaultNamespace},
		StringData: map[string]string{"password": "first-pw", "user": "admin"}}
	if err := c.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	ref := orchestrator.LocalObjectReference{Name: "db"}
	p := reportPod("secrets", "env:PASSWORD")
	p.Spec.Containers[0].Args = p.Spec.Containers[0].Args[:len(p.Spec.Containers[0].Args)-2] // keep running
	p.Spec.Volumes = []orchestrator.Volume{{Name: "creds", VolumeSource: orchestrator.VolumeSource{Secret: &orchestrator.SecretVolumeSource{
		SecretName: "db", DefaultMode: orchestrator.Ptr(int32(0o440))}}}}
	ctr := &p.Spec.Containers[0]
	ctr.EnvFrom = []orchestrator.EnvFromSource{{Prefix: "DB_", SecretRef: &orchestrator.SecretEnvSource{LocalObjectReference: ref}}}
	ctr.Env = []orchestrator.EnvVar{{Name: "PASSWORD", ValueFrom: &orchestrator.EnvVarSource{
		SecretKeyRef: &orchestrator.SecretKeySelector{LocalObjectReference: ref, Key: "password"}}}}
	ctr.VolumeMounts = []orchestrator.VolumeMount{{Name: "creds", MountPath: "/creds"}}
	if err := c.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	var cur orchestrator.Pod
	dc.Eventually(60*time.Second, "pod secrets running", func() bool {
		return c.Get(ctx, orchestrator.KeyFor(p), &cur) == nil && cur.Status.Phase == orchestrator.PodRunning
	})
	rt := dc.runtimes[0]
	id := containerID(&cur)
	report := func(items ...string) string {
		t.Helper()
		res, err := rt.Exec(ctx, id, append(append([]string{"/app", "report"}, items...), "--exit", "0"))
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Stdout)
	}
	out := report("env:PASSWORD", "env:DB_user", "file:/creds/password", "mount:/creds", "write:/creds/x=y")
	for _, want := range []string{"PASSWORD=first-pw", "DB_user=admin", `file:/creds/password="first-pw"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the container's report:\n%s", want, out)
		}
	}
	mount := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "mount:/creds=") {
			mount = l
		}
	}
	if f := strings.Fields(strings.TrimPrefix(mount, "mount:/creds=")); len(f) < 4 || f[2] != "tmpfs" || !strings.HasPrefix(f[3], "ro") {
		t.Errorf("the secret volume is %q, want a read-only tmpfs", mount)
	}
	if !strings.Contains(out, "write:/creds/x error") {
		t.Errorf("the secret volume was writable:\n%s", out)
	}

	// Rotate the password: the file follows in place, the env does not.
	if err := c.Get(ctx, orchestrator.KeyFor(s), s); err != nil {
		t.Fatal(err)
	}
	s.StringData = map[string]string{"password": "second-pw"}
	start := time.Now()
	if err := c.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	dc.Eventually(10*time.Second, "the rotated password in the container's file", func() bool {
		return strings.Contains(report("file:/creds/password"), `="second-pw"`)
	})
	t.Logf("Secret update visible in the running container after %v", time.Since(start))
	if out := report("env:PASSWORD"); !strings.Contains(out, "PASSWORD=first-pw") {
		t.Errorf("env changed: %s", out)
	}
	if err := c.Get(ctx, orchestrator.KeyFor(p), &cur); err != nil || containerID(&cur) != id {
		t.Errorf("the container was replaced (%v), want the update in place", err)
	}
}
