package orchestrator

import (
	"fmt"
	"net/http"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
)

// apiHandler builds the node's Kubernetes API handler: the node's registry
// client, client certificates of the cluster CA and the token file, no
// authorizer yet (every authenticated user is an administrator until RBAC
// lands), readiness from the Raft store.
func (c *Cluster) apiHandler() (http.Handler, error) {
	srv, err := apiserver.New(apiserver.Config{
		Client:        c.reg,
		Authenticator: authn.New(authn.Config{Pool: c.api.pool, Tokens: c.api.tokens}),
		Ready:         c.apiReady,
		Logger:        c.log.Named("apiserver"),
	})
	if err != nil {
		return nil, fmt.Errorf("orchestrator: API server: %w", err)
	}
	return srv, nil
}
