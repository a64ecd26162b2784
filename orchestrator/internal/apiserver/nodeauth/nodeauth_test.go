package nodeauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/nodeauth"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	agentA  = apiserver.User{Name: "system:node:a", Groups: []string{"system:nodes", "flotilla:agents", "system:authenticated"}}
	agentB  = apiserver.User{Name: "system:node:b", Groups: []string{"system:nodes", "flotilla:agents"}}
	server  = apiserver.User{Name: "system:node:s1", Groups: []string{"system:nodes", "flotilla:servers"}}
	admin   = apiserver.User{Name: "admin", Groups: []string{"system:masters"}}
	noName  = apiserver.User{Name: "someone", Groups: []string{"system:nodes"}}
	podSpec = api.PodSpec{Containers: []api.Container{{Name: "c", Image: "img"}}}
)

// cluster stores Pods p-a (bound to a, using ConfigMaps env, from, vol and
// proj and Secrets s-env, s-from, s-vol and s-proj), p-b (bound to b,
// using ConfigMap other and Secret s-other) and p-none (unbound).
func cluster(t *testing.T) *registry.Registry {
	t.Helper()
	reg := testutil.Registry(t)
	ctx := context.Background()
	pa := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p-a", Namespace: "default"}, Spec: podSpec}
	pa.Spec.Containers = []api.Container{{Name: "c", Image: "img",
		Env: []api.EnvVar{{Name: "E", ValueFrom: &api.EnvVarSource{
			ConfigMapKeyRef: &api.ConfigMapKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "env"}, Key: "k"}}},
			{Name: "S", ValueFrom: &api.EnvVarSource{
				SecretKeyRef: &api.SecretKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "s-env"}, Key: "k"}}}}}}
	pa.Spec.InitContainers = []api.Container{{Name: "i", Image: "img",
		EnvFrom: []api.EnvFromSource{{ConfigMapRef: &api.ConfigMapEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "from"}}},
			{SecretRef: &api.SecretEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "s-from"}}}}}}
	pa.Spec.Volumes = []api.Volume{
		{Name: "v", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "vol"}}}},
		{Name: "p", VolumeSource: api.VolumeSource{Projected: &api.ProjectedVolumeSource{Sources: []api.VolumeProjection{
			{ConfigMap: &api.ConfigMapProjection{LocalObjectReference: api.LocalObjectReference{Name: "proj"}}},
			{Secret: &api.SecretProjection{LocalObjectReference: api.LocalObjectReference{Name: "s-proj"}}}}}}},
		{Name: "s", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "s-vol"}}},
	}
	pb := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p-b", Namespace: "default"}, Spec: podSpec}
	pb.Spec.Volumes = []api.Volume{{Name: "v", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "other"}}}},
		{Name: "s", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "s-other"}}}}
	pn := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p-none", Namespace: "default"}, Spec: podSpec}
	for _, p := range []struct {
		pod  *api.Pod
		node string
	}{{pa, "a"}, {pb, "b"}, {pn, ""}} {
		if err := reg.Create(ctx, p.pod, client.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", p.pod.Name, err)
		}
		if p.node != "" {
			if _, err := reg.Bind(ctx, p.pod, p.node, client.UpdateOptions{}); err != nil {
				t.Fatalf("bind %s: %v", p.pod.Name, err)
			}
		}
	}
	return reg
}

func res(u apiserver.User, verb, ns, resource, sub, name string) apiserver.Attributes {
	return apiserver.Attributes{User: u, Verb: verb, Namespace: ns, APIVersion: "v1", Resource: resource,
		Subresource: sub, Name: name, ResourceRequest: true}
}

func leases(u apiserver.User, verb, ns, name string) apiserver.Attributes {
	a := res(u, verb, ns, "leases", "", name)
	a.APIGroup = "coordination.k8s.io"
	return a
}

// inDiscovery puts a request in the discovery.k8s.io/v1 group.
func inDiscovery(a apiserver.Attributes) apiserver.Attributes {
	a.APIGroup, a.APIVersion = "discovery.k8s.io", "v1"
	return a
}

