package nodeauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
)

// Config configures an Authorizer.
type Config struct {
	// Client reads the Pods that decide pods/status writes and ConfigMap and Secret
	// reads: the serving node's own client. Required.
	Client client.Reader
	// Next decides the requests of every user that is not an agent; nil
	// allows them.
	Next apiserver.Authorizer
}

// Authorizer is the node authorizer. It is safe for concurrent use.
type Authorizer struct {
	cfg Config
}

// New returns the node authorizer of cfg.
//
// Errors: Config.Client is nil.
func New(cfg Config) (*Authorizer, error) {
	if cfg.Client == nil {
		return nil, errors.New("nodeauth: Config.Client is required")
	}
	return &Authorizer{cfg: cfg}, nil
}

// AgentNode returns the node name of u when u is an agent (in
// system:nodes, not in flotilla:servers). ok is false for every other
// user; name is "" for an agent whose user name is not
// system:node:<name>.
func AgentNode(u apiserver.User) (name string, ok bool) {
	if !slices.Contains(u.Groups, trust.GroupNodes) || slices.Contains(u.Groups, trust.GroupServers) {
		return "", false
	}
	name, _ = strings.CutPrefix(u.Name, trust.UserPrefix)
	if name == u.Name {
		name = ""
	}
	return name, true
}

// Authorize allows a's request or refuses it.
//
// Errors: a Forbidden StatusError in Kubernetes' wording, naming the
// user, the verb, the resource and why, when an agent asks for more than
// the package doc lists; an error of the Pod, ConfigMap or Secret lookup other
// than NotFound (the server answers 500); what Config.Next returns for
// any other user.
func (z *Authorizer) Authorize(ctx context.Context, a apiserver.Attributes) error {
	node, isAgent := AgentNode(a.User)
	if !isAgent {
		if z.cfg.Next == nil {
			return nil
		}
		return z.cfg.Next.Authorize(ctx, a)
	}
	if node == "" {
		return forbidden(a, fmt.Sprintf("unknown node for user %q", a.User.Name))
	}
	if !a.ResourceRequest {
		if (a.Verb == "get" || a.Verb == "head") && discoveryPath(a.Path) {
			return nil
		}
		return forbidden(a, "")
	}
	if a.APIGroup == "coordination.k8s.io" && a.Resource == "leases" {
		return lease(a, node)
	}
	readOnly := a.Subresource == "" && slices.Contains([]string{"get", "list", "watch"}, a.Verb)
	if a.APIGroup == "discovery.k8s.io" && a.Resource == "endpointslices" && readOnly {
		return nil // the node's Service proxy and DNS follow the endpoints
	}
	if a.APIGroup != "" {
		return forbidden(a, "")
	}
	switch a.Resource {
	case "services":
		if readOnly {
			return nil
		}
	case "nodes":
		return z.node(a, node)
	case "pods":
		return z.pod(ctx, a, node)
	case "configmaps":
		return z.podsUse(ctx, a, node, referencesConfigMap)
	case "secrets":
		return z.podsUse(ctx, a, node, referencesSecret)
	case "events":
		if a.Subresource == "" && slices.Contains([]string{"get", "create", "update", "patch"}, a.Verb) {
			return nil
		}
	}
	return forbidden(a, "")
}

func (z *Authorizer) node(a apiserver.Attributes, node string) error {
	var verbs []string
	switch a.Subresource {
	case "":
		verbs = []string{"get", "create", "update", "patch"}
	case "status":
		verbs = []string{"get", "update", "patch"}
	default:
		return forbidden(a, "")
	}
	if !slices.Contains(verbs, a.Verb) {
		return forbidden(a, "")
	}
	// A create carries no name in its path: Restrict checks the body's.
	if a.Name == node || (a.Verb == "create" && a.Subresource == "" && a.Name == "") {
		return nil
	}
	return forbidden(a, fmt.Sprintf("node %q cannot modify or read node %q", node, a.Name))
}

// lease allows the agent its own Lease, kube-node-lease/<node>: get,
// create, update, patch (Kubernetes' system:node role and NodeRestriction).
func lease(a apiserver.Attributes, node string) error {
	if a.Subresource != "" || !slices.Contains([]string{"get", "create", "update", "patch"}, a.Verb) {
		return forbidden(a, "")
	}
	if a.Namespace != api.NodeLeaseNamespace {
		return forbidden(a, fmt.Sprintf("can only access leases in the %q namespace", api.NodeLeaseNamespace))
	}
	// A create carries no name in its path: Restrict checks the body's.
	if a.Name == node || (a.Verb == "create" && a.Name == "") {
		return nil
	}
	return forbidden(a, "can only access node lease with the same name as the requesting node")
}

