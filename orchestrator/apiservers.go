package orchestrator

import (
	"context"
	"slices"
	"sync"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// serverClient is the client.Interface of an agent-only node: it sends
// every call to the API servers the node currently knows of (from the
// gossip records of live servers) through a remote client, which tries
// the next server when one cannot be reached. When the set of servers
// changes, calls from then on go through a new remote client over the new
// set; calls and watches in flight finish on the old one.
type serverClient struct {
	scheme *api.Scheme
	// build makes the remote client for a set of server URLs.
	build func(servers []string) (remoteClient, error)

	mu      sync.Mutex
	servers []string
	cur     remoteClient // nil while no server is known
	// retired are the clients replaced by a newer set: their idle
	// connections are closed when they are replaced and again by close,
	// once the calls still running on them have ended.
	retired []remoteClient
	closed  bool
}

// remoteClient is what serverClient needs of the remote client.
type remoteClient interface {
	client.Interface
	// Close releases the client's idle connections.
	Close() error
}

var _ client.Interface = (*serverClient)(nil)

// setServers makes calls go to servers (URLs, in the order to try them)
// from now on. The same set, in any order, changes nothing.
//
// Errors: the remote client refuses a URL (the set is not changed).
func (s *serverClient) setServers(servers []string) error {
	servers = slices.Clone(servers)
	slices.Sort(servers)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || slices.Equal(servers, s.servers) {
		return nil
	}
	var next remoteClient
	if len(servers) > 0 {
		c, err := s.build(servers)
		if err != nil {
			return err
		}
		next = c
	}
	if s.cur != nil {
		_ = s.cur.Close()
		s.retired = append(s.retired, s.cur)
	}
	s.servers, s.cur = servers, next
	return nil
}

// serverList returns the servers calls go to now.
func (s *serverClient) serverList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.servers)
}

// close releases every client's idle connections; calls after it fail.
// Call it once nothing uses s any more.
func (s *serverClient) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range append(s.retired, s.cur) {
		if c != nil {
			_ = c.Close()
		}
	}
	s.retired, s.cur, s.servers = nil, nil, nil
}

// client returns the remote client of the current servers.
//
// Errors: ServiceUnavailable while no API server is known, or after close.
func (s *serverClient) client() (client.Interface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, api.NewServiceUnavailable("orchestrator: the node is shut down")
	case s.cur == nil:
		return nil, api.NewServiceUnavailable("orchestrator: no API server known yet: no live server advertises an API address in gossip")
	}
	return s.cur, nil
}

func (s *serverClient) Scheme() *api.Scheme { return s.scheme }

func (s *serverClient) Get(ctx context.Context, namespace, name string, out api.Object, o client.GetOptions) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.Get(ctx, namespace, name, out, o)
}

func (s *serverClient) List(ctx context.Context, list api.ObjectList, o client.ListOptions) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.List(ctx, list, o)
}

func (s *serverClient) ListObjects(ctx context.Context, info api.KindInfo, o client.ListOptions) ([]api.Object, int64, error) {
	c, err := s.client()
	if err != nil {
		return nil, 0, err
	}
	return c.ListObjects(ctx, info, o)
}

func (s *serverClient) Watch(ctx context.Context, info api.KindInfo, o client.ListOptions) (api.Watcher, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	return c.Watch(ctx, info, o)
}

func (s *serverClient) Create(ctx context.Context, obj api.Object, o client.CreateOptions) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.Create(ctx, obj, o)
}

func (s *serverClient) Update(ctx context.Context, obj api.Object, o client.UpdateOptions) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.Update(ctx, obj, o)
}

func (s *serverClient) UpdateStatus(ctx context.Context, obj api.Object, o client.UpdateOptions) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.UpdateStatus(ctx, obj, o)
}

func (s *serverClient) Patch(ctx context.Context, obj api.Object, pt api.PatchType, patch []byte, o client.PatchOptions) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.Patch(ctx, obj, pt, patch, o)
}

func (s *serverClient) Delete(ctx context.Context, namespace, name string, obj api.Object, o client.DeleteOptions) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.Delete(ctx, namespace, name, obj, o)
}

func (s *serverClient) Bind(ctx context.Context, pod *api.Pod, nodeName string, o client.UpdateOptions) (*api.Pod, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	return c.Bind(ctx, pod, nodeName, o)
}

func (s *serverClient) RemoveNamespace(ctx context.Context, name, rv string, obj *api.Namespace) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.RemoveNamespace(ctx, name, rv, obj)
}
