package raftstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"
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

// dropThrough evicts the events up to and including seq, and the rest of
// that event's revision, as if the ring had overflowed.
func (h *history) dropThrough(seq uint64) {
	rev := h.at(seq).rev
	for h.firstSeq < h.nextSeq && (h.firstSeq <= seq || h.at(h.firstSeq).rev == rev) {
		h.startRev = h.at(h.firstSeq).rev
		*h.at(h.firstSeq) = histEvent{}
		h.firstSeq++
	}
}

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

// fsm is the replicated state machine: an ordered map of keys, the recent
// event history and the encryption keyring. Apply is called by Raft on one
// goroutine; readers take the read lock.
type fsm struct {
	log     *zap.Logger
	metrics *metrics

	mu      sync.RWMutex
	tree    *btree.BTreeG[*entry]
	rev     int64 // Raft index of the last applied command
	hist    history
	changed chan struct{} // closed and replaced after each apply
	// keys is replaced, never modified, so readers may keep the one they
	// took; keyFile ("" for none) is rewritten before each change.
	keys    *keyring
	keyFile string
	// sealedBy counts live values per sealing key id ("" for unsealed
	// ones). Pointers, so that a count changes without allocating the id.
	sealedBy map[string]*int
}

func newFSM(historySize int, log *zap.Logger, m *metrics) *fsm {
	return &fsm{
		log:      log,
		metrics:  m,
		tree:     btree.NewG(32, entryLess),
		hist:     history{buf: make([]histEvent, historySize)},
		changed:  make(chan struct{}),
		keys:     emptyKeyring(),
		sealedBy: map[string]*int{},
	}
}

// setKeys installs the node's starting keyring, before Raft starts.
func (f *fsm) setKeys(kr *keyring, keyFile string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys, f.keyFile = kr, keyFile
}

// keyring returns the current keyring.
func (f *fsm) keyring() *keyring {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.keys
}

// reqResult is the outcome of one request of an entry.
type reqResult struct {
	rev   int64
	code  byte
	index int // failing op, when code != codeOK
}

// staged is a change a txn makes, kept until the whole txn is known to pass.
type staged struct {
	key   string
	prev  *entry // nil if absent before
	next  *entry // nil for a delete
	quiet bool   // a reseal: same revisions and plaintext, no event
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
		if ops[0].kind.isKeyOp() { // alone in its request (decodeEntry)
			results[i] = f.applyKeyOpLocked(rev, ops[0])
			continue
		}
		if !fenceHolds(ops, l.Term) {
			results[i] = reqResult{code: codeFenced, index: -1}
			f.metrics.fencedWrites.Inc()
			continue
		}
		stage = stage[:0]
		results[i] = f.applyTxnLocked(rev, ops, &stage)
	}
	f.metrics.applied(len(reqs))
	return results
}

// fenceHolds reports whether every fence of a request names term, the
// term of the entry that carries it. Checked before any other op, so a
// fenced request from a deposed leader always fails as fenced.
func fenceHolds(ops []Op, term uint64) bool {
	for _, o := range ops {
		if o.kind == opFence && uint64(o.rev) != term {
			return false
		}
	}
	return true
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
		if o.kind == opFence { // checked already (fenceHolds)
			continue
		}
		if code := f.admitLocked(o); code != codeOK {
			return reqResult{rev: rev, code: code, index: i}
		}
		cur := f.lookupLocked(o.key, *stage)
		switch o.kind {
		case opCreate:
			if cur != nil {
				return reqResult{code: codeAlreadyExists, index: i}
			}
		case opUpdate, opDelete, opCheck, opReseal:
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
		case opReseal:
			if cur.flags&flagEncrypted == 0 {
				return reqResult{code: codeInvalid, index: i} // plaintext is never sealed after the fact
			}
			next := *cur
			next.value, next.flags = append([]byte(nil), o.value...), o.flags
			*stage = append(*stage, staged{key: o.key, prev: cur, next: &next, quiet: true})
		}
	}
	for _, s := range *stage {
		f.countLocked(s.prev, -1)
		f.countLocked(s.next, 1)
		switch {
		case s.quiet:
			f.tree.ReplaceOrInsert(s.next)
		case s.next != nil:
			f.tree.ReplaceOrInsert(s.next)
			f.hist.push(histEvent{typ: EventPut, e: s.next, prev: s.prev, rev: rev})
		default:
			f.tree.Delete(s.prev)
			f.hist.push(histEvent{typ: EventDelete, e: s.prev, rev: rev})
		}
	}
	return reqResult{rev: rev, code: codeOK}
}

