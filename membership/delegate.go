package membership

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
	"go.uber.org/zap"
)

// delegate implements memberlist's Delegate, EventDelegate, AliveDelegate,
// MergeDelegate and ConflictDelegate. memberlist calls most of these with its
// node lock held: they must not block and must not call back into memberlist.
type delegate struct{ m *Membership }

var (
	_ memberlist.Delegate         = (*delegate)(nil)
	_ memberlist.EventDelegate    = (*delegate)(nil)
	_ memberlist.AliveDelegate    = (*delegate)(nil)
	_ memberlist.MergeDelegate    = (*delegate)(nil)
	_ memberlist.ConflictDelegate = (*delegate)(nil)
)

func nodeAddr(n *memberlist.Node) string {
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// NodeMeta returns the encoded local record (validated to fit the limit).
func (d *delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	if len(d.m.meta) > limit {
		return nil // cannot happen: encode enforces MaxRecordSize
	}
	return d.m.meta
}

func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

// checkRecord validates a peer's record and protocol version.
func (d *delegate) checkRecord(n *memberlist.Node) (Record, error) {
	r, err := decodeRecord(n.Name, n.Meta)
	if err != nil {
		return r, err
	}
	if !d.m.acceptsProtocol(r.Protocol) {
		return r, fmt.Errorf("%w: node %s speaks membership protocol %d; this node speaks %d and accepts %d-%d",
			ErrProtocolMismatch, n.Name, r.Protocol, d.m.proto, ProtocolVersionMin, ProtocolVersionMax)
	}
	return r, nil
}

// NotifyAlive filters every alive message: a peer whose record is malformed,
// oversize or of an incompatible protocol version is ignored (and logged once
// per distinct record), so it never becomes a member.
func (d *delegate) NotifyAlive(n *memberlist.Node) error {
	_, err := d.checkRecord(n)
	if err == nil {
		return nil
	}
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	if d.m.rejected[n.Name] != string(n.Meta) {
		if len(d.m.rejected) > 1000 {
			clear(d.m.rejected)
		}
		d.m.rejected[n.Name] = string(n.Meta)
		d.m.log.Warn("ignoring peer with invalid node record", zap.String("peer", n.Name),
			zap.String("addr", nodeAddr(n)), zap.Int("recordBytes", len(n.Meta)), zap.Error(err))
	}
	return err
}

// NotifyMerge vetoes a join (either side of it) when the other side's
// members include one with an incompatible protocol version or a node that
// uses a name already taken by a live member at another address.
func (d *delegate) NotifyMerge(peers []*memberlist.Node) error {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	var err error
	for _, p := range peers {
		if p.State != memberlist.StateAlive && p.State != memberlist.StateSuspect {
			continue
		}
		if _, cerr := d.checkRecord(p); cerr != nil {
			if IsProtocolMismatch(cerr) {
				err = cerr
				break
			}
			continue // malformed records are ignored by NotifyAlive
		}
		if known, ok := d.m.members[p.Name]; ok && known.Addr != nodeAddr(p) &&
			(known.Status == StatusAlive || known.Status == StatusLeaving) {
			err = fmt.Errorf("%w: node name %q is used by a live member at %s, and by the node at %s",
				ErrNameConflict, p.Name, known.Addr, nodeAddr(p))
			break
		}
	}
	if err != nil {
		d.m.reject = err
		d.m.log.Warn("refusing to merge cluster state", zap.Error(err))
	}
	return err
}

// NotifyConflict is told when memberlist sees a second node using a known
// name at a different address; memberlist keeps the existing one.
func (d *delegate) NotifyConflict(existing, other *memberlist.Node) {
	d.m.log.Error("node name conflict: two nodes use the same name; ignoring the newcomer",
		zap.String("name", existing.Name), zap.String("existing", nodeAddr(existing)), zap.String("other", nodeAddr(other)))
}

func (d *delegate) NotifyJoin(n *memberlist.Node) {
	r, err := d.checkRecord(n)
	if err != nil {
		return // NotifyAlive already refused and logged it
	}
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	status := StatusAlive
	if r.Leaving {
		status = StatusLeaving
	}
	mem := &Member{Name: n.Name, Addr: nodeAddr(n), Record: r, Status: status, Since: time.Now()}
	d.m.members[n.Name] = mem
	d.m.log.Debug("member joined", zap.String("peer", n.Name), zap.String("addr", mem.Addr))
	d.m.emit(Event{Type: EventJoin, Member: mem.clone()})
}

func (d *delegate) NotifyUpdate(n *memberlist.Node) {
	r, err := d.checkRecord(n)
	if err != nil {
		return
	}
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	mem, ok := d.m.members[n.Name]
	if !ok {
		mem = &Member{Name: n.Name, Status: StatusAlive, Since: time.Now()}
		d.m.members[n.Name] = mem
	}
	mem.Addr = nodeAddr(n)
	mem.Record = r
	if r.Leaving && mem.Status != StatusLeaving {
		mem.Status, mem.Since = StatusLeaving, time.Now()
	}
	d.m.emit(Event{Type: EventUpdate, Member: mem.clone()})
}

// NotifyLeave is called for graceful leaves and failures alike; memberlist's
// Node does not say which, so the Leaving flag of the last record decides.
func (d *delegate) NotifyLeave(n *memberlist.Node) {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	mem, ok := d.m.members[n.Name]
	if !ok {
		return // never accepted as a member
	}
	typ := EventFailed
	mem.Status = StatusFailed
	if mem.Record.Leaving {
		typ = EventLeave
		mem.Status = StatusLeft
	}
	mem.Since = time.Now()
	d.m.log.Debug("member gone", zap.String("peer", n.Name), zap.Stringer("status", mem.Status))
	d.m.emit(Event{Type: typ, Member: mem.clone()})
}

// acceptsProtocol reports whether a peer speaking protocol version p can be a
// member. A node whose own version lies outside [ProtocolVersionMin,
// ProtocolVersionMax] (only possible in tests, simulating another release)
// accepts only its own version.
func (m *Membership) acceptsProtocol(p int) bool {
	if m.proto >= ProtocolVersionMin && m.proto <= ProtocolVersionMax {
		return p >= ProtocolVersionMin && p <= ProtocolVersionMax
	}
	return p == m.proto
}
