package strategy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// inDefaultNamespace does the registry's part before the strategy: a
// namespaced object without a namespace is in "default".
func inDefaultNamespace(obj api.Object) {
	if info, _ := forObject(obj); info.Namespaced && obj.GetNamespace() == "" {
		obj.GetObjectMeta().Namespace = api.DefaultNamespace
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update after checking):\n%s", golden, got)
	}
}

// checkOnlyNotSupported checks that err is nil when want is empty, or
// else Invalid with exactly the paths of want, each refused as not
// supported yet.
func checkOnlyNotSupported(t *testing.T, what string, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		return
	}
	checkFieldErrors(t, err, want)
	for _, fe := range api.FieldErrors(err) {
		if fe.Type != api.ErrorTypeForbidden || fe.Detail != notSupportedYet {
			t.Errorf("%s: %v, want Forbidden %q", what, fe, notSupportedYet)
		}
	}
}

// The example manifest of package api's tests, defaulted, is compared
// with a golden file (go test -run TestDefaultedGolden -update rewrites
// it); it is valid but for what Flotilla refuses as not supported yet,
// and it decodes back to the same objects.
func TestDefaultedGolden(t *testing.T) {
	objs, err := api.DecodeAll(readAPITestdata(t, "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const c0 = "spec.template.spec.containers[0]"
	notSupported := map[string][]string{
		"shop/web": {"spec.template.spec.volumes[1].emptyDir.sizeLimit",
			"spec.template.spec.volumes[2].persistentVolumeClaim"},
	}
	for _, o := range objs {
		inDefaultNamespace(o)
		checkOnlyNotSupported(t, api.KeyOf(o), defaultAndValidate(o), notSupported[api.KeyOf(o)])
	}
	got, err := api.EncodeYAMLAll(objs)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "web.defaulted.golden.yaml", got)
	back, err := api.DecodeAll(got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, objs) {
		t.Error("round trip through YAML changed the objects")
	}
}

// What `kubectl get -o yaml` prints for a Pod and a Node is valid, but
// for what Flotilla refuses as not supported yet; an empty
// securityContext is fine.
func TestKubectlOutputValid(t *testing.T) {
	const c0 = "spec.containers[0]"
	notSupported := map[string][]string{
		"kubectl-get-pod.yaml": {"spec.volumes[0].projected.sources[0].serviceAccountToken", "spec.topologySpreadConstraints",
			c0 + ".terminationMessagePath", c0 + ".terminationMessagePolicy"},
	}
	for _, name := range []string{"kubectl-get-pod.yaml", "kubectl-get-node.yaml"} {
		obj, err := api.Decode(readAPITestdata(t, name))
		if err != nil {
			t.Fatal(err)
		}
		checkOnlyNotSupported(t, name, defaultAndValidate(obj), notSupported[name])
	}
}

// TestInvalidManifestGolden validates the documents of package api's
// file of mistakes that decode on their own, and compares every reported
// problem with a golden file (go test -run TestInvalidManifestGolden
// -update rewrites it). What decoding reports is api's golden file.
func TestInvalidManifestGolden(t *testing.T) {
	data := readAPITestdata(t, "invalid.yaml")
	var report strings.Builder
	for i, doc := range bytes.Split(data, []byte("\n---")) {
		obj, err := api.Decode(doc)
		if err != nil {
			continue
		}
		inDefaultNamespace(obj)
		fmt.Fprintf(&report, "== Validate document %d\n", i+1)
		for _, fe := range api.FieldErrors(defaultAndValidate(obj)) {
			report.WriteString(fe.Error() + "\n")
		}
	}
	checkGolden(t, "invalid.golden.txt", []byte(report.String()))
}

func BenchmarkValidateDeployment(b *testing.B) {
	objs, err := api.DecodeAll(readAPITestdata(b, "web.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	d := objs[1]
	_, s := forObject(d)
	s.Default(d)
	b.ReportAllocs()
	want := len(s.Validate(d)) // what is not supported yet
	for b.Loop() {
		if errs := s.Validate(d); len(errs) != want {
			b.Fatal(errs)
		}
	}
}
