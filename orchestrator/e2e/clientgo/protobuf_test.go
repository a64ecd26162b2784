package clientgo

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestProtobufClientset uses a clientset with client-go's defaults, which
// send built-in kinds as application/vnd.kubernetes.protobuf and accept
// protobuf or JSON answers: create, get, list and update a ConfigMap.
func TestProtobufClientset(t *testing.T) {
	c := newCluster(t, 1)
	cs, err := kubernetes.NewForConfig(c.defaultRestConfig(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, time.Minute)
	cms := cs.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pb"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create with client-go's default (protobuf) content type: %v", err)
	}
	if got, err := cms.Get(ctx, "pb", metav1.GetOptions{}); err != nil || got.Data["k"] != "v" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	cm.Data["k"] = "w"
	if got, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil || got.Data["k"] != "w" {
		t.Fatalf("update: %+v, %v", got, err)
	}
	if l, err := cms.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=pb"}); err != nil || len(l.Items) != 1 {
		t.Fatalf("list: %+v, %v", l, err)
	}
}
