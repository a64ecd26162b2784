package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// One listening port carries two protocols: the first byte of every
// connection says which (Raft's own transport, or our forwarding RPC).
const (
	muxRaft byte = 'R'
	muxRPC  byte = 'F'
)

// dialer opens a connection from this node to addr.
type dialer func(ctx context.Context, addr string) (net.Conn, error)

// mux accepts connections on one listener and routes them by their first
// byte. It owns every goroutine it starts.
type mux struct {
	ln        net.Listener
	advertise net.Addr
	dial      dialer
	log       *zap.Logger
	rpc       func(net.Conn) // serves one forwarding connection until it closes

	raftCh    chan net.Conn
	handed    sync.WaitGroup // connections given to Raft and not yet closed by it
	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // accepted conns, closed on shutdown
}

func newMux(ln net.Listener, advertise net.Addr, dial dialer, log *zap.Logger) *mux {
	return &mux{ln: ln, advertise: advertise, dial: dial, log: log,
		raftCh: make(chan net.Conn), closed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
}

func (m *mux) start(rpc func(net.Conn)) {
	m.rpc = rpc
	m.wg.Add(1)
	go m.acceptLoop()
}

func (m *mux) acceptLoop() {
	defer m.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			m.log.Warn("accept failed", zap.Error(err))
			select {
			case <-time.After(backoff):
			case <-m.closed:
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if !m.track(c) {
			c.Close()
			return
		}
		m.wg.Add(1)
		go m.route(c)
	}
}

func (m *mux) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.closed:
		return false
	default:
	}
	m.conns[c] = struct{}{}
	return true
}

func (m *mux) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
}

func (m *mux) route(c net.Conn) {
	defer m.wg.Done()
	var b [1]byte
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, b[:]); err != nil {
		m.untrack(c)
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	switch b[0] {
	case muxRaft:
		// Raft's transport owns the connection from here on, but it does not
		// close accepted connections when it stops, so the mux still does.
		tc := &trackedConn{Conn: c, m: m}
		m.handed.Add(1)
		select {
		case m.raftCh <- tc:
		case <-m.closed:
			tc.Close()
		}
	case muxRPC:
		m.rpc(c)
		m.untrack(c)
		c.Close()
	default:
		m.log.Warn("dropping connection with unknown protocol byte", zap.Uint8("byte", b[0]), zap.Stringer("remote", c.RemoteAddr()))
		m.untrack(c)
		c.Close()
	}
}

// trackedConn leaves the mux's set of open connections when closed.
type trackedConn struct {
	net.Conn
	m    *mux
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.m.untrack(c.Conn)
		c.m.handed.Done()
	})
	return err
}

// dialProto connects to addr and announces the protocol.
func (m *mux) dialProto(ctx context.Context, addr string, proto byte) (net.Conn, error) {
	c, err := m.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetWriteDeadline(dl)
	}
	if _, err := c.Write([]byte{proto}); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}

// close stops accepting, closes every accepted RPC connection and waits for
// the goroutines.
func (m *mux) close() {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		close(m.closed)
		for c := range m.conns {
			c.Close()
		}
		m.mu.Unlock()
		m.ln.Close()
	})
	m.wg.Wait()
	// Raft's connection handlers close their connection as they exit; wait
	// for that so none of them outlives the Store (or logs after it).
	m.handed.Wait()
}

// raftLayer adapts the mux to raft.StreamLayer.
type raftLayer struct{ m *mux }

func (l raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.m.raftCh:
		return c, nil
	case <-l.m.closed:
		return nil, net.ErrClosed
	}
}

// Close is a no-op: the Store closes the mux itself after Raft has stopped.
func (l raftLayer) Close() error { return nil }

func (l raftLayer) Addr() net.Addr { return l.m.advertise }

func (l raftLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.m.dialProto(ctx, string(addr), muxRaft)
}

func tcpDialer(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return c, nil
}

// InmemNetwork connects Stores in one process without sockets. Links can be
// cut and healed to test partitions: cutting closes the connections that
// cross the cut and refuses new ones until healed. Connections are
// synchronous pipes (net.Pipe); the network models no latency or loss.
type InmemNetwork struct {
	mu        sync.Mutex
	listeners map[string]*inmemListener
	cut       map[[2]string]bool
	isolated  map[string]bool
	conns     map[*inmemConn]struct{}
}

