package agent

import (
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

func sbOf(id string, st runtime.SandboxState) *runtime.PodSandboxStatus {
	return &runtime.PodSandboxStatus{ID: id, UID: "u", State: st}
}

func ctrOf(id string, st runtime.ContainerState) *runtime.ContainerStatus {
	return &runtime.ContainerStatus{ID: id, SandboxID: "sb", PodUID: "u", State: st}
}

func sbState(c *rtCache, id string) runtime.SandboxState {
	for _, s := range c.sandboxesOf("u") {
		if s.ID == id {
			return s.State
		}
	}
	return ""
}

// An observation taken earlier never replaces a later one, whatever the
// order in which they are applied; deletions included.
func TestRTCacheKeepsNewestObservation(t *testing.T) {
	c := newRTCache()
	stale := c.next() // an event's inspect starts and reads "created"
	fresh := c.next() // the worker's inspect after starting the sandbox
	c.putSandbox(sbOf("sb", runtime.SandboxReady), fresh)
	c.putSandbox(sbOf("sb", runtime.SandboxNotReady), stale)
	if got := sbState(c, "sb"); got != runtime.SandboxReady {
		t.Fatalf("stale NotReady replaced Ready: %q", got)
	}
	// A newer observation replaces an older one, even NotReady -> Ready
	// (Docker's "created" then "running").
	c.putSandbox(sbOf("sb2", runtime.SandboxNotReady), c.next())
	c.putSandbox(sbOf("sb2", runtime.SandboxReady), c.next())
	if got := sbState(c, "sb2"); got != runtime.SandboxReady {
		t.Fatalf("newer Ready ignored: %q", got)
	}

	// A deletion is not undone by an inspect that started before it.
	before := c.next()
	c.putContainer(ctrOf("c1", runtime.ContainerRunning), c.next())
	c.delContainer("c1", c.next())
	c.putContainer(ctrOf("c1", runtime.ContainerExited), before)
	if n := len(c.containersOf("u")); n != 0 {
		t.Fatalf("deleted container resurrected: %d containers", n)
	}
	// Nor is a sandbox's (which takes its containers along).
	before = c.next()
	c.putContainer(ctrOf("c2", runtime.ContainerRunning), c.next())
	c.delSandbox("sb", c.next())
	c.putSandbox(sbOf("sb", runtime.SandboxReady), before)
	c.putContainer(ctrOf("c2", runtime.ContainerRunning), before)
	if sbState(c, "sb") != "" || len(c.containersOf("u")) != 0 {
		t.Fatalf("deleted sandbox resurrected: %v %v", c.sandboxesOf("u"), c.containersOf("u"))
	}

	// A list taken before a write keeps that write (and deletion); a list
	// taken after replaces everything.
	list := c.next()
	c.putSandbox(sbOf("sb3", runtime.SandboxReady), c.next())
	c.delSandbox("sb2", c.next())
	c.replace([]*runtime.PodSandboxStatus{sbOf("sb2", runtime.SandboxReady), sbOf("sb4", runtime.SandboxReady)}, nil, list)
	if sbState(c, "sb3") != runtime.SandboxReady || sbState(c, "sb2") != "" || sbState(c, "sb4") != runtime.SandboxReady {
		t.Fatalf("older list: %v", c.sandboxesOf("u"))
	}
	c.replace(nil, nil, c.next())
	if len(c.sandboxesOf("u")) != 0 || len(c.seen) != 0 {
		t.Fatalf("newer list: %v, seen %v", c.sandboxesOf("u"), c.seen)
	}
}
