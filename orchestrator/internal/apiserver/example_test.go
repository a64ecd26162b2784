package apiserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/raftstore"
)

// tokenAuth accepts one bearer token.
type tokenAuth struct{ token string }

func (a tokenAuth) Authenticate(r *http.Request) (apiserver.User, bool, error) {
	if r.Header.Get("Authorization") != "Bearer "+a.token {
		return apiserver.User{}, false, nil
	}
	return apiserver.User{Name: "admin", Groups: []string{"system:masters"}}, true, nil
}

// A single-node store, the registry over it, and the API server in front
// of them; a client creates a Namespace and reads it back.
func Example() {
	ctx := context.Background()
	cfg := raftstore.TestConfig("n1")
	cfg.Network = raftstore.NewInmemNetwork()
	store, err := raftstore.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := store.Start(ctx); err != nil {
		panic(err)
	}
	defer func() { _ = store.Shutdown(ctx) }()
	if err := store.Bootstrap(ctx); err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !store.IsLeader(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			panic("no leader")
		}
	}
	reg, err := registry.New(store, registry.Config{})
	if err != nil {
		panic(err)
	}

	srv, err := apiserver.New(apiserver.Config{Client: reg, Authenticator: tokenAuth{"secret"}})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv) // a node serves it over TLS
	defer hs.Close()

	send := func(method, path, body string) {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		req.Header.Set("Content-Type", "application/json")
		resp, err := hs.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.Contains(string(b), `"name":"dev"`))
	}
	send("POST", "/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}}`)
	send("GET", "/api/v1/namespaces/dev", "")
	// Output:
	// 201 true
	// 200 true
}
