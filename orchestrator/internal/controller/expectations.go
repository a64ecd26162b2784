package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
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

// deletePods deletes pods, at most maxInFlight at a time, each only at the
// resourceVersion it was read at, and records them in exp. A Pod already
// gone or changed since it was read is no error (the next pass sees it
// again). It returns how many it deleted and the highest revision among
// the deletions (0 if none).
//
// Errors: the other delete errors, joined.
func deletePods(ctx context.Context, reg client.Interface, exp *podExpectations, pods []*api.Pod) (int, int64, error) {
	var (
		mu      sync.Mutex
		keys    []string
		lastRev int64
		errs    []error
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, maxInFlight)
	for _, p := range pods {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var out api.Pod
			err := reg.Delete(ctx, p.Namespace, p.Name, &out, client.DeleteOptions{ResourceVersion: p.ResourceVersion})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				keys = append(keys, api.Key(p.Namespace, p.Name))
				if rv, _ := client.ParseResourceVersion(out.ResourceVersion); rv > lastRev {
					lastRev = rv
				}
			case !api.IsNotFound(err) && !api.IsConflict(err):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	exp.expect(keys, false)
	return len(keys), lastRev, errors.Join(errs...)
}
