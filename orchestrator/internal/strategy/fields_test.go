package strategy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// A verdict places one field of the Pod spec: honoured (the node agent,
// scheduler or controllers act on it, as the named test shows), refused
// whatever its value (validation's Forbidden "not supported yet"), or
// honoured only for some values, with a value that is refused.
type verdict struct {
	// test is "package.TestName" of a test that shows the field honoured;
	// empty for a field refused whatever its value.
	test string
	// bad, when test is set, is a value of the field that validation
	// refuses as not supported yet.
	bad any
}

// honoured: the named test shows the field acted on.
func honoured(test string) verdict { return verdict{test: test} }

// refused: any value set is refused as not supported yet.
func refused() verdict { return verdict{} }

// honouredExcept: honoured (the named test shows it) for the values the
// named test uses; bad, another value, is refused as not supported yet.
func honouredExcept(test string, bad any) verdict { return verdict{test: test, bad: bad} }

// testDirs maps the packages named in verdicts to their directories,
// relative to this package's.
var testDirs = map[string]string{
	"agent":            "../agent",
	"controller":       "../controller",
	"prober":           "../prober",
	"scheduler":        "../scheduler",
	"strategy":         ".",
	"orchestratortest": "../../orchestratortest",
	"docker":           "../../runtime/docker",
	"e2e":              "../../e2e",
}

