package clientgo

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// historySize is how many events the store keeps for watches
// (raftstore.Config.HistorySize in every preset): a watch from a revision
// this many writes ago finds it compacted away.
const historySize = 10000

// TestWatchResumesAfterGone watches from a resourceVersion the store has
// compacted away (more than historySize writes ago): the server answers
// 410 Gone (reason Expired), and a client that re-lists and watches from
// the list's resourceVersion sees the next change.
func TestWatchResumesAfterGone(t *testing.T) {
	c := newCluster(t, 1)
	cs := c.clientset(0)
	ctx := ctxFor(t, 2*time.Minute)
	createNamespace(t, cs, "gone")
	cms := cs.CoreV1().ConfigMaps("gone")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "watched"}, Data: map[string]string{"n": "0"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old := cm.ResourceVersion

	// Push old out of the history: historySize+1 writes through the
	// in-process client (the fastest way to make them).
	start := time.Now()
	fill(t, c.Client(), "gone", historySize+100)
	t.Logf("%d writes in %v", historySize+100, time.Since(start))

	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: old})
	if err == nil {
		select {
		case ev, ok := <-w.ResultChan():
			w.Stop()
			if !ok {
				t.Fatal("watch from a compacted resourceVersion: the stream ended with no event")
			}
			if ev.Type != watch.Error {
				t.Fatalf("watch from a compacted resourceVersion: first event %s %T, want an ERROR event", ev.Type, ev.Object)
			}
			err = apierrors.FromObject(ev.Object)
		case <-ctx.Done():
			w.Stop()
			t.Fatal("watch from a compacted resourceVersion: no event")
		}
	}
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Fatalf("watch from a compacted resourceVersion: %v, want 410 Expired or Gone", err)
	}
	if se, ok := err.(apierrors.APIStatus); !ok || se.Status().Code != 410 {
		t.Errorf("watch from a compacted resourceVersion: %#v, want code 410", err)
	}

	// Resume as a reflector does: list, then watch from the list.
	list, err := cms.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=watched"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("re-list: %+v, %v", list, err)
	}
	w, err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, FieldSelector: "metadata.name=watched"})
	if err != nil {
		t.Fatalf("watch from the re-list: %v", err)
	}
	defer w.Stop()
	cm = list.Items[0].DeepCopy()
	cm.Data["n"] = "1"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		got, ok := ev.Object.(*corev1.ConfigMap)
		if ev.Type != watch.Modified || !ok || got.Data["n"] != "1" {
			t.Fatalf("after the re-list: %s %+v, want MODIFIED with n=1", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("after the re-list: no event")
	}
}

// fill creates n ConfigMaps in ns through the in-process client, 16 at a
// time.
func fill(t *testing.T, cl orchestrator.Client, ns string, n int) {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: fmt.Sprintf("fill-%d", i), Namespace: ns}}
				if err := cl.Create(ctx, cm); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("fill: %v", err)
	}
}

// TestWatchAcrossLeaderChange watches ConfigMaps with client-go's
// RetryWatcher through the leader's API while ConfigMaps are created, and
// stops the leader half way: the stream ends, the RetryWatcher resumes on
// another node from the last resourceVersion it saw, and every creation
// arrives exactly once.
func TestWatchAcrossLeaderChange(t *testing.T) {
	const total, stopAt = 120, 40
	c := newCluster(t, 3)
	leader := c.Leader()
	cs := c.clientset(leader)
	ctx := ctxFor(t, 2*time.Minute)
	createNamespace(t, cs, "lc")
	list, err := cs.CoreV1().ConfigMaps("lc").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}

	failover := c.clientsetFor(c.failoverConfig(leader))
	var mu sync.Mutex
	var watchedFrom []string // the resourceVersion of each watch the RetryWatcher opened
	lw := &cache.ListWatch{WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		mu.Lock()
		watchedFrom = append(watchedFrom, o.ResourceVersion)
		mu.Unlock()
		return failover.CoreV1().ConfigMaps("lc").Watch(ctx, o)
	}}
	rw, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, lw)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { rw.Stop(); <-rw.Done() }()

	seen := map[string]int{}
	var lastRV string
	var errorsSeen []runtime.Object
	collect := func(until func() bool) {
		t.Helper()
		for !until() {
			select {
			case ev, ok := <-rw.ResultChan():
				if !ok {
					t.Fatalf("the RetryWatcher ended; errors seen %v", errorsSeen)
				}
				switch ev.Type {
				case watch.Added:
					cm := ev.Object.(*corev1.ConfigMap)
					seen[cm.Name]++
					lastRV = cm.ResourceVersion
				case watch.Error:
					errorsSeen = append(errorsSeen, ev.Object)
				}
			case <-ctx.Done():
				t.Fatalf("%d of %d creations seen before the deadline; errors %v", len(seen), total, errorsSeen)
			}
		}
	}

	create := func(i int) {
		t.Helper()
		cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: fmt.Sprintf("cm-%03d", i), Namespace: "lc"}}
		eventually(t, 30*time.Second, "create "+cm.Name, func() (bool, error) {
			err := c.Client().Create(ctx, cm.DeepCopy())
			return err == nil || orchestrator.IsAlreadyExists(err), err
		})
	}
	for i := range stopAt {
		create(i)
	}
	collect(func() bool { return len(seen) == stopAt })
	before := lastRV
	c.StopNode(leader)
	for i := stopAt; i < total; i++ {
		create(i)
	}
	collect(func() bool { return len(seen) == total })

	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s: ADDED %d times", name, n)
		}
	}
	if len(errorsSeen) > 0 {
		t.Errorf("ERROR events: %v", errorsSeen)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(watchedFrom) < 2 {
		t.Fatalf("the RetryWatcher opened %d watch(es), want a second after the leader stopped: %v", len(watchedFrom), watchedFrom)
	}
	// Bookmarks may move it on, but never back.
	from, err1 := strconv.ParseInt(watchedFrom[1], 10, 64)
	last, err2 := strconv.ParseInt(before, 10, 64)
	if err1 != nil || err2 != nil || from < last {
		t.Errorf("the second watch started from resourceVersion %s, want at least %s, the last one seen before the leader stopped (all: %v)", watchedFrom[1], before, watchedFrom)
	}
}
