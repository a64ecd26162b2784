package orchestrator_test

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// TestEventTTL: with a short Config.EventTTL the leader deletes Events
// once they are that old (to the second: Event timestamps have second
// precision), both those the cluster records and those a client writes.
func TestEventTTL(t *testing.T) {
	const ttl = 2 * time.Second
	c := orchestratortest.NewCluster(t, 1, orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
		cfg.EventTTL = ttl
	}))
	cl := c.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev := &orchestrator.Event{
		ObjectMeta:     orchestrator.ObjectMeta{Name: "hello.1"},
		InvolvedObject: orchestrator.ObjectReference{Kind: "Pod", Namespace: "default", Name: "hello"},
		Reason:         "Testing",
		Message:        "recorded by the test",
	}
	created := time.Now()
	if err := cl.Create(ctx, ev); err != nil {
		t.Fatal(err)
	}
	c.Eventually(10*time.Second, "the Event expired", func() bool {
		return orchestrator.IsNotFound(cl.Get(ctx, orchestrator.KeyFor(ev), &orchestrator.Event{}))
	})
	// creationTimestamp is truncated to the second, so the Event may go up
	// to a second early, never more.
	if lived := time.Since(created); lived < ttl-time.Second {
		t.Fatalf("Event deleted after %v, want at least %v", lived, ttl-time.Second)
	}
	// The agent's and scheduler's Events about a Pod expire as well.
	pod := &orchestrator.Pod{
		ObjectMeta: orchestrator.ObjectMeta{Name: "p"},
		Spec:       orchestrator.PodSpec{Containers: []orchestrator.Container{{Name: "c", Image: "img:1"}}},
	}
	if err := cl.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	events := func() int {
		var list orchestrator.EventList
		if err := cl.List(ctx, &list, orchestrator.MatchingFields{"involvedObject.name": "p"}); err != nil {
			return -1
		}
		return len(list.Items)
	}
	c.Eventually(10*time.Second, "Events about the Pod", func() bool { return events() > 0 })
	c.Eventually(10*time.Second, "the Pod's Events expired", func() bool { return events() == 0 })
}
