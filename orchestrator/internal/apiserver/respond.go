package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// statusOf returns err as the Status error the client is sent: a
// StatusError as is, a context deadline as Timeout, anything else as
// InternalError.
func statusOf(err error) *api.StatusError {
	if se, ok := api.AsStatusError(err); ok {
		return se
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return api.NewTimeout("request did not complete within the allowed duration", 0)
	}
	return api.NewInternalError(err)
}

// writeError writes err as a Kubernetes Status with its HTTP code.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	se := s.kubernetesWording(statusOf(err))
	st := se.Status()
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	if st.Status == "" {
		st.Status = "Failure"
	}
	st.APIVersion, st.Kind = "v1", "Status"
	st.Details = causesWithoutField(st.Details)
	if st.Code >= 500 {
		s.cfg.Logger.Warn("apiserver: request failed", zap.String("method", r.Method),
			zap.String("path", r.URL.Path), zap.Int32("code", st.Code), zap.String("message", st.Message))
	}
	if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(st.Details.RetryAfterSeconds))
	}
	writeJSON(w, int(st.Code), st)
}

// kubernetesWording returns se worded as kube-apiserver words errors
// about a kind it serves, so that kubectl prints what users know:
// NotFound, AlreadyExists, Conflict and Forbidden name the group and
// resource (`deployments.apps "web" not found`, details.kind
// "deployments"), Invalid the kind and group (`Deployment.apps "web" is
// invalid: ...`, details.kind "Deployment", details.group "apps").
// Errors about other things are returned unchanged.
func (s *Server) kubernetesWording(se *api.StatusError) *api.StatusError {
	d := se.ErrStatus.Details
	if d == nil || d.Kind == "" || d.Group != "" {
		return se
	}
	info, ok := s.cfg.Client.Scheme().LookupKind(d.Kind)
	if !ok {
		return se
	}
	group := info.Group()
	old := d.Kind
	if d.Name != "" {
		old += fmt.Sprintf(" %q", d.Name)
	}
	var repl string
	cp := *se
	details := *d
	cp.ErrStatus.Details = &details
	switch se.ErrStatus.Reason {
	case api.ReasonNotFound, api.ReasonAlreadyExists, api.ReasonConflict, api.ReasonForbidden:
		repl = info.GroupResource()
		details.Kind, details.Group = info.Resource, group
	case api.ReasonInvalid:
		if group == "" {
			return se
		}
		repl = info.Kind + "." + group
		details.Group = group
	default:
		return se
	}
	if d.Name != "" {
		repl += fmt.Sprintf(" %q", d.Name)
	}
	if msg, ok := strings.CutPrefix(se.ErrStatus.Message, old+" "); ok {
		cp.ErrStatus.Message = repl + " " + msg
	} else if msg, ok := strings.CutPrefix(se.ErrStatus.Message, "Operation cannot be fulfilled on "+old); ok {
		cp.ErrStatus.Message = "Operation cannot be fulfilled on " + repl + msg
	}
	return &cp
}

// causesWithoutField returns d with each cause's message stripped of the
// field path the api package puts in front of it: Kubernetes' causes
// carry the field apart, and kubectl prints "<field>: <message>"
// (`spec.replicas: Invalid value: -1: must be ...`), so a message that
// repeats it reads twice.
func causesWithoutField(d *api.StatusDetails) *api.StatusDetails {
	if d == nil || len(d.Causes) == 0 {
		return d
	}
	cp := *d
	cp.Causes = make([]api.StatusCause, len(d.Causes))
	for i, c := range d.Causes {
		if c.Field != "" {
			c.Message = strings.TrimPrefix(c.Message, c.Field+": ")
		}
		cp.Causes[i] = c
	}
	return &cp
}

// writeJSON writes v as JSON with code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(api.NewInternalError(err).Status())
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeBody writes v (an object, list, Table or Status) in format f.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, code int, f format, v any) {
	if !f.yaml {
		writeJSON(w, code, v)
		return
	}
	j, err := json.Marshal(v)
	if err == nil {
		var y []byte
		if y, err = yaml.JSONToYAML(j); err == nil {
			w.Header().Set("Content-Type", "application/yaml")
			w.WriteHeader(code)
			_, _ = w.Write(y)
			return
		}
	}
	s.writeError(w, r, api.NewInternalError(err))
}

// notFoundPath is kube-apiserver's answer to a path it does not serve.
func notFoundPath() error {
	e := api.NewNotFound("", "")
	e.ErrStatus.Message = "the server could not find the requested resource"
	e.ErrStatus.Details = nil
	return e
}

// methodNotAllowed is the 405 answer.
func methodNotAllowed(method string) error {
	return &api.StatusError{ErrStatus: api.Status{
		TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   "Failure",
		Message:  fmt.Sprintf("the server does not allow this method on the requested resource (%s)", method),
		Reason:   "MethodNotAllowed",
		Code:     http.StatusMethodNotAllowed,
	}}
}