// podSpecFields places every field of api.PodSpec and of the types it
// holds, keyed "Type.jsonName" (fields of inline structs under their own
// type). Fields of a refused field's type are not listed: they cannot be
// set without it.
var podSpecFields = map[string]verdict{
	"PodSpec.volumes":                       honoured("agent.TestVolumesAsMounts"),
	"PodSpec.initContainers":                honoured("agent.TestInitContainersRunInOrder"),
	"PodSpec.containers":                    honoured("agent.TestRegistersNodeAndRunsPod"),
	"PodSpec.restartPolicy":                 honoured("agent.TestRestartPolicies"),
	"PodSpec.terminationGracePeriodSeconds": honoured("orchestratortest.TestPreStopOnEveryStop"),
	"PodSpec.activeDeadlineSeconds":         refused(),
	"PodSpec.dnsPolicy":                     honouredExcept("strategy.TestNotSupportedValues", api.DNSPolicy("None")),
	"PodSpec.nodeSelector":                  honoured("scheduler.TestFilters"),
	"PodSpec.serviceAccountName":            honoured("agent.TestEnvSources"),
	"PodSpec.serviceAccount":                honoured("strategy.TestNotSupportedValues"),
	"PodSpec.automountServiceAccountToken":  honouredExcept("strategy.TestNotSupportedValues", api.Ptr(true)),
	"PodSpec.nodeName":                      honoured("agent.TestRegistersNodeAndRunsPod"),
	"PodSpec.hostNetwork":                   refused(),
	"PodSpec.hostPID":                       refused(),
	"PodSpec.hostIPC":                       refused(),
	"PodSpec.hostname":                      honoured("e2e.TestPodHostnameOnDocker"),
	// Without cluster DNS there is no cluster domain: the kubelet then
	// sets no domain from the subdomain either.
	"PodSpec.subdomain":                 honoured("e2e.TestPodHostnameOnDocker"),
	"PodSpec.affinity":                  honoured("scheduler.TestFilters"),
	"PodSpec.schedulerName":             honouredExcept("strategy.TestNotSupportedValues", "other-scheduler"),
	"PodSpec.tolerations":               honoured("scheduler.TestFilters"),
	"PodSpec.priorityClassName":         refused(),
	"PodSpec.priority":                  honouredExcept("strategy.TestNotSupportedValues", api.Ptr(int32(1))),
	"PodSpec.securityContext":           honoured("strategy.TestKubectlOutputValid"),
	"PodSpec.imagePullSecrets":          refused(),
	"PodSpec.enableServiceLinks":        honoured("agent.TestServiceEnv"),
	"PodSpec.topologySpreadConstraints": refused(),
	"PodSpec.dnsConfig":                 refused(),
	"PodSpec.hostAliases":               refused(),
	"PodSpec.shareProcessNamespace":     honouredExcept("strategy.TestNotSupportedValues", api.Ptr(true)),
	"PodSpec.runtimeClassName":          refused(),
	"PodSpec.preemptionPolicy":          honoured("strategy.TestNotSupportedValues"),
	"PodSpec.readinessGates":            refused(),
	"PodSpec.setHostnameAsFQDN":         honouredExcept("strategy.TestNotSupportedValues", api.Ptr(true)),
	"PodSpec.os":                        honouredExcept("strategy.TestNotSupportedValues", &api.PodOS{Name: "windows"}),
	"PodSpec.hostUsers":                 honouredExcept("strategy.TestNotSupportedValues", api.Ptr(false)),
	"PodSpec.overhead":                  refused(),

	"PodOS.name": honouredExcept("strategy.TestNotSupportedValues", "windows"),

	"Volume.name":                            honoured("agent.TestVolumesAsMounts"),
	"VolumeSource.hostPath":                  honoured("agent.TestVolumesAsMounts"),
	"VolumeSource.emptyDir":                  honoured("agent.TestVolumesAsMounts"),
	"VolumeSource.secret":                    honoured("agent.TestSecretVolumes"),
	"VolumeSource.persistentVolumeClaim":     refused(),
	"VolumeSource.configMap":                 honoured("agent.TestVolumesAsMounts"),
	"VolumeSource.downwardAPI":               honoured("agent.TestVolumesAsMounts"),
	"VolumeSource.projected":                 honoured("agent.TestVolumesAsMounts"),
	"HostPathVolumeSource.path":              honoured("agent.TestVolumesAsMounts"),
	"HostPathVolumeSource.type":              honoured("agent.TestCheckHostPath"),
	"EmptyDirVolumeSource.medium":            honouredExcept("agent.TestVolumesAsMounts", "HugePages"),
	"EmptyDirVolumeSource.sizeLimit":         honoured("agent.TestVolumesAsMounts"),
	"ConfigMapVolumeSource.items":            honoured("agent.TestVolumesAsMounts"),
	"SecretVolumeSource.secretName":          honoured("agent.TestSecretVolumes"),
	"SecretVolumeSource.items":               honoured("agent.TestSecretVolumes"),
	"SecretVolumeSource.defaultMode":         honoured("agent.TestSecretVolumes"),
	"SecretVolumeSource.optional":            honoured("agent.TestSecretVolumes"),
	"SecretProjection.items":                 honoured("agent.TestSecretVolumes"),
	"SecretProjection.optional":              honoured("agent.TestSecretVolumes"),
	"ConfigMapVolumeSource.defaultMode":      honoured("agent.TestVolumesAsMounts"),
	"ConfigMapVolumeSource.optional":         honoured("agent.TestVolumesAsMounts"),
	"KeyToPath.key":                          honoured("agent.TestVolumesAsMounts"),
	"KeyToPath.path":                         honoured("agent.TestVolumesAsMounts"),
	"KeyToPath.mode":                         honoured("agent.TestVolumesAsMounts"),
	"DownwardAPIVolumeSource.items":          honoured("agent.TestVolumesAsMounts"),
	"DownwardAPIVolumeSource.defaultMode":    honoured("agent.TestVolumesAsMounts"),
	"DownwardAPIVolumeFile.path":             honoured("agent.TestVolumesAsMounts"),
	"DownwardAPIVolumeFile.fieldRef":         honoured("agent.TestVolumesAsMounts"),
	"DownwardAPIVolumeFile.resourceFieldRef": honoured("agent.TestVolumesAsMounts"),
	"DownwardAPIVolumeFile.mode":             honoured("agent.TestVolumesAsMounts"),
	"ProjectedVolumeSource.sources":          honoured("agent.TestVolumesAsMounts"),
	"ProjectedVolumeSource.defaultMode":      honoured("agent.TestVolumesAsMounts"),
	"VolumeProjection.secret":                honoured("agent.TestSecretVolumes"),
	"VolumeProjection.downwardAPI":           honoured("agent.TestVolumesAsMounts"),
	"VolumeProjection.configMap":             honoured("agent.TestVolumesAsMounts"),
	"VolumeProjection.serviceAccountToken":   refused(),
	"ConfigMapProjection.items":              honoured("agent.TestVolumesAsMounts"),
	"ConfigMapProjection.optional":           honoured("agent.TestVolumeMountFailures"),
	"DownwardAPIProjection.items":            honoured("agent.TestVolumesAsMounts"),

	"VolumeMount.name":              honoured("agent.TestVolumesAsMounts"),
	"VolumeMount.readOnly":          honoured("agent.TestVolumesAsMounts"),
	"VolumeMount.mountPath":         honoured("agent.TestVolumesAsMounts"),
	"VolumeMount.subPath":           honoured("agent.TestVolumesAsMounts"),
	"VolumeMount.mountPropagation":  honouredExcept("strategy.TestNotSupportedValues", api.Ptr("Bidirectional")),
	"VolumeMount.subPathExpr":       refused(),
	"VolumeMount.recursiveReadOnly": honouredExcept("strategy.TestNotSupportedValues", api.Ptr("Enabled")),

	"PodSecurityContext.runAsUser":           honoured("agent.TestSecurityContextAsWritten"),
	"PodSecurityContext.runAsGroup":          honoured("agent.TestSecurityContextAsWritten"),
	"PodSecurityContext.runAsNonRoot":        honoured("agent.TestRunAsNonRoot"),
	"PodSecurityContext.fsGroup":             honoured("agent.TestSecurityContextAsWritten"),
	"PodSecurityContext.supplementalGroups":  honoured("agent.TestSecurityContextAsWritten"),
	"PodSecurityContext.fsGroupChangePolicy": honoured("strategy.TestValidatePod"),
	"PodSecurityContext.seccompProfile":      honoured("agent.TestSecurityContextAsWritten"),
	"PodSecurityContext.sysctls":             refused(),
	"SeccompProfile.type":                    honouredExcept("agent.TestSecurityContextAsWritten", "Localhost"),
	"SeccompProfile.localhostProfile":        honoured("strategy.TestValidatePod"),

	"Affinity.nodeAffinity":    honoured("scheduler.TestPodMatchesNode"),
	"Affinity.podAffinity":     refused(),
	"Affinity.podAntiAffinity": refused(),
	"NodeAffinity.requiredDuringSchedulingIgnoredDuringExecution":  honoured("scheduler.TestPodMatchesNode"),
	"NodeAffinity.preferredDuringSchedulingIgnoredDuringExecution": honoured("scheduler.TestPodMatchesNode"),
	"NodeSelector.nodeSelectorTerms":                               honoured("scheduler.TestPodMatchesNode"),
	"NodeSelectorTerm.matchExpressions":                            honoured("scheduler.TestPodMatchesNode"),
	"NodeSelectorTerm.matchFields":                                 honoured("scheduler.TestPodMatchesNode"),
	"NodeSelectorRequirement.key":                                  honoured("scheduler.TestPodMatchesNode"),
	"NodeSelectorRequirement.operator":                             honoured("scheduler.TestPodMatchesNode"),
	"NodeSelectorRequirement.values":                               honoured("scheduler.TestPodMatchesNode"),
	"PreferredSchedulingTerm.weight":                               honoured("scheduler.TestPodMatchesNode"),
	"PreferredSchedulingTerm.preference":                           honoured("scheduler.TestPodMatchesNode"),

	"Toleration.key":               honoured("scheduler.TestToleratesTaint"),
	"Toleration.operator":          honoured("scheduler.TestToleratesTaint"),
	"Toleration.value":             honoured("scheduler.TestToleratesTaint"),
	"Toleration.effect":            honoured("scheduler.TestToleratesTaint"),
	"Toleration.tolerationSeconds": honoured("controller.TestEvictionHonoursTolerationSeconds"),

	"Container.name":                     honoured("agent.TestRegistersNodeAndRunsPod"),
	"Container.image":                    honoured("agent.TestImagePullFailure"),
	"Container.command":                  honoured("agent.TestSpecAsWritten"),
	"Container.args":                     honoured("agent.TestSpecAsWritten"),
	"Container.workingDir":               honoured("agent.TestSpecAsWritten"),
	"Container.ports":                    honoured("agent.TestSpecAsWritten"),
	"Container.envFrom":                  honoured("agent.TestEnvSources"),
	"Container.env":                      honoured("agent.TestSpecAsWritten"),
	"Container.resources":                honoured("agent.TestSpecAsWritten"),
	"Container.volumeMounts":             honoured("agent.TestVolumesAsMounts"),
	"Container.livenessProbe":            honoured("orchestratortest.TestLivenessFailureRestartsContainer"),
	"Container.readinessProbe":           honoured("orchestratortest.TestReadinessProbeGatesReady"),
	"Container.startupProbe":             honoured("prober.TestStartupGatesOthers"),
	"Container.lifecycle":                honoured("orchestratortest.TestPreStopOnEveryStop"),
	"Container.terminationMessagePath":   refused(),
	"Container.terminationMessagePolicy": refused(),
	"Container.imagePullPolicy":          honoured("agent.TestImagePullFailure"),
	"Container.securityContext":          honoured("strategy.TestKubectlOutputValid"),
	"Container.stdin":                    refused(),
	"Container.stdinOnce":                refused(),
	"Container.tty":                      refused(),
	"Container.resizePolicy":             refused(),
	"Container.restartPolicy":            honoured("agent.TestSidecar"),
	"Container.volumeDevices":            refused(),

	"ContainerPort.name":          honoured("prober.TestHTTPDetails"),
	"ContainerPort.hostPort":      honoured("agent.TestSpecAsWritten"),
	"ContainerPort.containerPort": honoured("agent.TestSpecAsWritten"),
	"ContainerPort.protocol":      honouredExcept("agent.TestSpecAsWritten", api.ProtocolSCTP),
	"ContainerPort.hostIP":        honoured("agent.TestSpecAsWritten"),

	"EnvVar.name":      honoured("agent.TestSpecAsWritten"),
	"EnvVar.value":     honoured("agent.TestSpecAsWritten"),
	"EnvVar.valueFrom": honoured("agent.TestEnvSources"),

	"EnvFromSource.prefix":        honoured("agent.TestEnvSources"),
	"EnvFromSource.configMapRef":  honoured("agent.TestEnvSources"),
	"EnvFromSource.secretRef":     honoured("agent.TestSecretEnv"),
	"ConfigMapEnvSource.optional": honoured("agent.TestEnvSources"),
	"SecretEnvSource.optional":    honoured("agent.TestSecretEnv"),
	"SecretKeySelector.key":       honoured("agent.TestSecretEnv"),
	"SecretKeySelector.optional":  honoured("agent.TestSecretEnv"),
	"LocalObjectReference.name":   honoured("agent.TestEnvSources"),

	"EnvVarSource.fieldRef":               honoured("agent.TestEnvSources"),
	"EnvVarSource.resourceFieldRef":       honoured("agent.TestEnvSources"),
	"EnvVarSource.configMapKeyRef":        honoured("agent.TestEnvMissingConfigMap"),
	"EnvVarSource.secretKeyRef":           honoured("agent.TestSecretEnv"),
	"ObjectFieldSelector.apiVersion":      honoured("strategy.TestDefaultDeployment"),
	"ObjectFieldSelector.fieldPath":       honoured("agent.TestEnvSources"),
	"ResourceFieldSelector.containerName": honoured("agent.TestDownwardValues"),
	"ResourceFieldSelector.resource":      honouredExcept("agent.TestEnvSources", "limits.ephemeral-storage"),
	"ResourceFieldSelector.divisor":       honoured("agent.TestEnvSources"),
	"ConfigMapKeySelector.key":            honoured("agent.TestEnvSources"),
	"ConfigMapKeySelector.optional":       honoured("agent.TestEnvSources"),

	"ResourceRequirements.limits":   honouredExcept("agent.TestSpecAsWritten", api.ResourceList{"ephemeral-storage": api.MustParse("1Gi")}),
	"ResourceRequirements.requests": honouredExcept("scheduler.TestFilters", api.ResourceList{"nvidia.com/gpu": api.MustParse("1")}),

	"Probe.initialDelaySeconds":           honoured("prober.TestInitialDelay"),
	"Probe.timeoutSeconds":                honoured("prober.TestHangingTargetTimesOutAndStallsNothing"),
	"Probe.periodSeconds":                 honoured("prober.TestDefaults"),
	"Probe.successThreshold":              honoured("prober.TestReadinessHTTPFlips"),
	"Probe.failureThreshold":              honoured("prober.TestReadinessHTTPFlips"),
	"Probe.terminationGracePeriodSeconds": honoured("orchestratortest.TestProbeGracePeriod"),
	"Probe.periodMilliseconds":            honoured("prober.TestReadinessHTTPFlips"),
	"ProbeHandler.exec":                   honoured("prober.TestFakeRuntimeProgrammedAnswers"),
	"ProbeHandler.httpGet":                honoured("prober.TestHTTPDetails"),
	"ProbeHandler.tcpSocket":              honoured("prober.TestTCPSocket"),
	"ProbeHandler.grpc":                   honoured("prober.TestGRPC"),
	"ExecAction.command":                  honoured("prober.TestFakeRuntimeProgrammedAnswers"),
	"HTTPGetAction.path":                  honoured("prober.TestHTTPDetails"),
	"HTTPGetAction.port":                  honoured("prober.TestHTTPDetails"),
	"HTTPGetAction.host":                  honoured("prober.TestHTTPDetails"),
	"HTTPGetAction.scheme":                honoured("prober.TestHTTPDetails"),
	"HTTPGetAction.httpHeaders":           honoured("prober.TestHTTPDetails"),
	"HTTPHeader.name":                     honoured("prober.TestHTTPDetails"),
	"HTTPHeader.value":                    honoured("prober.TestHTTPDetails"),
	"TCPSocketAction.port":                honoured("prober.TestTCPSocket"),
	"TCPSocketAction.host":                honoured("prober.TestTCPSocketHost"),
	"GRPCAction.port":                     honoured("prober.TestGRPC"),
	"GRPCAction.service":                  honoured("prober.TestGRPC"),
	"Lifecycle.postStart":                 refused(),
	"Lifecycle.preStop":                   honoured("orchestratortest.TestPreStopOnEveryStop"),
	"LifecycleHandler.exec":               honoured("orchestratortest.TestPreStopOnEveryStop"),
	"LifecycleHandler.httpGet":            honoured("prober.TestRunHook"),
	"LifecycleHandler.tcpSocket":          refused(),
	"LifecycleHandler.sleep":              honoured("prober.TestRunHook"),
	"SleepAction.seconds":                 honoured("prober.TestRunHook"),

	"SecurityContext.runAsUser":                honoured("agent.TestSecurityContextAsWritten"),
	"SecurityContext.runAsGroup":               honoured("agent.TestSecurityContextAsWritten"),
	"SecurityContext.runAsNonRoot":             honoured("agent.TestRunAsNonRoot"),
	"SecurityContext.readOnlyRootFilesystem":   honoured("agent.TestSecurityContextAsWritten"),
	"SecurityContext.privileged":               honoured("agent.TestSecurityContextAsWritten"),
	"SecurityContext.allowPrivilegeEscalation": honoured("agent.TestSecurityContextAsWritten"),
	"SecurityContext.capabilities":             honoured("agent.TestSecurityContextAsWritten"),
	"SecurityContext.seccompProfile":           honoured("agent.TestSecurityContextAsWritten"),
	"SecurityContext.procMount":                honouredExcept("strategy.TestValidatePod", api.Ptr("Unmasked")),
	"Capabilities.add":                         honoured("agent.TestSecurityContextAsWritten"),
	"Capabilities.drop":                        honoured("agent.TestSecurityContextAsWritten"),
}

