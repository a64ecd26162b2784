package tables

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) api.Time     { return api.NewTime(now.Add(-d)) }
func agoPtr(d time.Duration) *api.Time { t := ago(d); return &t }
func i32(n int32) *int32               { return &n }
func str(s string) *string             { return &s }
func yes() *bool                       { b := true; return &b }

func meta(name string, created time.Duration) api.ObjectMeta {
	return api.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(created)}
}

// render writes t as kubectl -o wide would (every column), with a first
// line naming the columns and marking the wide ones.
func render(t *metav1.Table) string {
	var b bytes.Buffer
	var cols []string
	for _, c := range t.ColumnDefinitions {
		name := strings.ToUpper(c.Name)
		if c.Priority > 0 {
			name += "(wide)"
		}
		cols = append(cols, name+":"+c.Type)
	}
	fmt.Fprintf(&b, "# %s\n", strings.Join(cols, " "))
	w := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
	var head []string
	for _, c := range t.ColumnDefinitions {
		head = append(head, strings.ToUpper(c.Name))
	}
	fmt.Fprintln(w, strings.Join(head, "\t"))
	for _, r := range t.Rows {
		var cells []string
		for _, c := range r.Cells {
			switch v := c.(type) {
			case string:
				cells = append(cells, v)
			case int64:
				cells = append(cells, fmt.Sprint(v))
			default:
				cells = append(cells, fmt.Sprintf("!%T(%v)", c, c))
			}
		}
		line := strings.Join(cells, "\t")
		for _, cond := range r.Conditions {
			line += fmt.Sprintf("\t[%s=%s %s]", cond.Type, cond.Status, cond.Reason)
		}
		fmt.Fprintln(w, line)
	}
	w.Flush()
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run with -update to accept):\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

func convert(t *testing.T, kind string, objs ...api.Object) string {
	t.Helper()
	tbl, err := New().ConvertToTable(api.KindInfo{Kind: kind}, objs, apiserver.TableOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Rows) != len(objs) {
		t.Fatalf("%d rows for %d objects", len(tbl.Rows), len(objs))
	}
	for i, r := range tbl.Rows {
		if len(r.Cells) != len(tbl.ColumnDefinitions) {
			t.Fatalf("row %d has %d cells for %d columns", i, len(r.Cells), len(tbl.ColumnDefinitions))
		}
	}
	return render(tbl)
}

func running(name string, ready bool, restarts int32) api.ContainerStatus {
	return api.ContainerStatus{Name: name, Ready: ready, RestartCount: restarts,
		State: api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: ago(time.Minute)}}}
}

