package clientgotest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("k8s.io/klog/v2.(*flushDaemon).run.func1"))
}

type tokenAuth struct{}

func (tokenAuth) Authenticate(r *http.Request) (apiserver.User, bool, error) {
	if r.Header.Get("Authorization") == "Bearer secret" {
		return apiserver.User{Name: "admin"}, true, nil
	}
	return apiserver.User{}, false, nil
}

// newClientset serves a fresh registry over TLS and returns a client-go
// clientset for it, as kubectl's and controllers' configuration has it
// (protobuf bodies, protobuf or JSON responses).
func newClientset(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	srv, err := apiserver.New(apiserver.Config{
		Client:           testutil.Registry(t),
		Authenticator:    tokenAuth{},
		Logger:           zaptest.NewLogger(t),
		BookmarkInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(hs.Close)
	cfg := &rest.Config{
		Host:            hs.URL,
		BearerToken:     "secret",
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		ContentConfig: rest.ContentConfig{
			ContentType:        "application/vnd.kubernetes.protobuf",
			AcceptContentTypes: "application/vnd.kubernetes.protobuf,application/json",
		},
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cs.CoreV1().RESTClient().(*rest.RESTClient).Client.CloseIdleConnections)
	return cs
}

func TestTypedClient(t *testing.T) {
	cs := newClientset(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dev"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "dev"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
	created, err := cs.AppsV1().Deployments("dev").Create(ctx, d, metav1.CreateOptions{FieldValidation: "Strict"})
	if err != nil {
		t.Fatal(err)
	}
	if created.UID == "" || *created.Spec.Replicas != 2 {
		t.Errorf("created %+v", created.ObjectMeta)
	}
	if _, err := cs.AppsV1().Deployments("dev").Create(ctx, d, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v", err)
	}
	_, err = cs.AppsV1().Deployments("dev").Get(ctx, "nope", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `deployments.apps "nope" not found` {
		t.Errorf("get missing: %v", err)
	}
	bad := d.DeepCopy()
	bad.Name, bad.Spec.Replicas = "bad", new(int32(-1))
	_, err = cs.AppsV1().Deployments("dev").Create(ctx, bad, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("invalid create: %v", err)
	} else if st := err.(apierrors.APIStatus).Status(); st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != "spec.replicas" {
		t.Errorf("invalid details %+v", st.Details)
	}

	created.Labels = map[string]string{"tier": "front"}
	updated, err := cs.AppsV1().Deployments("dev").Update(ctx, created, metav1.UpdateOptions{})
	if err != nil || updated.Labels["tier"] != "front" {
		t.Fatalf("update: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("dev").Update(ctx, created, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("stale update: %v", err)
	}
	patched, err := cs.AppsV1().Deployments("dev").Patch(ctx, "web", types.MergePatchType, []byte(`{"metadata":{"annotations":{"a":"b"}}}`), metav1.PatchOptions{})
	if err != nil || patched.Annotations["a"] != "b" {
		t.Fatalf("patch: %v", err)
	}

	sc, err := cs.AppsV1().Deployments("dev").GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 2 || sc.Status.Selector != "app=web" {
		t.Fatalf("get scale %+v: %v", sc, err)
	}
	sc.Spec.Replicas = 5
	if sc, err = cs.AppsV1().Deployments("dev").UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); err != nil || sc.Spec.Replicas != 5 {
		t.Fatalf("update scale: %v", err)
	}

	list, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: "tier=front"})
	if err != nil || len(list.Items) != 1 || list.ResourceVersion == "" {
		t.Fatalf("list: %v", err)
	}
	if err := cs.AppsV1().Deployments("dev").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AppsV1().Deployments("dev").Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "dev"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	if _, err := cs.CoreV1().Pods("dev").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods("dev").Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CoreV1().Pods("dev").Get(ctx, "p", metav1.GetOptions{})
	if err != nil || got.Spec.NodeName != "n1" {
		t.Errorf("bound pod: %v %q", err, got.Spec.NodeName)
	}
	groups, err := cs.Discovery().ServerGroups()
	if err != nil || len(groups.Groups) < 2 {
		t.Errorf("discovery: %v %+v", err, groups)
	}
}

// An informer lists (in pages), watches with bookmarks and keeps its
// cache in step with creates, updates and deletes.
func TestInformer(t *testing.T) {
	cs := newClientset(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dev"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mkpod := func(name string) {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "dev"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
		if _, err := cs.CoreV1().Pods("dev").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		mkpod(n)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("dev"),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = fields.Everything().String() }))
	pods := factory.Core().V1().Pods().Informer()
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), pods.HasSynced) {
		t.Fatal("no sync")
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("3 pods", func() bool { return len(pods.GetStore().List()) == 3 })
	mkpod("d")
	if err := cs.CoreV1().Pods("dev").Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("b, c, d", func() bool {
		keys := pods.GetStore().ListKeys()
		_, hasA, _ := pods.GetStore().GetByKey("dev/a")
		_, hasD, _ := pods.GetStore().GetByKey("dev/d")
		return len(keys) == 3 && !hasA && hasD
	})
	cancel()
}
