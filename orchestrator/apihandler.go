package orchestrator

import (
	"fmt"
	"net/http"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
	"github.com/flotilla-io/flotilla/orchestrator/internal/tables"
)

// apiHandler builds the node's Kubernetes API handler: the node's registry
// client, client certificates of the cluster CA and the token file, no
// authorizer yet (every authenticated user is an administrator until RBAC
// lands), Kubernetes' table columns, pod logs from the Pod's node, readiness from the Raft store.
func (c *Cluster) apiHandler() (http.Handler, error) {
	srv, err := apiserver.New(apiserver.Config{
		Client:        c.reg,
		Authenticator: authn.New(authn.Config{Pool: c.api.pool, Tokens: c.api.tokens}),
		Tables:        tables.New(),
		Logs:          podLogs{c},
		Ready:         c.apiReady,
		Logger:        c.log.Named("apiserver"),
	})
	if err != nil {
		return nil, fmt.Errorf("orchestrator: API server: %w", err)
	}
	return srv, nil
}
