package strategy

import (
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func validDeployment() *api.Deployment {
	d := newTestDeployment()
	defaultObject(d)
	return d
}

func validPod() *api.Pod {
	d := validDeployment()
	p := &api.Pod{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: api.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec:       api.Clone(d.Spec.Template.Spec)}
	return p
}

func TestValidateValidObjects(t *testing.T) {
	objs := []api.Object{
		validDeployment(),
		validPod(),
		&api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web-5d8f", Namespace: "shop"}, Spec: api.ReplicaSetSpec{
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: validDeployment().Spec.Template}},
		&api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop"}},
		&api.Node{ObjectMeta: api.ObjectMeta{Name: "node-1.example.com"}, Spec: api.NodeSpec{PodCIDR: "10.0.1.0/24",
			Taints: []api.Taint{{Key: "dedicated", Value: "db", Effect: api.TaintEffectNoSchedule}}},
			Status: api.NodeStatus{Capacity: api.ResourceList{api.ResourceCPU: api.MustParse("4")}}},
		&api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cfg", Namespace: "shop"}, Data: map[string]string{"a.yaml": "x"},
			BinaryData: map[string][]byte{"b.bin": {0, 1}}},
		&api.Event{ObjectMeta: api.ObjectMeta{Name: "web-1.17a", Namespace: "shop"},
			InvolvedObject: api.ObjectReference{Kind: "Pod", Name: "web-1", Namespace: "shop"}, Reason: "Scheduled", Type: api.EventTypeNormal},
		&api.Pod{ObjectMeta: api.ObjectMeta{GenerateName: "web-", Namespace: "shop"}, Spec: validPod().Spec},
	}
	for _, o := range objs {
		defaultObject(o)
		if err := validate(o); err != nil {
			t.Errorf("%T %s: %v", o, o.GetName(), err)
		}
	}
}