// admitLocked decides from the replicated part of the keyring alone, so
// every replica decides alike, whether o's value may be stored. Once the
// cluster is encrypted a value must be sealed (a forged entry with
// plaintext fails as a request), and not with a retired key (a node that
// had not yet seen the retirement sealed it: codeStaleKey tells it to
// seal again). A reseal must use the primary key.
//
// Whether a reseal keeps the plaintext is checked before it is proposed
// (admitForwarded, and Reencrypt on the leader reads what it rewrites),
// not here: a replica can only check it with both keys, which not every
// replica holds at every replay of the log, and replicas must never
// decide differently.
func (f *fsm) admitLocked(o Op) byte {
	switch o.kind {
	case opCreate, opPut, opUpdate, opReseal:
	default:
		return codeOK
	}
	kr := f.keys
	if !kr.encrypted {
		if o.kind == opReseal {
			return codeInvalid
		}
		return codeOK
	}
	id, ok := sealedKeyIDBytes(o.value)
	switch {
	case o.flags&flagEncrypted == 0 || !ok:
		return codeInvalid
	case kr.retired[string(id)]:
		return codeStaleKey
	case o.kind == opReseal && o.rev == 0:
		return codeInvalid
	case o.kind == opReseal && string(id) != kr.primary:
		return codeStaleKey
	}
	return codeOK
}

// applyKeyOpLocked adds or retires a key. What it accepts depends on the
// replicated part of the keyring only; what this node can learn (the new
// secret) depends on the keys it holds.
func (f *fsm) applyKeyOpLocked(rev int64, o Op) reqResult {
	kr, id := f.keys, o.key
	if o.kind == opKeyRetire {
		switch {
		case kr.retired[id]:
			return reqResult{rev: rev, code: codeOK}
		case !kr.encrypted || id == kr.primary:
			return reqResult{code: codeInvalid}
		case f.sealedCountLocked(id) > 0:
			return reqResult{code: codeConflict}
		}
		next := kr.clone()
		next.retired[id] = true
		delete(next.held, id)
		f.setKeysLocked(next)
		f.dropHistoryOfLocked(id)
		f.log.Info("retired encryption key", zap.String("key", id), zap.Int64("revision", rev))
		return reqResult{rev: rev, code: codeOK}
	}
	sealer, _ := sealedKeyID(o.value)
	switch {
	case kr.retired[id]:
		return reqResult{code: codeInvalid}
	case kr.encrypted && sealer != kr.primary:
		return reqResult{rev: rev, code: codeStaleKey}
	case !kr.encrypted && sealer != id:
		return reqResult{code: codeInvalid}
	}
	next := kr.clone()
	next.encrypted, next.primary = true, id
	secret, held, err := kr.unwrapKey(id, o.value)
	log := f.log.With(zap.String("key", id), zap.String("sealedWith", sealer), zap.Int64("revision", rev))
	switch {
	case !held && next.held[id] == nil:
		// Also seen when a restarted node replays the entry that turned
		// encryption on with a key it has since retired; the entries
		// after it restore the key it holds.
		log.Warn("cannot learn the new primary encryption key: this node does not hold the key it is sealed with; until the key is in its KeyFile or EncryptionKeys it can neither read nor write values sealed with it")
	case !held:
		// Replaying the log after the sealing key was retired: the key is
		// known already.
	case err != nil:
		log.Error("the new primary encryption key does not open with this node's key", zap.Error(err))
	default:
		var differs bool
		if next, differs, err = next.withKey(EncryptionKey{ID: id, Secret: secret}); err != nil {
			log.Error("invalid encryption key in the log", zap.Error(err))
		} else if differs {
			log.Error("this node holds another secret under the id of the new primary encryption key; values sealed by other nodes will not open")
		}
		clear(secret)
	}
	f.setKeysLocked(next)
	log.Info("primary encryption key changed")
	return reqResult{rev: rev, code: codeOK}
}

