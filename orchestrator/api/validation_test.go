package api

import (
	"slices"
	"strings"
	"testing"
)

func validDeployment() *Deployment {
	d := newTestDeployment()
	Default(d)
	return d
}

func validPod() *Pod {
	d := validDeployment()
	p := &Pod{TypeMeta: TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec:       Clone(d.Spec.Template.Spec)}
	return p
}

func TestValidateValidObjects(t *testing.T) {
	objs := []Object{
		validDeployment(),
		validPod(),
		&ReplicaSet{ObjectMeta: ObjectMeta{Name: "web-5d8f", Namespace: "shop"}, Spec: ReplicaSetSpec{
			Selector: &LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: validDeployment().Spec.Template}},
		&Namespace{ObjectMeta: ObjectMeta{Name: "shop"}},
		&Node{ObjectMeta: ObjectMeta{Name: "node-1.example.com"}, Spec: NodeSpec{PodCIDR: "10.0.1.0/24",
			Taints: []Taint{{Key: "dedicated", Value: "db", Effect: TaintEffectNoSchedule}}},
			Status: NodeStatus{Capacity: ResourceList{ResourceCPU: MustParse("4")}}},
		&ConfigMap{ObjectMeta: ObjectMeta{Name: "cfg", Namespace: "shop"}, Data: map[string]string{"a.yaml": "x"},
			BinaryData: map[string][]byte{"b.bin": {0, 1}}},
		&Event{ObjectMeta: ObjectMeta{Name: "web-1.17a", Namespace: "shop"},
			InvolvedObject: ObjectReference{Kind: "Pod", Name: "web-1", Namespace: "shop"}, Reason: "Scheduled", Type: EventTypeNormal},
		&Pod{ObjectMeta: ObjectMeta{GenerateName: "web-", Namespace: "shop"}, Spec: validPod().Spec},
	}
	for _, o := range objs {
		Default(o)
		if err := Validate(o); err != nil {
			t.Errorf("%T %s: %v", o, o.GetName(), err)
		}
	}
}

