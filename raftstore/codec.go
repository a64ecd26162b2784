package raftstore

import (
	"encoding/binary"
	"fmt"
)

// The Raft log holds batches. One entry carries the requests of several
// callers (group commit); each request is an atomic list of operations.
//
//	entry   = magic version uvarint(nreq) request*
//	request = uvarint(nops) op*
//	op      = kind flags uvarint(expectedRev) uvarint(len) key uvarint(len) value
//
// A fence op (OpFence) has an empty key and value and carries its Raft term
// where other ops carry a revision.
//
// Decoding checks every length against the bytes that remain, so a corrupt
// or hostile entry yields ErrCorrupt and never a panic or a huge allocation.

const (
	entryMagic   byte = 0xF7
	entryVersion byte = 1

	// MaxKeySize is the longest key a Store accepts, in bytes.
	MaxKeySize = 1024
	// MaxTxnOps is the most operations one Txn may carry (etcd's default
	// limit too).
	MaxTxnOps = 128
	// maxValueSizeLimit caps Config.MaxValueSize.
	maxValueSizeLimit = 64 << 20
)

type opKind byte

const (
	opCreate opKind = iota + 1
	opPut
	opUpdate
	opDelete
	opCheck

	// Internal operations; users cannot build them.

	// opReseal replaces an encrypted value with the same plaintext sealed
	// with the primary key, keeping its revisions (Reencrypt). rev is the
	// key's ModRevision, which must still match.
	opReseal
	// opKeyAdd adds the key named by the op's key and makes it primary; the
	// value is its secret, sealed (see keyring.wrapKey). Alone in its
	// request.
	opKeyAdd
	// opKeyRetire retires the key named by the op's key. Alone in its
	// request.
	opKeyRetire

	// opFence (OpFence) writes nothing; it fails the request unless the
	// entry that carries it is of the Raft term in rev. Its key and value
	// are empty. Numbered after the internal kinds so that every request
	// encoded before it existed decodes as it did.
	opFence
)

// isKeyOp reports whether k changes the keyring rather than the key space.
func (k opKind) isKeyOp() bool { return k == opKeyAdd || k == opKeyRetire }

func (k opKind) String() string {
	switch k {
	case opCreate:
		return "create"
	case opPut:
		return "put"
	case opUpdate:
		return "update"
	case opDelete:
		return "delete"
	case opCheck:
		return "check"
	case opReseal:
		return "reseal"
	case opKeyAdd:
		return "add key"
	case opKeyRetire:
		return "retire key"
	case opFence:
		return "fence"
	}
	return fmt.Sprintf("op(%d)", byte(k))
}

// flagEncrypted marks a value that holds ciphertext (see crypto.go).
const flagEncrypted byte = 1

// Op is one operation of a Txn. Build it with OpCreate, OpPut, OpUpdate,
// OpDelete, OpCheck or OpFence.
type Op struct {
	kind  opKind
	flags byte
	key   string
	value []byte
	rev   int64
}

// OpCreate creates key; the Txn fails with ErrAlreadyExists if it exists.
func OpCreate(key string, value []byte) Op { return Op{kind: opCreate, key: key, value: value} }

// OpPut creates or overwrites key unconditionally.
func OpPut(key string, value []byte) Op { return Op{kind: opPut, key: key, value: value} }

// OpUpdate overwrites an existing key. expectedRev 0 accepts any revision;
// otherwise the key's ModRevision must equal it (ErrConflict if not).
func OpUpdate(key string, value []byte, expectedRev int64) Op {
	return Op{kind: opUpdate, key: key, value: value, rev: expectedRev}
}

// OpDelete deletes an existing key, with the same revision rule as OpUpdate.
func OpDelete(key string, expectedRev int64) Op {
	return Op{kind: opDelete, key: key, rev: expectedRev}
}

// OpCheck writes nothing; it fails the Txn unless key exists (and, when
// expectedRev is not 0, has that ModRevision).
func OpCheck(key string, expectedRev int64) Op { return Op{kind: opCheck, key: key, rev: expectedRev} }

// OpFence writes nothing; it fences the Txn to leadership: the Txn is
// applied only by a Raft entry of term, the term in which the leader
// proposing it leads, and otherwise fails as a whole with ErrFenced. A
// caller that does leader-only work learns its term from LeaderTerm and
// puts OpFence(term) in each of its writes: once another node has been
// elected, none of them can land, even one this node forwards to the new
// leader. term must not be 0.
func OpFence(term uint64) Op { return Op{kind: opFence, rev: int64(min(term, maxFenceTerm))} }

// maxFenceTerm is the highest term an op can carry (revisions are capped
// at 2^62 when decoded); Raft never gets near it.
const maxFenceTerm = 1 << 62

