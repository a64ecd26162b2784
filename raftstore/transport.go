package raftstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// One listening port carries several protocols: the first byte of every
// connection (inside TLS, when TLS is on) says which: Raft's own
// transport, our forwarding RPC, or one of Config.Services.
const (
	muxRaft byte = 'R'
	muxRPC  byte = 'F'
)

// The accepting side answers the protocol byte with one of these, so that
// the dialing side learns why it was refused rather than seeing a closed
// connection. It does so with TLS, and for services without it; Raft and
// forwarding over plaintext get no answer, as in versions before TLS, so
// that nodes of both versions still talk.
const (
	ackOK              byte = 0
	ackNoCertificate   byte = 1
	ackNotAuthorized   byte = 2
	ackUnknownProtocol byte = 3
)

func ackText(code byte) string {
	switch code {
	case ackNoCertificate:
		return "no verified client certificate"
	case ackNotAuthorized:
		return "certificate not authorized"
	case ackUnknownProtocol:
		return "unknown protocol"
	}
	return fmt.Sprintf("refusal code %d", code)
}

func isPeerProto(proto byte) bool { return proto == muxRaft || proto == muxRPC }

// dialer opens a connection from this node to addr.
type dialer func(ctx context.Context, addr string) (net.Conn, error)

// muxConfig is what a mux takes from the Store.
type muxConfig struct {
	ln              net.Listener
	advertise       net.Addr
	dial            dialer
	tls             *peerTLS // nil: plaintext
	authorize       func(tls.ConnectionState) error
	services        map[byte]func(context.Context, net.Conn)
	maxConns        int
	maxConnsPerHost int
	handshake       time.Duration
	log             *zap.Logger
	metrics         *connMetrics
}

// mux accepts connections on one listener and routes them by their first
// byte. It owns every goroutine it starts.
type mux struct {
	muxConfig
	rpc    func(net.Conn)  // serves one forwarding connection until it closes
	ctx    context.Context // given to services; ends at Shutdown
	cancel context.CancelFunc
	warn   *warnLimiter

	raftCh    chan net.Conn
	handed    sync.WaitGroup // connections given to Raft and not yet closed by it
	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup

	mu      sync.Mutex
	conns   map[*inConn]struct{} // accepted conns, closed on shutdown
	perHost map[string]int       // len(conns) by remote IP
}

// inConn is one accepted connection, counted against the limits until
// released.
type inConn struct {
	raw  net.Conn // as accepted: closing it ends any TLS layered on it
	host string   // remote IP
}

// newMux returns a mux whose services' context derives from ctx.
func newMux(ctx context.Context, cfg muxConfig) *mux {
	m := &mux{muxConfig: cfg, warn: newWarnLimiter(time.Second),
		raftCh: make(chan net.Conn), closed: make(chan struct{}),
		conns: map[*inConn]struct{}{}, perHost: map[string]int{}}
	m.ctx, m.cancel = context.WithCancel(ctx)
	return m
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
			if m.isClosed() || errors.Is(err, net.ErrClosed) {
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
		ic, reason, open := m.admit(c)
		if !open {
			c.Close()
			return
		}
		if ic == nil {
			// Over a limit: no handshake, no goroutine, nothing read.
			m.refuse(reason, c.RemoteAddr(), nil)
			c.Close()
			continue
		}
		m.wg.Add(1)
		go m.route(ic)
	}
}

func (m *mux) isClosed() bool {
	select {
	case <-m.closed:
		return true
	default:
		return false
	}
}

// admit counts c against the limits. It returns the connection to serve,
// or the limit it is over; open is false once the mux is closed.
func (m *mux) admit(c net.Conn) (ic *inConn, reason string, open bool) {
	host := remoteHost(c.RemoteAddr())
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.isClosed():
		return nil, "", false
	case len(m.conns) >= m.maxConns:
		return nil, rejectMaxConns, true
	case m.perHost[host] >= m.maxConnsPerHost:
		return nil, rejectMaxConnsPerHost, true
	}
	ic = &inConn{raw: c, host: host}
	m.conns[ic] = struct{}{}
	m.perHost[host]++
	m.metrics.open.Set(float64(len(m.conns)))
	return ic, "", true
}