// leafTypes are struct types set as a whole (one value, custom JSON).
var leafTypes = map[reflect.Type]bool{
	reflect.TypeFor[api.Quantity]():    true,
	reflect.TypeFor[api.IntOrString](): true,
}

// step is one field on the way from PodSpec to a field.
type step struct {
	index int
	json  string // "" for an inline struct
}

// TestPodSpecFieldsHonouredOrRefused walks every field of api.PodSpec and
// of the types it holds, and fails for a field without a verdict in
// podSpecFields: a field added to package api must be implemented (and
// tested) or refused. For every refused field (or refused value) it sets
// the field in a valid Pod and checks that validation answers Forbidden
// "not supported yet" at the field's path; for every honoured field it
// checks that the named test exists. Entries for fields that no longer
// exist fail too.
func TestPodSpecFieldsHonouredOrRefused(t *testing.T) {
	seen := map[string]bool{}
	visited := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, route []step)
	walk = func(typ reflect.Type, route []step) {
		if visited[typ] {
			return
		}
		visited[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name, inline := jsonName(f)
			here := append(route[:len(route):len(route)], step{index: i, json: name})
			if inline {
				walk(f.Type, here)
				continue
			}
			key := typ.Name() + "." + name
			seen[key] = true
			v, ok := podSpecFields[key]
			if !ok {
				t.Errorf("%s (spec%s): no verdict; implement it and name its test, or refuse it in unsupported.go", key, pathOf(here))
				continue
			}
			if v.test == "" {
				checkRefused(t, key, here, sampleOf(f.Type))
				continue
			}
			checkTestExists(t, key, v.test)
			if v.bad != nil {
				checkRefused(t, key, here, reflect.ValueOf(v.bad).Convert(f.Type))
			}
			if elem := elemType(f.Type); elem.Kind() == reflect.Struct && !leafTypes[elem] {
				walk(elem, here)
			}
		}
	}
	walk(reflect.TypeFor[api.PodSpec](), nil)
	var stale []string
	for key := range podSpecFields {
		if !seen[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(stale)
	for _, key := range stale {
		t.Errorf("%s: verdict for a field not reachable from PodSpec (a refused parent, or gone)", key)
	}
}

// Templates are Pod specs: a Deployment's and a ReplicaSet's refuse what
// a Pod refuses, at the template's path.
func TestTemplatesRefuseWhatPodsRefuse(t *testing.T) {
	d := validDeployment()
	d.Spec.Template.Spec.Containers[0].Stdin = true
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web-5d8f", Namespace: "shop"}, Spec: api.ReplicaSetSpec{
		Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: d.Spec.Template}}
	for _, o := range []api.Object{d, rs} {
		err := validate(o)
		checkFieldErrors(t, err, []string{"spec.template.spec.containers[0].stdin"})
		if !strings.Contains(err.Error(), notSupportedYet) {
			t.Errorf("%T: %v does not say %q", o, err, notSupportedYet)
		}
	}
}

