package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"go.uber.org/zap"
)

// CreateOnly is a virtual resource that answers creates and stores
// nothing, outside the registry's scheme: Kubernetes' access reviews
// (authorization.k8s.io SelfSubjectAccessReview, SubjectAccessReview)
// and authentication.k8s.io SelfSubjectReview. Discovery lists it with
// the single verb create; any other verb on it is 405.
type CreateOnly struct {
	// Group ("" for core) and Version of the resource's API.
	Group, Version string
	// Resource is its plural in URLs and RBAC, Kind the kind of the body
	// and of the answer.
	Resource, Kind string
	// Namespaced: the resource is created under /namespaces/<ns>/.
	Namespaced bool
	// Create answers the POST of body (at most Config.MaxRequestBytes, of
	// the request's contentType: JSON, YAML, or Kubernetes' protobuf,
	// which kubectl's typed clients send) in namespace (the path's; "" for
	// a cluster-scoped resource); the user is UserFrom(ctx). Its result is
	// sent as JSON with 201 Created. A StatusError it returns is sent as
	// is, any other error as a 500.
	Create func(ctx context.Context, namespace, contentType string, body []byte) (any, error)
}

func (c CreateOnly) validate(i int) error {
	if c.Version == "" || c.Resource == "" || c.Kind == "" || c.Create == nil {
		return fmt.Errorf("apiserver: Config.CreateOnly[%d]: Version, Resource, Kind and Create are required", i)
	}
	return nil
}

// addCreateOnly adds cs to rs.
//
// Errors: a resource the scheme already serves, or given twice.
func addCreateOnly(rs map[groupVersionResource]*resource, cs []CreateOnly) error {
	var errs []error
	for i, c := range cs {
		k := groupVersionResource{c.Group, c.Version, c.Resource}
		if rs[k] != nil {
			errs = append(errs, fmt.Errorf("apiserver: Config.CreateOnly[%d]: %s/%s %s is already served", i, c.Group, c.Version, c.Resource))
			continue
		}
		apiVersion := c.Version
		if c.Group != "" {
			apiVersion = c.Group + "/" + c.Version
		}
		rs[k] = &resource{info: api.KindInfo{APIVersion: apiVersion, Kind: c.Kind, Resource: c.Resource, Namespaced: c.Namespaced},
			group: c.Group, version: c.Version, singular: lower(c.Kind), createOnly: &c}
	}
	return errors.Join(errs...)
}

func (s *Server) serveCreateOnly(req *request) {
	w, r, ri := req.w, req.r, req.ri
	if ri.Verb != "create" || ri.Name != "" || ri.Subresource != "" {
		s.writeError(w, r, methodNotAllowed(r.Method))
		return
	}
	body, err := readBody(w, r, s.cfg.MaxRequestBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := req.res.createOnly.Create(r.Context(), req.namespace, r.Header.Get("Content-Type"), body)
	if err != nil {
		if _, ok := api.AsStatusError(err); !ok {
			s.cfg.Logger.Error("apiserver: create-only resource failed", zap.String("resource", ri.Resource), zap.Error(err))
			err = api.NewInternalError(err)
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}