// setKeysLocked makes next the keyring. When that changes what the key
// file holds, the file is written first; if that fails the change still
// takes effect (every replica must follow the log) and the next change, or
// a replay of this one after a restart, writes the file again.
func (f *fsm) setKeysLocked(next *keyring) {
	if f.keyFile != "" {
		if data := keyFileData(next); !bytes.Equal(data, keyFileData(f.keys)) {
			if err := writeKeyFile(f.keyFile, data); err != nil {
				f.metrics.keyFileErrors.Inc()
				f.log.Error("cannot write the key file; the keyring change holds in memory only", zap.Error(err))
			}
			clear(data)
		}
	}
	f.keys = next
}

// dropHistoryOfLocked evicts the history up to the last event whose value
// was sealed with key id, which is no longer held: a watcher that still
// needs those events re-lists (ErrTooOld) instead of failing to open them.
func (f *fsm) dropHistoryOfLocked(id string) {
	last, found := uint64(0), false
	for seq := f.hist.firstSeq; seq < f.hist.nextSeq; seq++ {
		ev := f.hist.at(seq)
		if sealedWith(ev.e, id) || sealedWith(ev.prev, id) {
			last, found = seq, true
		}
	}
	if found {
		f.hist.dropThrough(last)
	}
}

// entryKeyID returns the id of the key e's value is sealed with (aliasing
// the value), empty for an unsealed value; false for a malformed one.
func entryKeyID(e *entry) ([]byte, bool) {
	if e.flags&flagEncrypted == 0 {
		return nil, true
	}
	return sealedKeyIDBytes(e.value)
}

func sealedWith(e *entry, id string) bool {
	if e == nil {
		return false
	}
	got, ok := entryKeyID(e)
	return ok && string(got) == id
}

// countLocked adds d to the count of e's sealing key.
func (f *fsm) countLocked(e *entry, d int) {
	if e == nil {
		return
	}
	id, ok := entryKeyID(e)
	if !ok {
		return
	}
	n := f.sealedBy[string(id)]
	if n == nil {
		n = new(int)
		f.sealedBy[string(id)] = n
	}
	*n += d
}

func (f *fsm) sealedCountLocked(id string) int {
	if n := f.sealedBy[id]; n != nil {
		return *n
	}
	return 0
}

// recountLocked counts every live value's sealing key anew.
func (f *fsm) recountLocked() {
	clear(f.sealedBy)
	f.tree.Ascend(func(e *entry) bool {
		f.countLocked(e, 1)
		return true
	})
}

// sealedCounts returns how many live values each key seals ("" for
// unsealed values; keys that seal none are left out) and the keyring.
func (f *fsm) sealedCounts() (map[string]int, *keyring) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	counts := make(map[string]int, len(f.sealedBy))
	for id, n := range f.sealedBy {
		if *n != 0 {
			counts[id] = *n
		}
	}
	return counts, f.keys
}

// staleEntries returns the live entries sealed with another key than the
// primary, and the keyring.
func (f *fsm) staleEntries() ([]*entry, *keyring) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*entry
	f.tree.Ascend(func(e *entry) bool {
		if id, ok := entryKeyID(e); ok && len(id) > 0 && string(id) != f.keys.primary {
			out = append(out, e)
		}
		return true
	})
	return out, f.keys
}