// NewInmemNetwork returns an empty in-memory network.
func NewInmemNetwork() *InmemNetwork {
	return &InmemNetwork{listeners: map[string]*inmemListener{}, cut: map[[2]string]bool{},
		isolated: map[string]bool{}, conns: map[*inmemConn]struct{}{}}
}

type inmemAddr string

func (a inmemAddr) Network() string { return "inmem" }
func (a inmemAddr) String() string  { return string(a) }

type inmemConn struct {
	net.Conn
	from, to string
	n        *InmemNetwork
}

func (c *inmemConn) Close() error {
	c.n.mu.Lock()
	delete(c.n.conns, c)
	c.n.mu.Unlock()
	return c.Conn.Close()
}

func (c *inmemConn) LocalAddr() net.Addr  { return inmemAddr(c.from) }
func (c *inmemConn) RemoteAddr() net.Addr { return inmemAddr(c.to) }

type inmemListener struct {
	n      *InmemNetwork
	addr   string
	ch     chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func (l *inmemListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *inmemListener) Close() error {
	l.once.Do(func() {
		l.n.mu.Lock()
		if l.n.listeners[l.addr] == l {
			delete(l.n.listeners, l.addr)
		}
		l.n.mu.Unlock()
		close(l.closed)
	})
	return nil
}

func (l *inmemListener) Addr() net.Addr { return inmemAddr(l.addr) }

func (n *InmemNetwork) listen(addr string) (net.Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.listeners[addr]; ok {
		return nil, fmt.Errorf("raftstore: in-memory address %q already in use", addr)
	}
	l := &inmemListener{n: n, addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
	n.listeners[addr] = l
	return l, nil
}

func (n *InmemNetwork) linkedLocked(a, b string) bool {
	return !n.isolated[a] && !n.isolated[b] && !n.cut[[2]string{a, b}]
}

func (n *InmemNetwork) dialer(from string) dialer {
	return func(ctx context.Context, to string) (net.Conn, error) {
		n.mu.Lock()
		l, ok := n.listeners[to]
		linked := n.linkedLocked(from, to)
		n.mu.Unlock()
		if !ok || !linked {
			return nil, &net.OpError{Op: "dial", Net: "inmem", Addr: inmemAddr(to), Err: errors.New("connection refused")}
		}
		a, b := net.Pipe()
		ca := &inmemConn{Conn: a, from: from, to: to, n: n}
		cb := &inmemConn{Conn: b, from: to, to: from, n: n}
		n.mu.Lock()
		n.conns[ca], n.conns[cb] = struct{}{}, struct{}{}
		n.mu.Unlock()
		select {
		case l.ch <- cb:
			return ca, nil
		case <-l.closed:
		case <-ctx.Done():
		}
		ca.Close()
		cb.Close()
		return nil, &net.OpError{Op: "dial", Net: "inmem", Addr: inmemAddr(to), Err: errors.New("connection refused")}
	}
}

// closeCrossingLocked returns the connections that no longer have a link.
func (n *InmemNetwork) crossingLocked() []*inmemConn {
	var out []*inmemConn
	for c := range n.conns {
		if !n.linkedLocked(c.from, c.to) {
			out = append(out, c)
		}
	}
	return out
}

func (n *InmemNetwork) apply(change func()) {
	n.mu.Lock()
	change()
	doomed := n.crossingLocked()
	n.mu.Unlock()
	for _, c := range doomed {
		c.Close()
	}
}

// Disconnect cuts the link between nodes a and b (by address) in both
// directions.
func (n *InmemNetwork) Disconnect(a, b string) {
	n.apply(func() { n.cut[[2]string{a, b}], n.cut[[2]string{b, a}] = true, true })
}

// Isolate cuts node a off from every other node.
func (n *InmemNetwork) Isolate(a string) { n.apply(func() { n.isolated[a] = true }) }

// Heal restores every link.
func (n *InmemNetwork) Heal() {
	n.apply(func() {
		clear(n.cut)
		clear(n.isolated)
	})
}
