package orchestrator

import (
	"context"
	"slices"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

// recordingRemote is a remote client over a local registry that records
// the servers it was built for and how often it was closed.
type recordingRemote struct {
	client.Interface
	servers []string
	closes  int
}

func (r *recordingRemote) Close() error { r.closes++; return nil }

// The agent-only node's client follows the server set: a new set builds a
// new remote client (the old one's idle connections are closed), the same
// set in another order changes nothing, no server is ServiceUnavailable,
// and close releases every client built.
func TestServerClientFollowsServers(t *testing.T) {
	reg := testutil.Registry(t)
	var built []*recordingRemote
	s := &serverClient{scheme: api.DefaultScheme(), build: func(servers []string) (remoteClient, error) {
		r := &recordingRemote{Interface: reg, servers: servers}
		built = append(built, r)
		return r, nil
	}}
	ctx := context.Background()
	var n api.Node
	if err := s.Get(ctx, "", "x", &n, client.GetOptions{}); !api.IsServiceUnavailable(err) {
		t.Fatalf("Get with no server known: %v; want ServiceUnavailable", err)
	}
	if err := s.setServers([]string{"https://b:1", "https://a:1"}); err != nil {
		t.Fatal(err)
	}
	if len(built) != 1 || !slices.Equal(built[0].servers, []string{"https://a:1", "https://b:1"}) {
		t.Fatalf("built %v; want one client for a and b", built)
	}
	if err := s.Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "x"}}, client.CreateOptions{}); err != nil {
		t.Fatalf("Create through the current client: %v", err)
	}
	if err := s.Get(ctx, "", "x", &n, client.GetOptions{}); err != nil || n.Name != "x" {
		t.Fatalf("Get through the current client: %v %q", err, n.Name)
	}
	if err := s.setServers([]string{"https://a:1", "https://b:1"}); err != nil || len(built) != 1 {
		t.Fatalf("the same set rebuilt the client (%d built, err %v)", len(built), err)
	}
	if err := s.setServers([]string{"https://a:1"}); err != nil {
		t.Fatal(err)
	}
	if len(built) != 2 || built[0].closes != 1 || !slices.Equal(s.serverList(), []string{"https://a:1"}) {
		t.Fatalf("after b left: %d built, old closed %d times, servers %v", len(built), built[0].closes, s.serverList())
	}
	if err := s.setServers(nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, "", "x", &n, client.GetOptions{}); !api.IsServiceUnavailable(err) {
		t.Fatalf("Get after every server left: %v; want ServiceUnavailable", err)
	}
	s.close()
	if built[0].closes != 2 || built[1].closes != 2 {
		t.Fatalf("close: clients closed %d and %d times; want each again", built[0].closes, built[1].closes)
	}
	if err := s.setServers([]string{"https://c:1"}); err != nil || len(built) != 2 {
		t.Fatalf("setServers after close built a client (%d, %v)", len(built), err)
	}
}