func TestValidateDeployment(t *testing.T) {
	const c0 = "spec.template.spec.containers[0]"
	tests := []struct {
		name   string
		mutate func(d *api.Deployment)
		fields []string
	}{
		{"negative replicas", func(d *api.Deployment) { d.Spec.Replicas = api.Ptr(int32(-1)) }, []string{"spec.replicas"}},
		{"bad name", func(d *api.Deployment) { d.Name = "Web_1" }, []string{"metadata.name"}},
		{"name too long", func(d *api.Deployment) { d.Name = strings.Repeat("a", 254) }, []string{"metadata.name"}},
		{"no name", func(d *api.Deployment) { d.Name = "" }, []string{"metadata.name"}},
		{"bad generateName", func(d *api.Deployment) { d.Name = ""; d.GenerateName = "Web-" }, []string{"metadata.generateName"}},
		{"long generateName is fine", func(d *api.Deployment) { d.Name = ""; d.GenerateName = strings.Repeat("a", 252) + "-" }, nil},
		{"generateName too long", func(d *api.Deployment) { d.Name = ""; d.GenerateName = strings.Repeat("a", 254) }, []string{"metadata.generateName"}},
		{"no namespace", func(d *api.Deployment) { d.Namespace = "" }, []string{"metadata.namespace"}},
		{"bad namespace", func(d *api.Deployment) { d.Namespace = "a.b" }, []string{"metadata.namespace"}},
		{"bad label key and value", func(d *api.Deployment) {
			d.Labels = map[string]string{"-bad": "ok", "good": "not ok!", "a/b/c": ""}
		}, []string{"metadata.labels", "metadata.labels", "metadata.labels[good]"}},
		{"annotations too large", func(d *api.Deployment) {
			d.Annotations = map[string]string{"big": strings.Repeat("x", api.TotalAnnotationSizeLimitB)}
		}, []string{"metadata.annotations"}},
		{"two controllers", func(d *api.Deployment) {
			d.OwnerReferences = []api.OwnerReference{
				{APIVersion: "v1", Kind: "X", Name: "a", UID: "1", Controller: api.Ptr(true)},
				{APIVersion: "v1", Kind: "X", Name: "b", UID: "2", Controller: api.Ptr(true)},
				{Kind: "X"},
			}
		}, []string{"metadata.ownerReferences[1].controller", "metadata.ownerReferences[2].apiVersion",
			"metadata.ownerReferences[2].name", "metadata.ownerReferences[2].uid"}},
		{"nil selector", func(d *api.Deployment) { d.Spec.Selector = nil }, []string{"spec.selector"}},
		{"empty selector", func(d *api.Deployment) { d.Spec.Selector = &api.LabelSelector{} }, []string{"spec.selector"}},
		{"selector does not match template", func(d *api.Deployment) {
			d.Spec.Selector.MatchLabels = map[string]string{"app": "api"}
		}, []string{"spec.template.metadata.labels"}},
		{"bad selector expression", func(d *api.Deployment) {
			d.Spec.Selector.MatchExpressions = []api.LabelSelectorRequirement{{Key: "tier", Operator: "Is"}}
		}, []string{"spec.selector.matchExpressions[0].operator"}},
		{"missing image", func(d *api.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }, []string{c0 + ".image"}},
		{"duplicate container names", func(d *api.Deployment) {
			c := api.Clone(d.Spec.Template.Spec.Containers[0])
			c.Ports = nil
			c.ReadinessProbe = nil
			d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, c)
		}, []string{"spec.template.spec.containers[1].name"}},
		{"bad container name", func(d *api.Deployment) { d.Spec.Template.Spec.Containers[0].Name = "Web" }, []string{c0 + ".name"}},
		{"no containers", func(d *api.Deployment) { d.Spec.Template.Spec.Containers = nil }, []string{"spec.template.spec.containers"}},
		{"port out of range", func(d *api.Deployment) {
			d.Spec.Template.Spec.Containers[0].Ports = append(d.Spec.Template.Spec.Containers[0].Ports,
				api.ContainerPort{ContainerPort: 0, Protocol: api.ProtocolTCP}, api.ContainerPort{ContainerPort: 70000, HostPort: -1, Protocol: "HTTP"})
		}, []string{c0 + ".ports[1].containerPort", c0 + ".ports[2].containerPort", c0 + ".ports[2].hostPort", c0 + ".ports[2].protocol"}},
		{"duplicate port names", func(d *api.Deployment) {
			d.Spec.Template.Spec.Containers[0].Ports = append(d.Spec.Template.Spec.Containers[0].Ports,
				api.ContainerPort{Name: "http", ContainerPort: 8081, Protocol: api.ProtocolTCP}, api.ContainerPort{Name: "1234", ContainerPort: 8082, Protocol: api.ProtocolTCP})
		}, []string{c0 + ".ports[1].name", c0 + ".ports[2].name"}},
		{"requests above limits", func(d *api.Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources.Requests[api.ResourceCPU] = api.MustParse("2")
			d.Spec.Template.Spec.Containers[0].Resources.Requests[api.ResourceMemory] = api.MustParse("1Gi")
		}, []string{c0 + ".resources.requests[cpu]", c0 + ".resources.requests[memory]"}},
		{"negative quantity", func(d *api.Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources.Limits[api.ResourceCPU] = api.MustParse("-1")
		}, []string{c0 + ".resources.limits[cpu]", c0 + ".resources.requests[cpu]"}},
		{"probe without handler", func(d *api.Deployment) {
			d.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet = nil
		}, []string{c0 + ".readinessProbe"}},
		{"probe with two handlers", func(d *api.Deployment) {
			d.Spec.Template.Spec.Containers[0].ReadinessProbe.TCPSocket = &api.TCPSocketAction{Port: api.FromInt(8080)}
		}, []string{c0 + ".readinessProbe"}},
		{"probe port name not declared", func(d *api.Deployment) {
			d.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Port = api.FromString("htp")
		}, []string{c0 + ".readinessProbe.httpGet.port"}},
		{"probe numbers", func(d *api.Deployment) {
			p := d.Spec.Template.Spec.Containers[0].ReadinessProbe
			p.PeriodSeconds, p.TimeoutSeconds, p.FailureThreshold, p.InitialDelaySeconds = 0, -1, 0, -5
		}, []string{c0 + ".readinessProbe.failureThreshold", c0 + ".readinessProbe.initialDelaySeconds",
			c0 + ".readinessProbe.periodSeconds", c0 + ".readinessProbe.timeoutSeconds"}},
		{"liveness successThreshold", func(d *api.Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			c.LivenessProbe = &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"true"}}},
				PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 2, FailureThreshold: 1}
			c.StartupProbe = &api.Probe{ProbeHandler: api.ProbeHandler{GRPC: &api.GRPCAction{Port: 0}},
				PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 3, FailureThreshold: 1}
			c.ReadinessProbe.SuccessThreshold = 3 // allowed for readiness
		}, []string{c0 + ".livenessProbe.successThreshold", c0 + ".startupProbe.grpc.port", c0 + ".startupProbe.successThreshold"}},
		{"sub-second period extension", func(d *api.Deployment) {
			p := d.Spec.Template.Spec.Containers[0].ReadinessProbe
			p.PeriodSeconds, p.PeriodMilliseconds = 0, 100 // valid: extension replaces periodSeconds
		}, nil},
		{"maxSurge and maxUnavailable both zero", func(d *api.Deployment) {
			d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{MaxSurge: api.IntOrStringPtr(api.FromString("0%")), MaxUnavailable: api.IntOrStringPtr(api.FromInt(0))}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{"percent over 100 and malformed", func(d *api.Deployment) {
			d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{MaxSurge: api.IntOrStringPtr(api.FromString("ten")), MaxUnavailable: api.IntOrStringPtr(api.FromString("150%"))}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable", "spec.strategy.rollingUpdate.maxSurge"}},
		{"negative maxSurge", func(d *api.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = api.IntOrStringPtr(api.FromInt(-1))
		}, []string{"spec.strategy.rollingUpdate.maxSurge"}},
		{"recreate with rollingUpdate", func(d *api.Deployment) { d.Spec.Strategy.Type = api.RecreateDeploymentStrategyType },
			[]string{"spec.strategy.rollingUpdate"}},
		{"bad strategy type", func(d *api.Deployment) { d.Spec.Strategy.Type = "BlueGreen" }, []string{"spec.strategy.type"}},
		{"template restartPolicy", func(d *api.Deployment) { d.Spec.Template.Spec.RestartPolicy = api.RestartPolicyNever },
			[]string{"spec.template.spec.restartPolicy"}},
		{"unknown restartPolicy", func(d *api.Deployment) { d.Spec.Template.Spec.RestartPolicy = "Sometimes" },
			[]string{"spec.template.spec.restartPolicy"}},
		{"progress deadline not above minReady", func(d *api.Deployment) {
			d.Spec.MinReadySeconds = 600
		}, []string{"spec.progressDeadlineSeconds"}},
		{"negative history and minReady", func(d *api.Deployment) {
			d.Spec.RevisionHistoryLimit = api.Ptr(int32(-1))
			d.Spec.MinReadySeconds = -1
		}, []string{"spec.minReadySeconds", "spec.revisionHistoryLimit"}},
		{"many problems at once", func(d *api.Deployment) {
			d.Spec.Replicas = api.Ptr(int32(-2))
			d.Spec.Template.Spec.Containers[0].Image = ""
			d.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
		}, []string{"spec.replicas", "spec.template.metadata.labels", c0 + ".image"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDeployment()
			tt.mutate(d)
			err := validate(d)
			checkFieldErrors(t, err, tt.fields)
		})
	}
}

// checkFieldErrors asserts that err is Invalid with exactly the given
// field paths (in any order), each named in the message; nil fields means
// no error.
func checkFieldErrors(t *testing.T, err error, fields []string) {
	t.Helper()
	if fields == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !api.IsInvalid(err) {
		t.Fatalf("error %v: want IsInvalid", err)
	}
	got := api.FieldErrors(err).Fields()
	slices.Sort(got)
	want := slices.Clone(fields)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("field paths %q, want %q\nerror: %v", got, want, err)
	}
	for _, f := range fields {
		if !strings.Contains(err.Error(), f+": ") {
			t.Errorf("message does not name %s: %v", f, err)
		}
	}
}

func TestValidatePod(t *testing.T) {
	const c0 = "spec.containers[0]"
	tests := []struct {
		name   string
		mutate func(p *api.Pod)
		fields []string
	}{
		{"grace periods that overflow a Duration", func(p *api.Pod) {
			p.Spec.TerminationGracePeriodSeconds = api.Ptr(int64(1) << 62)
			p.Spec.Containers[0].LivenessProbe = &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"true"}}},
				PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1, TerminationGracePeriodSeconds: api.Ptr(int64(maxDurationSeconds + 1))}
			p.Spec.Containers[0].Lifecycle = &api.Lifecycle{PreStop: &api.LifecycleHandler{Sleep: &api.SleepAction{Seconds: 1 << 40}}}
		}, []string{c0 + ".lifecycle.preStop.sleep.seconds", c0 + ".livenessProbe.terminationGracePeriodSeconds",
			"spec.terminationGracePeriodSeconds"}},
		{"the longest grace period is fine", func(p *api.Pod) {
			p.Spec.TerminationGracePeriodSeconds = api.Ptr(int64(maxDurationSeconds))
		}, nil},
		{"volume mount without volume", func(p *api.Pod) {
			p.Spec.Containers[0].VolumeMounts = []api.VolumeMount{{Name: "data", MountPath: "/d"}, {Name: "", MountPath: "/d"}}
		}, []string{c0 + ".volumeMounts[0].name", c0 + ".volumeMounts[1].mountPath", c0 + ".volumeMounts[1].name"}},
		{"volumes", func(p *api.Pod) {
			p.Spec.Volumes = []api.Volume{
				{Name: "a", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
				{Name: "a", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{}}},
				{Name: "b"},
				{Name: "c", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: "/x"}, EmptyDir: &api.EmptyDirVolumeSource{}}},
				{Name: "D", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "s", Items: []api.KeyToPath{{Key: "k", Path: "../x"}}}}},
				{Name: "e", VolumeSource: api.VolumeSource{PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{}}},
			}
		}, []string{"spec.volumes[1].name", "spec.volumes[1].configMap.name", "spec.volumes[2]", "spec.volumes[3]",
			"spec.volumes[4].name", "spec.volumes[4].secret.items[0].path", "spec.volumes[5].persistentVolumeClaim.claimName",
			"spec.volumes[5].persistentVolumeClaim"}},
		{"volume sources", func(p *api.Pod) {
			mode := func(m int32) *int32 { return &m }
			size := api.MustParse("1Gi")
			p.Spec.Volumes = []api.Volume{
				{Name: "h", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: "rel", Type: api.Ptr("Dir")}}},
				{Name: "e", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{Medium: "Disk"}}},
				{Name: "f", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{SizeLimit: &size}}},
				{Name: "c", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{
					LocalObjectReference: api.LocalObjectReference{Name: "c"}, DefaultMode: mode(0o1000)}}},
				{Name: "d", VolumeSource: api.VolumeSource{DownwardAPI: &api.DownwardAPIVolumeSource{Items: []api.DownwardAPIVolumeFile{
					{Path: "/abs", FieldRef: &api.ObjectFieldSelector{FieldPath: "spec.nodeName"}},
					{Path: "r", ResourceFieldRef: &api.ResourceFieldSelector{Resource: "limits.cpu"}},
					{Path: "s", ResourceFieldRef: &api.ResourceFieldSelector{ContainerName: "nope", Resource: "limits.cpu"}},
					{Path: "n"},
				}}}},
				{Name: "p", VolumeSource: api.VolumeSource{Projected: &api.ProjectedVolumeSource{Sources: []api.VolumeProjection{
					{ConfigMap: &api.ConfigMapProjection{LocalObjectReference: api.LocalObjectReference{Name: "c"}, Items: []api.KeyToPath{{Key: "k", Path: "x"}}}},
					{DownwardAPI: &api.DownwardAPIProjection{Items: []api.DownwardAPIVolumeFile{{Path: "x", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
					{ServiceAccountToken: &api.ServiceAccountTokenProjection{Path: "token"}},
					{},
				}}}},
			}
			p.Spec.Containers[0].VolumeMounts = []api.VolumeMount{
				{Name: "e", MountPath: "/e", SubPath: "sub"},
				{Name: "c", MountPath: "/c", SubPathExpr: "$(POD)", MountPropagation: api.Ptr("HostToContainer"), RecursiveReadOnly: api.Ptr("Enabled")},
				{Name: "c", MountPath: "/c2", MountPropagation: api.Ptr("None"), RecursiveReadOnly: api.Ptr("Disabled")},
			}
		}, []string{"spec.volumes[0].hostPath.path", "spec.volumes[0].hostPath.type", "spec.volumes[1].emptyDir.medium",
			"spec.volumes[2].emptyDir.sizeLimit", "spec.volumes[3].configMap.defaultMode",
			"spec.volumes[4].downwardAPI.items[0].path", "spec.volumes[4].downwardAPI.items[0].fieldRef.fieldPath",
			"spec.volumes[4].downwardAPI.items[1].resourceFieldRef.containerName", "spec.volumes[4].downwardAPI.items[2].resourceFieldRef.containerName",
			"spec.volumes[4].downwardAPI.items[3]", "spec.volumes[5].projected.sources[1].downwardAPI.items[0].path",
			"spec.volumes[5].projected.sources[2].serviceAccountToken", "spec.volumes[5].projected.sources[3]",
			c0 + ".volumeMounts[0].subPath", c0 + ".volumeMounts[1].subPathExpr", c0 + ".volumeMounts[1].mountPropagation",
			c0 + ".volumeMounts[1].recursiveReadOnly"}},
		{"env", func(p *api.Pod) {
			p.Spec.Containers[0].Env = []api.EnvVar{
				{Name: "A=B", Value: "x"},
				{Name: "B", Value: "x", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "C", ValueFrom: &api.EnvVarSource{}},
				{Name: "D", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "spec.containers"}}},
				{Name: "E", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{}}},
				{Name: "F", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
				// Whole maps are for downwardAPI volumes only.
				{Name: "G", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels"}}},
				{Name: "H", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "s"}, Key: "k"}}},
			}
			p.Spec.Containers[0].EnvFrom = []api.EnvFromSource{{}, {SecretRef: &api.SecretEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "s"}}}}
		}, []string{c0 + ".env[0].name", c0 + ".env[1].valueFrom", c0 + ".env[2].valueFrom", c0 + ".env[3].valueFrom.fieldRef.fieldPath",
			c0 + ".env[4].valueFrom.configMapKeyRef.key", c0 + ".env[4].valueFrom.configMapKeyRef.name", c0 + ".envFrom[0]",
			c0 + ".env[6].valueFrom.fieldRef.fieldPath"}},
		{"restart policy and grace", func(p *api.Pod) {
			p.Spec.RestartPolicy = ""
			p.Spec.TerminationGracePeriodSeconds = api.Ptr(int64(-1))
		}, []string{"spec.restartPolicy", "spec.terminationGracePeriodSeconds"}},
		{"onFailure allowed for pods", func(p *api.Pod) { p.Spec.RestartPolicy = api.RestartPolicyOnFailure }, nil},
		{"tolerations and affinity", func(p *api.Pod) {
			p.Spec.Tolerations = []api.Toleration{
				{Operator: api.TolerationOpExists},
				{Key: "k", Operator: api.TolerationOpExists, Value: "v"},
				{Operator: api.TolerationOpEqual, Value: "v"},
				{Key: "k", Operator: "Like", Effect: "Evict"},
			}
			p.Spec.Affinity = &api.Affinity{NodeAffinity: &api.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{NodeSelectorTerms: []api.NodeSelectorTerm{{
					MatchExpressions: []api.NodeSelectorRequirement{{Key: "zone", Operator: api.NodeSelectorOpIn}, {Key: "cpu", Operator: api.NodeSelectorOpGt, Values: []string{"x"}}},
				}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []api.PreferredSchedulingTerm{{Weight: 0}},
			}}
		}, []string{"spec.tolerations[1].value", "spec.tolerations[2].operator", "spec.tolerations[3].operator", "spec.tolerations[3].effect",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values[0]",
			"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"}},
		{"host network port mismatch and duplicate host port", func(p *api.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports,
				api.ContainerPort{ContainerPort: 9000, HostPort: 9001, Protocol: api.ProtocolTCP},
				api.ContainerPort{ContainerPort: 9001, HostPort: 9001, Protocol: api.ProtocolTCP})
		}, []string{c0 + ".ports[1].hostPort", c0 + ".ports[2].hostPort", "spec.hostNetwork"}},
		{"init container probes and lifecycle", func(p *api.Pod) {
			p.Spec.InitContainers = []api.Container{{Name: "init", Image: "busybox", ImagePullPolicy: api.PullAlways,
				LivenessProbe: &api.Probe{}}}
			p.Spec.Containers[0].Lifecycle = &api.Lifecycle{PreStop: &api.LifecycleHandler{}, PostStart: &api.LifecycleHandler{
				HTTPGet: &api.HTTPGetAction{Port: api.FromString("nope"), Scheme: "FTP"}}}
			p.Spec.Containers[0].ImagePullPolicy = "Sometimes"
		}, []string{"spec.initContainers[0].livenessProbe", c0 + ".lifecycle.preStop", c0 + ".lifecycle.postStart.httpGet.port",
			c0 + ".lifecycle.postStart.httpGet.scheme", c0 + ".imagePullPolicy", c0 + ".lifecycle.postStart"}},
		{"sidecars", func(p *api.Pod) {
			always, never := string(api.RestartPolicyAlways), string(api.RestartPolicyNever)
			probe := &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"ok"}}},
				PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
			hooks := &api.Lifecycle{PreStop: &api.LifecycleHandler{Exec: &api.ExecAction{Command: []string{"bye"}}}}
			p.Spec.InitContainers = []api.Container{
				{Name: "proxy", Image: "p:1", ImagePullPolicy: api.PullAlways, RestartPolicy: &always, StartupProbe: probe, LivenessProbe: probe, Lifecycle: hooks},
				{Name: "setup", Image: "s:1", ImagePullPolicy: api.PullAlways, RestartPolicy: &never},
				{Name: "plain", Image: "s:1", ImagePullPolicy: api.PullAlways, Lifecycle: hooks},
			}
			p.Spec.Containers[0].RestartPolicy = &always
		}, []string{"spec.initContainers[1].restartPolicy", "spec.initContainers[2].lifecycle", c0 + ".restartPolicy"}},
		{"init and app container share a name", func(p *api.Pod) {
			p.Spec.InitContainers = []api.Container{{Name: "web", Image: "busybox", ImagePullPolicy: api.PullAlways}}
		}, []string{c0 + ".name"}},
		{"security contexts", func(p *api.Pod) {
			id := func(v int64) *int64 { return &v }
			p.Spec.SecurityContext = &api.PodSecurityContext{RunAsUser: id(-1), FSGroup: id(1 << 31), SupplementalGroups: []int64{1, -2},
				FSGroupChangePolicy: api.Ptr("Sometimes"), SeccompProfile: &api.SeccompProfile{Type: "Localhost"}}
			p.Spec.Containers[0].SecurityContext = &api.SecurityContext{RunAsGroup: id(-3), Privileged: api.Ptr(true),
				AllowPrivilegeEscalation: api.Ptr(false), Capabilities: &api.Capabilities{Add: []string{"CAP_SYS_ADMIN", "FLY"}, Drop: []string{"ALL"}},
				ProcMount: api.Ptr("Masked"), SeccompProfile: &api.SeccompProfile{Type: "RuntimeDefault", LocalhostProfile: api.Ptr("x.json")}}
		}, []string{"spec.securityContext.runAsUser", "spec.securityContext.fsGroup", "spec.securityContext.supplementalGroups[1]",
			"spec.securityContext.fsGroupChangePolicy", "spec.securityContext.seccompProfile.localhostProfile",
			"spec.securityContext.seccompProfile.type", c0 + ".securityContext.runAsGroup", c0 + ".securityContext.capabilities.add[1]",
			c0 + ".securityContext.allowPrivilegeEscalation", c0 + ".securityContext.allowPrivilegeEscalation",
			c0 + ".securityContext.procMount", c0 + ".securityContext.seccompProfile.localhostProfile"}},
		{"valid security contexts", func(p *api.Pod) {
			id := func(v int64) *int64 { return &v }
			p.Spec.SecurityContext = &api.PodSecurityContext{RunAsUser: id(0), RunAsNonRoot: api.Ptr(false), FSGroup: id(2000),
				FSGroupChangePolicy: api.Ptr("OnRootMismatch"), SeccompProfile: &api.SeccompProfile{Type: "RuntimeDefault"}}
			p.Spec.Containers[0].SecurityContext = &api.SecurityContext{AllowPrivilegeEscalation: api.Ptr(false),
				Capabilities: &api.Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}}, ProcMount: api.Ptr("Default"),
				SeccompProfile: &api.SeccompProfile{Type: "Unconfined"}, ReadOnlyRootFilesystem: api.Ptr(true)}
		}, nil},
		{"namespace on cluster-scoped is checked elsewhere; bad nodeName", func(p *api.Pod) { p.Spec.NodeName = "Node_1" },
			[]string{"spec.nodeName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(p)
			checkFieldErrors(t, validate(p), tt.fields)
		})
	}
}

