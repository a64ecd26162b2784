package controller

import (
	"context"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
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
	// failures logs reconcile errors at Warn, one line per
	// ratelog.DefaultInterval for the whole loop.
	failures *ratelog.Limiter
	metrics  *metrics.Controller
}

// newLoop returns a loop of workers running r, reporting to met (nil: no
// metrics) as the controller and work queue called name.
func newLoop(name string, workers int, log *zap.Logger, met *metrics.Node, r reconcileFunc) *loop {
	log = log.Named(name)
	return &loop{
		name: name, workers: workers, reconcile: r, log: log,
		failures: ratelog.New(log, ratelog.DefaultInterval),
		metrics:  met.Controller(name),
		queue:    workqueue.New(5*time.Millisecond, 10*time.Second, workqueue.WithMetrics(met.Queue(name))),
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
				// An error of a loop being stopped is no failure.
				stopping := ctx.Err() != nil
				if !stopping {
					l.metrics.Reconciled(after, err)
				}
				switch {
				case err != nil:
					if !stopping {
						l.failed(key, err)
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

// failed logs a reconcile error: a conflict (another writer was first; the
// retry reads the new version) at Debug, anything else at Warn, rate
// limited, so a controller that keeps failing shows in the log.
func (l *loop) failed(key string, err error) {
	if api.IsConflict(err) {
		l.log.Debug("reconcile conflict; retrying", zap.String("key", key), zap.Error(err))
		return
	}
	l.failures.Warn("reconcile", "reconcile failed; retrying", zap.String("key", key), zap.Error(err))
}
