package nodeauth

import (
	"context"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Restrict returns c with the checks of an agent's writes that need the
// request's body (Kubernetes' NodeRestriction admission): a Node or a
// Lease an agent creates must be its own (a Lease: in kube-node-lease,
// named after its node). The user is the one apiserver.WithUser put in
// the call's context; calls without one (the cluster's own components)
// and calls of other users pass unchanged.
//
// Create errors, besides c's: Forbidden when an agent creates a Node or
// a Lease other than its own.
func Restrict(c client.Interface) client.Interface {
	return client.Intercept(c, client.Funcs{
		Create: func(ctx context.Context, c client.Interface, obj api.Object, o client.CreateOptions) error {
			switch o := obj.(type) {
			case *api.Node:
				if err := checkNodeCreate(ctx, o); err != nil {
					return err
				}
			case *api.Lease:
				if err := checkLeaseCreate(ctx, o); err != nil {
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

func checkLeaseCreate(ctx context.Context, l *api.Lease) error {
	u, ok := apiserver.UserFrom(ctx)
	if !ok {
		return nil
	}
	node, isAgent := AgentNode(u)
	switch {
	case !isAgent:
		return nil
	case l.Namespace != api.NodeLeaseNamespace:
		return api.NewForbidden("leases.coordination.k8s.io", l.Name, fmt.Errorf("node %q can only access leases in the %q namespace", node, api.NodeLeaseNamespace))
	case node == "" || l.Name != node:
		return api.NewForbidden("leases.coordination.k8s.io", l.Name, fmt.Errorf("node %q can only access node lease with the same name as the requesting node", node))
	}
	return nil
}
