package rollout

import (
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func ios(s string) *api.IntOrString { v := api.FromString(s); return &v }
func ioi(i int32) *api.IntOrString  { v := api.FromInt(i); return &v }

func TestResolve(t *testing.T) {
	tests := []struct {
		name            string
		surge, unavail  *api.IntOrString
		replicas        int32
		wantS, wantU    int32
		wantErrContains []string
	}{
		{"defaults 25% of 10", ios("25%"), ios("25%"), 10, 3, 2, nil},
		{"25% of 1: surge rounds up, unavailable down", ios("25%"), ios("25%"), 1, 1, 0, nil},
		{"25% of 4 exact", ios("25%"), ios("25%"), 4, 1, 1, nil},
		{"50% of 3", ios("50%"), ios("50%"), 3, 2, 1, nil},
		{"both zero counts: unavailable becomes 1", ioi(0), ioi(0), 10, 0, 1, nil},
		{"both zero percent: unavailable becomes 1", ios("0%"), ios("0%"), 10, 0, 1, nil},
		{"percentages rounding to zero", ios("0%"), ios("5%"), 10, 0, 1, nil},
		{"counts as is", ioi(2), ioi(5), 10, 2, 5, nil},
		{"count beyond replicas kept", ioi(20), ioi(0), 3, 20, 0, nil},
		{"nil values are 0, then unavailable 1", nil, nil, 5, 0, 1, nil},
		{"100% unavailable", ios("0%"), ios("100%"), 7, 0, 7, nil},
		{"surge may exceed 100%", ios("200%"), ios("0%"), 3, 6, 0, nil},
		{"zero replicas", ios("25%"), ios("25%"), 0, 0, 1, nil},
		{"bad surge string", ios("abc"), ios("25%"), 10, 0, 0, []string{"spec.strategy.rollingUpdate.maxSurge", `"abc"`}},
		{"bad unavailable string", ios("25%"), ios("-5%"), 10, 0, 0, []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{"negative count", ioi(-1), ios("25%"), 10, 0, 0, []string{"maxSurge", "-1"}},
		{"unavailable over 100%", ios("25%"), ios("101%"), 10, 0, 0, []string{"maxUnavailable", "100%"}},
		{"both bad: both named", ios("x"), ioi(-2), 10, 0, 0, []string{"maxSurge", "maxUnavailable"}},
		{"negative replicas", ios("25%"), ios("25%"), -1, 0, 0, []string{"spec.replicas"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Resolve(tc.surge, tc.unavail, tc.replicas)
			if len(tc.wantErrContains) > 0 {
				if err == nil {
					t.Fatalf("no error, got %+v", b)
				}
				for _, w := range tc.wantErrContains {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.MaxSurge != tc.wantS || b.MaxUnavailable != tc.wantU {
				t.Fatalf("got surge %d unavailable %d, want %d %d", b.MaxSurge, b.MaxUnavailable, tc.wantS, tc.wantU)
			}
		})
	}
}

func TestResolveBoundsDefaults(t *testing.T) {
	for _, ru := range []*api.RollingUpdateDeployment{nil, {}, {MaxSurge: ios("25%")}} {
		b, err := ResolveBounds(ru, 10)
		if err != nil || b != (Bounds{MaxSurge: 3, MaxUnavailable: 2}) {
			t.Errorf("ResolveBounds(%+v, 10) = %+v, %v; want 3/2", ru, b, err)
		}
	}
	b, err := ResolveBounds(&api.RollingUpdateDeployment{MaxSurge: ioi(0), MaxUnavailable: ioi(0)}, 10)
	if err != nil || b != (Bounds{MaxSurge: 0, MaxUnavailable: 1}) {
		t.Errorf("0/0 = %+v, %v", b, err)
	}
}