func TestValidateDeployment(t *testing.T) {
	const c0 = "spec.template.spec.containers[0]"
	tests := []struct {
		name   string
		mutate func(d *Deployment)
		fields []string
	}{
		{"negative replicas", func(d *Deployment) { d.Spec.Replicas = Ptr(int32(-1)) }, []string{"spec.replicas"}},
		{"bad name", func(d *Deployment) { d.Name = "Web_1" }, []string{"metadata.name"}},
		{"name too long", func(d *Deployment) { d.Name = strings.Repeat("a", 254) }, []string{"metadata.name"}},
		{"no name", func(d *Deployment) { d.Name = "" }, []string{"metadata.name"}},
		{"bad generateName", func(d *Deployment) { d.Name = ""; d.GenerateName = "Web-" }, []string{"metadata.generateName"}},
		{"long generateName is fine", func(d *Deployment) { d.Name = ""; d.GenerateName = strings.Repeat("a", 252) + "-" }, nil},
		{"generateName too long", func(d *Deployment) { d.Name = ""; d.GenerateName = strings.Repeat("a", 254) }, []string{"metadata.generateName"}},
		{"no namespace", func(d *Deployment) { d.Namespace = "" }, []string{"metadata.namespace"}},
		{"bad namespace", func(d *Deployment) { d.Namespace = "a.b" }, []string{"metadata.namespace"}},
		{"bad label key and value", func(d *Deployment) {
			d.Labels = map[string]string{"-bad": "ok", "good": "not ok!", "a/b/c": ""}
		}, []string{"metadata.labels", "metadata.labels", "metadata.labels[good]"}},
		{"annotations too large", func(d *Deployment) {
			d.Annotations = map[string]string{"big": strings.Repeat("x", TotalAnnotationSizeLimitB)}
		}, []string{"metadata.annotations"}},
		{"two controllers", func(d *Deployment) {
			d.OwnerReferences = []OwnerReference{
				{APIVersion: "v1", Kind: "X", Name: "a", UID: "1", Controller: Ptr(true)},
				{APIVersion: "v1", Kind: "X", Name: "b", UID: "2", Controller: Ptr(true)},
				{Kind: "X"},
			}
		}, []string{"metadata.ownerReferences[1].controller", "metadata.ownerReferences[2].apiVersion",
			"metadata.ownerReferences[2].name", "metadata.ownerReferences[2].uid"}},
		{"nil selector", func(d *Deployment) { d.Spec.Selector = nil }, []string{"spec.selector"}},
		{"empty selector", func(d *Deployment) { d.Spec.Selector = &LabelSelector{} }, []string{"spec.selector"}},
		{"selector does not match template", func(d *Deployment) {
			d.Spec.Selector.MatchLabels = map[string]string{"app": "api"}
		}, []string{"spec.template.metadata.labels"}},
		{"bad selector expression", func(d *Deployment) {
			d.Spec.Selector.MatchExpressions = []LabelSelectorRequirement{{Key: "tier", Operator: "Is"}}
		}, []string{"spec.selector.matchExpressions[0].operator"}},
		{"missing image", func(d *Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }, []string{c0 + ".image"}},
		{"duplicate container names", func(d *Deployment) {
			c := Clone(d.Spec.Template.Spec.Containers[0])
			c.Ports = nil
			c.ReadinessProbe = nil
			d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, c)
		}, []string{"spec.template.spec.containers[1].name"}},
		{"bad container name", func(d *Deployment) { d.Spec.Template.Spec.Containers[0].Name = "Web" }, []string{c0 + ".name"}},
		{"no containers", func(d *Deployment) { d.Spec.Template.Spec.Containers = nil }, []string{"spec.template.spec.containers"}},
		{"port out of range", func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].Ports = append(d.Spec.Template.Spec.Containers[0].Ports,
				ContainerPort{ContainerPort: 0, Protocol: ProtocolTCP}, ContainerPort{ContainerPort: 70000, HostPort: -1, Protocol: "HTTP"})
		}, []string{c0 + ".ports[1].containerPort", c0 + ".ports[2].containerPort", c0 + ".ports[2].hostPort", c0 + ".ports[2].protocol"}},
		{"duplicate port names", func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].Ports = append(d.Spec.Template.Spec.Containers[0].Ports,
				ContainerPort{Name: "http", ContainerPort: 8081, Protocol: ProtocolTCP}, ContainerPort{Name: "1234", ContainerPort: 8082, Protocol: ProtocolTCP})
		}, []string{c0 + ".ports[1].name", c0 + ".ports[2].name"}},
		{"requests above limits", func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources.Requests[ResourceCPU] = MustParse("2")
			d.Spec.Template.Spec.Containers[0].Resources.Requests[ResourceMemory] = MustParse("1Gi")
		}, []string{c0 + ".resources.requests[cpu]", c0 + ".resources.requests[memory]"}},
		{"negative quantity", func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources.Limits[ResourceCPU] = MustParse("-1")
		}, []string{c0 + ".resources.limits[cpu]", c0 + ".resources.requests[cpu]"}},
		{"probe without handler", func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet = nil
		}, []string{c0 + ".readinessProbe"}},
		{"probe with two handlers", func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].ReadinessProbe.TCPSocket = &TCPSocketAction{Port: FromInt(8080)}
		}, []string{c0 + ".readinessProbe"}},
		{"probe port name not declared", func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Port = FromString("htp")
		}, []string{c0 + ".readinessProbe.httpGet.port"}},
		{"probe numbers", func(d *Deployment) {
			p := d.Spec.Template.Spec.Containers[0].ReadinessProbe
			p.PeriodSeconds, p.TimeoutSeconds, p.FailureThreshold, p.InitialDelaySeconds = 0, -1, 0, -5
		}, []string{c0 + ".readinessProbe.failureThreshold", c0 + ".readinessProbe.initialDelaySeconds",
			c0 + ".readinessProbe.periodSeconds", c0 + ".readinessProbe.timeoutSeconds"}},
		{"liveness successThreshold", func(d *Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			c.LivenessProbe = &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{Command: []string{"true"}}},
				PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 2, FailureThreshold: 1}
			c.StartupProbe = &Probe{ProbeHandler: ProbeHandler{GRPC: &GRPCAction{Port: 0}},
				PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 3, FailureThreshold: 1}
			c.ReadinessProbe.SuccessThreshold = 3 // allowed for readiness
		}, []string{c0 + ".livenessProbe.successThreshold", c0 + ".startupProbe.grpc.port", c0 + ".startupProbe.successThreshold"}},
		{"sub-second period extension", func(d *Deployment) {
			p := d.Spec.Template.Spec.Containers[0].ReadinessProbe
			p.PeriodSeconds, p.PeriodMilliseconds = 0, 100 // valid: extension replaces periodSeconds
		}, nil},
		{"maxSurge and maxUnavailable both zero", func(d *Deployment) {
			d.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxSurge: IntOrStringPtr(FromString("0%")), MaxUnavailable: IntOrStringPtr(FromInt(0))}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{"percent over 100 and malformed", func(d *Deployment) {
			d.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxSurge: IntOrStringPtr(FromString("ten")), MaxUnavailable: IntOrStringPtr(FromString("150%"))}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable", "spec.strategy.rollingUpdate.maxSurge"}},
		{"negative maxSurge", func(d *Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = IntOrStringPtr(FromInt(-1))
		}, []string{"spec.strategy.rollingUpdate.maxSurge"}},
		{"recreate with rollingUpdate", func(d *Deployment) { d.Spec.Strategy.Type = RecreateDeploymentStrategyType },
			[]string{"spec.strategy.rollingUpdate"}},
		{"bad strategy type", func(d *Deployment) { d.Spec.Strategy.Type = "BlueGreen" }, []string{"spec.strategy.type"}},
		{"template restartPolicy", func(d *Deployment) { d.Spec.Template.Spec.RestartPolicy = RestartPolicyNever },
			[]string{"spec.template.spec.restartPolicy"}},
		{"unknown restartPolicy", func(d *Deployment) { d.Spec.Template.Spec.RestartPolicy = "Sometimes" },
			[]string{"spec.template.spec.restartPolicy"}},
		{"wrong apiVersion for kind", func(d *Deployment) { d.APIVersion = "v1" }, []string{"apiVersion"}},
		{"wrong kind", func(d *Deployment) { d.Kind = "ReplicaSet" }, []string{"kind"}},
		{"progress deadline not above minReady", func(d *Deployment) {
			d.Spec.MinReadySeconds = 600
		}, []string{"spec.progressDeadlineSeconds"}},
		{"negative history and minReady", func(d *Deployment) {
			d.Spec.RevisionHistoryLimit = Ptr(int32(-1))
			d.Spec.MinReadySeconds = -1
		}, []string{"spec.minReadySeconds", "spec.revisionHistoryLimit"}},
		{"many problems at once", func(d *Deployment) {
			d.Spec.Replicas = Ptr(int32(-2))
			d.Spec.Template.Spec.Containers[0].Image = ""
			d.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
		}, []string{"spec.replicas", "spec.template.metadata.labels", c0 + ".image"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDeployment()
			tt.mutate(d)
			err := Validate(d)
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
	if !IsInvalid(err) {
		t.Fatalf("error %v: want IsInvalid", err)
	}
	got := FieldErrors(err).Fields()
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
		mutate func(p *Pod)
		fields []string
	}{
		{"volume mount without volume", func(p *Pod) {
			p.Spec.Containers[0].VolumeMounts = []VolumeMount{{Name: "data", MountPath: "/d"}, {Name: "", MountPath: "/d"}}
		}, []string{c0 + ".volumeMounts[0].name", c0 + ".volumeMounts[1].mountPath", c0 + ".volumeMounts[1].name"}},
		{"volumes", func(p *Pod) {
			p.Spec.Volumes = []Volume{
				{Name: "a", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{}}},
				{Name: "a", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{}}},
				{Name: "b"},
				{Name: "c", VolumeSource: VolumeSource{HostPath: &HostPathVolumeSource{Path: "/x"}, EmptyDir: &EmptyDirVolumeSource{}}},
				{Name: "D", VolumeSource: VolumeSource{Secret: &SecretVolumeSource{SecretName: "s", Items: []KeyToPath{{Key: "k", Path: "../x"}}}}},
				{Name: "e", VolumeSource: VolumeSource{PersistentVolumeClaim: &PersistentVolumeClaimVolumeSource{}}},
			}
		}, []string{"spec.volumes[1].name", "spec.volumes[1].configMap.name", "spec.volumes[2]", "spec.volumes[3]",
			"spec.volumes[4].name", "spec.volumes[4].secret.items[0].path", "spec.volumes[5].persistentVolumeClaim.claimName"}},
		{"env", func(p *Pod) {
			p.Spec.Containers[0].Env = []EnvVar{
				{Name: "A=B", Value: "x"},
				{Name: "B", Value: "x", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "C", ValueFrom: &EnvVarSource{}},
				{Name: "D", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "spec.containers"}}},
				{Name: "E", ValueFrom: &EnvVarSource{ConfigMapKeyRef: &ConfigMapKeySelector{}}},
				{Name: "F", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			}
			p.Spec.Containers[0].EnvFrom = []EnvFromSource{{}}
		}, []string{c0 + ".env[0].name", c0 + ".env[1].valueFrom", c0 + ".env[2].valueFrom", c0 + ".env[3].valueFrom.fieldRef.fieldPath",
			c0 + ".env[4].valueFrom.configMapKeyRef.key", c0 + ".env[4].valueFrom.configMapKeyRef.name", c0 + ".envFrom[0]"}},
		{"restart policy and grace", func(p *Pod) {
			p.Spec.RestartPolicy = ""
			p.Spec.TerminationGracePeriodSeconds = Ptr(int64(-1))
		}, []string{"spec.restartPolicy", "spec.terminationGracePeriodSeconds"}},
		{"onFailure allowed for pods", func(p *Pod) { p.Spec.RestartPolicy = RestartPolicyOnFailure }, nil},
		{"tolerations and affinity", func(p *Pod) {
			p.Spec.Tolerations = []Toleration{
				{Operator: TolerationOpExists},
				{Key: "k", Operator: TolerationOpExists, Value: "v"},
				{Operator: TolerationOpEqual, Value: "v"},
				{Key: "k", Operator: "Like", Effect: "Evict"},
			}
			p.Spec.Affinity = &Affinity{NodeAffinity: &NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &NodeSelector{NodeSelectorTerms: []NodeSelectorTerm{{
					MatchExpressions: []NodeSelectorRequirement{{Key: "zone", Operator: NodeSelectorOpIn}, {Key: "cpu", Operator: NodeSelectorOpGt, Values: []string{"x"}}},
				}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []PreferredSchedulingTerm{{Weight: 0}},
			}}
		}, []string{"spec.tolerations[1].value", "spec.tolerations[2].operator", "spec.tolerations[3].operator", "spec.tolerations[3].effect",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values[0]",
			"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"}},
		{"host network port mismatch and duplicate host port", func(p *Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports,
				ContainerPort{ContainerPort: 9000, HostPort: 9001, Protocol: ProtocolTCP},
				ContainerPort{ContainerPort: 9001, HostPort: 9001, Protocol: ProtocolTCP})
		}, []string{c0 + ".ports[1].hostPort", c0 + ".ports[2].hostPort"}},
		{"init container probes and lifecycle", func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "init", Image: "busybox", ImagePullPolicy: PullAlways,
				LivenessProbe: &Probe{}}}
			p.Spec.Containers[0].Lifecycle = &Lifecycle{PreStop: &LifecycleHandler{}, PostStart: &LifecycleHandler{
				HTTPGet: &HTTPGetAction{Port: FromString("nope"), Scheme: "FTP"}}}
			p.Spec.Containers[0].ImagePullPolicy = "Sometimes"
		}, []string{"spec.initContainers[0].livenessProbe", c0 + ".lifecycle.preStop", c0 + ".lifecycle.postStart.httpGet.port",
			c0 + ".lifecycle.postStart.httpGet.scheme", c0 + ".imagePullPolicy"}},
		{"init and app container share a name", func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "web", Image: "busybox", ImagePullPolicy: PullAlways}}
		}, []string{c0 + ".name"}},
		{"namespace on cluster-scoped is checked elsewhere; bad nodeName", func(p *Pod) { p.Spec.NodeName = "Node_1" },
			[]string{"spec.nodeName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(p)
			checkFieldErrors(t, Validate(p), tt.fields)
		})
	}
}