// release stops counting ic; it may be called more than once.
func (m *mux) release(ic *inConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.conns[ic]; !ok {
		return
	}
	delete(m.conns, ic)
	if m.perHost[ic.host]--; m.perHost[ic.host] <= 0 {
		delete(m.perHost, ic.host)
	}
	m.metrics.open.Set(float64(len(m.conns)))
}

// hostConns is how many accepted connections from host are held.
func (m *mux) hostConns(host string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.perHost[host]
}

func remoteHost(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return host
	}
	return a.String()
}

// refuse counts a refused connection and logs it at Warn, at most once a
// second per reason (with how many it held back). Callers close the
// connection after, so whoever sees it closed finds it counted.
func (m *mux) refuse(reason string, remote net.Addr, err error) {
	m.metrics.rejected.WithLabelValues(reason).Inc()
	suppressed, ok := m.warn.allow(reason, time.Now())
	if !ok {
		return
	}
	fields := []zap.Field{zap.String("reason", reason), zap.Stringer("remote", remote)}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	if suppressed > 0 {
		fields = append(fields, zap.Int("suppressed", suppressed))
	}
	msg := "connection refused"
	if reason == rejectPeerNotAuthorized {
		msg = "refused to connect to peer"
	}
	m.log.Warn(msg, fields...)
}

// route opens an accepted connection and hands it to its protocol.
func (m *mux) route(ic *inConn) {
	defer m.wg.Done()
	conn, proto, err := m.open(ic)
	if err != nil {
		if !m.isClosed() {
			reason := rejectHandshakeFailed
			if errors.Is(err, os.ErrDeadlineExceeded) {
				reason = rejectHandshakeTimeout
			}
			m.refuse(reason, ic.raw.RemoteAddr(), err)
		}
		ic.raw.Close()
		m.release(ic)
		return
	}
	service := m.services[proto]
	switch {
	case isPeerProto(proto) && m.tls != nil:
		if code, reason, err := m.checkPeer(conn.(*tls.Conn)); err != nil {
			m.reject(ic, conn, code, reason, err)
			return
		}
	case service == nil && !isPeerProto(proto):
		m.reject(ic, conn, ackUnknownProtocol, rejectUnknownProtocol, fmt.Errorf("protocol byte %q", proto))
		return
	}
	if m.tls != nil || !isPeerProto(proto) {
		if _, err := conn.Write([]byte{ackOK}); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// AuthorizePeer took most of HandshakeTimeout.
				m.refuse(rejectHandshakeTimeout, ic.raw.RemoteAddr(), fmt.Errorf("answering the protocol byte: %w", err))
			} else {
				m.log.Debug("connection closed before it was accepted", zap.Stringer("remote", ic.raw.RemoteAddr()), zap.Error(err))
			}
			ic.raw.Close()
			m.release(ic)
			return
		}
	}
	_ = conn.SetDeadline(time.Time{})
	switch proto {
	case muxRaft:
		// Raft's transport owns the connection from here on, but it does not
		// close accepted connections when it stops, so the mux still does.
		rc := &raftConn{Conn: conn, m: m, ic: ic}
		m.handed.Add(1)
		select {
		case m.raftCh <- rc:
		case <-m.closed:
			rc.Close()
		}
	case muxRPC:
		m.rpc(conn)
		conn.Close()
		m.release(ic)
	default:
		service(m.ctx, conn)
		conn.Close()
		m.release(ic)
	}
}

// open runs the TLS handshake, if any, and reads the protocol byte, both
// within HandshakeTimeout; the deadline stays set for the answer.
func (m *mux) open(ic *inConn) (net.Conn, byte, error) {
	_ = ic.raw.SetDeadline(time.Now().Add(m.handshake))
	conn := ic.raw
	if m.tls != nil {
		tc := tls.Server(ic.raw, m.tls.server)
		if err := tc.Handshake(); err != nil {
			return nil, 0, fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return nil, 0, fmt.Errorf("reading the protocol byte: %w", err)
	}
	return conn, b[0], nil
}

// checkPeer says whether the client of a Raft or forwarding connection
// may use it, and if not, with what answer and reason.
func (m *mux) checkPeer(tc *tls.Conn) (code byte, reason string, err error) {
	cs := tc.ConnectionState()
	if err := verifiedPeer(cs); err != nil {
		return ackNoCertificate, rejectNoCertificate, err
	}
	if m.authorize != nil {
		if err := m.authorize(cs); err != nil {
			return ackNotAuthorized, rejectNotAuthorized, fmt.Errorf("AuthorizePeer refused %q: %w", cs.PeerCertificates[0].Subject.String(), err)
		}
	}
	return ackOK, "", nil
}

// reject answers the protocol byte with a refusal (still within the
// handshake deadline) and closes the connection before reading anything
// more.
func (m *mux) reject(ic *inConn, conn net.Conn, code byte, reason string, err error) {
	_, _ = conn.Write([]byte{code})
	m.refuse(reason, ic.raw.RemoteAddr(), err)
	ic.raw.Close()
	m.release(ic)
}

// raftConn is a connection given to Raft: it stops counting against the
// limits when Raft closes it.
type raftConn struct {
	net.Conn
	m    *mux
	ic   *inConn
	once sync.Once
}

func (c *raftConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.m.release(c.ic)
		c.m.handed.Done()
	})
	return err
}

