package controller

import (
	"context"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
)

// podExpectations records the Pods a controller created (to appear) or
// deleted (to disappear, or to show their deletionTimestamp), which wait
// then waits to see in the Pod cache: the revision of a write does not
// always tell when the cache has it (a delete's returned object carries the
// Pod's previous resourceVersion), and a pass acting on a cache without
// them would create or delete again. An expectation is given up after 5 s
// (the Pod may have changed again since). Safe for concurrent use.
type podExpectations struct {
	pods *informer.Informer

	mu sync.Mutex
	m  map[string]expectation // pod key -> what the cache should show
}

type expectation struct {
	present bool
	until   time.Time
}

func (e *podExpectations) expect(keys []string, present bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]expectation{}
	}
	until := time.Now().Add(5 * time.Second)
	for _, k := range keys {
		e.m[k] = expectation{present: present, until: until}
	}
}

// wait polls until the Pod cache shows every expectation, or ctx ends.
//
// Errors: ctx.Err().
func (e *podExpectations) wait(ctx context.Context) error {
	for {
		e.mu.Lock()
		now := time.Now()
		for k, x := range e.m {
			o, ok := e.pods.Get(k)
			gone := !ok || o.GetObjectMeta().DeletionTimestamp != nil
			if x.present && ok || !x.present && gone || now.After(x.until) {
				delete(e.m, k)
			}
		}
		left := len(e.m)
		e.mu.Unlock()
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}