func jsonName(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(","+opts+",", ",inline,") || (f.Anonymous && name == "") {
		return "", true
	}
	if name == "" {
		name = f.Name
	}
	return name, false
}

func elemType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return t
}

// pathOf is the field path of route below spec, with [0] for slices.
func pathOf(route []step) string {
	var b strings.Builder
	typ := reflect.TypeFor[api.PodSpec]()
	for _, s := range route {
		f := typ.Field(s.index)
		if s.json != "" {
			b.WriteString("." + s.json)
		}
		typ = f.Type
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			if typ.Kind() == reflect.Slice && s.json != "" {
				b.WriteString("[0]")
			}
			typ = typ.Elem()
		}
	}
	return b.String()
}

// sampleOf is a value of type t that is set (not empty): true, 1, "x",
// one element, a zero struct behind a pointer.
func sampleOf(t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if t.Elem().Kind() != reflect.Struct {
			p.Elem().Set(sampleOf(t.Elem()))
		}
		v.Set(p)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.String:
		v.SetString("x")
	case reflect.Slice:
		v.Set(reflect.Append(v, sampleOf(t.Elem())))
	case reflect.Map:
		v.Set(reflect.MakeMap(t))
		v.SetMapIndex(sampleOf(t.Key()), reflect.New(t.Elem()).Elem())
	}
	return v
}

