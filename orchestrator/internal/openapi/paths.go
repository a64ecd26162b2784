package openapi

import (
	"reflect"
	"slices"
	"strings"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Definition names of the meta.k8s.io types the operations use.
const (
	statusName        = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
	deleteOptionsName = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
	patchName         = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
	objectMetaName    = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
	scaleName         = "io.k8s.api.autoscaling.v1.Scale"
)

// The patch content types a PATCH accepts (server-side apply is refused,
// but listed as Kubernetes lists it so that clients find the operation).
func patchContentTypes() []string {
	return []string{string(api.JSONPatchType), string(api.MergePatchType), string(api.StrategicMergePatchType), string(api.ApplyPatchType)}
}

// param is a parameter of an operation.
type param struct {
	name, in, typ, desc string
}

// The parameters, with Kubernetes' names, types and meanings.
var (
	paramName      = param{"name", "path", "string", "name of the object"}
	paramNamespace = param{"namespace", "path", "string", "object name and auth scope, such as for teams and projects"}
	paramPretty    = param{"pretty", "query", "string", "If 'true', then the output is pretty printed."}

	paramDryRun          = param{"dryRun", "query", "string", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed"}
	paramFieldManager    = param{"fieldManager", "query", "string", "fieldManager is a name associated with the actor or entity that is making these changes."}
	paramFieldValidation = param{"fieldValidation", "query", "string", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore, - Warn, - Strict. Flotilla always rejects unknown fields (Strict)."}
	paramForce           = param{"force", "query", "boolean", "Force is going to \"force\" Apply requests. It must be unset for non-apply patch requests."}

	paramGracePeriod       = param{"gracePeriodSeconds", "query", "integer", "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately."}
	paramOrphanDependents  = param{"orphanDependents", "query", "boolean", "Deprecated: please use the PropagationPolicy."}
	paramPropagationPolicy = param{"propagationPolicy", "query", "string", "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'."}

	paramAllowWatchBookmarks  = param{"allowWatchBookmarks", "query", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."}
	paramContinue             = param{"continue", "query", "string", "The continue option should be set when retrieving more results from the server."}
	paramFieldSelector        = param{"fieldSelector", "query", "string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."}
	paramLabelSelector        = param{"labelSelector", "query", "string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."}
	paramLimit                = param{"limit", "query", "integer", "limit is a maximum number of responses to return for a list call."}
	paramResourceVersion      = param{"resourceVersion", "query", "string", "resourceVersion sets a constraint on what resource versions a request may be served from."}
	paramResourceVersionMatch = param{"resourceVersionMatch", "query", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls."}
	paramSendInitialEvents    = param{"sendInitialEvents", "query", "boolean", "sendInitialEvents=true may be set together with watch=true to begin the watch stream with synthetic events of the current state."}
	paramTimeoutSeconds       = param{"timeoutSeconds", "query", "integer", "Timeout for the list/watch call."}
	paramWatch                = param{"watch", "query", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."}
)

func logParams() []param {
	return []param{
		{"container", "query", "string", "The container for which to stream logs. Defaults to only container if there is one container in the pod."},
		{"follow", "query", "boolean", "Follow the log stream of the pod. Defaults to false."},
		{"limitBytes", "query", "integer", "If set, the number of bytes to read from the server before terminating the log output."},
		{"previous", "query", "boolean", "Return previous terminated container logs. Defaults to false."},
		{"sinceSeconds", "query", "integer", "A relative time in seconds before the current time from which to show logs."},
		{"sinceTime", "query", "string", "An RFC3339 timestamp from which to show logs."},
		{"tailLines", "query", "integer", "If set, the number of lines from the end of the logs to show."},
		{"timestamps", "query", "boolean", "If true, add an RFC3339 timestamp at the beginning of every line of log output. Defaults to false."},
	}
}

func listParams() []param {
	return []param{paramAllowWatchBookmarks, paramContinue, paramFieldSelector, paramLabelSelector, paramLimit,
		paramResourceVersion, paramResourceVersionMatch, paramSendInitialEvents, paramTimeoutSeconds, paramWatch}
}

func writeParams() []param { return []param{paramDryRun, paramFieldManager, paramFieldValidation} }

func deleteParams() []param {
	return []param{paramDryRun, paramGracePeriod, paramOrphanDependents, paramPropagationPolicy}
}

// operation is one HTTP method on one path, in a form both document
// versions are written from.
type operation struct {
	method string // get, put, post, patch, delete
	action string // x-kubernetes-action: get, list, post, put, patch, delete, deletecollection
	id     string
	desc   string
	params []param
	// body is the definition name of the request body ("" for none);
	// patch bodies are patchName with the patch content types.
	body string
	// response is the definition name of the 200 response, or "" for
	// text (pod logs).
	response string
	// created adds 201 and 202 responses (create).
	created bool
	gvk     metav1.GroupVersionKind
}

// pathItem is the operations of one path.
type pathItem struct {
	path   string
	params []param
	ops    []operation
}

// groupVersion is one API group version and its kinds.
type groupVersion struct {
	group, version string
	kinds          []api.KindInfo
}

// docPath is the path of the group version's OpenAPI v3 document under
// /openapi/v3/ ("api/v1", "apis/apps/v1").
func (gv groupVersion) docPath() string {
	if gv.group == "" {
		return "api/" + gv.version
	}
	return "apis/" + gv.group + "/" + gv.version
}

// groupVersions returns the scheme's group versions, the core group first,
// then by group.
func groupVersions(scheme *api.Scheme) []groupVersion {
	var out []groupVersion
	for _, k := range scheme.Kinds() {
		g, v := api.SplitAPIVersion(k.APIVersion)
		i := slices.IndexFunc(out, func(gv groupVersion) bool { return gv.group == g && gv.version == v })
		if i < 0 {
			out = append(out, groupVersion{group: g, version: v})
			i = len(out) - 1
		}
		out[i].kinds = append(out[i].kinds, k)
	}
	slices.SortFunc(out, func(a, b groupVersion) int {
		if c := strings.Compare(a.group, b.group); c != 0 {
			return c
		}
		return strings.Compare(a.version, b.version)
	})
	return out
}

// jsonField returns the type of struct t's field with the JSON name,
// looking into embedded structs without a name.
func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" {
			if ft, ok := jsonField(f.Type, name); ok {
				return ft, true
			}
			continue
		}
		if tag == name {
			return f.Type, true
		}
	}
	return nil, false
}

// subresources of a kind, as the API server serves them: status for kinds
// with a status, scale for kinds with spec.replicas, spec.selector and
// status.replicas, log for Pods.
func subresources(k api.KindInfo) (status, scale, log bool) {
	t := reflect.TypeOf(k.New())
	spec, hasSpec := jsonField(t, "spec")
	st, hasStatus := jsonField(t, "status")
	if hasSpec && hasStatus {
		r, ok1 := jsonField(spec, "replicas")
		_, ok2 := jsonField(spec, "selector")
		sr, ok3 := jsonField(st, "replicas")
		scale = ok1 && ok2 && ok3 && r == reflect.TypeFor[*int32]() && sr == reflect.TypeFor[int32]()
	}
	return hasStatus, scale, t == reflect.TypeFor[*api.Pod]()
}

// camel turns "apps" into "Apps" and "" into "Core", for operation ids.
func camel(s string) string {
	if s == "" {
		return "Core"
	}
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '.' || r == '-' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// paths returns the paths of a group version's kinds, as Kubernetes lays
// them out.
func paths(gv groupVersion, defName func(reflect.Type) string) []pathItem {
	prefix := "/" + gv.docPath()
	gvID := camel(gv.group) + camel(gv.version)
	var out []pathItem
	for _, k := range gv.kinds {
		gvk := metav1.GroupVersionKind{Group: gv.group, Version: gv.version, Kind: k.Kind}
		obj := defName(reflect.TypeOf(k.New()).Elem())
		list := defName(reflect.TypeOf(k.NewList()).Elem())
		ns, nsID := "", ""
		scope := []param{}
		if k.Namespaced {
			ns, nsID = "/namespaces/{namespace}", "Namespaced"
			scope = []param{paramNamespace}
		}
		coll := prefix + ns + "/" + k.Resource
		item := coll + "/{name}"
		id := gvID + nsID + k.Kind
		out = append(out,
			pathItem{path: coll, params: append(slices.Clone(scope), paramPretty), ops: []operation{
				{method: "get", action: "list", id: "list" + id, desc: "list or watch objects of kind " + k.Kind,
					params: listParams(), response: list, gvk: gvk},
				{method: "post", action: "post", id: "create" + id, desc: "create " + a(k.Kind),
					params: writeParams(), body: obj, response: obj, created: true, gvk: gvk},
				{method: "delete", action: "deletecollection", id: "deleteCollection" + id, desc: "delete collection of " + k.Kind,
					params: append(deleteParams(), paramContinue, paramFieldSelector, paramLabelSelector, paramLimit,
						paramResourceVersion, paramResourceVersionMatch, paramSendInitialEvents, paramTimeoutSeconds),
					body: deleteOptionsName, response: statusName, gvk: gvk},
			}},
			pathItem{path: item, params: append([]param{paramName}, append(slices.Clone(scope), paramPretty)...), ops: []operation{
				{method: "get", action: "get", id: "read" + id, desc: "read the specified " + k.Kind, response: obj, gvk: gvk},
				{method: "put", action: "put", id: "replace" + id, desc: "replace the specified " + k.Kind,
					params: writeParams(), body: obj, response: obj, created: true, gvk: gvk},
				{method: "patch", action: "patch", id: "patch" + id, desc: "partially update the specified " + k.Kind,
					params: append(writeParams(), paramForce), body: patchName, response: obj, created: true, gvk: gvk},
				{method: "delete", action: "delete", id: "delete" + id, desc: "delete " + a(k.Kind),
					params: deleteParams(), body: deleteOptionsName, response: statusName, gvk: gvk},
			}},
		)
		if k.Namespaced {
			out = append(out, pathItem{path: prefix + "/" + k.Resource, params: []param{paramPretty}, ops: []operation{
				{method: "get", action: "list", id: "list" + gvID + k.Kind + "ForAllNamespaces", desc: "list or watch objects of kind " + k.Kind,
					params: listParams(), response: list, gvk: gvk},
			}})
		}
		status, scale, log := subresources(k)
		sub := func(name, what, resp string, respGVK metav1.GroupVersionKind) pathItem {
			subID := id + what
			return pathItem{path: item + "/" + name, params: append([]param{paramName}, append(slices.Clone(scope), paramPretty)...), ops: []operation{
				{method: "get", action: "get", id: "read" + subID, desc: "read " + name + " of the specified " + k.Kind, response: resp, gvk: respGVK},
				{method: "put", action: "put", id: "replace" + subID, desc: "replace " + name + " of the specified " + k.Kind,
					params: writeParams(), body: resp, response: resp, created: true, gvk: respGVK},
				{method: "patch", action: "patch", id: "patch" + subID, desc: "partially update " + name + " of the specified " + k.Kind,
					params: append(writeParams(), paramForce), body: patchName, response: resp, created: true, gvk: respGVK},
			}}
		}
		if log {
			out = append(out, pathItem{path: item + "/log", params: append([]param{paramName}, append(slices.Clone(scope), paramPretty)...), ops: []operation{
				{method: "get", action: "get", id: "read" + id + "Log", desc: "read log of the specified " + k.Kind,
					params: logParams(), gvk: gvk},
			}})
		}
		if scale {
			out = append(out, sub("scale", "Scale", scaleName, metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}))
		}
		if status {
			out = append(out, sub("status", "Status", obj, gvk))
		}
	}
	return out
}

// a prefixes a kind with its indefinite article.
func a(kind string) string {
	if strings.ContainsRune("AEIOU", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}
