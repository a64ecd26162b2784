package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSchemeLookups(t *testing.T) {
	s := DefaultScheme()
	tests := []struct {
		name       string
		kind       string
		namespaced bool
	}{
		{"pods", "Pod", true}, {"pod", "Pod", true}, {"po", "Pod", true}, {"PODS", "Pod", true},
		{"deployments.apps", "Deployment", true}, {"deploy", "Deployment", true},
		{"rs", "ReplicaSet", true}, {"cm", "ConfigMap", true}, {"ev", "Event", true},
		{"ns", "Namespace", false}, {"nodes", "Node", false}, {"no", "Node", false},
	}
	for _, tt := range tests {
		info, ok := s.ForResource(tt.name)
		if !ok || info.Kind != tt.kind || info.Namespaced != tt.namespaced {
			t.Errorf("ForResource(%q) = %+v, %v", tt.name, info, ok)
		}
	}
	if _, ok := s.ForResource("widgets"); ok {
		t.Error("unknown resource resolved")
	}
	if info, ok := s.Lookup("apps/v1", "Deployment"); !ok || info.Resource != "deployments" || info.GroupResource() != "deployments.apps" || info.Group() != "apps" {
		t.Errorf("Lookup = %+v", info)
	}
	if _, ok := s.Lookup("v1", "Deployment"); ok {
		t.Error("Lookup accepted the wrong apiVersion")
	}
	if info, ok := s.KindFor(&PodList{}); !ok || info.Kind != "Pod" {
		t.Error("KindFor(list)")
	}
	obj, err := s.New("apps/v1", "ReplicaSet")
	if err != nil || obj.GetTypeMeta().Kind != "ReplicaSet" {
		t.Errorf("New = %v, %v", obj, err)
	}
	if _, err := s.New("v1", "Widget"); !IsInvalid(err) {
		t.Errorf("New(unknown) = %v", err)
	}
	p := &Pod{}
	if err := s.SetTypeMeta(p); err != nil || p.APIVersion != "v1" || p.Kind != "Pod" {
		t.Errorf("SetTypeMeta = %+v, %v", p.TypeMeta, err)
	}
	if g, v := SplitAPIVersion("apps/v1"); g != "apps" || v != "v1" {
		t.Error("SplitAPIVersion")
	}
	// Every kind's list TypeMeta is "<Kind>List".
	for _, k := range s.Kinds() {
		if got := k.NewList().GetTypeMeta().Kind; got != k.Kind+"List" {
			t.Errorf("%s list kind = %q", k.Kind, got)
		}
	}
}