// dialProto connects to addr and announces the protocol: TLS first if
// configured, AuthorizePeer for Raft and forwarding, then the protocol
// byte and, where the other side answers it, its answer. ctx bounds it
// all.
//
// Errors: the dial's; the TLS handshake's (the peer's certificate did not
// verify); ErrRefused if the peer refused the connection, and why when it
// said so (this node's certificate, its AuthorizePeer, an unknown
// protocol) or closed it; an error wrapping AuthorizePeer's if this node
// refused the peer.
func (m *mux) dialProto(ctx context.Context, addr string, proto byte) (net.Conn, error) {
	raw, err := m.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	conn, err := m.announce(ctx, raw, addr, proto)
	if err != nil {
		raw.Close()
		// The connection's deadline is ctx's: say so in the error's terms.
		switch {
		case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		case errors.Is(err, os.ErrDeadlineExceeded):
			err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
		}
		return nil, err
	}
	return conn, nil
}

func (m *mux) announce(ctx context.Context, raw net.Conn, addr string, proto byte) (net.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	conn := raw
	if m.tls != nil {
		tc := tls.Client(raw, m.tls.clientFor(addr))
		if err := tc.HandshakeContext(ctx); err != nil {
			if refusedByPeer(err) {
				return nil, fmt.Errorf("%w: %s, in the TLS handshake: %v", ErrRefused, addr, err)
			}
			return nil, fmt.Errorf("raftstore: TLS handshake with %s: %w", addr, err)
		}
		if isPeerProto(proto) && m.authorize != nil {
			if err := m.authorize(tc.ConnectionState()); err != nil {
				err = fmt.Errorf("raftstore: peer %s not authorized: %w", addr, err)
				m.refuse(rejectPeerNotAuthorized, raw.RemoteAddr(), err)
				return nil, err
			}
		}
		conn = tc
	}
	// In TLS 1.3 the server checks the client's certificate after the
	// client's handshake is done: a refusal shows up in the answer, as an
	// alert. Raft and forwarding in plaintext get no answer.
	if err := selectProto(conn, addr, proto, m.tls != nil || !isPeerProto(proto)); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

// selectProto writes the protocol byte and, if answered, reads the node's
// answer.
func selectProto(conn net.Conn, addr string, proto byte, answered bool) error {
	if _, err := conn.Write([]byte{proto}); err != nil {
		return fmt.Errorf("raftstore: connect to %s: %w", addr, err)
	}
	if !answered {
		return nil
	}
	var ack [1]byte
	if _, err := io.ReadFull(conn, ack[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("raftstore: connect to %s: no answer: %w", addr, err)
		}
		return fmt.Errorf("%w: %s: %v", ErrRefused, addr, err)
	}
	if ack[0] != ackOK {
		return fmt.Errorf("%w: %s: %s", ErrRefused, addr, ackText(ack[0]))
	}
	return nil
}

// refusedByPeer reports whether a TLS handshake failed on the peer's side:
// it sent an alert, or closed the connection (over its limits, stopping).
// Other errors are this node's (the peer's certificate did not verify) or
// the network's.
func refusedByPeer(err error) bool {
	var op *net.OpError
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		(errors.As(err, &op) && op.Op == "remote error")
}

// close stops accepting, ends the services' context, closes every accepted
// connection and waits for the goroutines.
func (m *mux) close() {
	m.closeOnce.Do(func() {
		m.cancel()
		m.mu.Lock()
		close(m.closed)
		for ic := range m.conns {
			ic.raw.Close()
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
