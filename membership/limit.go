package membership

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/memberlist"
	"go.uber.org/zap"
)

// limitingTransport caps the inbound streams (TCP connections: push/pull
// syncs, TCP pings, joins) memberlist serves at once, in total and per
// remote host; a stream over a cap is closed at once, before memberlist
// reads a byte. memberlist itself bounds each stream's life with its TCP
// timeout and refuses payloads that do not decrypt with the keyring, so
// with the caps an outsider can neither exhaust the node's connections nor
// its goroutines.
type limitingTransport struct {
	memberlist.NodeAwareTransport
	max, perHost int
	log          *zap.Logger

	out      chan net.Conn
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	rejected atomic.Uint64

	mu     sync.Mutex
	open   int
	byHost map[string]int
}

func newLimitingTransport(inner memberlist.NodeAwareTransport, maxStreams, perHost int, log *zap.Logger) *limitingTransport {
	t := &limitingTransport{NodeAwareTransport: inner, max: maxStreams, perHost: perHost, log: log,
		out: make(chan net.Conn), stop: make(chan struct{}), done: make(chan struct{}), byHost: map[string]int{}}
	go t.run()
	return t
}

// StreamCh delivers the admitted streams.
func (t *limitingTransport) StreamCh() <-chan net.Conn { return t.out }

func (t *limitingTransport) run() {
	defer close(t.done)
	in := t.NodeAwareTransport.StreamCh()
	for {
		select {
		case c := <-in:
			admitted, ok := t.admit(c)
			if !ok {
				continue
			}
			select {
			case t.out <- admitted:
			case <-t.stop:
				admitted.Close()
				return
			}
		case <-t.stop:
			return
		}
	}
}

// admit counts c against the caps and wraps it so that closing it frees
// its place; over a cap it closes c and reports false.
func (t *limitingTransport) admit(c net.Conn) (net.Conn, bool) {
	host := c.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	t.mu.Lock()
	over := t.open >= t.max || t.byHost[host] >= t.perHost
	if !over {
		t.open++
		t.byHost[host]++
	}
	t.mu.Unlock()
	if over {
		if t.rejected.Add(1)&(t.rejected.Load()-1) == 0 { // log the 1st, 2nd, 4th, 8th, ...
			t.log.Warn("gossip stream refused: too many open streams", zap.String("remote", c.RemoteAddr().String()),
				zap.Int("max", t.max), zap.Int("maxPerHost", t.perHost), zap.Uint64("refused", t.rejected.Load()))
		}
		c.Close()
		return nil, false
	}
	return &limitedConn{Conn: c, release: func() {
		t.mu.Lock()
		t.open--
		if t.byHost[host]--; t.byHost[host] <= 0 {
			delete(t.byHost, host)
		}
		t.mu.Unlock()
	}}, true
}

// Shutdown stops the inner transport and the admission loop.
func (t *limitingTransport) Shutdown() error {
	err := t.NodeAwareTransport.Shutdown()
	t.stopOnce.Do(func() { close(t.stop) })
	<-t.done
	return err
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
