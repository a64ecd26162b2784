package clientgo

import (
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

func testDeployment(ns, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "example.invalid/web:1",
					Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
				}}},
			},
		},
	}
}

func createNamespace(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// TestTypedCRUD drives Namespaces, ConfigMaps, Deployments and Pods through
// client-go's typed clientset, with the leader and with a follower as the
// server.
func TestTypedCRUD(t *testing.T) {
	c := newCluster(t, 3)
	for _, s := range c.servers() {
		t.Run(s.name, func(t *testing.T) {
			cs := c.clientset(s.node)
			ctx := ctxFor(t, time.Minute)
			ns := "crud-" + s.name

			// Namespaces.
			createNamespace(t, cs, ns)
			got, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil || got.Name != ns || got.UID == "" || got.ResourceVersion == "" || got.Status.Phase != corev1.NamespaceActive {
				t.Fatalf("get namespace: %+v, %v", got, err)
			}
			got.Labels = map[string]string{"team": "e2e"}
			if upd, err := cs.CoreV1().Namespaces().Update(ctx, got, metav1.UpdateOptions{}); err != nil || upd.Labels["team"] != "e2e" {
				t.Fatalf("update namespace: %+v, %v", upd, err)
			}
			nsl, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "team=e2e"})
			if err != nil || len(nsl.Items) != 1 || nsl.Items[0].Name != ns || nsl.ResourceVersion == "" {
				t.Fatalf("list namespaces team=e2e: %+v, %v", nsl, err)
			}

			// ConfigMaps.
			cms := cs.CoreV1().ConfigMaps(ns)
			cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Labels: map[string]string{"app": "web"}}, Data: map[string]string{"color": "blue"}}, metav1.CreateOptions{})
			if err != nil || cm.Namespace != ns || cm.Data["color"] != "blue" {
				t.Fatalf("create configmap: %+v, %v", cm, err)
			}
			cm.Data["color"] = "green"
			cm2, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
			if err != nil || cm2.Data["color"] != "green" || cm2.ResourceVersion == cm.ResourceVersion {
				t.Fatalf("update configmap: %+v, %v", cm2, err)
			}
			cml, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil || len(cml.Items) != 1 || cml.Items[0].Data["color"] != "green" {
				t.Fatalf("list configmaps: %+v, %v", cml, err)
			}
			if cml, err := cms.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=nosuch"}); err != nil || len(cml.Items) != 0 {
				t.Fatalf("list configmaps metadata.name=nosuch: %+v, %v", cml, err)
			}
			if err := cms.Delete(ctx, "settings", metav1.DeleteOptions{}); err != nil {
				t.Fatalf("delete configmap: %v", err)
			}
			if _, err := cms.Get(ctx, "settings", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("get deleted configmap: %v, want NotFound", err)
			}

			// Deployments: the controllers make its Pods on the fake runtime.
			deps := cs.AppsV1().Deployments(ns)
			d, err := deps.Create(ctx, testDeployment(ns, "web", 2), metav1.CreateOptions{})
			if err != nil || d.Generation != 1 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
				t.Fatalf("create deployment (want generation 1 and the defaulted strategy): %+v, %v", d, err)
			}
			eventually(t, 30*time.Second, "2 available replicas", func() (bool, error) {
				d, err := deps.Get(ctx, "web", metav1.GetOptions{})
				return err == nil && d.Status.AvailableReplicas == 2 && d.Status.ObservedGeneration == d.Generation, err
			})
			sc, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
			if err != nil || sc.Spec.Replicas != 2 {
				t.Fatalf("get scale: %+v, %v", sc, err)
			}
			sc.Spec.Replicas = 3
			if sc, err = deps.UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); err != nil || sc.Spec.Replicas != 3 {
				t.Fatalf("update scale: %+v, %v", sc, err)
			}
			pods := cs.CoreV1().Pods(ns)
			eventually(t, 30*time.Second, "3 running Pods of web", func() (bool, error) {
				pl, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "app=web", FieldSelector: "status.phase=Running"})
				return err == nil && len(pl.Items) == 3, err
			})

			// A bare Pod.
			p, err := pods.Create(ctx, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "bare", Labels: map[string]string{"app": "bare"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.invalid/bare:1"}}},
			}, metav1.CreateOptions{})
			if err != nil || p.Spec.RestartPolicy != corev1.RestartPolicyAlways {
				t.Fatalf("create pod (want restartPolicy defaulted to Always): %+v, %v", p, err)
			}
			eventually(t, 30*time.Second, "the bare Pod running on a node", func() (bool, error) {
				p, err := pods.Get(ctx, "bare", metav1.GetOptions{})
				return err == nil && p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning, err
			})
			if err := pods.Delete(ctx, "bare", metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
				t.Fatalf("delete pod: %v", err)
			}
			eventually(t, 30*time.Second, "the bare Pod gone", func() (bool, error) {
				_, err := pods.Get(ctx, "bare", metav1.GetOptions{})
				return apierrors.IsNotFound(err), err
			})

			// Deleting the namespace takes everything in it.
			if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
				t.Fatalf("delete namespace: %v", err)
			}
			eventually(t, 30*time.Second, "the namespace gone", func() (bool, error) {
				_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
				return apierrors.IsNotFound(err), err
			})
		})
	}
}

// TestErrorPredicates checks that client-go's apierrors predicates read
// the server's Status errors.
func TestErrorPredicates(t *testing.T) {
	c := newCluster(t, 1)
	cs := c.clientset(0)
	ctx := ctxFor(t, time.Minute)
	createNamespace(t, cs, "errs")
	cms := cs.CoreV1().ConfigMaps("errs")

	_, err := cms.Get(ctx, "nosuch", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("get a missing configmap: %v, want NotFound", err)
	}
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Details == nil || se.ErrStatus.Details.Name != "nosuch" || se.ErrStatus.Details.Kind != "configmaps" {
		t.Errorf("NotFound details: %#v, want name nosuch and kind configmaps", err)
	}

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "one"}, Data: map[string]string{"k": "v"}}
	first, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("create twice: %v, want AlreadyExists", err)
	}

	second := first.DeepCopy()
	second.Data["k"] = "w"
	if _, err := cms.Update(ctx, second, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	first.Data["k"] = "stale"
	if _, err := cms.Update(ctx, first, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("update at a stale resourceVersion: %v, want Conflict", err)
	}

	_, err = cs.AppsV1().Deployments("errs").Create(ctx, testDeployment("errs", "bad", -1), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("create a deployment with replicas -1: %v, want Invalid", err)
	}
	const want = `Deployment.apps "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`
	if err.Error() != want {
		t.Errorf("invalid message:\n%s\nwant\n%s", err, want)
	}
	if !errors.As(err, &se) || se.ErrStatus.Details == nil || len(se.ErrStatus.Details.Causes) != 1 || se.ErrStatus.Details.Causes[0].Field != "spec.replicas" {
		t.Errorf("Invalid causes: %#v, want one naming spec.replicas", err)
	} else if msg := se.ErrStatus.Details.Causes[0].Message; msg != "Invalid value: -1: must be greater than or equal to 0" {
		// Kubernetes' cause carries the field apart (field.Error.ErrorBody):
		// kubectl prints "<field>: <message>".
		t.Errorf("Invalid cause message %q, want %q", msg, "Invalid value: -1: must be greater than or equal to 0")
	}
	if _, err := cs.AppsV1().Deployments("errs").Get(ctx, "bad", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the invalid deployment was stored: %v", err)
	}
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "nosuch-namespace"}}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("create with a namespace other than the request's: %v, want BadRequest", err)
	}
}
