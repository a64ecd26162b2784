package raftstore

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"sync"

	"github.com/google/btree"
	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// entry is one key's current value. It is never modified once it is in the
// tree: an update inserts a new entry. That lets snapshots share the tree
// (copy-on-write clone) and readers use an entry after the lock is released.
type entry struct {
	key       string
	value     []byte
	flags     byte
	createRev int64
	modRev    int64
	version   int64
}

func entryLess(a, b *entry) bool { return a.key < b.key }

// EventType says what happened to a key.
type EventType uint8

// Event types.
const (
	EventPut    EventType = iota + 1 // the key was created or overwritten
	EventDelete                      // the key was deleted
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// Event is one change seen by a watcher.
type Event struct {
	Type EventType
	Key  string
	// Value is the new value of a Put and the last value of a Delete. It
	// may be shared by every watcher that receives the event: read it, do
	// not modify it.
	Value []byte
	// Revision is the revision of the write (the Raft index of its entry).
	// Several events share a revision when one entry carried several
	// writes; they are always delivered together and in write order.
	Revision int64
	// CreateRevision is the revision at which the key was created.
	CreateRevision int64
	// Version counts writes to the key since its creation (1 after create).
	Version int64
	// PrevValue is the key's value before this event: nil when a Put
	// created the key, the overwritten value for any other Put, and the
	// same bytes as Value for a Delete. Watchers with a filter need it to
	// tell "stopped matching" from "never matched" (etcd's prev_kv). Shared
	// like Value: do not modify it.
	PrevValue []byte
}

type histEvent struct {
	typ  EventType
	e    *entry // for a delete: the entry as it was before the delete
	prev *entry // for a put: the entry it replaced (nil if it created the key)
	rev  int64
}

// history is a ring of the most recent events. The event with sequence
// number s sits at buf[s%len(buf)]; firstSeq..nextSeq-1 are present.
type history struct {
	buf      []histEvent
	firstSeq uint64
	nextSeq  uint64
	// startRev: every event with a revision above it is in the ring.
	startRev int64
}

func (h *history) push(ev histEvent) {
	if h.nextSeq-h.firstSeq == uint64(len(h.buf)) {
		old := h.buf[h.firstSeq%uint64(len(h.buf))]
		h.startRev = old.rev
		h.buf[h.firstSeq%uint64(len(h.buf))] = histEvent{}
		h.firstSeq++
	}
	h.buf[h.nextSeq%uint64(len(h.buf))] = ev
	h.nextSeq++
}

func (h *history) at(seq uint64) *histEvent { return &h.buf[seq%uint64(len(h.buf))] }

// reset drops all events after a snapshot restore. It skips one sequence
// number so that every existing watcher, even one that was fully caught up,
// finds itself behind and is told to re-list.
func (h *history) reset(rev int64) {
	clear(h.buf)
	h.nextSeq += 2
	h.firstSeq = h.nextSeq
	h.startRev = rev
}

// seqAfter returns the sequence number of the first event whose revision
// exceeds rev. The caller has checked rev >= startRev.
func (h *history) seqAfter(rev int64) uint64 {
	lo, hi := h.firstSeq, h.nextSeq
	for lo < hi {
		mid := lo + (hi-lo)/2
		if h.at(mid).rev <= rev {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// fsm is the replicated state machine: an ordered map of keys plus the
// recent event history. Apply is called by Raft on one goroutine; readers
// take the read lock.
type fsm struct {
	log     *zap.Logger
	metrics *metrics

	mu      sync.RWMutex
	tree    *btree.BTreeG[*entry]
	rev     int64 // Raft index of the last applied command
	hist    history
	changed chan struct{} // closed and replaced after each apply
}

func newFSM(historySize int, log *zap.Logger, m *metrics) *fsm {
	return &fsm{
		log:     log,
		metrics: m,
		tree:    btree.NewG(32, entryLess),
		hist:    history{buf: make([]histEvent, historySize)},
		changed: make(chan struct{}),
	}
}

// reqResult is the outcome of one request of an entry.
type reqResult struct {
	rev   int64
	code  byte
	index int // failing op, when code != codeOK
}

// staged is a change a txn makes, kept until the whole txn is known to pass.
type staged struct {
	key  string
	prev *entry // nil if absent before
	next *entry // nil for a delete
}

// Apply implements raft.FSM. It returns []reqResult for a command entry or
// an error for an entry that fails validation; it never panics on input.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	// Entries and snapshots are agreed data: decode them against the fixed
	// cap, not this node's MaxValueSize, or replicas with different limits
	// would diverge. The limit is enforced when a write is proposed.
	reqs, err := decodeEntry(l.Data, maxValueSizeLimit)
	rev := int64(l.Index)
	f.mu.Lock()
	defer f.mu.Unlock()
	if rev > f.rev {
		f.rev = rev
	}
	defer f.notifyLocked()
	if err != nil {
		f.log.Error("rejected corrupt log entry", zap.Uint64("index", l.Index), zap.Error(err))
		return err
	}
	results := make([]reqResult, len(reqs))
	var stage []staged
	for i, ops := range reqs {
		stage = stage[:0]
		results[i] = f.applyTxnLocked(rev, ops, &stage)
	}
	f.metrics.applied(len(reqs))
	return results
}

func (f *fsm) lookupLocked(key string, stage []staged) *entry {
	for i := len(stage) - 1; i >= 0; i-- {
		if stage[i].key == key {
			return stage[i].next
		}
	}
	e, _ := f.tree.Get(&entry{key: key})
	return e
}

func (f *fsm) applyTxnLocked(rev int64, ops []Op, stage *[]staged) reqResult {
	for i, o := range ops {
		cur := f.lookupLocked(o.key, *stage)
		switch o.kind {
		case opCreate:
			if cur != nil {
				return reqResult{code: codeAlreadyExists, index: i}
			}
		case opUpdate, opDelete, opCheck:
			if cur == nil {
				return reqResult{code: codeNotFound, index: i}
			}
			if o.rev != 0 && cur.modRev != o.rev {
				return reqResult{code: codeConflict, index: i}
			}
		}
		switch o.kind {
		case opCreate, opPut, opUpdate:
			next := &entry{key: o.key, value: append([]byte(nil), o.value...), flags: o.flags, createRev: rev, modRev: rev, version: 1}
			if cur != nil {
				next.createRev, next.version = cur.createRev, cur.version+1
			}
			*stage = append(*stage, staged{key: o.key, prev: cur, next: next})
		case opDelete:
			*stage = append(*stage, staged{key: o.key, prev: cur})
		}
	}
	for _, s := range *stage {
		if s.next != nil {
			f.tree.ReplaceOrInsert(s.next)
			f.hist.push(histEvent{typ: EventPut, e: s.next, prev: s.prev, rev: rev})
		} else {
			f.tree.Delete(s.prev)
			f.hist.push(histEvent{typ: EventDelete, e: s.prev, rev: rev})
		}
	}
	return reqResult{rev: rev, code: codeOK}
}

func (f *fsm) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// get returns the entry for key, or nil, and the current revision.
func (f *fsm) get(key string) (*entry, int64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	e, _ := f.tree.Get(&entry{key: key})
	return e, f.rev
}

// list returns the entries under prefix in key order and the revision they
// are consistent at. limit 0 means no limit.
func (f *fsm) list(prefix string, limit int) ([]*entry, int64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*entry
	f.tree.AscendGreaterOrEqual(&entry{key: prefix}, func(e *entry) bool {
		if !strings.HasPrefix(e.key, prefix) {
			return false
		}
		out = append(out, e)
		return limit == 0 || len(out) < limit
	})
	return out, f.rev
}

// revision returns the last applied revision.
func (f *fsm) revision() int64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.rev
}

// waitApplied blocks until the revision reaches rev or ctx ends.
func (f *fsm) waitApplied(ctx context.Context, rev int64) error {
	for {
		f.mu.RLock()
		cur, ch := f.rev, f.changed
		f.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// watchStart returns the sequence number a watch from rev starts at.
func (f *fsm) watchStart(rev int64) (uint64, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if rev == 0 || rev >= f.rev {
		// From now, or from a revision this replica has not reached yet; the
		// watcher drops events at or below rev.
		return f.hist.nextSeq, nil
	}
	if rev < f.hist.startRev {
		return 0, fmt.Errorf("%w: revision %d, oldest watchable is %d", ErrTooOld, rev, f.hist.startRev)
	}
	return f.hist.seqAfter(rev), nil
}

// eventsAfter collects up to max events under prefix from sequence number
// seq on. It returns the events, the next sequence number to read, a
// channel closed on the next apply and whether the history is exhausted.
func (f *fsm) eventsAfter(seq uint64, prefix string, max int, out []histEvent) (_ []histEvent, next uint64, changed <-chan struct{}, caughtUp bool, _ error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if seq < f.hist.firstSeq {
		return out, seq, nil, false, fmt.Errorf("%w: watcher fell behind the retained history", ErrTooOld)
	}
	for ; seq < f.hist.nextSeq && len(out) < max; seq++ {
		ev := f.hist.at(seq)
		if strings.HasPrefix(ev.e.key, prefix) {
			out = append(out, *ev)
		}
	}
	// Never split one revision between two batches: a watcher that stops
	// after a batch must have seen every event of its last revision.
	for ; seq < f.hist.nextSeq && len(out) > 0; seq++ {
		ev := f.hist.at(seq)
		if ev.rev != out[len(out)-1].rev {
			break
		}
		if strings.HasPrefix(ev.e.key, prefix) {
			out = append(out, *ev)
		}
	}
	return out, seq, f.changed, seq == f.hist.nextSeq, nil
}

// historyStart returns the oldest sequence number still in the history.
func (f *fsm) historyStart() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.hist.firstSeq
}

// Snapshot implements raft.FSM. Cloning the tree is O(1); later writes copy
// the nodes they touch.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &fsmSnapshot{tree: f.tree.Clone(), rev: f.rev}, nil
}

var snapshotMagic = [4]byte{'F', 'L', 'S', '1'}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type fsmSnapshot struct {
	tree *btree.BTreeG[*entry]
	rev  int64
}

// Persist writes: magic uvarint(rev) uvarint(count) entries crc32c.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.write(sink); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) write(w io.Writer) error {
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	var tmp []byte
	tmp = append(tmp, snapshotMagic[:]...)
	tmp = binary.AppendUvarint(tmp, uint64(s.rev))
	tmp = binary.AppendUvarint(tmp, uint64(s.tree.Len()))
	if _, err := bw.Write(tmp); err != nil {
		return err
	}
	var err error
	s.tree.Ascend(func(e *entry) bool {
		tmp = tmp[:0]
		tmp = binary.AppendUvarint(tmp, uint64(len(e.key)))
		tmp = append(tmp, e.key...)
		tmp = append(tmp, e.flags)
		tmp = binary.AppendUvarint(tmp, uint64(e.createRev))
		tmp = binary.AppendUvarint(tmp, uint64(e.modRev))
		tmp = binary.AppendUvarint(tmp, uint64(e.version))
		tmp = binary.AppendUvarint(tmp, uint64(len(e.value)))
		if _, err = bw.Write(tmp); err != nil {
			return false
		}
		_, err = bw.Write(e.value)
		return err == nil
	})
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err = w.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() {}

// Restore implements raft.FSM: it replaces the state with a snapshot and
// tells every watcher to re-list.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	tree, rev, err := readSnapshot(rc, maxValueSizeLimit)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tree = tree
	f.rev = rev
	f.hist.reset(rev)
	f.notifyLocked()
	return nil
}

type crcReader struct {
	r   *bufio.Reader
	crc hashWriter
}

type hashWriter interface {
	io.Writer
	Sum32() uint32
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.crc.Write([]byte{b})
	}
	return b, err
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	return n, err
}