func TestPods(t *testing.T) {
	readyCond := []api.PodCondition{{Type: api.PodInitialized, Status: api.ConditionTrue}, {Type: api.PodReady, Status: api.ConditionTrue}}
	two := api.PodSpec{Containers: []api.Container{{Name: "a"}, {Name: "b"}}, NodeName: "node-1"}
	one := api.PodSpec{Containers: []api.Container{{Name: "app"}}, NodeName: "node-2"}
	withInit := api.PodSpec{InitContainers: []api.Container{{Name: "init-1"}, {Name: "init-2"}}, Containers: []api.Container{{Name: "app"}}}
	restarted := running("app", true, 5)
	restarted.LastTerminationState = api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(5 * time.Minute)}}
	pods := []api.Object{
		&api.Pod{ObjectMeta: meta("running", 3*time.Minute+2*time.Second), Spec: two, Status: api.PodStatus{Phase: api.PodRunning, Conditions: readyCond,
			PodIPs: []api.PodIP{{IP: "10.1.0.5"}}, ContainerStatuses: []api.ContainerStatus{running("a", true, 0), running("b", true, 0)}}},
		&api.Pod{ObjectMeta: meta("half-ready", 50*time.Hour), Spec: two, Status: api.PodStatus{Phase: api.PodRunning,
			ContainerStatuses: []api.ContainerStatus{running("a", true, 0), running("b", false, 0)}}},
		&api.Pod{ObjectMeta: meta("pending", 5*time.Second), Spec: api.PodSpec{Containers: []api.Container{{Name: "app"}}},
			Status: api.PodStatus{Phase: api.PodPending}},
		&api.Pod{ObjectMeta: meta("creating", 10*time.Second), Spec: one, Status: api.PodStatus{Phase: api.PodPending,
			ContainerStatuses: []api.ContainerStatus{{Name: "app", State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}},
		&api.Pod{ObjectMeta: meta("crashing", 2*time.Hour), Spec: one, Status: api.PodStatus{Phase: api.PodRunning,
			ContainerStatuses: []api.ContainerStatus{{Name: "app", RestartCount: 5,
				State:                api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 2, Reason: "Error", FinishedAt: ago(5 * time.Minute)}}}}}},
		&api.Pod{ObjectMeta: meta("restarted", 26*time.Hour), Spec: one, Status: api.PodStatus{Phase: api.PodRunning, Conditions: readyCond,
			ContainerStatuses: []api.ContainerStatus{restarted}}},
		&api.Pod{ObjectMeta: meta("completed", 10*time.Minute), Spec: one, Status: api.PodStatus{Phase: api.PodSucceeded,
			ContainerStatuses: []api.ContainerStatus{{Name: "app", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{Reason: "Completed"}}}}}},
		&api.Pod{ObjectMeta: meta("failed", 10*time.Minute), Spec: one, Status: api.PodStatus{Phase: api.PodFailed,
			ContainerStatuses: []api.ContainerStatus{{Name: "app", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 3}}}}}},
		&api.Pod{ObjectMeta: meta("killed", 10*time.Minute), Spec: one, Status: api.PodStatus{Phase: api.PodFailed,
			ContainerStatuses: []api.ContainerStatus{{Name: "app", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 137, Signal: 9}}}}}},
		&api.Pod{ObjectMeta: func() api.ObjectMeta {
			m := meta("terminating", 40*24*time.Hour)
			m.DeletionTimestamp = agoPtr(time.Second)
			return m
		}(), Spec: one, Status: api.PodStatus{Phase: api.PodRunning, ContainerStatuses: []api.ContainerStatus{running("app", true, 0)}}},
		&api.Pod{ObjectMeta: func() api.ObjectMeta {
			m := meta("lost", time.Hour)
			m.DeletionTimestamp = agoPtr(time.Second)
			return m
		}(), Spec: one, Status: api.PodStatus{Phase: api.PodRunning, Reason: nodeUnreachablePodReason}},
		&api.Pod{ObjectMeta: meta("init-waiting", time.Minute), Spec: withInit, Status: api.PodStatus{Phase: api.PodPending,
			InitContainerStatuses: []api.ContainerStatus{
				{Name: "init-1", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}},
				{Name: "init-2", State: api.ContainerState{Running: &api.ContainerStateRunning{}}}},
			ContainerStatuses: []api.ContainerStatus{{Name: "app", State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "PodInitializing"}}}}}},
		&api.Pod{ObjectMeta: meta("init-crash", time.Minute), Spec: withInit, Status: api.PodStatus{Phase: api.PodPending,
			InitContainerStatuses: []api.ContainerStatus{{Name: "init-1", RestartCount: 2,
				State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}}},
		&api.Pod{ObjectMeta: meta("init-failed", time.Minute), Spec: withInit, Status: api.PodStatus{Phase: api.PodFailed,
			InitContainerStatuses: []api.ContainerStatus{{Name: "init-1", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 4}}}}}},
		&api.Pod{ObjectMeta: meta("sidecar", time.Minute), Spec: api.PodSpec{
			InitContainers: []api.Container{{Name: "proxy", RestartPolicy: str("Always")}}, Containers: []api.Container{{Name: "app"}},
			ReadinessGates: []api.PodReadinessGate{{ConditionType: "example.com/gate"}, {ConditionType: "example.com/other"}}},
			Status: api.PodStatus{Phase: api.PodRunning, NominatedNodeName: "node-9",
				Conditions: append(readyCond, api.PodCondition{Type: "example.com/gate", Status: api.ConditionTrue}),
				InitContainerStatuses: []api.ContainerStatus{{Name: "proxy", Ready: true, Started: yes(), RestartCount: 1,
					State:                api.ContainerState{Running: &api.ContainerStateRunning{}},
					LastTerminationState: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(90 * time.Second)}}}},
				ContainerStatuses: []api.ContainerStatus{running("app", true, 0)}}},
		&api.Pod{ObjectMeta: meta("unknown-age", 0), Spec: one},
	}
	pods[len(pods)-1].GetObjectMeta().CreationTimestamp = api.Time{}
	golden(t, "pods", convert(t, "Pod", pods...))
}

