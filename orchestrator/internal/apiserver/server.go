package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// ServeHTTP serves one request: recover from panics, authenticate,
// authorize, then answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &responseWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.cfg.Logger.Error("apiserver: handler panicked", zap.String("method", r.Method),
				zap.String("path", r.URL.Path), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			if !rw.wroteHeader {
				s.writeError(rw, r, api.NewInternalError(errors.New("the server could not handle the request")))
			}
		}
	}()
	s.serve(rw, r)
}

func (s *Server) serve(w *responseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz", "/livez", "/readyz":
		s.serveHealth(w, r)
		return
	}
	u, ok, err := s.cfg.Authenticator.Authenticate(r)
	if err != nil || !ok {
		if err != nil {
			s.cfg.Logger.Debug("apiserver: authentication failed", zap.String("path", r.URL.Path), zap.Error(err))
		}
		s.writeError(w, r, api.NewUnauthorized("Unauthorized"))
		return
	}
	r = r.WithContext(WithUser(r.Context(), u))
	ri := parseRequestInfo(r)
	if s.cfg.Authorizer != nil {
		if err := s.cfg.Authorizer.Authorize(r.Context(), ri.attributes(u)); err != nil {
			if !api.IsForbidden(err) {
				s.cfg.Logger.Error("apiserver: authorizer failed", zap.Error(err))
				err = api.NewInternalError(err)
			}
			s.writeError(w, r, err)
			return
		}
	}

	switch {
	case r.URL.Path == "/version" || r.URL.Path == "/version/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.writeError(w, r, methodNotAllowed(r.Method))
			return
		}
		writeJSON(w, http.StatusOK, s.cfg.Version)
		return
	case r.URL.Path == "/openapi/v2" || strings.HasPrefix(r.URL.Path, "/openapi/v3"):
		if s.cfg.OpenAPI == nil {
			s.writeError(w, r, notFoundPath())
			return
		}
		s.cfg.OpenAPI.ServeHTTP(w, r)
		return
	}
	if ri.APIPrefix == "" {
		s.writeError(w, r, notFoundPath())
		return
	}
	if !ri.ResourceRequest {
		if !s.serveDiscovery(w, r, ri) {
			s.writeError(w, r, notFoundPath())
		}
		return
	}
	s.serveResource(w, r, ri)
}

// Forbidden returns the error an Authorizer returns to refuse a, in
// Kubernetes' words: `pods "web" is forbidden: User "alice" cannot get
// resource "pods" in API group "" in the namespace "dev"`, with reason
// appended after a colon when not empty.
func Forbidden(a Attributes, reason string) *api.StatusError {
	var msg string
	if a.ResourceRequest {
		res := a.Resource
		if a.Subresource != "" {
			res += "/" + a.Subresource
		}
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q", a.User.Name, a.Verb, res, a.APIGroup)
		if a.Namespace != "" {
			msg += fmt.Sprintf(" in the namespace %q", a.Namespace)
		} else {
			msg += " at the cluster scope"
		}
	} else {
		msg = fmt.Sprintf("User %q cannot %s path %q", a.User.Name, a.Verb, a.Path)
	}
	if reason != "" {
		msg += ": " + reason
	}
	kind := a.Resource
	if a.APIGroup != "" && kind != "" {
		kind += "." + a.APIGroup
	}
	if !a.ResourceRequest {
		kind = ""
	}
	e := api.NewForbidden(kind, a.Name, errors.New(msg))
	if e.ErrStatus.Details != nil {
		e.ErrStatus.Details.Kind, e.ErrStatus.Details.Group = a.Resource, a.APIGroup
	}
	if !a.ResourceRequest {
		e.ErrStatus.Message = "forbidden: " + msg
	}
	return e
}

// serveHealth answers /healthz, /livez and /readyz without
// authentication: load balancers and kubelets probe them without
// credentials. Only /readyz consults Config.Ready; why it fails is told
// (with ?verbose) to authenticated callers only, as Kubernetes withholds it.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(w, r, methodNotAllowed(r.Method))
		return
	}
	var failed error
	check := "ping"
	if r.URL.Path == "/readyz" && s.cfg.Ready != nil {
		check = "leader-and-store"
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		failed = s.cfg.Ready(ctx)
		cancel()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, verbose := r.URL.Query()["verbose"]
	name := strings.TrimPrefix(r.URL.Path, "/")
	if failed != nil {
		w.WriteHeader(http.StatusInternalServerError)
		// The reason names the node's internals (its Raft indexes, its
		// store's errors): only an authenticated caller reads it.
		if _, ok, _ := s.cfg.Authenticator.Authenticate(r); verbose && ok {
			fmt.Fprintf(w, "[-]%s failed: %v\n%s check failed\n", check, failed, name)
		} else {
			fmt.Fprintf(w, "[-]%s failed: reason withheld\n%s check failed\n", check, name)
		}
		return
	}
	w.WriteHeader(http.StatusOK)
	if verbose {
		fmt.Fprintf(w, "[+]%s ok\n%s check passed\n", check, name)
		return
	}
	_, _ = w.Write([]byte("ok"))
}

// responseWriter remembers whether the header was sent, so that a panic
// after it is not answered twice.
type responseWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *responseWriter) WriteHeader(code int) {
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Flush sends what was written so far (watch events, log lines).
func (w *responseWriter) Flush() {
	w.wroteHeader = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