func TestAuthorize(t *testing.T) {
	reg := cluster(t)
	z, err := nodeauth.New(nodeauth.Config{Client: reg})
	if err != nil {
		t.Fatal(err)
	}
	apps := res(agentA, "list", "default", "deployments", "", "")
	apps.APIGroup, apps.APIVersion = "apps", "v1"
	tests := []struct {
		name  string
		attrs apiserver.Attributes
		// want is "" to allow, else the Forbidden message.
		want string
	}{
		// Nodes: its own only.
		{"get own node", res(agentA, "get", "", "nodes", "", "a"), ""},
		{"create own node", res(agentA, "create", "", "nodes", "", "a"), ""},
		{"create node without a name (Restrict checks the body)", res(agentA, "create", "", "nodes", "", ""), ""},
		{"update own node", res(agentA, "update", "", "nodes", "", "a"), ""},
		{"patch own node", res(agentA, "patch", "", "nodes", "", "a"), ""},
		{"update own node status", res(agentA, "update", "", "nodes", "status", "a"), ""},
		{"patch own node status", res(agentA, "patch", "", "nodes", "status", "a"), ""},
		{"get other node", res(agentA, "get", "", "nodes", "", "b"),
			`nodes "b" is forbidden: User "system:node:a" cannot get resource "nodes" in API group "" at the cluster scope: node "a" cannot modify or read node "b"`},
		{"update other node status", res(agentA, "update", "", "nodes", "status", "b"),
			`nodes "b" is forbidden: User "system:node:a" cannot update resource "nodes/status" in API group "" at the cluster scope: node "a" cannot modify or read node "b"`},
		{"create other node", res(agentA, "create", "", "nodes", "", "b"),
			`nodes "b" is forbidden: User "system:node:a" cannot create resource "nodes" in API group "" at the cluster scope: node "a" cannot modify or read node "b"`},
		{"delete own node", res(agentA, "delete", "", "nodes", "", "a"),
			`nodes "a" is forbidden: User "system:node:a" cannot delete resource "nodes" in API group "" at the cluster scope`},
		{"list nodes", res(agentA, "list", "", "nodes", "", ""),
			`nodes is forbidden: User "system:node:a" cannot list resource "nodes" in API group "" at the cluster scope`},

		// Pods: read all, write the status of its own.
		{"list pods", res(agentA, "list", "", "pods", "", ""), ""},
		{"watch pods", res(agentA, "watch", "", "pods", "", ""), ""},
		{"get pod", res(agentA, "get", "default", "pods", "", "p-b"), ""},
		{"update own pod status", res(agentA, "update", "default", "pods", "status", "p-a"), ""},
		{"patch own pod status", res(agentA, "patch", "default", "pods", "status", "p-a"), ""},
		{"update other node's pod status", res(agentA, "update", "default", "pods", "status", "p-b"),
			`pods "p-b" is forbidden: User "system:node:a" cannot update resource "pods/status" in API group "" in the namespace "default": no relationship found between node 'a' and this object`},
		{"update unbound pod status", res(agentA, "update", "default", "pods", "status", "p-none"),
			`pods "p-none" is forbidden: User "system:node:a" cannot update resource "pods/status" in API group "" in the namespace "default": no relationship found between node 'a' and this object`},
		{"update missing pod status", res(agentA, "update", "default", "pods", "status", "nope"),
			`pods "nope" is forbidden: User "system:node:a" cannot update resource "pods/status" in API group "" in the namespace "default": no relationship found between node 'a' and this object`},
		{"update own pod", res(agentA, "update", "default", "pods", "", "p-a"),
			`pods "p-a" is forbidden: User "system:node:a" cannot update resource "pods" in API group "" in the namespace "default"`},
		{"delete own pod", res(agentA, "delete", "default", "pods", "", "p-a"),
			`pods "p-a" is forbidden: User "system:node:a" cannot delete resource "pods" in API group "" in the namespace "default"`},
		{"create pod", res(agentA, "create", "default", "pods", "", ""),
			`pods is forbidden: User "system:node:a" cannot create resource "pods" in API group "" in the namespace "default"`},
		{"bind pod", res(agentA, "create", "default", "pods", "binding", "p-none"),
			`pods "p-none" is forbidden: User "system:node:a" cannot create resource "pods/binding" in API group "" in the namespace "default"`},

		// Services and EndpointSlices: read only.
		{"list services", res(agentA, "list", "", "services", "", ""), ""},
		{"watch services", res(agentA, "watch", "default", "services", "", ""), ""},
		{"update service", res(agentA, "update", "default", "services", "", "web"),
			`services "web" is forbidden: User "system:node:a" cannot update resource "services" in API group "" in the namespace "default"`},
		{"update service status", res(agentA, "update", "default", "services", "status", "web"),
			`services "web" is forbidden: User "system:node:a" cannot update resource "services/status" in API group "" in the namespace "default"`},
		{"watch endpointslices", inDiscovery(res(agentA, "watch", "", "endpointslices", "", "")), ""},
		{"delete endpointslice", inDiscovery(res(agentA, "delete", "default", "endpointslices", "", "web-x")),
			`endpointslices.discovery.k8s.io "web-x" is forbidden: User "system:node:a" cannot delete resource "endpointslices" in API group "discovery.k8s.io" in the namespace "default"`},

		// ConfigMaps: those its Pods use.
		{"get env configmap", res(agentA, "get", "default", "configmaps", "", "env"), ""},
		{"get envFrom configmap of an init container", res(agentA, "get", "default", "configmaps", "", "from"), ""},
		{"get volume configmap", res(agentA, "get", "default", "configmaps", "", "vol"), ""},
		{"get projected configmap", res(agentA, "get", "default", "configmaps", "", "proj"), ""},
		{"get other node's configmap", res(agentA, "get", "default", "configmaps", "", "other"),
			`configmaps "other" is forbidden: User "system:node:a" cannot get resource "configmaps" in API group "" in the namespace "default": no relationship found between node 'a' and this object`},
		{"get configmap in another namespace", res(agentA, "get", "kube-system", "configmaps", "", "env"),
			`configmaps "env" is forbidden: User "system:node:a" cannot get resource "configmaps" in API group "" in the namespace "kube-system": no relationship found between node 'a' and this object`},
		{"list configmaps", res(agentA, "list", "default", "configmaps", "", ""),
			`configmaps is forbidden: User "system:node:a" cannot list resource "configmaps" in API group "" in the namespace "default"`},
		{"other node's configmap for b", res(agentB, "get", "default", "configmaps", "", "other"), ""},

		// Secrets: those its Pods use, as Kubernetes' node authorizer.
		{"get env secret", res(agentA, "get", "default", "secrets", "", "s-env"), ""},
		{"get envFrom secret of an init container", res(agentA, "get", "default", "secrets", "", "s-from"), ""},
		{"get volume secret", res(agentA, "get", "default", "secrets", "", "s-vol"), ""},
		{"get projected secret", res(agentA, "get", "default", "secrets", "", "s-proj"), ""},
		{"get a secret named as a configmap its pods use", res(agentA, "get", "default", "secrets", "", "env"),
			`secrets "env" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'a' and this object`},
		{"get other node's secret", res(agentA, "get", "default", "secrets", "", "s-other"),
			`secrets "s-other" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'a' and this object`},
		{"get secret in another namespace", res(agentA, "get", "kube-system", "secrets", "", "s-env"),
			`secrets "s-env" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "kube-system": no relationship found between node 'a' and this object`},
		{"list secrets", res(agentA, "list", "default", "secrets", "", ""),
			`secrets is forbidden: User "system:node:a" cannot list resource "secrets" in API group "" in the namespace "default"`},
		{"watch secret", res(agentA, "watch", "default", "secrets", "", "s-env"),
			`secrets "s-env" is forbidden: User "system:node:a" cannot watch resource "secrets" in API group "" in the namespace "default"`},
		{"update secret", res(agentA, "update", "default", "secrets", "", "s-env"),
			`secrets "s-env" is forbidden: User "system:node:a" cannot update resource "secrets" in API group "" in the namespace "default"`},
		{"other node's secret for b", res(agentB, "get", "default", "secrets", "", "s-other"), ""},

		// Events.
		{"create event", res(agentA, "create", "default", "events", "", ""), ""},
		{"patch event", res(agentA, "patch", "default", "events", "", "e1"), ""},
		{"update event", res(agentA, "update", "default", "events", "", "e1"), ""},
		{"get event", res(agentA, "get", "default", "events", "", "e1"), ""},
		{"delete event", res(agentA, "delete", "default", "events", "", "e1"),
			`events "e1" is forbidden: User "system:node:a" cannot delete resource "events" in API group "" in the namespace "default"`},

		// Leases: its own, in kube-node-lease.
		{"get own lease", leases(agentA, "get", "kube-node-lease", "a"), ""},
		{"create own lease", leases(agentA, "create", "kube-node-lease", "a"), ""},
		{"create lease without a name (Restrict checks the body)", leases(agentA, "create", "kube-node-lease", ""), ""},
		{"update own lease", leases(agentA, "update", "kube-node-lease", "a"), ""},
		{"patch own lease", leases(agentA, "patch", "kube-node-lease", "a"), ""},
		{"update other node's lease", leases(agentA, "update", "kube-node-lease", "b"),
			`leases.coordination.k8s.io "b" is forbidden: User "system:node:a" cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node`},
		{"get other node's lease", leases(agentA, "get", "kube-node-lease", "b"),
			`leases.coordination.k8s.io "b" is forbidden: User "system:node:a" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node`},
		{"own name in another namespace", leases(agentA, "update", "default", "a"),
			`leases.coordination.k8s.io "a" is forbidden: User "system:node:a" cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "default": can only access leases in the "kube-node-lease" namespace`},
		{"delete own lease", leases(agentA, "delete", "kube-node-lease", "a"),
			`leases.coordination.k8s.io "a" is forbidden: User "system:node:a" cannot delete resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease"`},
		{"list leases", leases(agentA, "list", "kube-node-lease", ""),
			`leases.coordination.k8s.io is forbidden: User "system:node:a" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease"`},
		{"watch leases", leases(agentA, "watch", "kube-node-lease", ""),
			`leases.coordination.k8s.io is forbidden: User "system:node:a" cannot watch resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease"`},
		{"server updates a node's lease", leases(server, "update", "kube-node-lease", "a"), ""},

		// Everything else.
		{"list deployments", apps,
			`deployments.apps is forbidden: User "system:node:a" cannot list resource "deployments" in API group "apps" in the namespace "default"`},
		{"get namespace", res(agentA, "get", "", "namespaces", "", "default"),
			`namespaces "default" is forbidden: User "system:node:a" cannot get resource "namespaces" in API group "" at the cluster scope`},
		{"discovery", apiserver.Attributes{User: agentA, Verb: "get", Path: "/apis/apps/v1"}, ""},
		{"version", apiserver.Attributes{User: agentA, Verb: "get", Path: "/version"}, ""},
		{"post to a path", apiserver.Attributes{User: agentA, Verb: "post", Path: "/api/v1"},
			`forbidden: User "system:node:a" cannot post path "/api/v1"`},
		{"metrics", apiserver.Attributes{User: agentA, Verb: "get", Path: "/metrics"},
			`forbidden: User "system:node:a" cannot get path "/metrics"`},
		{"node without a name", res(noName, "get", "", "nodes", "", "someone"),
			`nodes "someone" is forbidden: User "someone" cannot get resource "nodes" in API group "" at the cluster scope: unknown node for user "someone"`},

		// Others pass.
		{"server deletes a pod", res(server, "delete", "default", "pods", "", "p-a"), ""},
		{"server updates another node", res(server, "update", "", "nodes", "status", "a"), ""},
		{"admin lists deployments", apiserver.Attributes{User: admin, Verb: "list", APIGroup: "apps", Resource: "deployments", ResourceRequest: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := z.Authorize(context.Background(), tt.attrs)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Authorize: %v; want allowed", err)
				}
				return
			}
			if !api.IsForbidden(err) {
				t.Fatalf("Authorize: %v; want Forbidden", err)
			}
			if err.Error() != tt.want {
				t.Fatalf("message:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

type refuseAll struct{}

func (refuseAll) Authorize(_ context.Context, a apiserver.Attributes) error {
	return api.NewForbidden(a.Resource, a.Name, errors.New("next says no"))
}

func TestAuthorizeNextDecidesOthers(t *testing.T) {
	z, err := nodeauth.New(nodeauth.Config{Client: cluster(t), Next: refuseAll{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := z.Authorize(ctx, res(admin, "get", "", "nodes", "", "a")); err == nil || !strings.Contains(err.Error(), "next says no") {
		t.Fatalf("admin: %v; want Next's refusal", err)
	}
	if err := z.Authorize(ctx, res(server, "get", "", "nodes", "", "a")); err == nil || !strings.Contains(err.Error(), "next says no") {
		t.Fatalf("server: %v; want Next's refusal", err)
	}
	// The node authorizer decides for agents; Next is not asked.
	if err := z.Authorize(ctx, res(agentA, "get", "", "nodes", "", "a")); err != nil {
		t.Fatalf("agent: %v; want allowed", err)
	}
}

func TestNewNeedsClient(t *testing.T) {
	if _, err := nodeauth.New(nodeauth.Config{}); err == nil || !strings.Contains(err.Error(), "Config.Client") {
		t.Fatalf("New: %v; want an error naming Config.Client", err)
	}
}

func TestRestrictNodeCreate(t *testing.T) {
	reg := cluster(t)
	c := nodeauth.Restrict(reg)
	node := func(name string) *api.Node { return &api.Node{ObjectMeta: api.ObjectMeta{Name: name}} }
	ctxA := apiserver.WithUser(context.Background(), agentA)
	err := c.Create(ctxA, node("b"), client.CreateOptions{})
	want := `nodes "b" is forbidden: node "a" is not allowed to modify node "b"`
	if !api.IsForbidden(err) || err.Error() != want {
		t.Fatalf("agent a creates node b: %v; want %s", err, want)
	}
	if err := c.Create(ctxA, node("a"), client.CreateOptions{}); err != nil {
		t.Fatalf("agent a creates node a: %v", err)
	}
	if err := c.Create(apiserver.WithUser(context.Background(), server), node("b"), client.CreateOptions{}); err != nil {
		t.Fatalf("server creates node b: %v", err)
	}
	if err := c.Create(context.Background(), node("c"), client.CreateOptions{}); err != nil {
		t.Fatalf("in-process create of node c: %v", err)
	}
	// Leases: its own, in kube-node-lease.
	lease := func(ns, name string) *api.Lease {
		return &api.Lease{ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns}}
	}
	for _, tt := range []struct{ ns, name, want string }{
		{"kube-node-lease", "b", `leases.coordination.k8s.io "b" is forbidden: node "a" can only access node lease with the same name as the requesting node`},
		{"default", "a", `leases.coordination.k8s.io "a" is forbidden: node "a" can only access leases in the "kube-node-lease" namespace`},
	} {
		if err := c.Create(ctxA, lease(tt.ns, tt.name), client.CreateOptions{}); !api.IsForbidden(err) || err.Error() != tt.want {
			t.Errorf("agent a creates lease %s/%s: %v; want %s", tt.ns, tt.name, err, tt.want)
		}
	}
	if err := c.Create(ctxA, lease("kube-node-lease", "a"), client.CreateOptions{}); err != nil {
		t.Fatalf("agent a creates its lease: %v", err)
	}
	if err := c.Create(apiserver.WithUser(context.Background(), server), lease("kube-node-lease", "b"), client.CreateOptions{}); err != nil {
		t.Fatalf("server creates lease b: %v", err)
	}
	// Other kinds pass to the registry unchecked.
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "x", Namespace: "default"}}
	if err := c.Create(ctxA, cm, client.CreateOptions{}); err != nil {
		t.Fatalf("create ConfigMap through Restrict: %v", err)
	}
}
