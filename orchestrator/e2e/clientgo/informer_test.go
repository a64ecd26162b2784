package clientgo

import (
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// TestSharedInformerFactory syncs Deployments and Pods through a
// SharedInformerFactory served by a follower, and sees an update and the
// Pods the controllers make for it.
func TestSharedInformerFactory(t *testing.T) {
	c := newCluster(t, 3)
	cs := c.clientset(c.follower())
	ctx := ctxFor(t, time.Minute)
	createNamespace(t, cs, "inf")
	if _, err := cs.AppsV1().Deployments("inf").Create(ctx, testDeployment("inf", "web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("inf"))
	deps := factory.Apps().V1().Deployments()
	pods := factory.Core().V1().Pods()
	var mu sync.Mutex
	var updatedReplicas []int32
	if _, err := deps.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			d := obj.(*appsv1.Deployment)
			mu.Lock()
			defer mu.Unlock()
			updatedReplicas = append(updatedReplicas, *d.Spec.Replicas)
		},
	}); err != nil {
		t.Fatal(err)
	}
	pods.Informer() // registered before Start, or it never starts
	stop := make(chan struct{})
	factory.Start(stop)
	t.Cleanup(func() { close(stop); factory.Shutdown() })
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("informer of %v did not sync", typ)
		}
	}
	// The informers list with resourceVersion 0, which a follower may
	// answer from a state a little behind the create (as Kubernetes' watch
	// cache may): the watch brings the rest.
	eventually(t, 30*time.Second, "the Deployment in the lister", func() (bool, error) {
		d, err := deps.Lister().Deployments("inf").Get("web")
		return err == nil && *d.Spec.Replicas == 2, err
	})
	eventually(t, 30*time.Second, "2 Pods in the Pod lister", func() (bool, error) {
		l, err := pods.Lister().Pods("inf").List(labels.SelectorFromSet(labels.Set{"app": "web"}))
		if err == nil && len(l) != 2 {
			pl, lerr := cs.CoreV1().Pods("inf").List(ctx, metav1.ListOptions{})
			err = fmt.Errorf("the lister has %d Pods, the server %d (%v)", len(l), len(pl.Items), lerr)
		}
		return err == nil && len(l) == 2, err
	})

	// The controllers write the status meanwhile: retry on Conflict, as
	// client-go's users do.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := cs.AppsV1().Deployments("inf").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Replicas = ptr.To(int32(4))
		_, err = cs.AppsV1().Deployments("inf").Update(ctx, d, metav1.UpdateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the update handler seeing replicas 4", func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range updatedReplicas {
			if r == 4 {
				return true, nil
			}
		}
		return false, nil
	})
	eventually(t, 30*time.Second, "4 Pods in the Pod lister", func() (bool, error) {
		l, err := pods.Lister().Pods("inf").List(labels.SelectorFromSet(labels.Set{"app": "web"}))
		return err == nil && len(l) == 4, err
	})
	eventually(t, 30*time.Second, "the lister seeing 4 available replicas", func() (bool, error) {
		d, err := deps.Lister().Deployments("inf").Get("web")
		return err == nil && d.Status.AvailableReplicas == 4, err
	})
}
