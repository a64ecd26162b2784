package apiserver

import (
	"encoding/json"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// FuzzDecodeBody feeds request bodies to the decoder the server runs on
// every create and update, under each fieldValidation directive: it must
// return an object or a Status error, never panic, and what it accepts
// must encode again. Seeds are in testdata/fuzz/FuzzDecodeBody. CI runs
//
//	go test ./orchestrator/internal/apiserver -run='^$' -fuzz=FuzzDecodeBody -fuzztime=10s
func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(podJSON("dev", "web", map[string]string{"a": "b"})), uint8(0))
	f.Add([]byte(deploymentJSON("dev", "web", 3)), uint8(1))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: y\nspec:\n  foo: 1\n"), uint8(2))
	f.Add([]byte(`{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"1x"}}}]}}`), uint8(0))
	directives := []string{fieldValidationStrict, fieldValidationWarn, fieldValidationIgnore}
	scheme := api.DefaultScheme()
	f.Fuzz(func(t *testing.T, body []byte, d uint8) {
		directive := directives[int(d)%len(directives)]
		for _, info := range []api.KindInfo{mustKind(t, scheme, "Pod"), mustKind(t, scheme, "Deployment")} {
			obj := info.New()
			warnings, err := decodeBody(scheme, body, obj, directive)
			if err != nil {
				if _, ok := api.AsStatusError(err); !ok {
					t.Fatalf("%s: error is not a Status: %T %v", directive, err, err)
				}
				continue
			}
			if directive != fieldValidationWarn && len(warnings) > 0 {
				t.Fatalf("%s: warnings %q", directive, warnings)
			}
			if _, err := json.Marshal(obj); err != nil {
				t.Fatalf("accepted object does not encode: %v", err)
			}
		}
	})
}

func mustKind(t *testing.T, s *api.Scheme, kind string) api.KindInfo {
	t.Helper()
	info, ok := s.LookupKind(kind)
	if !ok {
		t.Fatalf("no kind %s", kind)
	}
	return info
}

// FuzzNegotiate feeds Accept headers to content negotiation and continue
// tokens to their decoder: an answer or a Status error, never a panic.
func FuzzNegotiate(f *testing.F) {
	f.Add("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", "")
	f.Add(kubectlDiscoveryAccept, "eyJ2IjoxLCJydiI6MTAsImFmdGVyIjoiYS9iIn0")
	f.Add("application/vnd.kubernetes.protobuf;q=0.5,*/*;q=abc", "%%%")
	f.Fuzz(func(t *testing.T, accept, cont string) {
		if _, err := negotiate(accept, true); err != nil {
			if _, ok := api.AsStatusError(err); !ok {
				t.Fatalf("negotiate error is not a Status: %v", err)
			}
		}
		acceptsAggregated(accept)
		if _, err := decodeContinue(cont); err != nil && !api.IsBadRequest(err) {
			t.Fatalf("continue error %v", err)
		}
	})
}
