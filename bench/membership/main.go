// Command membership runs an idle gossip cluster and reports false failures:
// members declared failed (or suspected) although none was stopped.
//
//	go run ./bench/membership -n 20 -duration 2m -timing fast
//
// It exits 1 if any member was reported failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func main() {
	n := flag.Int("n", 20, "number of members")
	duration := flag.Duration("duration", 2*time.Minute, "how long to stay idle after convergence")
	timing := flag.String("timing", "fast", "timing profile: fast or lan")
	inmem := flag.Bool("inmem", false, "use the in-memory network instead of loopback UDP/TCP")
	flag.Parse()
	if err := run(*n, *duration, *timing, *inmem); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// counter is a zap core that counts memberlist's suspicion-related lines.
type counter struct {
	zapcore.LevelEnabler
	suspect, refute atomic.Int64
}

func (c *counter) With([]zapcore.Field) zapcore.Core { return c }
func (c *counter) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (c *counter) Write(e zapcore.Entry, _ []zapcore.Field) error {
	switch {
	case strings.Contains(e.Message, "Refuting a suspect"):
		c.refute.Add(1)
	case strings.Contains(e.Message, "Marking") && strings.Contains(e.Message, "as failed"):
		c.suspect.Add(1)
	}
	return nil
}
func (c *counter) Sync() error { return nil }

func run(n int, duration time.Duration, timing string, inmem bool) error {
	var t membership.Timing
	switch timing {
	case "fast":
		t = membership.FastTiming()
	case "lan":
		t = membership.LANTiming()
	default:
		return fmt.Errorf("-timing %q: want fast or lan", timing)
	}
	if n < 2 {
		return fmt.Errorf("-n %d: want at least 2", n)
	}
	cnt := &counter{LevelEnabler: zapcore.InfoLevel}
	logger := zap.New(cnt)
	var network *membership.InmemNetwork
	if inmem {
		network = membership.NewInmemNetwork()
	}
	nodes := make([]*membership.Membership, n)
	defer func() {
		for _, m := range nodes {
			if m != nil {
				_ = m.Shutdown()
			}
		}
	}()
	for i := range n {
		cfg := membership.DefaultConfig()
		cfg.Timing = t
		cfg.NodeName = fmt.Sprintf("idle-%02d", i)
		cfg.BindAddr = "127.0.0.1"
		cfg.BindPort = 0
		cfg.Network = network
		cfg.Logger = logger
		cfg.Record = membership.Record{Role: membership.RoleServer, RPCAddr: fmt.Sprintf("127.0.0.1:%d", 7000+i),
			Labels: map[string]string{"zone": "idle"}}
		if i > 0 {
			cfg.Join = []string{nodes[0].Addr()}
		}
		m, err := membership.New(cfg)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = m.Start(ctx)
		cancel()
		if err != nil {
			return err
		}
		nodes[i] = m
	}
	start := time.Now()
	for !converged(nodes) {
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("no convergence after 2m")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("%d members converged in %v (timing %s, inmem %v); idling for %v\n", n, time.Since(start).Round(time.Millisecond), timing, inmem, duration)

	// Count failure events seen by any member during the idle period.
	var failed, left atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	for _, m := range nodes {
		for len(m.Events()) > 0 {
			<-m.Events()
		}
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-m.Events():
					switch ev.Type {
					case membership.EventFailed:
						failed.Add(1)
						fmt.Printf("%s  %s reports %s failed\n", time.Now().Format(time.TimeOnly), m.LocalNode().Name, ev.Member.Name)
					case membership.EventLeave:
						left.Add(1)
					}
				}
			}
		})
	}
	sus0, ref0 := cnt.suspect.Load(), cnt.refute.Load()
	var maxHealth int
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			for _, m := range nodes {
				if h, err := m.HealthScore(); err == nil && h > maxHealth {
					maxHealth = h
				}
			}
		}
	}
	wg.Wait()
	var bytes uint64
	for _, m := range nodes {
		tr := m.Traffic()
		bytes += tr.PacketBytesSent + tr.StreamBytes
	}
	fmt.Printf("idle %v: failed events %d, leave events %d, suspicion timeouts logged %d, refuted suspicions %d, max health score %d\n",
		duration, failed.Load(), left.Load(), cnt.suspect.Load()-sus0, cnt.refute.Load()-ref0, maxHealth)
	fmt.Printf("traffic since start: %.0f B/member/s\n", float64(bytes)/float64(n)/time.Since(start).Seconds())
	if failed.Load() > 0 {
		return fmt.Errorf("%d false failure reports", failed.Load())
	}
	return nil
}

func converged(nodes []*membership.Membership) bool {
	for _, m := range nodes {
		alive := 0
		for _, mem := range m.Members() {
			if mem.Status == membership.StatusAlive {
				alive++
			}
		}
		if alive != len(nodes) {
			return false
		}
	}
	return true
}
