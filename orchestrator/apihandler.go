package orchestrator

import (
	"fmt"
	"net/http"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/nodeauth"
	"github.com/flotilla-io/flotilla/orchestrator/internal/tables"
)

// apiHandler builds the node's Kubernetes API handler: the node's registry
// client, client certificates of the cluster CA and the token file,
// Kubernetes' table columns, pod logs from the Pod's node, readiness from
// the Raft store, and the node authorizer, which confines agent-only
// nodes' certificates to what their agent needs (every other
// authenticated user is an administrator until RBAC lands).
func (c *Cluster) apiHandler() (http.Handler, error) {
	z, err := nodeauth.New(nodeauth.Config{Client: c.reg})
	if err != nil {
		return nil, fmt.Errorf("orchestrator: API server: %w", err)
	}
	srv, err := apiserver.New(apiserver.Config{
		Client:        nodeauth.Restrict(c.reg),
		Authenticator: authn.New(authn.Config{Pool: c.api.pool, Tokens: c.api.tokens}),
		Authorizer:    z,
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
