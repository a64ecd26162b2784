package rollout

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestPlanRollingUpdateTable(t *testing.T) {
	b32 := Bounds{MaxSurge: 3, MaxUnavailable: 2}
	tests := []struct {
		name     string
		replicas int32
		b        Bounds
		newRS    ReplicaSet
		old      []ReplicaSet
		wantNew  int32
		wantOld  []int32
		wantCln  int32
	}{
		{"fresh deployment scales to replicas", 10, b32, ReplicaSet{}, nil, 10, []int32{}, 0},
		{"first step: surge up, old down to min available", 10, b32,
			ReplicaSet{}, []ReplicaSet{{Name: "a", Replicas: 10, Available: 10}}, 3, []int32{8}, 0},
		{"new not yet available: no further old scale-down", 10, b32,
			ReplicaSet{Replicas: 3}, []ReplicaSet{{Name: "a", Replicas: 8, Available: 8}}, 5, []int32{8}, 0},
		{"new available: old down by what new provides", 10, b32,
			ReplicaSet{Replicas: 5, Available: 5}, []ReplicaSet{{Name: "a", Replicas: 8, Available: 8}}, 5, []int32{3}, 0},
		{"finishing", 10, b32,
			ReplicaSet{Replicas: 10, Available: 10}, []ReplicaSet{{Name: "a", Replicas: 1, Available: 1}}, 10, []int32{0}, 0},
		{"unhealthy old pods removed first, oldest set first", 10, b32,
			ReplicaSet{Replicas: 0}, []ReplicaSet{
				{Name: "b", Replicas: 5, Available: 5, Created: t0.Add(time.Hour)},
				{Name: "a", Replicas: 5, Available: 2, Created: t0},
			}, 3, []int32{5, 3}, 2},
		{"unhealthy cleanup bounded by min available", 10, b32,
			ReplicaSet{Replicas: 3, Available: 0}, []ReplicaSet{{Name: "a", Replicas: 10, Available: 6}}, 3, []int32{8}, 2},
		{"status lagging above spec is not trusted", 10, b32,
			ReplicaSet{Replicas: 5, Available: 0}, []ReplicaSet{{Name: "a", Replicas: 8, Available: 10}}, 5, []int32{8}, 0},
		{"new above replicas is scaled down", 4, Bounds{MaxSurge: 1, MaxUnavailable: 1},
			ReplicaSet{Replicas: 6, Available: 6}, nil, 4, []int32{}, 0},
		{"zero surge: old first", 4, Bounds{MaxSurge: 0, MaxUnavailable: 1},
			ReplicaSet{}, []ReplicaSet{{Name: "a", Replicas: 4, Available: 4}}, 0, []int32{3}, 0},
		{"zero surge second step", 4, Bounds{MaxSurge: 0, MaxUnavailable: 1},
			ReplicaSet{}, []ReplicaSet{{Name: "a", Replicas: 3, Available: 3}}, 1, []int32{3}, 0},
		{"zero unavailable: new first", 4, Bounds{MaxSurge: 1, MaxUnavailable: 0},
			ReplicaSet{}, []ReplicaSet{{Name: "a", Replicas: 4, Available: 4}}, 1, []int32{4}, 0},
		{"scale to zero", 0, Bounds{MaxSurge: 0, MaxUnavailable: 1},
			ReplicaSet{Replicas: 0}, []ReplicaSet{{Name: "a", Replicas: 3, Available: 3}}, 0, []int32{0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanRollingUpdate(tc.replicas, tc.b, tc.newRS, tc.old)
			if err != nil {
				t.Fatal(err)
			}
			if p.NewReplicas != tc.wantNew || !slices.Equal(p.OldReplicas, tc.wantOld) || p.CleanedUp != tc.wantCln {
				t.Fatalf("got new %d old %v cleaned %d; want new %d old %v cleaned %d",
					p.NewReplicas, p.OldReplicas, p.CleanedUp, tc.wantNew, tc.wantOld, tc.wantCln)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	b := Bounds{MaxSurge: 1, MaxUnavailable: 1}
	cases := []struct {
		err  error
		want string
	}{
		{second(PlanRollingUpdate(-1, b, ReplicaSet{}, nil)), "spec.replicas"},
		{second(PlanRollingUpdate(1, b, ReplicaSet{Name: "n", Replicas: -1}, nil)), `new ReplicaSet "n"`},
		{second(PlanRollingUpdate(1, b, ReplicaSet{}, []ReplicaSet{{Name: "o", Available: -1}})), `old ReplicaSet "o"`},
		{second(PlanRollingUpdate(1, Bounds{MaxSurge: -1}, ReplicaSet{}, nil)), "bounds"},
		{second(PlanRecreate(1, ReplicaSet{}, nil, -1)), "oldPodsRunning"},
	}
	for i, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("case %d: err %v, want mention of %s", i, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestPlanRecreate(t *testing.T) {
	old := []ReplicaSet{{Name: "a", Replicas: 3, Available: 3}, {Name: "b", Replicas: 0}}
	p, err := PlanRecreate(3, ReplicaSet{}, old, 3)
	if err != nil || !p.WaitingForOldPods || p.NewReplicas != 0 || !slices.Equal(p.OldReplicas, []int32{0, 0}) {
		t.Fatalf("step 1: %+v %v", p, err)
	}
	old[0].Replicas = 0
	p, _ = PlanRecreate(3, ReplicaSet{}, old, 1) // one Pod still terminating
	if !p.WaitingForOldPods || p.NewReplicas != 0 {
		t.Fatalf("step 2: %+v", p)
	}
	p, _ = PlanRecreate(3, ReplicaSet{}, old, 0)
	if p.WaitingForOldPods || p.NewReplicas != 3 {
		t.Fatalf("step 3: %+v", p)
	}
}

// sim is a simulated cluster: ReplicaSets with Pods that become available
// some steps after creation (or never, for a bad version), and a
// ReplicaSet controller that creates missing Pods (sometimes late) and
// deletes surplus Pods at once, unavailable ones first.
type sim struct {
	t        *testing.T
	rng      *rand.Rand
	step     int
	replicas int32
	b        Bounds
	sets     []*simRS // sets[0] is the new one
}

type simRS struct {
	name    string
	created time.Time
	spec    int32
	bad     bool
	pods    []int // step at which each Pod becomes available; -1 never
}

func (r *simRS) available(step int) int32 {
	var n int32
	for _, at := range r.pods {
		if at >= 0 && step >= at {
			n++
		}
	}
	return n
}

func (s *sim) observe(r *simRS) ReplicaSet {
	return ReplicaSet{Name: r.name, Replicas: r.spec, Available: r.available(s.step), Created: r.created}
}

func (s *sim) totals() (pods, available int32) {
	for _, r := range s.sets {
		pods += int32(len(r.pods))
		available += r.available(s.step)
	}
	return
}

func (s *sim) check(minAvail int32, what string) {
	s.t.Helper()
	pods, avail := s.totals()
	if pods > s.replicas+s.b.MaxSurge {
		s.t.Fatalf("step %d (%s): %d Pods > replicas %d + maxSurge %d", s.step, what, pods, s.replicas, s.b.MaxSurge)
	}
	if avail < minAvail {
		s.t.Fatalf("step %d (%s): %d available < %d", s.step, what, avail, minAvail)
	}
}

// run performs one controller step and returns whether the plan changed
// anything.
func (s *sim) run() bool {
	s.t.Helper()
	s.step++
	minAvail := s.replicas - s.b.MaxUnavailable
	s.check(minAvail, "before plan")
	old := make([]ReplicaSet, 0, len(s.sets)-1)
	for _, r := range s.sets[1:] {
		old = append(old, s.observe(r))
	}
	newObs := s.observe(s.sets[0])
	p, err := PlanRollingUpdate(s.replicas, s.b, newObs, old)
	if err != nil {
		s.t.Fatal(err)
	}
	changed := p.Changes(newObs, old)
	s.sets[0].spec = p.NewReplicas
	for i, r := range s.sets[1:] {
		r.spec = p.OldReplicas[i]
	}
	for _, r := range s.sets {
		s.reconcileRS(r)
		s.check(minAvail, "after "+r.name)
	}
	return changed
}

func (s *sim) reconcileRS(r *simRS) {
	// Deletions are immediate, unavailable Pods first.
	if int32(len(r.pods)) > r.spec {
		slices.SortStableFunc(r.pods, func(a, b int) int { return rank(a, s.step) - rank(b, s.step) })
		r.pods = r.pods[len(r.pods)-int(r.spec):]
	}
	// Creations sometimes lag a step.
	for int32(len(r.pods)) < r.spec && s.rng.IntN(4) != 0 {
		at := -1
		if !r.bad {
			at = s.step + 1 + s.rng.IntN(3)
		}
		r.pods = append(r.pods, at)
	}
}

// rank is 0 for an unavailable Pod and 1 for an available one: sorted by
// rank, the tail that is kept holds the available Pods.
func rank(at, step int) int {
	if at >= 0 && step >= at {
		return 1
	}
	return 0
}

func countOrPercent(s string) *api.IntOrString {
	if n, err := strconv.Atoi(s); err == nil {
		return ioi(int32(n))
	}
	return ios(s)
}

func newSim(t *testing.T, seed uint64, replicas int32, b Bounds) *sim {
	s := &sim{t: t, rng: rand.New(rand.NewPCG(seed, 1)), replicas: replicas, b: b}
	v1 := &simRS{name: "v1", created: t0, spec: replicas}
	for range replicas {
		v1.pods = append(v1.pods, 0)
	}
	s.sets = []*simRS{v1}
	return s
}

// rollTo starts a rollout to a new version and returns its ReplicaSet.
func (s *sim) rollTo(name string, bad bool) *simRS {
	r := &simRS{name: name, created: t0.Add(time.Duration(len(s.sets)) * time.Hour), bad: bad}
	s.sets = append([]*simRS{r}, s.sets...)
	return r
}

// rollBackTo makes an existing ReplicaSet the new one again.
func (s *sim) rollBackTo(r *simRS) {
	i := slices.Index(s.sets, r)
	s.sets = append([]*simRS{r}, slices.Delete(s.sets, i, i+1)...)
}

func (s *sim) complete() bool {
	n := s.sets[0]
	if n.spec != s.replicas || int32(len(n.pods)) != s.replicas || n.available(s.step) != s.replicas {
		return false
	}
	for _, r := range s.sets[1:] {
		if r.spec != 0 || len(r.pods) != 0 {
			return false
		}
	}
	return true
}

func TestSimulatedRollingUpdate(t *testing.T) {
	configs := []struct {
		replicas       int32
		surge, unavail string
	}{
		{10, "25%", "25%"},
		{10, "0%", "10%"},
		{10, "30%", "0%"},
		{10, "100%", "100%"},
		{7, "1", "3"}, // plain numbers are counts
		{5, "0", "1"},
		{1, "25%", "25%"},
	}
	for _, c := range configs {
		for seed := uint64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("%d-%s-%s-seed%d", c.replicas, c.surge, c.unavail, seed), func(t *testing.T) {
				b, err := Resolve(countOrPercent(c.surge), countOrPercent(c.unavail), c.replicas)
				if err != nil {
					t.Fatal(err)
				}
				s := newSim(t, seed, c.replicas, b)
				s.rollTo("v2", false)
				for !s.complete() {
					if s.step > 200 {
						t.Fatalf("good rollout did not complete in 200 steps")
					}
					s.run()
				}
				// And a second rollout on top, with two old sets.
				s.rollTo("v3", false)
				for !s.complete() {
					if s.step > 400 {
						t.Fatalf("second rollout did not complete")
					}
					s.run()
				}
			})
		}
	}
}

func TestSimulatedBadRolloutStallsThenRollsBack(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			b, _ := Resolve(ios("25%"), ios("25%"), 10)
			s := newSim(t, seed, 10, b)
			v1 := s.sets[0]
			bad := s.rollTo("v2", true)
			// Run until the plan stops changing anything, and then some.
			quiet := 0
			for quiet < 10 {
				if s.step > 200 {
					t.Fatal("bad rollout never settled")
				}
				if s.run() {
					quiet = 0
				} else {
					quiet++
				}
			}
			pods, avail := s.totals()
			if avail != v1.available(s.step) || avail < 10-b.MaxUnavailable {
				t.Fatalf("stalled with %d available (old %d); want old Pods serving >= %d", avail, v1.available(s.step), 10-b.MaxUnavailable)
			}
			if pods != 10+b.MaxSurge || bad.spec != 5 || v1.spec != 8 {
				t.Fatalf("stalled at %d Pods, new %d, old %d; want 13, 5, 8", pods, bad.spec, v1.spec)
			}
			// Rollback: the old ReplicaSet is the new one again; the bad
			// Pods are cleaned up and availability never dips.
			s.rollBackTo(v1)
			for !s.complete() {
				if s.step > 400 {
					t.Fatal("rollback did not complete")
				}
				s.run()
			}
		})
	}
}

// A bad version on top of an old version that is partly broken itself:
// the broken old Pods are cleaned up, the available ones are kept.
func TestSimulatedBrokenOldVersion(t *testing.T) {
	b, _ := Resolve(ios("25%"), ios("25%"), 10)
	s := newSim(t, 1, 10, b)
	v1 := s.sets[0]
	for i := range 2 {
		v1.pods[i] = -1 // two old Pods never became available: 8 available
	}
	s.rollTo("v2", true)
	for range 30 {
		s.run()
	}
	if got := v1.available(s.step); got != 8 {
		t.Fatalf("old available %d, want 8 (unhealthy old Pods removed, healthy kept)", got)
	}
	for _, at := range v1.pods {
		if at < 0 {
			t.Fatalf("unavailable old Pod kept: %v", v1.pods)
		}
	}
}