func TestWorkloads(t *testing.T) {
	tmpl := api.PodTemplateSpec{Spec: api.PodSpec{Containers: []api.Container{{Name: "web", Image: "nginx:1.27"}, {Name: "log", Image: "busybox"}}}}
	sel := &api.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}
	golden(t, "deployments", convert(t, "Deployment",
		&api.Deployment{ObjectMeta: meta("web", 72*time.Hour+3*time.Hour), Spec: api.DeploymentSpec{Replicas: i32(3), Selector: sel, Template: tmpl},
			Status: api.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}},
		&api.Deployment{ObjectMeta: meta("default-replicas", 45*time.Second), Spec: api.DeploymentSpec{Selector: &api.LabelSelector{
			MatchExpressions: []api.LabelSelectorRequirement{{Key: "app", Operator: api.LabelSelectorOpIn, Values: []string{"b", "a"}}}}, Template: tmpl}},
	))
	golden(t, "replicasets", convert(t, "ReplicaSet",
		&api.ReplicaSet{ObjectMeta: meta("web-5d8f7c", 3*time.Hour), Spec: api.ReplicaSetSpec{Replicas: i32(3), Selector: sel, Template: tmpl},
			Status: api.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1}},
	))
	dsTmpl := tmpl
	dsTmpl.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux", "disk": "ssd"}
	golden(t, "daemonsets", convert(t, "DaemonSet",
		&api.DaemonSet{ObjectMeta: meta("agent", 8*24*time.Hour), Spec: api.DaemonSetSpec{Selector: sel, Template: dsTmpl},
			Status: api.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2}},
		&api.DaemonSet{ObjectMeta: meta("anywhere", time.Minute), Spec: api.DaemonSetSpec{Selector: sel, Template: tmpl}},
	))
	golden(t, "roles", convert(t, "Role", &api.Role{ObjectMeta: meta("pod-reader", 2*time.Hour)}))
	golden(t, "clusterroles", convert(t, "ClusterRole", &api.ClusterRole{ObjectMeta: meta("view", 30*24*time.Hour)}))
	subjects := []api.Subject{{Kind: "User", Name: "alice"}, {Kind: "User", Name: "bob"}, {Kind: "Group", Name: "devs"},
		{Kind: "ServiceAccount", Namespace: "ci", Name: "builder"}}
	golden(t, "rolebindings", convert(t, "RoleBinding",
		&api.RoleBinding{ObjectMeta: meta("read-pods", 5*time.Minute), RoleRef: api.RoleRef{Kind: "Role", Name: "pod-reader"}, Subjects: subjects},
		&api.RoleBinding{ObjectMeta: meta("nobody", time.Hour), RoleRef: api.RoleRef{Kind: "ClusterRole", Name: "edit"}}))
	golden(t, "clusterrolebindings", convert(t, "ClusterRoleBinding",
		&api.ClusterRoleBinding{ObjectMeta: meta("cluster-admin", 3*24*time.Hour), RoleRef: api.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []api.Subject{{Kind: "Group", Name: "system:masters"}}}))
	job := func(name string, mod func(*api.Job)) *api.Job {
		j := &api.Job{ObjectMeta: meta(name, 20*time.Minute), Spec: api.JobSpec{Template: tmpl, Selector: sel}}
		mod(j)
		return j
	}
	golden(t, "jobs", convert(t, "Job",
		job("complete", func(j *api.Job) {
			j.Spec.Completions = i32(3)
			j.Status = api.JobStatus{Succeeded: 3, StartTime: agoPtr(19 * time.Minute), CompletionTime: agoPtr(17*time.Minute - 30*time.Second),
				Conditions: []api.JobCondition{{Type: api.JobComplete, Status: api.ConditionTrue}}}
		}),
		job("running", func(j *api.Job) { j.Status = api.JobStatus{Active: 1, StartTime: agoPtr(90 * time.Second)} }),
		job("parallel", func(j *api.Job) { j.Spec.Parallelism = i32(4); j.Status.Succeeded = 1 }),
		job("failed", func(j *api.Job) {
			j.Spec.Completions = i32(1)
			j.Status.Conditions = []api.JobCondition{{Type: api.JobFailed, Status: api.ConditionTrue, Reason: api.JobReasonBackoffLimitExceeded}}
		}),
		job("suspended", func(j *api.Job) {
			j.Status.Conditions = []api.JobCondition{{Type: api.JobSuspended, Status: api.ConditionTrue}}
		}),
		job("terminating", func(j *api.Job) { j.DeletionTimestamp = agoPtr(time.Second) }),
	))
}