// validate checks an op before it is proposed.
func (o Op) validate(maxValue int) error {
	switch {
	case o.kind == opFence:
		return o.validateFence()
	case o.kind < opCreate || o.kind > opCheck:
		return fmt.Errorf("%w: unknown operation", ErrInvalidArgument)
	case o.key == "":
		return fmt.Errorf("%w: key is empty", ErrInvalidArgument)
	case len(o.key) > MaxKeySize:
		return fmt.Errorf("%w: key is %d bytes, limit %d", ErrTooLarge, len(o.key), MaxKeySize)
	case len(o.value) > maxValue:
		return &KeyError{Key: o.key, Err: fmt.Errorf("%w: value is %d bytes, limit %d", ErrTooLarge, len(o.value), maxValue)}
	case o.rev < 0:
		return &KeyError{Key: o.key, Err: fmt.Errorf("%w: expected revision %d is negative", ErrInvalidArgument, o.rev)}
	case (o.kind == opDelete || o.kind == opCheck) && len(o.value) > 0:
		return &KeyError{Key: o.key, Err: fmt.Errorf("%w: %s carries no value", ErrInvalidArgument, o.kind)}
	}
	return nil
}

func (o Op) validateFence() error {
	switch {
	case o.key != "" || len(o.value) > 0 || o.flags != 0:
		return fmt.Errorf("%w: a fence carries no key or value", ErrInvalidArgument)
	case o.rev <= 0:
		return fmt.Errorf("%w: fence term is 0", ErrInvalidArgument)
	}
	return nil
}

// appendRequest encodes ops as one request.
func appendRequest(b []byte, ops []Op) []byte {
	b = binary.AppendUvarint(b, uint64(len(ops)))
	for _, o := range ops {
		b = append(b, byte(o.kind), o.flags)
		b = binary.AppendUvarint(b, uint64(o.rev))
		b = binary.AppendUvarint(b, uint64(len(o.key)))
		b = append(b, o.key...)
		b = binary.AppendUvarint(b, uint64(len(o.value)))
		b = append(b, o.value...)
	}
	return b
}

// encodeEntry joins pre-encoded requests into one log entry.
func encodeEntry(reqs [][]byte) []byte {
	n := 2 + binary.MaxVarintLen64
	for _, r := range reqs {
		n += len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, entryMagic, entryVersion)
	b = binary.AppendUvarint(b, uint64(len(reqs)))
	for _, r := range reqs {
		b = append(b, r...)
	}
	return b
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns the next length-prefixed field, at most limit bytes long.
// The result aliases the input.
func (d *decoder) bytes(limit int) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(d.b)) {
		d.fail("field of %d bytes exceeds limit or input", n)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// count reads a count of items that each take at least minSize bytes.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minSize) {
		d.fail("count %d exceeds input", n)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// request decodes one request; values alias the input.
func (d *decoder) request(maxValue int) []Op {
	const minOpSize = 5 // kind, flags and three one-byte varints
	n := d.count(minOpSize)
	ops := make([]Op, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		var o Op
		o.kind = opKind(d.byte())
		o.flags = d.byte()
		rev := d.uvarint()
		o.key = string(d.bytes(MaxKeySize))
		o.value = d.bytes(maxValue + cipherOverhead)
		if d.err != nil {
			break
		}
		if rev > 1<<62 {
			d.fail("revision %d out of range", rev)
			break
		}
		o.rev = int64(rev)
		if o.kind == opFence {
			if o.validateFence() != nil {
				d.fail("invalid fence op %d (key %q, %d value bytes, flags %#x, term %d)", i, o.key, len(o.value), o.flags, rev)
				break
			}
			ops = append(ops, o)
			continue
		}
		if o.kind < opCreate || o.kind > opKeyRetire || o.key == "" || o.flags&^flagEncrypted != 0 {
			d.fail("invalid op %d (kind %d, key %q, flags %#x)", i, o.kind, o.key, o.flags)
			break
		}
		if o.kind.isKeyOp() && !validKeyOp(o, n) {
			d.fail("invalid %s op (key id %q, flags %#x, %d ops in the request)", o.kind, o.key, o.flags, n)
			break
		}
		ops = append(ops, o)
	}
	if n == 0 && d.err == nil {
		d.fail("empty request")
	}
	return ops
}

// validKeyOp: a key op is alone in its request and names a key id; an add
// carries a sealed secret, a retire nothing.
func validKeyOp(o Op, nops int) bool {
	if nops != 1 || len(o.key) > maxKeyIDLen {
		return false
	}
	if o.kind == opKeyAdd {
		return o.flags == flagEncrypted && len(o.value) > 0
	}
	return o.flags == 0 && len(o.value) == 0
}

// decodeEntry decodes a whole log entry.
func decodeEntry(b []byte, maxValue int) ([][]Op, error) {
	d := decoder{b: b}
	if d.byte() != entryMagic || d.byte() != entryVersion {
		d.fail("bad entry header")
		return nil, d.err
	}
	n := d.count(2)
	reqs := make([][]Op, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		reqs = append(reqs, d.request(maxValue))
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return reqs, nil
}

// decodeRequest decodes a single forwarded request and checks it is whole.
func decodeRequest(b []byte, maxValue int) ([]Op, error) {
	d := decoder{b: b}
	ops := d.request(maxValue)
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return ops, d.err
}
