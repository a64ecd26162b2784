package rollout

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// sized is a ReplicaSet of n replicas created age hours after t0, last
// scaled when the Deployment allowed most Pods (0: no annotation).
func sized(name string, n int32, hour int, most int32) ReplicaSet {
	return ReplicaSet{Name: name, Replicas: n, Created: t0.Add(time.Duration(hour) * time.Hour), MaxReplicas: most}
}

func TestPlanScaleTable(t *testing.T) {
	tests := []struct {
		name     string
		replicas int32
		surge    int32
		sets     []ReplicaSet
		want     []int32
	}{
		// Kubernetes' documented example: 10 replicas, maxSurge 3, a
		// stalled rollout at 8 old and 5 new, scaled to 15: 3 of the 5
		// added replicas go to the old ReplicaSet, 2 to the new one.
		{"documented example 10 to 15", 15, 3,
			[]ReplicaSet{sized("old", 8, 0, 13), sized("new", 5, 1, 13)}, []int32{11, 7}},
		{"10 to 20 with 25% surge", 20, 5,
			[]ReplicaSet{sized("old", 8, 0, 13), sized("new", 5, 1, 13)}, []int32{15, 10}},
		{"20 back to 10 (shrink)", 10, 3,
			[]ReplicaSet{sized("old", 15, 0, 25), sized("new", 10, 1, 25)}, []int32{8, 5}},
		{"three sets, newest largest", 30, 0,
			[]ReplicaSet{sized("a", 2, 0, 10), sized("b", 3, 1, 10), sized("c", 5, 2, 10)}, []int32{6, 9, 15}},
		{"scale to zero empties every set (surge ignored)", 0, 3,
			[]ReplicaSet{sized("old", 8, 0, 13), sized("new", 5, 1, 13)}, []int32{0, 0}},
		{"one active set takes replicas, not the surge", 20, 5,
			[]ReplicaSet{sized("old", 10, 0, 13), sized("new", 0, 1, 13)}, []int32{20, 0}},
		{"one active set shrinks to replicas", 4, 1,
			[]ReplicaSet{sized("old", 0, 0, 13), sized("new", 10, 1, 13)}, []int32{0, 4}},
		{"no active set: nothing", 5, 2,
			[]ReplicaSet{sized("old", 0, 0, 0), sized("new", 0, 1, 0)}, []int32{0, 0}},
		{"no change in size: nothing", 10, 3,
			[]ReplicaSet{sized("old", 8, 0, 13), sized("new", 5, 1, 13)}, []int32{8, 5}},
		{"inactive set stays at zero", 20, 5,
			[]ReplicaSet{sized("older", 0, 0, 13), sized("old", 8, 1, 13), sized("new", 5, 2, 13)}, []int32{0, 15, 10}},

		// Rounding.
		{"round half up on both: the second gets what is left", 2, 1,
			[]ReplicaSet{sized("old", 1, 0, 2), sized("new", 1, 1, 2)}, []int32{1, 2}},
		{"leftover to the largest", 6, 0,
			[]ReplicaSet{sized("a", 2, 0, 5), sized("b", 1, 1, 5), sized("c", 1, 2, 5), sized("d", 1, 3, 5)}, []int32{3, 1, 1, 1}},
		{"growing: leftover to the newest of equal sizes", 4, 0,
			[]ReplicaSet{sized("a", 1, 0, 3), sized("b", 1, 1, 3), sized("c", 1, 2, 3)}, []int32{1, 1, 2}},
		{"shrinking: leftover off the oldest of equal sizes", 3, 0,
			[]ReplicaSet{sized("a", 2, 0, 4), sized("b", 2, 1, 4)}, []int32{1, 2}},
		{"equal sizes and times: by name", 3, 0,
			[]ReplicaSet{sized("b", 1, 0, 2), sized("a", 1, 0, 2)}, []int32{1, 2}},
		{"the largest rounds up first", 7, 0,
			[]ReplicaSet{sized("a", 3, 0, 6), sized("b", 2, 1, 6), sized("c", 1, 2, 6)}, []int32{4, 2, 1}},
		{"shrink where rounding keeps small sets whole", 5, 0,
			[]ReplicaSet{sized("a", 4, 0, 7), sized("b", 2, 1, 7), sized("c", 1, 2, 7)}, []int32{3, 1, 1}},
		{"large sizes do not overflow", 2_000_000_000, 100_000_000,
			[]ReplicaSet{sized("old", 1_000_000_000, 0, 1_500_000_000), sized("new", 500_000_000, 1, 1_500_000_000)},
			[]int32{1_400_000_000, 700_000_000}},

		// Annotations.
		{"no max-replicas annotation: scale from the current total", 10, 2,
			[]ReplicaSet{sized("old", 6, 0, 0), sized("new", 2, 1, 0)}, []int32{9, 3}},
		{"half applied before: the scaled set's share is 0", 20, 5,
			[]ReplicaSet{sized("old", 15, 0, 25), sized("new", 5, 1, 13)}, []int32{15, 10}},
		{"stale annotation never shrinks a set while growing", 20, 5,
			[]ReplicaSet{sized("old", 8, 0, 100), sized("new", 5, 1, 13)}, []int32{15, 10}},
		{"stale annotation never grows a set while shrinking", 10, 3,
			[]ReplicaSet{sized("old", 15, 0, 5), sized("new", 10, 1, 25)}, []int32{8, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PlanScale(tc.replicas, Bounds{MaxSurge: tc.surge, MaxUnavailable: 1}, tc.sets)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("PlanScale(%d, surge %d) = %v, want %v", tc.replicas, tc.surge, got, tc.want)
			}
		})
	}
}

