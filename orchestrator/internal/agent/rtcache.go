package agent

import (
	"maps"
	"slices"
	"sync"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// rtCache mirrors the runtime's sandboxes and containers, indexed by Pod
// UID, so that syncing one Pod costs no runtime-wide list (a list is O(all
// containers) in every runtime). It is filled by a full list at start and
// on every resync, and kept current from runtime events and the agent's own
// calls.
//
// Observations race: an inspect started by an event can return after the
// agent's own later write (on Docker, a sandbox inspected while "created"
// reads NotReady after the worker stored it Ready). So every write carries a
// sequence number from next, taken before the runtime call whose result it
// applies, and an older observation (put, delete or list) never replaces a
// newer one of the same object; seen remembers the newest per ID, deletions
// included, until a list taken later supersedes it.
type rtCache struct {
	mu         sync.Mutex
	seq        uint64
	seen       map[string]uint64
	sandboxes  map[string]*runtime.PodSandboxStatus
	sbByUID    uidIndex
	containers map[string]*runtime.ContainerStatus
	ctrByUID   uidIndex
}

func newRTCache() *rtCache {
	return &rtCache{
		seen:      map[string]uint64{},
		sandboxes: map[string]*runtime.PodSandboxStatus{}, sbByUID: uidIndex{},
		containers: map[string]*runtime.ContainerStatus{}, ctrByUID: uidIndex{},
	}
}

func containerRank(s runtime.ContainerState) int {
	switch s {
	case runtime.ContainerCreated:
		return 0
	case runtime.ContainerRunning:
		return 1
	case runtime.ContainerExited:
		return 2
	}
	return -1
}

// next returns a new sequence number for an observation about to be made.
func (c *rtCache) next() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return c.seq
}

// observeLocked reports whether an observation of id made at seq is not
// older than the newest applied, and records it as the newest if so.
func (c *rtCache) observeLocked(id string, seq uint64) bool {
	if seq < c.seen[id] {
		return false
	}
	c.seen[id] = seq
	return true
}

// replace applies a full list taken at seq: objects (and deletions)
// observed after seq are kept, everything else is replaced by the list.
func (c *rtCache) replace(sbs []*runtime.PodSandboxStatus, cs []*runtime.ContainerStatus, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.seen, func(_ string, s uint64) bool { return s <= seq })
	for id, s := range c.sandboxes {
		if _, newer := c.seen[id]; !newer {
			delete(c.sandboxes, id)
			c.sbByUID.remove(s.UID, id)
		}
	}
	for id, s := range c.containers {
		if _, newer := c.seen[id]; !newer {
			delete(c.containers, id)
			c.ctrByUID.remove(s.PodUID, id)
		}
	}
	for _, s := range sbs {
		c.putSandboxLocked(s, seq)
	}
	for _, s := range cs {
		c.putContainerLocked(s, seq)
	}
}

// uidIndex maps a Pod UID to the IDs of its sandboxes or containers. A
// Pod has a handful at most, so a slice per UID is enough, and it costs a
// tenth of a set (a node with 10,000 Pods spent 8 MB on maps here).
type uidIndex map[string][]string

func (m uidIndex) add(uid, id string) {
	if !slices.Contains(m[uid], id) {
		m[uid] = append(m[uid], id)
	}
}

func (m uidIndex) remove(uid, id string) {
	ids := m[uid]
	if i := slices.Index(ids, id); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(m, uid)
		return
	}
	m[uid] = ids
}

// putSandbox stores s, observed at seq, unless a newer observation exists.
func (c *rtCache) putSandbox(s *runtime.PodSandboxStatus, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putSandboxLocked(s, seq)
}

func (c *rtCache) putSandboxLocked(s *runtime.PodSandboxStatus, seq uint64) {
	s.Labels = nil // unused here; the cache owns s (a runtime copy)
	if !c.observeLocked(s.ID, seq) {
		return
	}
	c.sandboxes[s.ID] = s
	c.sbByUID.add(s.UID, s.ID)
}

// delSandbox removes the sandbox and its containers, found gone at seq,
// unless a newer observation of the sandbox exists.
func (c *rtCache) delSandbox(id string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.observeLocked(id, seq) {
		return
	}
	s := c.sandboxes[id]
	if s == nil {
		return
	}
	delete(c.sandboxes, id)
	c.sbByUID.remove(s.UID, id)
	// A copy: the loop removes from the index it walks.
	for _, cid := range slices.Clone(c.ctrByUID[s.UID]) {
		if ct := c.containers[cid]; ct != nil && ct.SandboxID == id && c.observeLocked(cid, seq) {
			delete(c.containers, cid)
			c.ctrByUID.remove(s.UID, cid)
		}
	}
}

// putContainer stores s, observed at seq, unless a newer observation
// exists.
func (c *rtCache) putContainer(s *runtime.ContainerStatus, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putContainerLocked(s, seq)
}

func (c *rtCache) putContainerLocked(s *runtime.ContainerStatus, seq uint64) {
	// The cache owns s (a runtime copy); of its labels it keeps only how to
	// stop it (most containers have none), for Pods the agent no longer
	// knows.
	s.Labels = stopLabelsOf(s.Labels)
	// Containers are never restarted in place, so their states only move
	// forward (Created, Running, Exited) whatever the order of observations.
	if old := c.containers[s.ID]; old != nil && containerRank(old.State) > containerRank(s.State) {
		return
	}
	if !c.observeLocked(s.ID, seq) {
		return
	}
	c.containers[s.ID] = s
	c.ctrByUID.add(s.PodUID, s.ID)
}

// delContainer removes the container, found gone at seq, unless a newer
// observation of it exists.
func (c *rtCache) delContainer(id string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.observeLocked(id, seq) {
		return
	}
	if s := c.containers[id]; s != nil {
		delete(c.containers, id)
		c.ctrByUID.remove(s.PodUID, id)
	}
}

func (c *rtCache) sandboxesOf(uid string) []*runtime.PodSandboxStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*runtime.PodSandboxStatus, 0, len(c.sbByUID[uid]))
	for _, id := range c.sbByUID[uid] {
		out = append(out, c.sandboxes[id])
	}
	return out
}

func (c *rtCache) containersOf(uid string) []*runtime.ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*runtime.ContainerStatus, 0, len(c.ctrByUID[uid]))
	for _, id := range c.ctrByUID[uid] {
		out = append(out, c.containers[id])
	}
	return out
}