func (f *fsm) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// get returns the entry for key, or nil, and the keyring to open it with.
func (f *fsm) get(key string) (*entry, *keyring) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	e, _ := f.tree.Get(&entry{key: key})
	return e, f.keys
}

// list returns the entries under prefix in key order, the revision they
// are consistent at and the keyring to open them with. limit 0 means no
// limit.
func (f *fsm) list(prefix, after string, limit int) ([]*entry, int64, *keyring) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*entry
	f.ascend(prefix, after, func(e *entry) bool {
		out = append(out, e)
		return limit == 0 || len(out) < limit
	})
	return out, f.rev, f.keys
}

// count returns how many keys are under prefix and after after (see
// ascend), stopping at limit (0: no limit), and the revision the count is
// consistent at.
func (f *fsm) count(prefix, after string, limit int) (int, int64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := 0
	f.ascend(prefix, after, func(e *entry) bool {
		n++
		return limit == 0 || n < limit
	})
	return n, f.rev
}

// ascend calls fn with the entries under prefix whose keys sort after
// after ("": from the first), in key order, until fn returns false. The
// caller holds f.mu.
func (f *fsm) ascend(prefix, after string, fn func(*entry) bool) {
	from := prefix
	if after != "" && after >= prefix {
		from = after + "\x00" // the least key greater than after
	}
	f.tree.AscendGreaterOrEqual(&entry{key: from}, func(e *entry) bool {
		if !strings.HasPrefix(e.key, prefix) {
			return false
		}
		return fn(e)
	})
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

// eventBatch is what eventsAfter found.
type eventBatch struct {
	events   []histEvent
	next     uint64          // the sequence number to read next
	changed  <-chan struct{} // closed on the next apply
	caughtUp bool            // the history is exhausted
	keys     *keyring        // opens the events' values
}

// eventsAfter collects up to max events under prefix from sequence number
// seq on, appending them to out.
func (f *fsm) eventsAfter(seq uint64, prefix string, max int, out []histEvent) (eventBatch, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if seq < f.hist.firstSeq {
		return eventBatch{events: out, next: seq}, fmt.Errorf("%w: watcher fell behind the retained history", ErrTooOld)
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
	return eventBatch{events: out, next: seq, changed: f.changed, caughtUp: seq == f.hist.nextSeq, keys: f.keys}, nil
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
	return &fsmSnapshot{tree: f.tree.Clone(), rev: f.rev, keys: f.keys}, nil
}

// Snapshot formats: FLS1 has no keyring; FLS2, written now, has one.
var (
	snapshotMagicV1 = [4]byte{'F', 'L', 'S', '1'}
	snapshotMagic   = [4]byte{'F', 'L', 'S', '2'}
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type fsmSnapshot struct {
	tree *btree.BTreeG[*entry]
	rev  int64
	keys *keyring
}

// Persist writes:
//
//	magic uvarint(rev) keyring uvarint(count) entry* crc32c
//	keyring = encrypted(0|1) str(primary) uvarint(n) str(retired id)*
//	          uvarint(n) str(sealed key list)*
//	entry   = str(key) flags uvarint(createRev) uvarint(modRev)
//	          uvarint(version) str(value)
//
// where str is uvarint(len) bytes. The key list (every key this node
// holds) is sealed once under each of those keys, so a node that holds
// any one of them learns the rest; ids are not secret and go in clear.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.write(sink); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func appendStr(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (s *fsmSnapshot) write(w io.Writer) error {
	blobs, err := s.keys.sealKeyrings()
	if err != nil {
		return err
	}
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	var tmp []byte
	tmp = append(tmp, snapshotMagic[:]...)
	tmp = binary.AppendUvarint(tmp, uint64(s.rev))
	if s.keys.encrypted {
		tmp = append(tmp, 1)
	} else {
		tmp = append(tmp, 0)
	}
	tmp = appendStr(tmp, []byte(s.keys.primary))
	tmp = binary.AppendUvarint(tmp, uint64(len(s.keys.retired)))
	for _, id := range slices.Sorted(maps.Keys(s.keys.retired)) {
		tmp = appendStr(tmp, []byte(id))
	}
	tmp = binary.AppendUvarint(tmp, uint64(len(blobs)))
	for _, b := range blobs {
		tmp = appendStr(tmp, b)
	}
	tmp = binary.AppendUvarint(tmp, uint64(s.tree.Len()))
	if _, err := bw.Write(tmp); err != nil {
		return err
	}
	s.tree.Ascend(func(e *entry) bool {
		tmp = tmp[:0]
		tmp = appendStr(tmp, []byte(e.key))
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

// Restore implements raft.FSM: it replaces the state with a snapshot,
// merges the snapshot's keys into this node's keyring (and key file) and
// tells every watcher to re-list.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	snap, err := readSnapshot(rc, maxValueSizeLimit)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restoreKeysLocked(snap)
	f.tree = snap.tree
	f.rev = snap.rev
	f.recountLocked()
	f.hist.reset(snap.rev)
	f.notifyLocked()
	return nil
}

// restoreKeysLocked takes the replicated part of the keyring from a
// snapshot and learns its keys from the first sealed key list that opens
// with a key this node holds.
func (f *fsm) restoreKeysLocked(snap *snapshotData) {
	next := f.keys.clone()
	next.encrypted, next.primary = snap.encrypted, snap.primary
	next.retired = map[string]bool{}
	for _, id := range snap.retired {
		next.retired[id] = true
		delete(next.held, id)
	}
	var sealers []string
	for _, blob := range snap.keyrings {
		keys, held, err := f.keys.openKeyring(blob)
		id, _ := sealedKeyID(blob)
		sealers = append(sealers, id)
		if !held {
			continue
		}
		if err != nil {
			f.log.Error("a snapshot's key list does not open with this node's key", zap.String("key", id), zap.Error(err))
			continue
		}
		for _, k := range keys {
			if next.retired[k.ID] {
				continue
			}
			n, differs, err := next.withKey(k)
			switch {
			case err != nil:
				f.log.Error("invalid encryption key in a snapshot", zap.String("key", k.ID), zap.Error(err))
			case differs:
				f.log.Error("this node holds another secret under the id of a key in the snapshot", zap.String("key", k.ID))
			}
			next = n
			clear(k.Secret)
		}
		sealers = nil
		break
	}
	if len(sealers) > 0 {
		f.log.Error("cannot open the snapshot's keys: this node holds none of them", zap.Strings("keys", sealers))
	}
	f.setKeysLocked(next)
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

// snapshotData is a snapshot as read.
type snapshotData struct {
	tree      *btree.BTreeG[*entry]
	rev       int64
	encrypted bool
	primary   string
	retired   []string
	keyrings  [][]byte // each the key list sealed with one key
}

// maxSnapshotKeys bounds the retired ids and sealed key lists a snapshot
// may carry.
const maxSnapshotKeys = 1 << 16

// snapReader reads the fields of a snapshot, checking every length.
type snapReader struct{ cr *crcReader }

func snapCorrupt(what string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: snapshot: %s", ErrCorrupt, what)
	}
	return fmt.Errorf("%w: snapshot: %s: %v", ErrCorrupt, what, err)
}

func (r snapReader) uvarint(limit uint64, what string) (uint64, error) {
	v, err := binary.ReadUvarint(r.cr)
	if err != nil {
		return 0, snapCorrupt(what, err)
	}
	if v > limit {
		return 0, snapCorrupt(fmt.Sprintf("%s %d out of range", what, v), nil)
	}
	return v, nil
}

func (r snapReader) str(limit uint64, what string) ([]byte, error) {
	n, err := r.uvarint(limit, what+" length")
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.cr, b); err != nil {
		return nil, snapCorrupt(what, err)
	}
	return b, nil
}

func readSnapshot(rd io.Reader, maxValue int) (*snapshotData, error) {
	cr := &crcReader{r: bufio.NewReaderSize(rd, 256<<10), crc: crc32.New(crcTable)}
	r := snapReader{cr}
	var magic [4]byte
	if _, err := io.ReadFull(cr, magic[:]); err != nil || (magic != snapshotMagic && magic != snapshotMagicV1) {
		return nil, snapCorrupt("bad header", err)
	}
	rev, err := r.uvarint(1<<62, "revision")
	if err != nil {
		return nil, err
	}
	snap := &snapshotData{rev: int64(rev)}
	if magic == snapshotMagic {
		if err := r.keyring(snap); err != nil {
			return nil, err
		}
	}
	count, err := r.uvarint(1<<40, "count")
	if err != nil {
		return nil, err
	}
	tree := btree.NewG(32, entryLess)
	var prevKey string
	for i := uint64(0); i < count; i++ {
		key, err := r.str(MaxKeySize, "key")
		if err != nil {
			return nil, err
		}
		flags, err := cr.ReadByte()
		if err != nil {
			return nil, snapCorrupt("flags", err)
		}
		var revs [3]uint64
		for j := range revs {
			if revs[j], err = r.uvarint(rev, "entry revision"); err != nil {
				return nil, err
			}
		}
		value, err := r.str(uint64(maxValue+cipherOverhead), "value")
		if err != nil {
			return nil, err
		}
		if len(key) == 0 || (i > 0 && string(key) <= prevKey) || flags&^flagEncrypted != 0 {
			return nil, snapCorrupt(fmt.Sprintf("entry %d out of order or invalid", i), nil)
		}
		prevKey = string(key)
		tree.ReplaceOrInsert(&entry{key: prevKey, value: value, flags: flags,
			createRev: int64(revs[0]), modRev: int64(revs[1]), version: int64(revs[2])})
	}
	sum := cr.crc.Sum32()
	var tail [4]byte
	if _, err := io.ReadFull(cr.r, tail[:]); err != nil {
		return nil, snapCorrupt("checksum", err)
	}
	if binary.BigEndian.Uint32(tail[:]) != sum {
		return nil, snapCorrupt("checksum mismatch", nil)
	}
	if _, err := cr.r.ReadByte(); !errors.Is(err, io.EOF) {
		return nil, snapCorrupt("trailing data", err)
	}
	snap.tree = tree
	return snap, nil
}

// keyring reads the keyring section of an FLS2 snapshot.
func (r snapReader) keyring(snap *snapshotData) error {
	enc, err := r.cr.ReadByte()
	if err != nil || enc > 1 {
		return snapCorrupt("encryption flag", err)
	}
	snap.encrypted = enc == 1
	primary, err := r.str(maxKeyIDLen, "primary key id")
	if err != nil {
		return err
	}
	snap.primary = string(primary)
	if snap.encrypted != (snap.primary != "") {
		return snapCorrupt("primary key id does not match the encryption flag", nil)
	}
	n, err := r.uvarint(maxSnapshotKeys, "retired key count")
	if err != nil {
		return err
	}
	for range n {
		id, err := r.str(maxKeyIDLen, "retired key id")
		if err != nil {
			return err
		}
		snap.retired = append(snap.retired, string(id))
	}
	if n, err = r.uvarint(maxSnapshotKeys, "key list count"); err != nil {
		return err
	}
	for range n {
		blob, err := r.str(maxKeyFileSize, "sealed key list")
		if err != nil {
			return err
		}
		snap.keyrings = append(snap.keyrings, blob)
	}
	return nil
}
