package apiserver

import (
	"reflect"
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// groupVersionResource names a served resource in a URL.
type groupVersionResource struct{ group, version, resource string }

// resource is one kind as the server serves it. What it offers beyond the
// verbs every kind has is read from the kind's Go type, so that a kind
// added to the scheme is served without a line here.
type resource struct {
	info     api.KindInfo
	group    string
	version  string
	singular string
	// status: the type has a status field (the status subresource).
	status bool
	// scale: spec.replicas, spec.selector and status.replicas (the scale
	// subresource, autoscaling/v1 Scale).
	scale bool
	// pod: the kind is Pod (pods/log, pods/binding).
	pod bool
	// namespace: the kind is Namespace (namespaces/finalize).
	namespace bool
	// log: pod, and a LogStreamer is configured (pods/log in discovery).
	log bool
	// categories: "all" for Pods and kinds with a Pod template
	// (workloads), as kubectl get all expects.
	categories []string
	// createOnly is set for a virtual resource of Config.CreateOnly.
	createOnly *CreateOnly
}

// verbs returns what discovery lists for res.
func (res *resource) verbs() []string {
	if res.createOnly != nil {
		return []string{"create"}
	}
	return resourceVerbs
}

func lower(s string) string { return strings.ToLower(s) }

var (
	podTemplateType   = reflect.TypeFor[api.PodTemplateSpec]()
	labelSelectorType = reflect.TypeFor[*api.LabelSelector]()
	podType           = reflect.TypeFor[*api.Pod]()
	namespaceType     = reflect.TypeFor[*api.Namespace]()
)

// buildResources reads every kind of scheme.
func buildResources(scheme *api.Scheme, logs bool) map[groupVersionResource]*resource {
	out := map[groupVersionResource]*resource{}
	for _, info := range scheme.Kinds() {
		group, version := api.SplitAPIVersion(info.APIVersion)
		res := &resource{info: info, group: group, version: version, singular: strings.ToLower(info.Kind)}
		t := reflect.TypeOf(info.New())
		spec, hasSpec := jsonField(t, "spec")
		status, hasStatus := jsonField(t, "status")
		res.status = hasStatus
		if hasSpec && hasStatus {
			replicas, ok1 := jsonField(spec, "replicas")
			sel, ok2 := jsonField(spec, "selector")
			stReplicas, ok3 := jsonField(status, "replicas")
			res.scale = ok1 && ok2 && ok3 && replicas == reflect.TypeFor[*int32]() &&
				sel == labelSelectorType && stReplicas == reflect.TypeFor[int32]()
		}
		isPod := t == podType
		res.pod = isPod
		res.namespace = t == namespaceType
		res.log = isPod && logs
		if tmpl, ok := jsonField(spec, "template"); isPod || (hasSpec && ok && tmpl == podTemplateType) {
			res.categories = []string{"all"}
		}
		out[groupVersionResource{group, version, info.Resource}] = res
	}
	return out
}

// subresources lists res's subresources.
func (res *resource) subresources() []string {
	var subs []string
	if res.pod {
		subs = append(subs, "binding", "eviction")
	}
	if res.namespace {
		subs = append(subs, "finalize")
	}
	if res.log {
		subs = append(subs, "log")
	}
	if res.scale {
		subs = append(subs, "scale")
	}
	if res.status {
		subs = append(subs, "status")
	}
	return subs
}

// verbs every kind serves, in discovery's order.
var resourceVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

func subresourceVerbs(sub string) []string {
	switch sub {
	case "log":
		return []string{"get"}
	case "binding", "eviction":
		return []string{"create"}
	case "finalize":
		return []string{"update"}
	}
	return []string{"get", "patch", "update"}
}

// jsonField returns the type of the field of struct type t (or pointer to
// one) that JSON names name, looking into inline embedded structs.
func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	if t == nil {
		return nil, false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			if ft, ok := jsonField(f.Type, name); ok {
				return ft, true
			}
			continue
		}
		if tag == name || (tag == "" && f.Name == name) {
			return f.Type, true
		}
	}
	return nil, false
}

// sortedResources returns rs's resources sorted by group, version, name.
func sortedResources(rs map[groupVersionResource]*resource) []*resource {
	out := make([]*resource, 0, len(rs))
	for _, r := range rs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *resource) int {
		return strings.Compare(a.group+"/"+a.version+"/"+a.info.Resource, b.group+"/"+b.version+"/"+b.info.Resource)
	})
	return out
}