func TestValidateOtherKinds(t *testing.T) {
	tests := []struct {
		name   string
		obj    Object
		fields []string
	}{
		{"namespace with dots", &Namespace{ObjectMeta: ObjectMeta{Name: "a.b"}}, []string{"metadata.name"}},
		{"namespace on cluster-scoped kind", &Node{ObjectMeta: ObjectMeta{Name: "n1", Namespace: "default"}}, []string{"metadata.namespace"}},
		{"node", &Node{ObjectMeta: ObjectMeta{Name: "n1"}, Spec: NodeSpec{PodCIDR: "10.0.0/24",
			Taints: []Taint{{Key: "", Effect: "Sometimes"}}},
			Status: NodeStatus{Allocatable: ResourceList{ResourceMemory: MustParse("-1Gi")}}},
			[]string{"spec.podCIDR", "spec.taints[0].key", "spec.taints[0].effect", "status.allocatable[memory]"}},
		{"configmap", &ConfigMap{ObjectMeta: ObjectMeta{Name: "c", Namespace: "d"},
			Data: map[string]string{"a b": "", "ok": ""}, BinaryData: map[string][]byte{"ok": nil, "..x": nil}},
			[]string{"data[a b]", "binaryData[..x]", "binaryData[ok]"}},
		{"configmap too big", &ConfigMap{ObjectMeta: ObjectMeta{Name: "c", Namespace: "d"},
			Data: map[string]string{"a": strings.Repeat("x", ConfigMapMaxSize+1)}}, []string{""}},
		{"event", &Event{ObjectMeta: ObjectMeta{Name: "e", Namespace: "d"}, Type: "Info", Count: -1,
			InvolvedObject: ObjectReference{Namespace: "other"}},
			[]string{"involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "type", "count"}},
		{"replicaset", &ReplicaSet{ObjectMeta: ObjectMeta{Name: "rs", Namespace: "d"}, Spec: ReplicaSetSpec{
			Replicas: Ptr(int32(-1)), Selector: &LabelSelector{MatchLabels: map[string]string{"a": "b"}},
			Template: PodTemplateSpec{Spec: validPod().Spec}}},
			[]string{"spec.replicas", "spec.template.metadata.labels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFieldErrors(t, Validate(tt.obj), tt.fields)
		})
	}
	type unregistered struct{ Pod }
	if err := Validate(&unregistered{}); !IsBadRequest(err) {
		t.Errorf("unregistered type: %v", err)
	}
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    Object
		mutate func(o Object)
		fields []string
	}{
		{"deployment selector immutable", validDeployment(), func(o Object) {
			d := o.(*Deployment)
			d.Spec.Selector.MatchLabels["tier"] = "x"
			d.Spec.Template.Labels["tier"] = "x"
		}, []string{"spec.selector"}},
		{"deployment scale and new image", validDeployment(), func(o Object) {
			d := o.(*Deployment)
			d.Spec.Replicas = Ptr(int32(10))
			d.Spec.Template.Spec.Containers[0].Image = "web:2"
		}, nil},
		{"metadata immutable", withMeta(validDeployment()), func(o Object) {
			m := o.GetObjectMeta()
			m.Name, m.Namespace, m.UID = "other", "elsewhere", "u2"
			m.CreationTimestamp = Time{}
		}, []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.creationTimestamp"}},
		{"replicaset selector immutable", &ReplicaSet{ObjectMeta: ObjectMeta{Name: "rs", Namespace: "d"}, Spec: ReplicaSetSpec{
			Replicas: Ptr(int32(1)), Selector: &LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: validDeployment().Spec.Template}},
			func(o Object) {
				o.(*ReplicaSet).Spec.Selector.MatchLabels = nil
				o.(*ReplicaSet).Spec.Selector.MatchExpressions = []LabelSelectorRequirement{{Key: "app", Operator: LabelSelectorOpExists}}
			},
			[]string{"spec.selector"}},
		{"pod image, deadline, tolerations and binding allowed", validPod(), func(o Object) {
			p := o.(*Pod)
			p.Spec.Containers[0].Image = "web:2"
			p.Spec.ActiveDeadlineSeconds = Ptr(int64(60))
			p.Spec.Tolerations = append(p.Spec.Tolerations, Toleration{Key: "k", Operator: TolerationOpExists})
			p.Spec.NodeName = "node-1"
			p.Labels["extra"] = "ok"
			p.Status.Phase = PodRunning
		}, nil},
		{"pod spec otherwise immutable", validPod(), func(o Object) {
			o.(*Pod).Spec.Containers[0].Args = []string{"--x"}
		}, []string{"spec"}},
		{"pod rebinding forbidden", bound(validPod()), func(o Object) { o.(*Pod).Spec.NodeName = "node-2" },
			[]string{"spec.nodeName"}},
		{"immutable configmap", &ConfigMap{ObjectMeta: ObjectMeta{Name: "c", Namespace: "d"}, Immutable: Ptr(true), Data: map[string]string{"a": "1"}},
			func(o Object) {
				c := o.(*ConfigMap)
				c.Data["a"] = "2"
				c.Immutable = Ptr(false)
				c.BinaryData = map[string][]byte{"b": {1}}
			}, []string{"data", "immutable", "binaryData"}},
		{"mutable configmap", &ConfigMap{ObjectMeta: ObjectMeta{Name: "c", Namespace: "d"}, Data: map[string]string{"a": "1"}},
			func(o Object) { o.(*ConfigMap).Data["a"] = "2"; o.(*ConfigMap).Immutable = Ptr(true) }, nil},
		{"new object is validated too", validDeployment(), func(o Object) { o.(*Deployment).Spec.Replicas = Ptr(int32(-1)) },
			[]string{"spec.replicas"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Default(tt.old)
			n := tt.old.DeepCopyObject()
			tt.mutate(n)
			checkFieldErrors(t, ValidateUpdate(tt.old, n), tt.fields)
		})
	}
	if err := ValidateUpdate(validPod(), validDeployment()); !IsBadRequest(err) {
		t.Errorf("kind change: %v", err)
	}
}

func withMeta(d *Deployment) *Deployment {
	d.UID = "u1"
	d.CreationTimestamp = NewTime(mustTime(nil, "2024-01-01T00:00:00Z"))
	return d
}

func bound(p *Pod) *Pod {
	p.Spec.NodeName = "node-1"
	return p
}

func TestNameChecks(t *testing.T) {
	tests := []struct {
		fn    func(string) []string
		in    string
		valid bool
	}{
		{IsDNS1123Label, "web-1", true},
		{IsDNS1123Label, "a.b", false},
		{IsDNS1123Label, "-a", false},
		{IsDNS1123Label, strings.Repeat("a", 63), true},
		{IsDNS1123Label, strings.Repeat("a", 64), false},
		{IsDNS1123Subdomain, "a.b-c.d", true},
		{IsDNS1123Subdomain, "A.b", false},
		{IsDNS1123Subdomain, "a..b", false},
		{IsQualifiedName, "app", true},
		{IsQualifiedName, "app.kubernetes.io/name", true},
		{IsQualifiedName, "My_Name.x", true},
		{IsQualifiedName, "/name", false},
		{IsQualifiedName, "a/", false},
		{IsQualifiedName, "Example.com/x", false},
		{IsQualifiedName, "a/b/c", false},
		{IsQualifiedName, "_a", false},
		{IsValidLabelValue, "", true},
		{IsValidLabelValue, "v1.2_3-x", true},
		{IsValidLabelValue, "a b", false},
		{IsValidLabelValue, strings.Repeat("a", 64), false},
		{IsIANASvcName, "http", true},
		{IsIANASvcName, "http-alt", true},
		{IsIANASvcName, "8080", false},
		{IsIANASvcName, "a--b", false},
		{IsIANASvcName, "sixteen-chars-xx", false},
		{IsIANASvcName, "HTTP", false},
		{IsConfigMapKey, "app.properties", true},
		{IsConfigMapKey, "..data", false},
		{IsConfigMapKey, "a/b", false},
		{IsEnvVarName, "MY_VAR.1", true},
		{IsEnvVarName, "A=B", false},
		{IsEnvVarName, "", false},
	}
	for _, tt := range tests {
		if got := len(tt.fn(tt.in)) == 0; got != tt.valid {
			t.Errorf("check(%q) valid = %v, want %v: %v", tt.in, got, tt.valid, tt.fn(tt.in))
		}
	}
}
