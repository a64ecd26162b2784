package nodeauth

import (
	"context"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Restrict returns c with the checks of an agent's writes that need the
// request's body (Kubernetes' NodeRestriction admission): a Node an agent
// creates must be its own. The user is the one apiserver.WithUser put in
// the call's context; calls without one (the cluster's own components)
// and calls of other users pass unchanged.
//
// Create errors, besides c's: Forbidden when an agent creates a Node
// other than its own.
func Restrict(c client.Interface) client.Interface {
	return client.Intercept(c, client.Funcs{
		Create: func(ctx context.Context, c client.Interface, obj api.Object, o client.CreateOptions) error {
			if n, ok := obj.(*api.Node); ok {
				if err := checkNodeCreate(ctx, n); err != nil {
					return err
				}
			}
			return c.Create(ctx, obj, o)
		},
	})
}

func checkNodeCreate(ctx context.Context, n *api.Node) error {
	u, ok := apiserver.UserFrom(ctx)
	if !ok {
		return nil
	}
	node, isAgent := AgentNode(u)
	if !isAgent || (node != "" && n.Name == node) {
		return nil
	}
	return api.NewForbidden("nodes", n.Name, fmt.Errorf("node %q is not allowed to modify node %q", node, n.Name))
}