func (z *Authorizer) pod(ctx context.Context, a apiserver.Attributes, node string) error {
	switch a.Subresource {
	case "":
		if slices.Contains([]string{"get", "list", "watch"}, a.Verb) {
			return nil
		}
		return forbidden(a, "")
	case "status":
		if !slices.Contains([]string{"get", "update", "patch"}, a.Verb) || a.Name == "" {
			return forbidden(a, "")
		}
	default:
		return forbidden(a, "")
	}
	// spec.nodeName never changes once set, so a stale read of a bound
	// Pod decides as well as a fresh one; only a Pod not found yet needs
	// the leader.
	var pod api.Pod
	err := z.cfg.Client.Get(ctx, a.Namespace, a.Name, &pod, client.GetOptions{})
	if api.IsNotFound(err) || (err == nil && pod.Spec.NodeName == "") {
		err = z.cfg.Client.Get(ctx, a.Namespace, a.Name, &pod, client.GetOptions{Consistent: true})
	}
	switch {
	case api.IsNotFound(err):
		return forbidden(a, noRelationship(node))
	case err != nil:
		return fmt.Errorf("nodeauth: reading Pod %s/%s: %w", a.Namespace, a.Name, err)
	case pod.Spec.NodeName != node:
		return forbidden(a, noRelationship(node))
	}
	return nil
}

// podsUse allows a get of the ConfigMap or Secret a names when a Pod bound
// to node uses it (uses reports that), as Kubernetes' node authorizer
// does.
func (z *Authorizer) podsUse(ctx context.Context, a apiserver.Attributes, node string, uses func(*api.Pod, string) bool) error {
	if a.Subresource != "" || a.Verb != "get" || a.Name == "" {
		return forbidden(a, "")
	}
	// The agent reads an object right after it learnt of the Pod, maybe
	// from another server: look again at the leader before refusing.
	for _, consistent := range []bool{false, true} {
		var pods api.PodList
		err := z.cfg.Client.List(ctx, &pods, client.ListOptions{
			Namespace:  a.Namespace,
			Fields:     api.OneTermEqualSelector("spec.nodeName", node),
			Consistent: consistent,
		})
		if err != nil {
			return fmt.Errorf("nodeauth: listing the Pods of node %q: %w", node, err)
		}
		for i := range pods.Items {
			if uses(&pods.Items[i], a.Name) {
				return nil
			}
		}
	}
	return forbidden(a, noRelationship(node))
}

func referencesConfigMap(pod *api.Pod, name string) bool {
	for _, cs := range [][]api.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			for _, from := range cs[i].EnvFrom {
				if from.ConfigMapRef != nil && from.ConfigMapRef.Name == name {
					return true
				}
			}
			for _, env := range cs[i].Env {
				if env.ValueFrom != nil && env.ValueFrom.ConfigMapKeyRef != nil && env.ValueFrom.ConfigMapKeyRef.Name == name {
					return true
				}
			}
		}
	}
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == name {
			return true
		}
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ConfigMap != nil && s.ConfigMap.Name == name {
				return true
			}
		}
	}
	return false
}

func referencesSecret(pod *api.Pod, name string) bool {
	for _, cs := range [][]api.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			for _, from := range cs[i].EnvFrom {
				if from.SecretRef != nil && from.SecretRef.Name == name {
					return true
				}
			}
			for _, env := range cs[i].Env {
				if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil && env.ValueFrom.SecretKeyRef.Name == name {
					return true
				}
			}
		}
	}
	for _, ref := range pod.Spec.ImagePullSecrets {
		if ref.Name == name {
			return true
		}
	}
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == name {
			return true
		}
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.Secret != nil && s.Secret.Name == name {
				return true
			}
		}
	}
	return false
}

// discoveryPath reports the non-resource paths every node may read.
func discoveryPath(p string) bool {
	for _, prefix := range []string{"/api", "/apis", "/openapi"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return slices.Contains([]string{"/version", "/healthz", "/livez", "/readyz"}, p)
}

func noRelationship(node string) string {
	return fmt.Sprintf("no relationship found between node '%s' and this object", node)
}

// forbidden is the API server's refusal of a, in Kubernetes' wording:
//
//	pods "web" is forbidden: User "system:node:a" cannot update resource "pods/status" in API group "" in the namespace "default": <reason>
func forbidden(a apiserver.Attributes, reason string) error {
	var msg string
	if !a.ResourceRequest {
		msg = fmt.Sprintf("User %q cannot %s path %q", a.User.Name, a.Verb, a.Path)
	} else {
		resource := a.Resource
		if a.Subresource != "" {
			resource += "/" + a.Subresource
		}
		scope := "at the cluster scope"
		if a.Namespace != "" {
			scope = fmt.Sprintf("in the namespace %q", a.Namespace)
		}
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q %s", a.User.Name, a.Verb, resource, a.APIGroup, scope)
	}
	if reason != "" {
		msg += ": " + reason
	}
	if !a.ResourceRequest {
		return forbiddenStatus("", "", "forbidden: "+msg)
	}
	gr := a.Resource
	if a.APIGroup != "" {
		gr += "." + a.APIGroup
	}
	return api.NewForbidden(gr, a.Name, errors.New(msg))
}

func forbiddenStatus(kind, name, msg string) *api.StatusError {
	err := api.NewForbidden(kind, name, nil)
	err.ErrStatus.Message = msg
	err.ErrStatus.Details = nil
	return err
}
