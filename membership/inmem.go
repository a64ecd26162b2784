package membership

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// InmemNetwork is an in-process network for memberlist: every Membership
// created with Config.Network set to the same InmemNetwork talks to the others
// through channels and net.Pipe streams instead of sockets, so a test can run
// a 50-node cluster without ports. Addresses look like "127.0.0.1:<port>" with
// ports counting up from 10000 (or Config.BindPort when set).
//
// Packets behave like UDP: they are dropped when the receiver is gone,
// isolated or its 4096-packet queue is full. Streams behave like TCP: a dial
// to a missing or isolated node fails with "connection refused".
//
// Fault injection: Isolate cuts a node off from everyone (both directions)
// until Heal. What it does not model: latency, reordering, partial
// partitions between two specific nodes, bandwidth limits.
//
// The zero value is not usable; call NewInmemNetwork. It is safe for
// concurrent use.
type InmemNetwork struct {
	mu       sync.Mutex
	nodes    map[string]*inmemTransport
	isolated map[string]bool
	nextPort int
}

// NewInmemNetwork returns an empty in-process network.
func NewInmemNetwork() *InmemNetwork {
	return &InmemNetwork{
		nodes:    make(map[string]*inmemTransport),
		isolated: make(map[string]bool),
		nextPort: 10000,
	}
}

// Isolate cuts the node with gossip address addr off from all others until
// Heal is called. Unknown addresses are remembered (a node started later at
// that address starts isolated).
func (n *InmemNetwork) Isolate(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.isolated[addr] = true
}

// Heal undoes Isolate for addr.
func (n *InmemNetwork) Heal(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.isolated, addr)
}

func (n *InmemNetwork) newTransport(port int) (*inmemTransport, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if port == 0 {
		for {
			port = n.nextPort
			n.nextPort++
			if _, used := n.nodes[inmemAddr(port)]; !used {
				break
			}
		}
	}
	addr := inmemAddr(port)
	if _, used := n.nodes[addr]; used {
		return nil, fmt.Errorf("membership: in-memory address %s already in use", addr)
	}
	t := &inmemTransport{
		net:      n,
		addr:     addr,
		udpAddr:  &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port},
		packetCh: make(chan *memberlist.Packet, 4096),
		streamCh: make(chan net.Conn, 128),
		closed:   make(chan struct{}),
	}
	n.nodes[addr] = t
	return t, nil
}

func inmemAddr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// route returns the live destination for a message from src to dst, or nil.
// Callers hold n.mu.
func (n *InmemNetwork) route(src, dst string) *inmemTransport {
	if n.isolated[src] || n.isolated[dst] {
		return nil
	}
	return n.nodes[dst]
}

// inmemTransport implements memberlist.NodeAwareTransport over InmemNetwork.
type inmemTransport struct {
	net      *InmemNetwork
	addr     string
	udpAddr  *net.UDPAddr
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	closed   chan struct{}
	once     sync.Once
}

var _ memberlist.NodeAwareTransport = (*inmemTransport)(nil)

func (t *inmemTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.udpAddr.IP, t.udpAddr.Port, nil
}

func (t *inmemTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	now := time.Now()
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	dst := t.net.route(t.addr, addr)
	if dst == nil {
		return now, nil // like UDP: silently lost
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: t.udpAddr, Timestamp: now}
	select {
	case dst.packetCh <- p:
	default: // receive queue full: dropped, as UDP would
	}
	return now, nil
}

func (t *inmemTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return t.WriteTo(b, a.Addr)
}

func (t *inmemTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *inmemTransport) DialTimeout(addr string, _ time.Duration) (net.Conn, error) {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	dst := t.net.route(t.addr, addr)
	if dst == nil {
		return nil, fmt.Errorf("dial inmem %s: connection refused", addr)
	}
	local, remote := net.Pipe()
	select {
	case dst.streamCh <- remote:
		return local, nil
	default:
		_ = local.Close()
		_ = remote.Close()
		return nil, fmt.Errorf("dial inmem %s: connection refused (accept backlog full)", addr)
	}
}

func (t *inmemTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}

func (t *inmemTransport) StreamCh() <-chan net.Conn { return t.streamCh }

func (t *inmemTransport) IngestPacket(conn net.Conn, addr net.Addr, now time.Time, shouldClose bool) error {
	return fmt.Errorf("membership: in-memory transport does not ingest packets")
}

func (t *inmemTransport) IngestStream(conn net.Conn) error {
	return fmt.Errorf("membership: in-memory transport does not ingest streams")
}

// Shutdown removes the node from the network and refuses streams still
// queued for it, so no dialer waits on a node that is gone.
func (t *inmemTransport) Shutdown() error {
	t.once.Do(func() {
		t.net.mu.Lock()
		defer t.net.mu.Unlock()
		if t.net.nodes[t.addr] == t {
			delete(t.net.nodes, t.addr)
		}
		close(t.closed)
		for {
			select {
			case c := <-t.streamCh:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return nil
}
