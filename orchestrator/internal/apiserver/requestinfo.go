package apiserver

import (
	"net/http"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// requestInfo is what a request's method, path and query say it does, as
// Kubernetes' RequestInfoFactory reads them.
type requestInfo struct {
	// ResourceRequest: a path under /api/<version> or
	// /apis/<group>/<version> naming a resource; false for discovery
	// documents and non-resource paths.
	ResourceRequest bool
	Path            string
	// Verb: get, list, watch, create, update, patch, delete,
	// deletecollection; for non-resource requests the lower-case method.
	Verb        string
	APIPrefix   string // "api" or "apis"
	APIGroup    string
	APIVersion  string
	Namespace   string
	Resource    string
	Subresource string
	// Name is the object's name in the path.
	Name string
	// SelectorName is the name a list or watch selects with
	// fieldSelector=metadata.name=<name> (kubectl get -w NAME): it is
	// authorized as a request about that object, as in Kubernetes.
	SelectorName string
	// Parts are the path segments from the resource on: resource, name,
	// subresource, and anything after them (which nothing serves).
	Parts []string
	// InNamespace: the path names a resource inside a namespace
	// (/namespaces/<ns>/<resource>...), not the Namespace itself.
	InNamespace bool
}

// parseRequestInfo reads r's intent. It refuses nothing: the router
// answers 404 or 405 for what it does not serve.
func parseRequestInfo(r *http.Request) requestInfo {
	ri := requestInfo{Path: r.URL.Path, Verb: strings.ToLower(r.Method)}
	parts := splitPath(r.URL.Path)
	if len(parts) == 0 || (parts[0] != "api" && parts[0] != "apis") {
		return ri
	}
	ri.APIPrefix = parts[0]
	parts = parts[1:]
	if len(parts) == 0 {
		return ri // /api, /apis: discovery
	}
	if ri.APIPrefix == "apis" {
		if len(parts) < 2 {
			return ri // /apis/<group>: discovery
		}
		ri.APIGroup, parts = parts[0], parts[1:]
	}
	ri.APIVersion, parts = parts[0], parts[1:]
	if len(parts) == 0 {
		return ri // /api/v1, /apis/<group>/<version>: discovery
	}
	ri.ResourceRequest = true

	legacyWatch := false
	if parts[0] == "watch" {
		legacyWatch = true
		parts = parts[1:]
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		ri.Namespace = parts[1]
		// namespaces/<name>/status and /finalize are subresources of the
		// Namespace; anything else after a namespace is a resource in it.
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
			ri.InNamespace = true
		}
	}
	ri.Parts = parts
	if len(parts) > 0 {
		ri.Resource = parts[0]
	}
	if len(parts) > 1 {
		ri.Name = parts[1]
	}
	if len(parts) > 2 {
		ri.Subresource = parts[2]
	}

	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		ri.Verb = "get"
		if ri.Name == "" {
			ri.Verb = "list"
		}
		if legacyWatch || isTrue(q.Get("watch")) {
			ri.Verb = "watch"
		}
	case http.MethodPost:
		ri.Verb = "create"
	case http.MethodPut:
		ri.Verb = "update"
	case http.MethodPatch:
		ri.Verb = "patch"
	case http.MethodDelete:
		ri.Verb = "delete"
		if ri.Name == "" {
			ri.Verb = "deletecollection"
		}
	}
	if (ri.Verb == "list" || ri.Verb == "watch") && ri.Name == "" {
		if fs, err := api.ParseFieldSelector(q.Get("fieldSelector")); err == nil {
			for _, req := range fs.Requirements() {
				if req.Field == "metadata.name" && !req.Negate {
					ri.SelectorName = req.Value
				}
			}
		}
	}
	return ri
}

// attributes turns ri into what an Authorizer reads.
func (ri requestInfo) attributes(u User) Attributes {
	name := ri.Name
	if name == "" {
		name = ri.SelectorName
	}
	return Attributes{
		User:            u,
		Verb:            ri.Verb,
		Namespace:       ri.Namespace,
		APIGroup:        ri.APIGroup,
		APIVersion:      ri.APIVersion,
		Resource:        ri.Resource,
		Subresource:     ri.Subresource,
		Name:            name,
		ResourceRequest: ri.ResourceRequest,
		Path:            ri.Path,
	}
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func isTrue(v string) bool { return v == "true" || v == "1" }
