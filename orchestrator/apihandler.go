package orchestrator

import (
	"encoding/json"
	"net/http"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
	"go.uber.org/zap"
)

// apiHandler builds the node's API handler.
//
// Interim: until the request handler of package apiserver is merged, the
// node serves the health endpoints, /version and, to authenticated users
// only, 404 for everything else.
func (c *Cluster) apiHandler() (http.Handler, error) {
	an := authn.New(authn.Config{Pool: c.api.pool, Tokens: c.api.tokens})
	log := c.log.Named("apiserver")
	writeStatus := func(w http.ResponseWriter, err *api.StatusError) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(err.Status().Code))
		_ = json.NewEncoder(w).Encode(err.Status())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/livez", "/readyz":
			if r.URL.Path == "/readyz" {
				if err := c.apiReady(r.Context()); err != nil {
					http.Error(w, "[-]raft failed: "+err.Error(), http.StatusInternalServerError)
					return
				}
			}
			_, _ = w.Write([]byte("ok"))
			return
		}
		if _, ok, err := an.Authenticate(r); !ok {
			if err != nil {
				log.Debug("authentication failed", zap.Error(err))
			}
			writeStatus(w, api.NewUnauthorized("Unauthorized"))
			return
		}
		writeStatus(w, api.NewNotFound("path", r.URL.Path))
	}), nil
}
