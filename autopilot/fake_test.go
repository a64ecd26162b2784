package autopilot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/raftstore"
)

// fakeWorld is a Raft cluster reduced to its configuration: it keeps the
// one shared configuration, which nodes have state, which are up, who leads,
// and commits a configuration change only if the up voters of the new
// configuration form a quorum of it. It records every bootstrap so tests can
// check that exactly one configuration was ever bootstrapped.
//
// It does not model logs, terms, elections (the test names the leader) or
// message loss.
type fakeWorld struct {
	mu         sync.Mutex
	config     []raftstore.Server
	bootstraps map[string][]raftstore.Server
	state      map[string]bool
	down       map[string]bool
	leader     string
	changes    []string
}

func newFakeWorld() *fakeWorld {
	return &fakeWorld{bootstraps: map[string][]raftstore.Server{}, state: map[string]bool{}, down: map[string]bool{}}
}

func (w *fakeWorld) node(id string) *fakeRaft { return &fakeRaft{w: w, id: id} }

// quorumOK: the up voters of conf form a majority of its voters.
func (w *fakeWorld) quorumOK(conf []raftstore.Server) bool {
	voters, up := 0, 0
	for _, s := range conf {
		if s.Suffrage == raftstore.Voter {
			voters++
			if !w.down[s.ID] {
				up++
			}
		}
	}
	return voters > 0 && up >= voters/2+1
}

func (w *fakeWorld) voters() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.config {
		if s.Suffrage == raftstore.Voter {
			out = append(out, s.ID)
		}
	}
	slices.Sort(out)
	return out
}

func (w *fakeWorld) nonvoters() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.config {
		if s.Suffrage == raftstore.Nonvoter {
			out = append(out, s.ID)
		}
	}
	slices.Sort(out)
	return out
}

type fakeRaft struct {
	w  *fakeWorld
	id string
}

func (r *fakeRaft) IsLeader() bool {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	return r.w.leader == r.id
}

func (r *fakeRaft) HasState() (bool, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	return r.w.state[r.id], nil
}

func (r *fakeRaft) Bootstrap(_ context.Context, servers ...raftstore.Server) error {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if r.w.state[r.id] {
		return raftstore.ErrAlreadyBootstrapped
	}
	if !slices.ContainsFunc(servers, func(s raftstore.Server) bool { return s.ID == r.id }) {
		return fmt.Errorf("%w: %s not in bootstrap list", raftstore.ErrInvalidArgument, r.id)
	}
	r.w.bootstraps[r.id] = slices.Clone(servers)
	r.w.state[r.id] = true
	if r.w.config == nil {
		r.w.config = slices.Clone(servers)
	}
	return nil
}

func (r *fakeRaft) Servers(context.Context) ([]raftstore.Server, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if !r.w.state[r.id] {
		return nil, nil
	}
	return slices.Clone(r.w.config), nil
}

func (r *fakeRaft) change(desc string, f func([]raftstore.Server) []raftstore.Server) error {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if r.w.leader != r.id {
		return raftstore.ErrNotLeader
	}
	next := f(slices.Clone(r.w.config))
	if !r.w.quorumOK(next) {
		return fmt.Errorf("%w: %s: no quorum for the new configuration", raftstore.ErrUnknownOutcome, desc)
	}
	r.w.config = next
	r.w.changes = append(r.w.changes, desc)
	return nil
}

func (r *fakeRaft) add(id, addr string, s raftstore.Suffrage, verb string) error {
	return r.change(verb+" "+id, func(c []raftstore.Server) []raftstore.Server {
		r.w.state[id] = true
		for i := range c {
			if c[i].ID == id {
				c[i].Address, c[i].Suffrage = addr, s
				return c
			}
		}
		return append(c, raftstore.Server{ID: id, Address: addr, Suffrage: s})
	})
}

func (r *fakeRaft) AddVoter(_ context.Context, id, addr string) error {
	return r.add(id, addr, raftstore.Voter, "voter")
}

func (r *fakeRaft) AddNonvoter(_ context.Context, id, addr string) error {
	return r.add(id, addr, raftstore.Nonvoter, "nonvoter")
}

func (r *fakeRaft) RemoveServer(_ context.Context, id string) error {
	return r.change("remove "+id, func(c []raftstore.Server) []raftstore.Server {
		return slices.DeleteFunc(c, func(s raftstore.Server) bool { return s.ID == id })
	})
}

// fakeGossip is one node's membership view, set by the test.
type fakeGossip struct {
	mu      sync.Mutex
	self    string
	members map[string]membership.Member
}

func newFakeGossip(self string) *fakeGossip {
	g := &fakeGossip{self: self, members: map[string]membership.Member{}}
	return g
}

func (g *fakeGossip) set(m membership.Member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members[m.Name] = m
}

func (g *fakeGossip) remove(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.members, name)
}

func (g *fakeGossip) Members() []membership.Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []membership.Member
	for _, m := range g.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b membership.Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (g *fakeGossip) LocalNode() membership.Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.members[g.self]
}

func (g *fakeGossip) UpdateRecord(_ context.Context, f func(*membership.Record)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := g.members[g.self]
	m.Record = m.Record.Clone()
	f(&m.Record)
	g.members[g.self] = m
	return nil
}