func readSnapshot(r io.Reader, maxValue int) (*btree.BTreeG[*entry], int64, error) {
	cr := &crcReader{r: bufio.NewReaderSize(r, 256<<10), crc: crc32.New(crcTable)}
	corrupt := func(what string, err error) error {
		if err == nil {
			return fmt.Errorf("%w: snapshot: %s", ErrCorrupt, what)
		}
		return fmt.Errorf("%w: snapshot: %s: %v", ErrCorrupt, what, err)
	}
	var magic [4]byte
	if _, err := io.ReadFull(cr, magic[:]); err != nil || magic != snapshotMagic {
		return nil, 0, corrupt("bad header", err)
	}
	uv := func(limit uint64, what string) (uint64, error) {
		v, err := binary.ReadUvarint(cr)
		if err != nil {
			return 0, corrupt(what, err)
		}
		if v > limit {
			return 0, corrupt(fmt.Sprintf("%s %d out of range", what, v), nil)
		}
		return v, nil
	}
	rev, err := uv(1<<62, "revision")
	if err != nil {
		return nil, 0, err
	}
	count, err := uv(1<<40, "count")
	if err != nil {
		return nil, 0, err
	}
	tree := btree.NewG(32, entryLess)
	var prevKey string
	for i := uint64(0); i < count; i++ {
		klen, err := uv(MaxKeySize, "key length")
		if err != nil {
			return nil, 0, err
		}
		key := make([]byte, klen)
		if _, err := io.ReadFull(cr, key); err != nil {
			return nil, 0, corrupt("key", err)
		}
		flags, err := cr.ReadByte()
		if err != nil {
			return nil, 0, corrupt("flags", err)
		}
		var revs [3]uint64
		for j := range revs {
			if revs[j], err = uv(rev, "entry revision"); err != nil {
				return nil, 0, err
			}
		}
		vlen, err := uv(uint64(maxValue+cipherOverhead), "value length")
		if err != nil {
			return nil, 0, err
		}
		value := make([]byte, vlen)
		if _, err := io.ReadFull(cr, value); err != nil {
			return nil, 0, corrupt("value", err)
		}
		if klen == 0 || (i > 0 && string(key) <= prevKey) || flags&^flagEncrypted != 0 {
			return nil, 0, corrupt(fmt.Sprintf("entry %d out of order or invalid", i), nil)
		}
		prevKey = string(key)
		tree.ReplaceOrInsert(&entry{key: prevKey, value: value, flags: flags,
			createRev: int64(revs[0]), modRev: int64(revs[1]), version: int64(revs[2])})
	}
	sum := cr.crc.Sum32()
	var tail [4]byte
	if _, err := io.ReadFull(cr.r, tail[:]); err != nil {
		return nil, 0, corrupt("checksum", err)
	}
	if binary.BigEndian.Uint32(tail[:]) != sum {
		return nil, 0, corrupt("checksum mismatch", nil)
	}
	if _, err := cr.r.ReadByte(); !errors.Is(err, io.EOF) {
		return nil, 0, corrupt("trailing data", err)
	}
	return tree, int64(rev), nil
}
