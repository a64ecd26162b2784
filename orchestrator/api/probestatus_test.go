package api

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestContainerProbeStatusRoundTrip checks the Flotilla extension's JSON
// names, that it round-trips, and that a status without it (as Kubernetes
// writes) encodes without a "probes" key.
func TestContainerProbeStatusRoundTrip(t *testing.T) {
	at := NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	p := &Pod{TypeMeta: TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: ObjectMeta{Name: "p", Namespace: "default"}}
	p.Status.ContainerStatuses = []ContainerStatus{{Name: "web", Image: "web:1", Probes: []ContainerProbeStatus{{
		Type: ProbeReadiness, Result: ProbeFailure, ConsecutiveFailures: 3, Failures: 7, Successes: 2,
		LastProbeTime: at, LastTransitionTime: at, LastFailureMessage: "HTTP probe failed with statuscode: 503", LastFailureTime: at,
	}}}}
	b, err := EncodeJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"probes":[{"type":"Readiness","result":"Failure","consecutiveFailures":3,"successes":2,"failures":7,` +
		`"lastProbeTime":"2026-01-02T03:04:05Z","lastTransitionTime":"2026-01-02T03:04:05Z",` +
		`"lastFailureMessage":"HTTP probe failed with statuscode: 503","lastFailureTime":"2026-01-02T03:04:05Z"}]`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("encoded %s\nwant %s", b, want)
		}
	}
	back, err := Decode(b)
	if err != nil || !reflect.DeepEqual(back, Object(p)) {
		t.Fatalf("round trip: %v\n%+v", err, back)
	}

	p.Status.ContainerStatuses[0].Probes = nil
	b, err = EncodeJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "probes") {
		t.Fatalf("status without probes encodes them: %s", b)
	}
}
