package agent

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "$(A)", "EMPTY": ""}
	lookup := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"$(A)", "1"},
		{"x$(A)y$(A)z", "x1y1z"},
		{"$(B)", "$(A)"}, // values are not expanded again
		{"$(EMPTY)|", "|"},
		{"$(MISSING)", "$(MISSING)"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$1"},
		{"$$", "$"},
		{"$", "$"},
		{"a$", "a$"},
		{"$A", "$A"},
		{"$(A", "$(A"},
		{"$()", "$()"},
		{"$(A)$(", "1$("},
		{"€$(A)€", "€1€"},
	}
	for _, tt := range tests {
		if got := expand(tt.in, lookup); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDownwardValues(t *testing.T) {
	pod := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1",
			Labels: map[string]string{"b": "2", "a": `say "hi"`}, Annotations: map[string]string{"note": "x\ny"}},
		Spec: api.PodSpec{NodeName: "n1", ServiceAccountName: "sa", Containers: []api.Container{
			{Name: "c", Resources: api.ResourceRequirements{
				Limits:   api.ResourceList{api.ResourceMemory: api.MustParse("100Mi")},
				Requests: api.ResourceList{api.ResourceCPU: api.MustParse("250m"), api.ResourceMemory: api.MustParse("1000001")}}},
		}},
	}
	info := &podInfo{pod: pod, podIP: "10.0.0.5", hostIPs: []string{"192.0.2.1", "2001:db8::1"},
		allocatable: api.ResourceList{api.ResourceCPU: api.MustParse("3"), api.ResourceMemory: api.MustParse("1Gi")}}
	fields := map[string]string{
		"metadata.name": "p", "metadata.namespace": "ns", "metadata.uid": "u1", "spec.nodeName": "n1",
		"spec.serviceAccountName": "sa", "status.podIP": "10.0.0.5", "status.podIPs": "10.0.0.5",
		"status.hostIP": "192.0.2.1", "status.hostIPs": "192.0.2.1,2001:db8::1",
		"metadata.labels['a']": `say "hi"`, "metadata.labels['none']": "", "metadata.annotations['note']": "x\ny",
	}
	for path, want := range fields {
		if got, err := info.fieldValue(path, false); err != nil || got != want {
			t.Errorf("fieldValue(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	if got, _ := info.fieldValue("metadata.labels", true); got != `a="say \"hi\""`+"\n"+`b="2"` {
		t.Errorf("labels file %q", got)
	}
	if got, _ := info.fieldValue("metadata.annotations", true); got != `note="x\ny"` {
		t.Errorf("annotations file %q", got)
	}
	for _, path := range []string{"metadata.labels", "spec.containers", "metadata.labels['a'"} {
		if _, err := info.fieldValue(path, false); err == nil {
			t.Errorf("fieldValue(%s): no error", path)
		}
	}
	q := func(s string) *api.Quantity { v := api.MustParse(s); return &v }
	resources := []struct {
		sel  api.ResourceFieldSelector
		want string
	}{
		{api.ResourceFieldSelector{Resource: "limits.cpu"}, "3"}, // unset: allocatable
		{api.ResourceFieldSelector{Resource: "limits.cpu", Divisor: q("1m")}, "3000"},
		{api.ResourceFieldSelector{Resource: "requests.cpu"}, "1"}, // 250m rounded up
		{api.ResourceFieldSelector{Resource: "requests.cpu", Divisor: q("1m")}, "250"},
		{api.ResourceFieldSelector{Resource: "requests.cpu", Divisor: q("100m")}, "3"},
		{api.ResourceFieldSelector{Resource: "limits.memory"}, "104857600"},
		{api.ResourceFieldSelector{Resource: "limits.memory", Divisor: q("1Mi")}, "100"},
		{api.ResourceFieldSelector{Resource: "requests.memory", Divisor: q("1M")}, "2"},
		{api.ResourceFieldSelector{ContainerName: "c", Resource: "limits.memory", Divisor: q("1Gi")}, "1"},
	}
	for _, tt := range resources {
		if got, err := info.resourceValue(&tt.sel, "c"); err != nil || got != tt.want {
			t.Errorf("resourceValue(%+v) = %q, %v; want %q", tt.sel, got, err, tt.want)
		}
	}
	if _, err := info.resourceValue(&api.ResourceFieldSelector{ContainerName: "other", Resource: "limits.cpu"}, "c"); err == nil {
		t.Error("resourceValue of an unknown container: no error")
	}
}

func TestCheckHostPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		path, typ string
		ok        bool
	}{
		{missing, "", true}, // made a directory
		{missing, "Directory", true},
		{dir, "Directory", true}, {file, "Directory", false}, {filepath.Join(dir, "gone"), "Directory", false},
		{file, "File", true}, {dir, "File", false}, {missing, "File", false},
		{sock, "Socket", true}, {file, "Socket", false},
		{"/dev/null", "CharDevice", true}, {file, "CharDevice", false}, {"/dev/null", "BlockDevice", false},
		{file, "DirectoryOrCreate", false}, {file, "FileOrCreate", true}, {dir, "FileOrCreate", false},
		{filepath.Join(dir, "new", "dir"), "DirectoryOrCreate", true},
		{filepath.Join(dir, "new-file"), "FileOrCreate", true},
		{filepath.Join(dir, "no-parent", "file"), "FileOrCreate", false},
		{dir, "Mystery", false},
	}
	for _, tt := range tests {
		if err := checkHostPath(tt.path, tt.typ); (err == nil) != tt.ok {
			t.Errorf("checkHostPath(%s, %q) = %v, want ok %v", tt.path, tt.typ, err, tt.ok)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "new", "dir")); err != nil || !fi.IsDir() {
		t.Errorf("DirectoryOrCreate made no directory: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "new-file")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("FileOrCreate made no file: %v %v", fi, err)
	}
}