// TestPlanScaleProperties checks every combination of small sizes: sets
// move only in the direction of the resize and stay >= 0, inactive ones
// stay at 0, a grow fills replicas+maxSurge exactly and a shrink never
// goes below it, and applying a plan (with the new annotation) makes the
// next plan a no-op.
func TestPlanScaleProperties(t *testing.T) {
	for replicas := int32(0); replicas <= 12; replicas++ {
		for surge := int32(0); surge <= 3; surge++ {
			for a := int32(0); a <= 8; a++ {
				for b := int32(0); b <= 8; b++ {
					for c := int32(0); c <= 3; c++ {
						checkScaleProperties(t, replicas, surge, []int32{a, b, c})
					}
				}
			}
		}
	}
}

func checkScaleProperties(t *testing.T, replicas, surge int32, sizes []int32) {
	t.Helper()
	var total int32
	active := 0
	sets := make([]ReplicaSet, len(sizes))
	for i, n := range sizes {
		total += n
		if n > 0 {
			active++
		}
		sets[i] = sized(string(rune('a'+i)), n, i, 0)
	}
	for i := range sets {
		sets[i].MaxReplicas = total // as if all were scaled together last
	}
	bounds := Bounds{MaxSurge: surge, MaxUnavailable: 1}
	got, err := PlanScale(replicas, bounds, sets)
	if err != nil {
		t.Fatal(err)
	}
	allowed := replicas + surge
	if replicas == 0 {
		allowed = 0
	}
	var sum int32
	for i, n := range got {
		sum += n
		switch {
		case n < 0:
			t.Fatalf("%d+%d %v: negative %v", replicas, surge, sizes, got)
		case sizes[i] == 0 && n != 0 && active != 1:
			t.Fatalf("%d+%d %v: inactive set scaled: %v", replicas, surge, sizes, got)
		case active >= 2 && allowed > total && n < sizes[i], active >= 2 && allowed < total && n > sizes[i]:
			t.Fatalf("%d+%d %v: against the direction: %v", replicas, surge, sizes, got)
		}
	}
	if active >= 2 && (allowed > total && sum != allowed || allowed < total && sum < allowed) {
		t.Fatalf("%d+%d %v: sum %d, allowed %d: %v", replicas, surge, sizes, sum, allowed, got)
	}
	stillActive := 0
	for _, n := range got {
		if n > 0 {
			stillActive++
		}
	}
	if active < 2 || stillActive < 2 {
		return // one set left takes replicas (not the surge) on the next plan
	}
	// Applied (with the annotation of the new size), nothing more to do.
	for i := range sets {
		sets[i].Replicas, sets[i].MaxReplicas = got[i], allowed
	}
	again, err := PlanScale(replicas, bounds, sets)
	if err != nil || !slices.Equal(again, got) {
		t.Fatalf("%d+%d %v: second plan %v after %v (%v)", replicas, surge, sizes, again, got, err)
	}
}

func TestPlanScaleErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replicas int32
		b        Bounds
		sets     []ReplicaSet
		want     string
	}{
		{"negative replicas", -1, Bounds{}, nil, "spec.replicas"},
		{"negative set", 3, Bounds{}, []ReplicaSet{{Name: "x", Replicas: -2}}, `ReplicaSet "x"`},
		{"negative surge", 3, Bounds{MaxSurge: -1}, nil, "maxSurge -1"},
	} {
		if _, err := PlanScale(tc.replicas, tc.b, tc.sets); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}

func TestScalingEventAndAnnotations(t *testing.T) {
	var r api.ReplicaSet
	r.Name = "web-1"
	r.Spec.Replicas = api.Ptr(int32(8))
	if got := FromReplicaSet(&r); got.HasDesired || got.MaxReplicas != 0 {
		t.Fatalf("no annotations read as %+v", got)
	}
	if !SetReplicasAnnotations(&r.ObjectMeta, 10, 3) || SetReplicasAnnotations(&r.ObjectMeta, 10, 3) {
		t.Fatal("SetReplicasAnnotations: want a change, then none")
	}
	if r.Annotations[api.DesiredReplicasAnnotation] != "10" || r.Annotations[api.MaxReplicasAnnotation] != "13" {
		t.Fatalf("annotations %v", r.Annotations)
	}
	got := FromReplicaSet(&r)
	if !got.HasDesired || got.Desired != 10 || got.MaxReplicas != 13 {
		t.Fatalf("read back %+v", got)
	}
	idle := ReplicaSet{Replicas: 0, Desired: 5, HasDesired: true}
	unannotated := ReplicaSet{Replicas: 3}
	for _, tc := range []struct {
		replicas int32
		sets     []ReplicaSet
		want     bool
	}{
		{10, []ReplicaSet{got}, false},
		{20, []ReplicaSet{got}, true},
		{20, []ReplicaSet{idle, unannotated}, false}, // inactive or unannotated sets do not count
		{20, []ReplicaSet{unannotated, got}, true},
		{20, nil, false},
	} {
		if IsScalingEvent(tc.replicas, tc.sets) != tc.want {
			t.Errorf("IsScalingEvent(%d, %+v) != %v", tc.replicas, tc.sets, tc.want)
		}
	}
	r.Annotations[api.MaxReplicasAnnotation] = "-4"
	r.Annotations[api.DesiredReplicasAnnotation] = "ten"
	if got := FromReplicaSet(&r); got.HasDesired || got.MaxReplicas != 0 {
		t.Fatalf("invalid annotations read as %+v", got)
	}
}
