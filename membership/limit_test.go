package membership

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// Thousands of idle TCP connections to the gossip port (an attacker with
// no key): at most MaxStreamsPerHost are held, the rest are closed at once,
// memberlist closes the held ones after its TCP timeout, and gossip keeps
// working throughout — a new member joins while they are open.
func TestIdleStreamFlood(t *testing.T) {
	mk := func(name string) Config {
		cfg := FastConfig()
		cfg.NodeName, cfg.BindAddr, cfg.BindPort = name, "127.0.0.1", 0
		cfg.GossipKeys = [][]byte{make([]byte, 32)}
		cfg.MaxStreams, cfg.MaxStreamsPerHost = 64, 8
		cfg.Timing.TCPTimeout = time.Second
		cfg.Logger = testLogger(t).Named(name)
		return cfg
	}
	a := startNode(t, mk("a"))
	const flood = 2000
	conns := make([]net.Conn, 0, flood)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range flood {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	// Count the connections the node still holds: a read on a closed one
	// ends at once with EOF or a reset, on a held one it times out.
	held := func() int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		n := 0
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				_, err := c.Read(make([]byte, 1))
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					mu.Lock()
					n++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return n
	}
	if n := held(); n > 8 {
		t.Fatalf("the node holds %d idle connections from one host, cap 8", n)
	}
	cfg := mk("b")
	cfg.Join = []string{a.Addr()}
	b := startNode(t, cfg)
	waitFor(t, 10*time.Second, "a and b see each other", func() bool { return len(a.Members()) == 2 && len(b.Members()) == 2 })
	waitFor(t, 5*time.Second, "the held connections closed by the TCP timeout", func() bool { return held() == 0 })
	if r := a.limiter.rejected.Load(); r < flood-8 {
		t.Fatalf("refused %d streams, want at least %d", r, flood-8)
	}
}
