package controller

import (
	"context"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/workqueue"
	"go.uber.org/zap"
)

// reconcileFunc handles one key and may ask to be called again after a
// delay.
type reconcileFunc func(ctx context.Context, key string) (requeueAfter time.Duration, err error)

type loop struct {
	name      string
	queue     *workqueue.Queue
	workers   int
	reconcile reconcileFunc
	log       *zap.Logger
}

func newLoop(name string, workers int, log *zap.Logger, r reconcileFunc) *loop {
	return &loop{
		name: name, workers: workers, reconcile: r, log: log.Named(name),
		queue: workqueue.New(5*time.Millisecond, 10*time.Second),
	}
}

// run processes keys until ctx ends and returns when its workers stopped.
func (l *loop) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				key, ok := l.queue.Get()
				if !ok {
					return
				}
				after, err := l.reconcile(ctx, key)
				switch {
				case err != nil:
					if ctx.Err() == nil {
						l.log.Debug("reconcile failed; retrying", zap.String("key", key), zap.Error(err))
						l.queue.AddRateLimited(key)
					}
				case after > 0:
					l.queue.Forget(key)
					l.queue.AddAfter(key, after)
				default:
					l.queue.Forget(key)
				}
				l.queue.Done(key)
			}
		}()
	}
	<-ctx.Done()
	l.queue.Shutdown()
	wg.Wait()
}