// checkRefused sets the field at route to val in a valid Pod and checks
// that validation forbids it as not supported yet, at its path.
func checkRefused(t *testing.T, key string, route []step, val reflect.Value) {
	t.Helper()
	p := validPod()
	v := reflect.ValueOf(&p.Spec).Elem()
	path := "spec"
	for i, s := range route {
		f := v.Field(s.index)
		if s.json != "" {
			path += "." + s.json
		}
		if i == len(route)-1 {
			f.Set(val)
			break
		}
		for f.Kind() == reflect.Pointer || f.Kind() == reflect.Slice {
			if f.Kind() == reflect.Pointer {
				if f.IsNil() {
					f.Set(reflect.New(f.Type().Elem()))
				}
				f = f.Elem()
				continue
			}
			if f.Len() == 0 {
				f.Set(reflect.Append(f, reflect.New(f.Type().Elem()).Elem()))
			}
			f, path = f.Index(0), path+"[0]"
		}
		v = f
	}
	_, s := forObject(p)
	for _, fe := range s.Validate(p) {
		rest, ok := strings.CutPrefix(fe.Field, path)
		if ok && (rest == "" || rest[0] == '.' || rest[0] == '[') && fe.Type == api.ErrorTypeForbidden && fe.Detail == notSupportedYet {
			return
		}
	}
	t.Errorf("%s = %#v: validation does not answer Forbidden %q at %s", key, val.Interface(), notSupportedYet, path)
}

var (
	testFuncsMu sync.Mutex
	testFuncs   = map[string]map[string]bool{} // package -> test names
)

// checkTestExists checks that test ("package.TestName") is a test
// function of that package.
func checkTestExists(t *testing.T, key, test string) {
	t.Helper()
	pkg, name, ok := strings.Cut(test, ".")
	dir, known := testDirs[pkg]
	if !ok || !known {
		t.Errorf("%s: %q is not package.TestName of a package in testDirs", key, test)
		return
	}
	testFuncsMu.Lock()
	defer testFuncsMu.Unlock()
	funcs, ok := testFuncs[pkg]
	if !ok {
		funcs = map[string]bool{}
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Test") {
					funcs[fd.Name.Name] = true
				}
			}
		}
		testFuncs[pkg] = funcs
	}
	if !funcs[name] {
		t.Errorf("%s: honoured by %s, but package %s has no such test", key, test, pkg)
	}
}
