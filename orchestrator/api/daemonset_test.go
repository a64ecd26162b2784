package api

import "testing"

// TestDecodeDaemonSet decodes a DaemonSet manifest as kubectl users
// write it, with the kind's short name resolving too.
func TestDecodeDaemonSet(t *testing.T) {
	const manifest = `
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd
  namespace: kube-system
spec:
  selector:
    matchLabels: {name: fluentd}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 10%}
  minReadySeconds: 5
  template:
    metadata:
      labels: {name: fluentd}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      tolerations:
      - {key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}
      containers:
      - name: fluentd
        image: fluentd:v1
status:
  currentNumberScheduled: 2
  numberMisscheduled: 0
  desiredNumberScheduled: 3
  numberReady: 1
`
	obj, err := Decode([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	ds, ok := obj.(*DaemonSet)
	if !ok {
		t.Fatalf("decoded %T, want *DaemonSet", obj)
	}
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Namespace != "kube-system" || ds.Spec.Selector.MatchLabels["name"] != "fluentd" || ru == nil ||
		*ru.MaxUnavailable != FromString("10%") || ds.Spec.MinReadySeconds != 5 ||
		ds.Spec.Template.Spec.Tolerations[0].Effect != TaintEffectNoSchedule || ds.Status.DesiredNumberScheduled != 3 || ds.Status.NumberReady != 1 {
		t.Errorf("decoded %+v", ds)
	}
	if info, ok := DefaultScheme().ForResource("ds"); !ok || info.Kind != "DaemonSet" || info.GroupResource() != "daemonsets.apps" {
		t.Errorf("ForResource(ds) = %+v, %v", info, ok)
	}
}
