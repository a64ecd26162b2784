package membership

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Traffic counts gossip bytes of one member since Start.
type Traffic struct {
	// PacketBytesSent is the payload of all UDP (or in-memory) packets sent.
	PacketBytesSent uint64
	// PacketsSent is the number of packets sent.
	PacketsSent uint64
	// StreamBytes counts both directions of every stream (TCP) connection
	// this member opened (push/pull syncs, TCP pings, joins). Streams opened
	// by peers are counted by the peer, so summing Traffic over all members
	// counts every byte once.
	StreamBytes uint64
}

// countingTransport wraps a transport and counts what goes through it.
type countingTransport struct {
	memberlist.NodeAwareTransport
	packetBytes, packets, streamBytes atomic.Uint64
}

func (t *countingTransport) traffic() Traffic {
	return Traffic{
		PacketBytesSent: t.packetBytes.Load(),
		PacketsSent:     t.packets.Load(),
		StreamBytes:     t.streamBytes.Load(),
	}
}

func (t *countingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	t.packets.Add(1)
	t.packetBytes.Add(uint64(len(b)))
	return t.NodeAwareTransport.WriteTo(b, addr)
}

func (t *countingTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	t.packets.Add(1)
	t.packetBytes.Add(uint64(len(b)))
	return t.NodeAwareTransport.WriteToAddress(b, a)
}

func (t *countingTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := t.NodeAwareTransport.DialTimeout(addr, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &t.streamBytes}, nil
}

func (t *countingTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	c, err := t.NodeAwareTransport.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &t.streamBytes}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Uint64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(uint64(n))
	return n, err
}