func TestValidateOtherKinds(t *testing.T) {
	tests := []struct {
		name   string
		obj    api.Object
		fields []string
	}{
		{"namespace with dots", &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "a.b"}}, []string{"metadata.name"}},
		{"namespace on cluster-scoped kind", &api.Node{ObjectMeta: api.ObjectMeta{Name: "n1", Namespace: "default"}}, []string{"metadata.namespace"}},
		{"node", &api.Node{ObjectMeta: api.ObjectMeta{Name: "n1"}, Spec: api.NodeSpec{PodCIDR: "10.0.0/24",
			Taints: []api.Taint{{Key: "", Effect: "Sometimes"}}},
			Status: api.NodeStatus{Allocatable: api.ResourceList{api.ResourceMemory: api.MustParse("-1Gi")}}},
			[]string{"spec.podCIDR", "spec.taints[0].key", "spec.taints[0].effect", "status.allocatable[memory]"}},
		{"configmap", &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "d"},
			Data: map[string]string{"a b": "", "ok": ""}, BinaryData: map[string][]byte{"ok": nil, "..x": nil}},
			[]string{"data[a b]", "binaryData[..x]", "binaryData[ok]"}},
		{"configmap too big", &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "d"},
			Data: map[string]string{"a": strings.Repeat("x", api.ConfigMapMaxSize+1)}}, []string{""}},
		{"event", &api.Event{ObjectMeta: api.ObjectMeta{Name: "e", Namespace: "d"}, Type: "Info", Count: -1,
			InvolvedObject: api.ObjectReference{Namespace: "other"}},
			[]string{"involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "type", "count"}},
		{"replicaset", &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "rs", Namespace: "d"}, Spec: api.ReplicaSetSpec{
			Replicas: api.Ptr(int32(-1)), Selector: &api.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
			Template: api.PodTemplateSpec{Spec: validPod().Spec}}},
			[]string{"spec.replicas", "spec.template.metadata.labels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFieldErrors(t, validate(tt.obj), tt.fields)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    api.Object
		mutate func(o api.Object)
		fields []string
	}{
		{"deployment selector immutable", validDeployment(), func(o api.Object) {
			d := o.(*api.Deployment)
			d.Spec.Selector.MatchLabels["tier"] = "x"
			d.Spec.Template.Labels["tier"] = "x"
		}, []string{"spec.selector"}},
		{"deployment scale and new image", validDeployment(), func(o api.Object) {
			d := o.(*api.Deployment)
			d.Spec.Replicas = api.Ptr(int32(10))
			d.Spec.Template.Spec.Containers[0].Image = "web:2"
		}, nil},
		{"metadata immutable", withMeta(validDeployment()), func(o api.Object) {
			m := o.GetObjectMeta()
			m.Name, m.Namespace, m.UID = "other", "elsewhere", "u2"
			m.CreationTimestamp = api.Time{}
		}, []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.creationTimestamp"}},
		{"replicaset selector immutable", &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "rs", Namespace: "d"}, Spec: api.ReplicaSetSpec{
			Replicas: api.Ptr(int32(1)), Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: validDeployment().Spec.Template}},
			func(o api.Object) {
				o.(*api.ReplicaSet).Spec.Selector.MatchLabels = nil
				o.(*api.ReplicaSet).Spec.Selector.MatchExpressions = []api.LabelSelectorRequirement{{Key: "app", Operator: api.LabelSelectorOpExists}}
			},
			[]string{"spec.selector"}},
		{"pod image, tolerations and binding allowed", validPod(), func(o api.Object) {
			p := o.(*api.Pod)
			p.Spec.Containers[0].Image = "web:2"
			p.Spec.Tolerations = append(p.Spec.Tolerations, api.Toleration{Key: "k", Operator: api.TolerationOpExists})
			p.Spec.NodeName = "node-1"
			p.Labels["extra"] = "ok"
			p.Status.Phase = api.PodRunning
		}, nil},
		{"pod spec otherwise immutable", validPod(), func(o api.Object) {
			o.(*api.Pod).Spec.Containers[0].Args = []string{"--x"}
		}, []string{"spec"}},
		{"pod rebinding forbidden", bound(validPod()), func(o api.Object) { o.(*api.Pod).Spec.NodeName = "node-2" },
			[]string{"spec.nodeName"}},
		{"immutable configmap", &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "d"}, Immutable: api.Ptr(true), Data: map[string]string{"a": "1"}},
			func(o api.Object) {
				c := o.(*api.ConfigMap)
				c.Data["a"] = "2"
				c.Immutable = api.Ptr(false)
				c.BinaryData = map[string][]byte{"b": {1}}
			}, []string{"data", "immutable", "binaryData"}},
		{"mutable configmap", &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "d"}, Data: map[string]string{"a": "1"}},
			func(o api.Object) { o.(*api.ConfigMap).Data["a"] = "2"; o.(*api.ConfigMap).Immutable = api.Ptr(true) }, nil},
		{"new object is validated too", validDeployment(), func(o api.Object) { o.(*api.Deployment).Spec.Replicas = api.Ptr(int32(-1)) },
			[]string{"spec.replicas"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defaultObject(tt.old)
			n := tt.old.DeepCopyObject()
			tt.mutate(n)
			checkFieldErrors(t, validateUpdate(tt.old, n), tt.fields)
		})
	}
}

func withMeta(d *api.Deployment) *api.Deployment {
	d.UID = "u1"
	d.CreationTimestamp = api.NewTime(mustTime(nil, "2024-01-01T00:00:00Z"))
	return d
}

func bound(p *api.Pod) *api.Pod {
	p.Spec.NodeName = "node-1"
	return p
}