func TestClusterKinds(t *testing.T) {
	golden(t, "nodes", convert(t, "Node",
		&api.Node{ObjectMeta: api.ObjectMeta{Name: "node-0", CreationTimestamp: ago(30 * 24 * time.Hour), Labels: map[string]string{
			"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "", "kubernetes.io/role": "edge"}},
			Status: api.NodeStatus{Conditions: []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue}},
				Addresses: []api.NodeAddress{{Type: api.NodeHostName, Address: "node-0"}, {Type: api.NodeInternalIP, Address: "10.0.0.10"},
					{Type: api.NodeExternalIP, Address: "203.0.113.7"}},
				NodeInfo: api.NodeSystemInfo{KubeletVersion: "v1.32.0-flotilla", OSImage: "Debian GNU/Linux 13", KernelVersion: "6.12.0",
					ContainerRuntimeVersion: "docker://28.1.1"}}},
		&api.Node{ObjectMeta: api.ObjectMeta{Name: "node-1", CreationTimestamp: ago(61 * time.Minute)}, Spec: api.NodeSpec{Unschedulable: true},
			Status: api.NodeStatus{Conditions: []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionUnknown}}}},
		&api.Node{ObjectMeta: api.ObjectMeta{Name: "node-2", CreationTimestamp: ago(time.Second)}},
	))
	golden(t, "namespaces", convert(t, "Namespace",
		&api.Namespace{ObjectMeta: api.ObjectMeta{Name: "default", CreationTimestamp: ago(400 * 24 * time.Hour)}, Status: api.NamespaceStatus{Phase: api.NamespaceActive}},
		&api.Namespace{ObjectMeta: api.ObjectMeta{Name: "going", CreationTimestamp: ago(2 * time.Hour)}, Status: api.NamespaceStatus{Phase: api.NamespaceTerminating}},
	))
	golden(t, "configmaps", convert(t, "ConfigMap",
		&api.ConfigMap{ObjectMeta: meta("settings", 7*time.Minute), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}},
		&api.ConfigMap{ObjectMeta: meta("empty", 7*time.Minute)},
	))
	golden(t, "secrets", convert(t, "Secret",
		&api.Secret{ObjectMeta: meta("db-password", 3*time.Minute), Type: api.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("hunter2")}},
		&api.Secret{ObjectMeta: meta("web-tls", 48*time.Hour), Type: api.SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}},
	))
	golden(t, "events", convert(t, "Event",
		&api.Event{ObjectMeta: meta("web-1.17a", 10*time.Minute), Type: api.EventTypeWarning, Reason: "BackOff",
			InvolvedObject: api.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{app}"},
			Message:        "Back-off restarting failed container app\n", Source: api.EventSource{Component: "agent", Host: "node-1"},
			FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(20 * time.Second), Count: 7},
		&api.Event{ObjectMeta: meta("web.17b", time.Minute), Type: api.EventTypeNormal, Reason: "ScalingReplicaSet",
			InvolvedObject: api.ObjectReference{Kind: "Deployment", Name: "web"}, Message: "Scaled up replica set web-5d8f7c to 3",
			ReportingController: "deployment-controller", EventTime: agoPtr(time.Minute)},
		&api.Event{ObjectMeta: meta("series", time.Hour), Type: api.EventTypeNormal, Reason: "Pulled",
			InvolvedObject: api.ObjectReference{Kind: "Node"}, FirstTimestamp: ago(time.Hour),
			Series: &api.EventSeries{Count: 12, LastObservedTime: agoPtr(3 * time.Minute)}},
	))
	golden(t, "leases", convert(t, "Lease",
		&api.Lease{ObjectMeta: api.ObjectMeta{Name: "node-0", Namespace: api.NodeLeaseNamespace, CreationTimestamp: ago(3 * time.Hour)},
			Spec: api.LeaseSpec{HolderIdentity: str("node-0"), LeaseDurationSeconds: i32(40)}},
		&api.Lease{ObjectMeta: meta("unheld", 5*time.Minute)},
	))
	golden(t, "generic", convert(t, "Widget",
		&api.ConfigMap{ObjectMeta: meta("db", 100*time.Second)}, // any kind without columns of its own
	))
}

func TestWrongKind(t *testing.T) {
	_, err := New().ConvertToTable(api.KindInfo{Kind: "Pod"}, []api.Object{&api.Node{}}, apiserver.TableOptions{Now: now})
	if !api.IsBadRequest(err) {
		t.Fatalf("err = %v; want BadRequest", err)
	}
}