func TestNewSchemeErrors(t *testing.T) {
	kinds := builtinKinds()
	bad := []KindInfo{
		kinds[0],
		kinds[0],    // duplicate kind
		{Kind: "X"}, // missing fields
		{APIVersion: "v2", Kind: "Pod2", Resource: "ns", New: kinds[2].New, NewList: kinds[2].NewList}, // wrong TypeMeta, clashing resource
	}
	_, err := NewScheme(bad...)
	if err == nil {
		t.Fatal("NewScheme accepted bad kinds")
	}
	for _, want := range []string{`kind "Namespace" registered twice`, "kinds[2]: APIVersion, Kind, Resource, New and NewList are required",
		"kinds[3]: New() returns TypeMeta v1/Pod, want v2/Pod2", `resource name "ns" already used by Namespace`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestTimeJSON(t *testing.T) {
	tm := NewTime(time.Date(2024, 3, 4, 5, 6, 7, 999, time.FixedZone("x", 3600)))
	b, _ := json.Marshal(tm)
	if string(b) != `"2024-03-04T04:06:07Z"` {
		t.Errorf("Marshal = %s", b)
	}
	var back Time
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(tm) || back != tm {
		t.Errorf("round trip = %v, %v", back, err)
	}
	var zero Time
	if b, _ := json.Marshal(zero); string(b) != "null" || zero.String() != "<nil>" {
		t.Errorf("zero = %s", b)
	}
	for _, in := range []string{`null`, `""`} {
		var x Time = Now()
		if err := json.Unmarshal([]byte(in), &x); err != nil || !x.IsZero() {
			t.Errorf("Unmarshal(%s) = %v, %v", in, x, err)
		}
	}
	var frac Time
	if err := json.Unmarshal([]byte(`"2024-03-04T05:06:07.5+01:00"`), &frac); err != nil || frac.Nanosecond() != 5e8 || frac.Hour() != 4 {
		t.Errorf("fractional = %v, %v", frac, err)
	}
	for _, bad := range []string{`"yesterday"`, `12`, `"2024-03-04"`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	if p := NewTimePtr(time.Time{}); !p.IsZero() {
		t.Error("NewTimePtr(zero)")
	}
	// Object timestamps are omitted when zero.
	b, _ = json.Marshal(&Pod{})
	if strings.Contains(string(b), "creationTimestamp") {
		t.Errorf("zero creationTimestamp encoded: %s", b)
	}
}

func TestIntOrString(t *testing.T) {
	tests := []struct {
		json string
		want IntOrString
	}{
		{`8080`, FromInt(8080)},
		{`"http"`, FromString("http")},
		{`"25%"`, FromString("25%")},
		{`-1`, FromInt(-1)},
	}
	for _, tt := range tests {
		var v IntOrString
		if err := json.Unmarshal([]byte(tt.json), &v); err != nil || v != tt.want {
			t.Errorf("Unmarshal(%s) = %+v, %v", tt.json, v, err)
		}
		if b, _ := json.Marshal(v); string(b) != tt.json {
			t.Errorf("Marshal(%+v) = %s", v, b)
		}
	}
	for _, bad := range []string{`1.5`, `true`, `{}`, `99999999999`} {
		var v IntOrString
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestScaledValueFromIntOrPercent(t *testing.T) {
	tests := []struct {
		v       *IntOrString
		total   int
		roundUp bool
		want    int
		err     bool
	}{
		{nil, 10, true, 0, false},
		{IntOrStringPtr(FromInt(3)), 10, true, 3, false},
		{IntOrStringPtr(FromString("25%")), 10, true, 3, false},
		{IntOrStringPtr(FromString("25%")), 10, false, 2, false},
		{IntOrStringPtr(FromString("25%")), 4, true, 1, false},
		{IntOrStringPtr(FromString("0%")), 4, true, 0, false},
		{IntOrStringPtr(FromString("100%")), 3, false, 3, false},
		{IntOrStringPtr(FromString("33%")), 1000, true, 330, false},
		{IntOrStringPtr(FromString("ten")), 10, true, 0, true},
		{IntOrStringPtr(FromString("-5%")), 10, true, 0, true},
		{IntOrStringPtr(FromString("%")), 10, true, 0, true},
	}
	for _, tt := range tests {
		got, err := ScaledValueFromIntOrPercent(tt.v, tt.total, tt.roundUp)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ScaledValueFromIntOrPercent(%v, %d, %v) = %d, %v; want %d", tt.v, tt.total, tt.roundUp, got, err, tt.want)
		}
	}
}

func TestNullValues(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: null, creationTimestamp: null}\nspec:\n  containers:\n  - name: a\n    image: b\n    livenessProbe:\n      httpGet: {port: null, path: /}\n    resources: {limits: {cpu: null}}\n"
	obj, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	p := obj.(*Pod)
	if p.Spec.Containers[0].LivenessProbe.HTTPGet.Port != (IntOrString{}) || !p.Spec.Containers[0].Resources.Limits.Cpu().IsZero() {
		t.Errorf("nulls decoded as %+v", p.Spec.Containers[0])
	}
}

func TestMicroTimeJSON(t *testing.T) {
	in := time.Date(2024, 3, 4, 5, 6, 7, 123456789, time.FixedZone("x", 3600))
	mt := NewMicroTime(in)
	b, err := json.Marshal(mt)
	if err != nil || string(b) != `"2024-03-04T04:06:07.123456Z"` {
		t.Fatalf("Marshal = %s, %v; want microseconds in UTC", b, err)
	}
	if b, _ := json.Marshal(NewMicroTime(time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC))); string(b) != `"2024-03-04T05:06:07.000000Z"` {
		t.Errorf("whole second = %s, want six fractional digits", b)
	}
	var back MicroTime
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(mt) {
		t.Errorf("round trip = %v, %v; want %v", back, err, mt)
	}
	var zero MicroTime
	if b, _ := json.Marshal(zero); string(b) != "null" || zero.String() != "<nil>" {
		t.Errorf("zero = %s", b)
	}
	var plain MicroTime
	if err := json.Unmarshal([]byte(`"2024-03-04T05:06:07Z"`), &plain); err != nil || plain.Second() != 7 {
		t.Errorf("seconds only = %v, %v", plain, err)
	}
	for _, bad := range []string{`"yesterday"`, `12`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	// A Lease keeps its microseconds through a decode.
	obj, err := Decode([]byte(`{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"n","namespace":"kube-node-lease"},
	  "spec":{"holderIdentity":"n","renewTime":"2024-03-04T04:06:07.123456Z"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if l := obj.(*Lease); l.Spec.RenewTime == nil || !l.Spec.RenewTime.Equal(mt) {
		t.Errorf("Lease renewTime %v, want %v", l.Spec.RenewTime, mt)
	}
}
