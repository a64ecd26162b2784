package api

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// k8sKinds maps every built-in kind to the Kubernetes Go type it mirrors,
// so that tests can hold our types against k8s.io/api's.
var k8sKinds = map[string]func() any{
	"Namespace":          func() any { return &corev1.Namespace{} },
	"Node":               func() any { return &corev1.Node{} },
	"Pod":                func() any { return &corev1.Pod{} },
	"ConfigMap":          func() any { return &corev1.ConfigMap{} },
	"Event":              func() any { return &corev1.Event{} },
	"Deployment":         func() any { return &appsv1.Deployment{} },
	"ReplicaSet":         func() any { return &appsv1.ReplicaSet{} },
	"Job":                func() any { return &batchv1.Job{} },
	"DaemonSet":          func() any { return &appsv1.DaemonSet{} },
	"Role":               func() any { return &rbacv1.Role{} },
	"ClusterRole":        func() any { return &rbacv1.ClusterRole{} },
	"RoleBinding":        func() any { return &rbacv1.RoleBinding{} },
	"ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
	"Lease":              func() any { return &coordinationv1.Lease{} },
	"Service":            func() any { return &corev1.Service{} },
	"EndpointSlice":      func() any { return &discoveryv1.EndpointSlice{} },
	"Secret":             func() any { return &corev1.Secret{} },
}

// k8sTypeFor returns a new value of the Kubernetes type of kind, failing
// the test for a kind without one.
func k8sTypeFor(t testing.TB, kind string) any {
	t.Helper()
	f, ok := k8sKinds[kind]
	if !ok {
		t.Fatalf("kind %s has no Kubernetes type in k8sKinds: add it", kind)
	}
	return f()
}

// structFieldsByJSON returns the struct fields of t by JSON name, flattening
// embedded structs without a name the way encoding/json does.
func structFieldsByJSON(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for n, sf := range structFieldsByJSON(ft) {
					if _, dup := out[n]; !dup {
						out[n] = sf
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// elem strips pointers, slices and maps down to the type whose fields a
// patch reaches.
func elem(t reflect.Type) reflect.Type {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
}

// walkPairs calls fn for every JSON field that our type ours and the
// Kubernetes type theirs both have, recursively, with the field path.
func walkPairs(ours, theirs reflect.Type, path string, seen map[[2]reflect.Type]bool, fn func(path string, parent reflect.Type, o, k reflect.StructField)) {
	ours, theirs = elem(ours), elem(theirs)
	if ours.Kind() != reflect.Struct || theirs.Kind() != reflect.Struct {
		return
	}
	key := [2]reflect.Type{ours, theirs}
	if seen[key] {
		return
	}
	seen[key] = true
	of, kf := structFieldsByJSON(ours), structFieldsByJSON(theirs)
	for name, k := range kf {
		o, ok := of[name]
		if !ok {
			continue
		}
		p := path + "." + name
		fn(p, ours, o, k)
		walkPairs(o.Type, k.Type, p, seen, fn)
	}
}

// TestPatchTagsMatchKubernetes fails when a field of a served kind lacks a
// patchStrategy or patchMergeKey tag that Kubernetes' type has, or carries
// one Kubernetes does not: strategic merge patches would then merge lists
// differently from a Kubernetes API server.
func TestPatchTagsMatchKubernetes(t *testing.T) {
	tagged := 0
	for _, info := range DefaultScheme().Kinds() {
		ours := reflect.TypeOf(info.New())
		theirs := reflect.TypeOf(k8sTypeFor(t, info.Kind))
		walkPairs(ours, theirs, info.Kind, map[[2]reflect.Type]bool{}, func(path string, parent reflect.Type, o, k reflect.StructField) {
			if k.Tag.Get("patchStrategy") != "" {
				tagged++
			}
			for _, tag := range []string{"patchStrategy", "patchMergeKey"} {
				if got, want := o.Tag.Get(tag), k.Tag.Get(tag); got != want {
					t.Errorf("%s (%s.%s): %s tag %q, Kubernetes' has %q", path, parent, o.Name, tag, got, want)
				}
			}
		})
	}
	// The walk must reach the lists Kubernetes merges (containers,
	// conditions, ownerReferences, ... in every kind).
	if tagged < 50 {
		t.Errorf("only %d fields with a Kubernetes patchStrategy compared: the walk misses fields", tagged)
	}
}
