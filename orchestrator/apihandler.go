package orchestrator

import (
	"fmt"
	"net/http"
	goruntime "runtime"
	"sync"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/nodeauth"
	"github.com/flotilla-io/flotilla/orchestrator/internal/openapi"
	"github.com/flotilla-io/flotilla/orchestrator/internal/tables"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/version"
)

// apiHandler builds the node's Kubernetes API handler: the node's registry
// client, client certificates of the cluster CA and the token file,
// the OpenAPI v2 and v3 documents of the scheme, Kubernetes' table
// columns, pod logs from the Pod's node, readiness from the Raft store,
// and Kubernetes' Node,RBAC authorization: the node authorizer confines
// agent-only nodes' certificates to what their agent needs, and RBAC
// decides for everybody else (deny by default; system:masters, the admin
// kubeconfig's group, and server certificates may do everything).
func (c *Cluster) apiHandler() (http.Handler, error) {
	z := c.userAuthz
	srv, err := apiserver.New(apiserver.Config{
		Client:        nodeauth.Restrict(c.reg),
		Authenticator: authn.New(authn.Config{Pool: c.api.pool, Tokens: c.api.tokens}),
		Authorizer:    z,
		CreateOnly:    c.authz.Reviews(z),
		Tables:        tables.New(),
		OpenAPI:       &lazyOpenAPI{c: c},
		Logs:          podLogs{c},
		Ready:         c.apiReady,
		Version:       apiVersion(),
		Logger:        c.log.Named("apiserver"),
	})
	if err != nil {
		return nil, fmt.Errorf("orchestrator: API server: %w", err)
	}
	return srv, nil
}

// lazyOpenAPI builds the OpenAPI documents at the first request for them:
// building takes about half a second of CPU, which Start need not spend
// on a node nobody asks (kubectl asks for apply and explain).
type lazyOpenAPI struct {
	c    *Cluster
	once sync.Once
	h    http.Handler
	err  error
}

func (l *lazyOpenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.once.Do(func() {
		l.h, l.err = openapi.NewHandler(l.c.reg.Scheme())
		if l.err != nil {
			l.c.log.Error("building the OpenAPI documents failed", zap.Error(l.err))
		}
	})
	if l.err != nil {
		http.Error(w, "the OpenAPI documents could not be built: "+l.err.Error(), http.StatusInternalServerError)
		return
	}
	l.h.ServeHTTP(w, r)
}

// apiVersion is /version: the Kubernetes API level the apiserver package
// serves, with this binary's Go version and platform.
func apiVersion() version.Info {
	v := apiserver.DefaultVersion()
	v.GoVersion, v.Compiler, v.Platform = goruntime.Version(), goruntime.Compiler, goruntime.GOOS+"/"+goruntime.GOARCH
	return v
}
