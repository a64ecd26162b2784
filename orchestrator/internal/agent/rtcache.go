package agent

import (
	"sync"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// rtCache mirrors the runtime's sandboxes and containers, indexed by Pod
// UID, so that syncing one Pod costs no runtime-wide list (a list is O(all
// containers) in every runtime). It is filled by a full list at start and
// on every resync, and kept current from runtime events and the agent's own
// calls. A snapshot fetched earlier never overwrites a later state: states
// only move forward (Created, Running, Exited; Ready, NotReady).
type rtCache struct {
	mu         sync.Mutex
	sandboxes  map[string]*runtime.PodSandboxStatus
	sbByUID    map[string]map[string]bool
	containers map[string]*runtime.ContainerStatus
	ctrByUID   map[string]map[string]bool
}

func newRTCache() *rtCache {
	return &rtCache{
		sandboxes: map[string]*runtime.PodSandboxStatus{}, sbByUID: map[string]map[string]bool{},
		containers: map[string]*runtime.ContainerStatus{}, ctrByUID: map[string]map[string]bool{},
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

func (c *rtCache) replace(sbs []*runtime.PodSandboxStatus, cs []*runtime.ContainerStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.sandboxes)
	clear(c.sbByUID)
	clear(c.containers)
	clear(c.ctrByUID)
	for _, s := range sbs {
		c.putSandboxLocked(s)
	}
	for _, s := range cs {
		c.putContainerLocked(s)
	}
}

func index(m map[string]map[string]bool, uid, id string) {
	ids := m[uid]
	if ids == nil {
		ids = map[string]bool{}
		m[uid] = ids
	}
	ids[id] = true
}

func unindex(m map[string]map[string]bool, uid, id string) {
	if ids := m[uid]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(m, uid)
		}
	}
}

func (c *rtCache) putSandbox(s *runtime.PodSandboxStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putSandboxLocked(s)
}

func (c *rtCache) putSandboxLocked(s *runtime.PodSandboxStatus) {
	s.Labels = nil // unused here; the cache owns s (a runtime copy)
	if old := c.sandboxes[s.ID]; old != nil && old.State == runtime.SandboxNotReady && s.State == runtime.SandboxReady {
		return
	}
	c.sandboxes[s.ID] = s
	index(c.sbByUID, s.UID, s.ID)
}

func (c *rtCache) delSandbox(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sandboxes[id]
	if s == nil {
		return
	}
	delete(c.sandboxes, id)
	unindex(c.sbByUID, s.UID, id)
	for cid := range c.ctrByUID[s.UID] {
		if ct := c.containers[cid]; ct != nil && ct.SandboxID == id {
			delete(c.containers, cid)
			unindex(c.ctrByUID, s.UID, cid)
		}
	}
}

func (c *rtCache) putContainer(s *runtime.ContainerStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putContainerLocked(s)
}

func (c *rtCache) putContainerLocked(s *runtime.ContainerStatus) {
	s.Labels = nil // unused here; the cache owns s (a runtime copy)
	if old := c.containers[s.ID]; old != nil && containerRank(old.State) > containerRank(s.State) {
		return
	}
	c.containers[s.ID] = s
	index(c.ctrByUID, s.PodUID, s.ID)
}

func (c *rtCache) delContainer(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.containers[id]; s != nil {
		delete(c.containers, id)
		unindex(c.ctrByUID, s.PodUID, id)
	}
}

func (c *rtCache) sandboxesOf(uid string) []*runtime.PodSandboxStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*runtime.PodSandboxStatus, 0, len(c.sbByUID[uid]))
	for id := range c.sbByUID[uid] {
		out = append(out, c.sandboxes[id])
	}
	return out
}

func (c *rtCache) containersOf(uid string) []*runtime.ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*runtime.ContainerStatus, 0, len(c.ctrByUID[uid]))
	for id := range c.ctrByUID[uid] {
		out = append(out, c.containers[id])
	}
	return out
}
