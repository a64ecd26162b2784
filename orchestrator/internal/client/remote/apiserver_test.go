package remote

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

// overAPI returns a remote Client of the API server in front of a fresh
// registry, and the registry.
func overAPI(t *testing.T) (*Client, client.Interface) {
	t.Helper()
	reg := testutil.Registry(t)
	tokens, err := authn.ParseTokens(strings.NewReader("t0ken,admin,uid-admin,system:masters\n"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := apiserver.New(apiserver.Config{Client: reg, Authenticator: authn.New(authn.Config{Tokens: tokens}), Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c, err := New(Config{
		Servers: []string{srv.URL}, RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		BearerToken: "t0ken", Timeout: 10 * time.Second, Logger: zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, reg
}

// TestBindThroughTheAPI: Bind binds an unbound Pod at its resourceVersion
// and returns it as stored; binding it again, or a stale Pod, conflicts.
func TestBindThroughTheAPI(t *testing.T) {
	c, reg := overAPI(t)
	ctx := context.Background()
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i"}}}}
	if err := c.Create(ctx, pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dry, err := c.Bind(ctx, pod, "n1", client.UpdateOptions{DryRun: true})
	if err != nil || dry.Spec.NodeName != "n1" {
		t.Fatalf("dry-run Bind: %v, nodeName %q", err, dry.Spec.NodeName)
	}
	bound, err := c.Bind(ctx, pod, "n1", client.UpdateOptions{FieldManager: "scheduler"})
	if err != nil {
		t.Fatal(err)
	}
	var stored api.Pod
	if err := reg.Get(ctx, "default", "p", &stored, client.GetOptions{Consistent: true}); err != nil {
		t.Fatal(err)
	}
	if bound.Spec.NodeName != "n1" || stored.Spec.NodeName != "n1" || bound.ResourceVersion != stored.ResourceVersion {
		t.Fatalf("Bind returned nodeName %q resourceVersion %s; stored %q %s", bound.Spec.NodeName, bound.ResourceVersion, stored.Spec.NodeName, stored.ResourceVersion)
	}
	if _, err := c.Bind(ctx, bound, "n2", client.UpdateOptions{}); !api.IsConflict(err) {
		t.Errorf("binding a bound Pod: %v, want Conflict", err)
	}
	if _, err := c.Bind(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "missing", Namespace: "default"}}, "n1", client.UpdateOptions{}); !api.IsNotFound(err) {
		t.Errorf("binding a missing Pod: %v, want NotFound", err)
	}
}

// TestRemoveNamespaceThroughTheAPI: a Namespace being deleted is removed;
// one not being deleted is a Conflict.
func TestRemoveNamespaceThroughTheAPI(t *testing.T) {
	c, _ := overAPI(t)
	ctx := context.Background()
	for _, name := range []string{"team", "live"} {
		if err := c.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}}, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RemoveNamespace(ctx, "live", "", &api.Namespace{}); !api.IsConflict(err) {
		t.Errorf("removing a Namespace not being deleted: %v, want Conflict", err)
	}
	if err := c.Delete(ctx, "", "team", &api.Namespace{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var last api.Namespace
	if err := c.RemoveNamespace(ctx, "team", "", &last); err != nil {
		t.Fatal(err)
	}
	if last.Name != "team" || last.DeletionTimestamp == nil {
		t.Errorf("last state %+v; want the Namespace being deleted", last.ObjectMeta)
	}
	if err := c.Get(ctx, "", "team", &api.Namespace{}, client.GetOptions{Consistent: true}); !api.IsNotFound(err) {
		t.Errorf("after RemoveNamespace: %v, want NotFound", err)
	}
}
