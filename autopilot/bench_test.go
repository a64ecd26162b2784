package autopilot

import (
	"testing"
	"time"
)

// Benchmarks for BENCHMARKS.md, on real loopback sockets (raftstore
// FastConfig, membership FastConfig, autopilot FastConfig). Each iteration
// builds a new cluster; run with a small count:
//
//	go test ./autopilot -run '^$' -bench . -benchtime 5x

func benchEnv(b *testing.B) *env {
	e := newEnv(b, true)
	e.apCfg = FastConfig()
	e.apCfg.BootstrapExpect = 3
	e.apCfg.MaxVoters = 5
	return e
}

// BenchmarkBootstrap3: three servers with BootstrapExpect 3 started
// together (s2 and s3 join through s1); reports the time from the last
// start returning until a leader with all three voters exists.
func BenchmarkBootstrap3(b *testing.B) {
	var total, worst time.Duration
	for range b.N {
		e := benchEnv(b)
		s1 := e.start("s1")
		more := e.startAll(map[string][]string{"s2": {s1.ml.Addr()}, "s3": {s1.ml.Addr()}})
		started := time.Now()
		servers := map[string]*testServer{"s1": s1, "s2": more["s2"], "s3": more["s3"]}
		eventually(b, 30*time.Second, "leader", votersAre(servers, "s1", "s2", "s3"))
		d := time.Since(started)
		total += d
		worst = max(worst, d)
		for _, s := range servers {
			s.stop(false)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/leader-after-last-start")
	b.ReportMetric(worst.Seconds(), "s/worst")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkJoinAsVoter: a fourth server joins a running three-server
// cluster; reports the time from its start returning until it is a voter.
func BenchmarkJoinAsVoter(b *testing.B) {
	var total, worst time.Duration
	for range b.N {
		e := benchEnv(b)
		s1 := e.start("s1")
		more := e.startAll(map[string][]string{"s2": {s1.ml.Addr()}, "s3": {s1.ml.Addr()}})
		servers := map[string]*testServer{"s1": s1, "s2": more["s2"], "s3": more["s3"]}
		eventually(b, 30*time.Second, "leader", votersAre(servers, "s1", "s2", "s3"))
		servers["s4"] = e.start("s4", s1.ml.Addr())
		started := time.Now()
		eventually(b, 30*time.Second, "s4 voter", votersAre(servers, "s1", "s2", "s3", "s4"))
		d := time.Since(started)
		total += d
		worst = max(worst, d)
		for _, s := range servers {
			s.stop(false)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/to-voter")
	b.ReportMetric(worst.Seconds(), "s/worst")
	b.ReportMetric(0, "ns/op")
}
