package raftstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
)

// EncryptionStatus describes encryption at rest on one node. It holds no
// secrets.
type EncryptionStatus struct {
	// Enabled: the cluster refuses values that are not encrypted. It turns
	// on when the first leader with keys is elected and stays on.
	Enabled bool
	// Primary is the key new values are sealed with ("" without keys).
	Primary string
	// Keys lists every key this node holds, the primary key and every key
	// a live value is sealed with, by id.
	Keys []KeyStatus
	// Retired lists the keys the cluster has retired.
	Retired []string
	// Unencrypted counts live values stored without encryption (written
	// before encryption was on). While encryption is on they are never
	// served; overwrite or delete them.
	Unencrypted int
}

// KeyStatus is one encryption key's part in EncryptionStatus.
type KeyStatus struct {
	ID      string
	Primary bool
	// Held: this node holds the secret, so it can read values sealed with
	// the key.
	Held bool
	// Values counts the live values sealed with the key (this node's
	// state).
	Values int
}

// EncryptionStatus reports this node's keys and how many live values each
// one seals, as of its last applied entry.
func (s *Store) EncryptionStatus() EncryptionStatus {
	counts, kr := s.fsm.sealedCounts()
	st := EncryptionStatus{
		Enabled:     kr.encrypted,
		Primary:     kr.sealID(),
		Retired:     slices.Sorted(maps.Keys(kr.retired)),
		Unencrypted: counts[""],
	}
	ids := map[string]bool{}
	for id := range kr.held {
		ids[id] = true
	}
	for id := range counts {
		if id != "" {
			ids[id] = true
		}
	}
	if st.Primary != "" {
		ids[st.Primary] = true
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		st.Keys = append(st.Keys, KeyStatus{ID: id, Primary: id == st.Primary, Held: kr.held[id] != nil, Values: counts[id]})
	}
	return st
}

// RotateEncryptionKey adds k to every replica's keyring and makes it the
// primary key, through one Raft entry, so every replica switches at the
// same revision; each node that has a KeyFile rewrites it before the
// change takes effect there. The entry carries k's secret sealed with the
// current primary key, never in plaintext. Values sealed with older keys
// stay readable; Reencrypt rewrites them, and RetireEncryptionKey then
// removes the old key. It works on any node (a follower forwards it to the
// leader) and returns once this node has applied the change.
//
// A zero k.Secret makes a new random key, and with a zero k.ID too an id
// "k-<unix seconds>". It returns the id of the new primary key.
// Rotating again to the current primary key (same id and secret) changes
// nothing, so a call that failed with ErrUnknownOutcome may be repeated.
//
// Errors: ErrInvalidArgument for a bad id or secret, an id the cluster
// retired, or a node without encryption keys (encryption cannot be turned
// on with plaintext in the log: configure keys instead); ErrAlreadyExists
// for an id this node holds with another secret; ErrDecrypt if this node
// does not hold the primary key; and the errors of Create.
func (s *Store) RotateEncryptionKey(ctx context.Context, k EncryptionKey) (string, error) {
	if err := s.running(); err != nil {
		return "", err
	}
	generateID := false
	if len(k.Secret) == 0 {
		k.Secret = make([]byte, keySecretSize)
		_, _ = rand.Read(k.Secret) // never fails (crypto/rand)
		generateID = k.ID == ""
	}
	switch {
	case !generateID && (k.ID == "" || len(k.ID) > maxKeyIDLen):
		return "", fmt.Errorf("%w: EncryptionKey.ID must be 1 to %d bytes", ErrInvalidArgument, maxKeyIDLen)
	case len(k.Secret) != keySecretSize:
		return "", fmt.Errorf("%w: EncryptionKey.Secret is %d bytes, AES-256 needs %d", ErrInvalidArgument, len(k.Secret), keySecretSize)
	}
	res, err := s.proposeSealed(ctx, func(kr *keyring) ([]Op, error) {
		if generateID {
			k.ID = newKeyID(kr, time.Now())
		}
		switch hk := kr.held[k.ID]; {
		case !kr.on():
			return nil, fmt.Errorf("%w: encryption is not configured: give every node EncryptionKeys or a KeyFile", ErrInvalidArgument)
		case kr.retired[k.ID]:
			return nil, fmt.Errorf("%w: encryption key %q was retired; choose another id", ErrInvalidArgument, k.ID)
		case hk != nil && !bytes.Equal(hk.secret, k.Secret):
			return nil, fmt.Errorf("%w: encryption key %q, with another secret", ErrAlreadyExists, k.ID)
		}
		sealed, err := kr.wrapKey(k)
		if err != nil {
			return nil, err
		}
		return []Op{{kind: opKeyAdd, flags: flagEncrypted, key: k.ID, value: sealed}}, nil
	})
	if err != nil {
		return "", err
	}
	if res.code != codeOK {
		return "", fmt.Errorf("raftstore: rotate to encryption key %q: %w", k.ID, codeErr(res.code))
	}
	if err := s.waitLocal(ctx, res.rev); err != nil {
		return k.ID, err
	}
	s.log.Info("rotated the primary encryption key", zap.String("key", k.ID), zap.Int64("revision", res.rev))
	return k.ID, nil
}

// newKeyID names a generated key after the time, unless that id is taken.
func newKeyID(kr *keyring, now time.Time) string {
	base := fmt.Sprintf("k-%d", now.Unix())
	id := base
	for n := 2; kr.held[id] != nil || kr.retired[id] || kr.primary == id; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}

// waitLocal waits until this node has applied rev, so its own reads and
// status reflect a change the leader confirmed.
func (s *Store) waitLocal(ctx context.Context, rev int64) error {
	ctx, cancel := s.requestContext(ctx)
	defer cancel()
	if err := s.fsm.waitApplied(ctx, rev); err != nil {
		return fmt.Errorf("raftstore: applied at revision %d, not yet on this node: %w", rev, err)
	}
	return nil
}

// maxReencryptPasses bounds Reencrypt's rounds; each round rewrites what
// the previous one lost to concurrent writes or rotations.
const maxReencryptPasses = 5

// Reencrypt rewrites every live value sealed with a key other than the
// primary with the primary key, and returns how many it rewrote. It works
// in batches through Raft, on any node. A rewrite keeps the value's
// revisions (ModRevision, Version) and sends no watch event: the value is
// the same, only its ciphertext changes (the leader refuses a forwarded
// rewrite that would change the plaintext, so it must hold the old key as
// well as the primary). Each rewrite is a compare-and-swap on the ModRevision, so a
// concurrent write wins; Reencrypt then looks at that key again (it is
// usually sealed with the primary key already). Values stored unencrypted
// are left alone (see EncryptionStatus.Unencrypted).
//
// Errors: ErrInvalidArgument when encryption is not on; ErrDecrypt when
// this node does not hold the primary key or the key of some values (the
// count says how many; run it on a node that holds them); ErrConflict if
// values still use old keys after several rounds (keys rotated meanwhile:
// call it again); and the errors of Create. The count is valid with an
// error too.
func (s *Store) Reencrypt(ctx context.Context) (int, error) {
	if err := s.running(); err != nil {
		return 0, err
	}
	total := 0
	for pass := 1; ; pass++ {
		if err := s.linearize(ctx); err != nil {
			return total, err
		}
		stale, kr := s.fsm.staleEntries()
		if !kr.encrypted {
			return total, fmt.Errorf("%w: encryption is not on", ErrInvalidArgument)
		}
		if kr.held[kr.primary] == nil {
			return total, fmt.Errorf("%w: this node does not hold the primary encryption key %q", ErrDecrypt, kr.primary)
		}
		var todo []*entry
		missing := map[string]int{}
		for _, e := range stale {
			if id, _ := entryKeyID(e); kr.held[string(id)] == nil {
				missing[string(id)]++
			} else {
				todo = append(todo, e)
			}
		}
		if len(todo) == 0 {
			if len(missing) > 0 {
				var parts []string
				for _, id := range slices.Sorted(maps.Keys(missing)) {
					parts = append(parts, fmt.Sprintf("%d with %q", missing[id], id))
				}
				return total, fmt.Errorf("%w: values sealed with keys this node does not hold: %s", ErrDecrypt, strings.Join(parts, ", "))
			}
			return total, nil
		}
		if pass > maxReencryptPasses {
			return total, fmt.Errorf("%w: %d values still sealed with old keys after %d rounds", ErrConflict, len(todo), maxReencryptPasses)
		}
		n, err := s.reseal(ctx, kr, todo)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// reseal rewrites todo, read under kr, with kr's primary key, in batches of
// at most MaxTxnOps values and half the request limit.
func (s *Store) reseal(ctx context.Context, kr *keyring, todo []*entry) (int, error) {
	done := 0
	for len(todo) > 0 {
		var ops []Op
		size := 0
		for len(todo) > 0 && len(ops) < MaxTxnOps && (len(ops) == 0 || size+len(todo[0].value) <= s.maxRequest/2) {
			e := todo[0]
			todo = todo[1:]
			plain, err := kr.open(e.key, e.value)
			if err != nil {
				return done, err
			}
			v, err := kr.seal(e.key, plain)
			clear(plain)
			if err != nil {
				return done, err
			}
			ops = append(ops, Op{kind: opReseal, flags: flagEncrypted, key: e.key, value: v, rev: e.modRev})
			size += len(e.key) + len(v)
		}
		for len(ops) > 0 {
			res, err := s.submit(ctx, appendRequest(nil, ops), len(ops), opKeys(ops))
			if err != nil {
				return done, err
			}
			switch {
			case res.code == codeOK:
				done += len(ops)
				ops = nil
			case (res.code == codeConflict || res.code == codeNotFound) && res.index >= 0 && res.index < len(ops):
				// Written or deleted since it was read: the writer wins,
				// and the next round looks at the key again. (A leader
				// that cannot open the old value refuses the rewrite the
				// same way; the rounds then run out with ErrConflict.)
				ops = slices.Delete(ops, res.index, res.index+1)
			case res.code == codeStaleKey:
				return done, nil // the primary key changed: the next round starts over
			default:
				return done, fmt.Errorf("raftstore: reencrypt: %w", codeErr(res.code))
			}
		}
	}
	return done, nil
}

// RetireEncryptionKey removes key id from every replica's keyring and key
// file, through one Raft entry. It is refused while id is the primary key
// or any live value is sealed with it (rotate, then Reencrypt, first).
// After it, values sealed with id are refused, and watchers that still
// need history events sealed with it are told to re-list (ErrTooOld).
// Retiring a retired key does nothing.
//
// Errors: ErrKeyInUse (naming how many values still use the key);
// ErrNotFound for a key this node neither holds nor has retired;
// ErrInvalidArgument for an empty id or when encryption is not on; and the
// errors of Create.
func (s *Store) RetireEncryptionKey(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: key id is empty", ErrInvalidArgument)
	}
	if err := s.running(); err != nil {
		return err
	}
	// check says why the retirement cannot happen, as of now.
	check := func() (retired bool, err error) {
		counts, kr := s.fsm.sealedCounts()
		switch {
		case !kr.encrypted:
			return false, fmt.Errorf("%w: encryption is not on", ErrInvalidArgument)
		case kr.retired[id]:
			return true, nil
		case id == kr.primary:
			return false, fmt.Errorf("%w: %q is the primary encryption key; rotate to another key first", ErrKeyInUse, id)
		case counts[id] > 0:
			return false, fmt.Errorf("%w: encryption key %q still seals %d values; run Reencrypt first", ErrKeyInUse, id, counts[id])
		case kr.held[id] == nil:
			return false, fmt.Errorf("%w: encryption key %q", ErrNotFound, id)
		}
		return false, nil
	}
	if err := s.linearize(ctx); err != nil {
		return err
	}
	if retired, err := check(); retired || err != nil {
		return err
	}
	res, err := s.submit(ctx, appendRequest(nil, []Op{{kind: opKeyRetire, key: id}}), 1, []string{id})
	if err != nil {
		return err
	}
	if res.code != codeOK {
		// Something changed between the check and the entry: say what.
		if err := s.linearize(ctx); err == nil {
			if _, err := check(); err != nil {
				return err
			}
		}
		return fmt.Errorf("raftstore: retire encryption key %q: %w", id, codeErr(res.code))
	}
	if err := s.waitLocal(ctx, res.rev); err != nil {
		return err
	}
	s.log.Info("retired an encryption key", zap.String("key", id), zap.Int64("revision", res.rev))
	return nil
}

// admitForwarded checks a forwarded request against this node's keyring
// before proposing it: with encryption on, every value must be sealed, and
// not with a retired key. (The state machine checks the same against the
// replicated keyring; this answers a forged or stale request early.)
func (s *Store) admitForwarded(ops []Op) (rpcResp, bool) {
	kr := s.fsm.keyring()
	if !kr.on() {
		return rpcResp{}, true
	}
	for i, o := range ops {
		switch o.kind {
		case opCreate, opPut, opUpdate, opReseal:
		default:
			continue
		}
		id, ok := sealedKeyIDBytes(o.value)
		switch {
		case o.flags&flagEncrypted == 0 || !ok:
			s.log.Warn("refused a forwarded write with an unencrypted value", zap.String("key", o.key))
			return rpcResp{code: codeInvalid, index: i}, false
		case kr.retired[string(id)]:
			return rpcResp{code: codeStaleKey, index: i, rev: s.fsm.revision()}, false
		case o.kind == opReseal && !s.resealKeepsValue(o):
			s.log.Warn("refused a forwarded reseal that does not keep the value", zap.String("key", o.key))
			return rpcResp{code: codeConflict, index: i}, false
		}
	}
	return rpcResp{}, true
}

// resealKeepsValue reports whether reseal o would keep the plaintext of
// its key, which must be at the revision o expects (else the state machine
// refuses o anyway, and it says true). A rewrite that keeps revisions and
// sends no event must not be able to change a value.
func (s *Store) resealKeepsValue(o Op) bool {
	e, kr := s.fsm.get(o.key)
	if e == nil || e.modRev != o.rev {
		return true
	}
	if e.flags&flagEncrypted == 0 {
		return false
	}
	old, err := kr.open(e.key, e.value)
	if err != nil {
		return false
	}
	now, err := kr.open(o.key, o.value)
	return err == nil && bytes.Equal(old, now)
}

// turnOnEncryption runs on a new leader. In a cluster not yet encrypted,
// a leader that holds keys commits the entry that turns encryption on with
// its primary key, sealed with that key itself: nodes that hold it learn
// nothing new, and the log never holds a secret in plaintext.
func (s *Store) turnOnEncryption() {
	kr := s.fsm.keyring()
	if kr.encrypted || len(kr.held) == 0 {
		return
	}
	id, hk, err := kr.sealer()
	if err == nil {
		var sealed []byte
		if sealed, err = kr.wrapKey(EncryptionKey{ID: id, Secret: hk.secret}); err == nil {
			f := s.raft.Apply(encodeEntry([][]byte{appendRequest(nil, []Op{{kind: opKeyAdd, flags: flagEncrypted, key: id, value: sealed}})}), 0)
			if err = mapRaftErr(f.Error()); err == nil {
				if res, ok := f.Response().([]reqResult); ok && len(res) == 1 && res[0].code != codeOK {
					err = codeErr(res[0].code)
				}
			}
		}
	}
	if err != nil {
		s.log.Warn("could not turn encryption on; the next leader tries again", zap.String("key", id), zap.Error(err))
		return
	}
	s.log.Info("turned encryption at rest on", zap.String("primaryKey", id))
}

// SetEncryptionKeys adds keys to the node's starting keys, as if they
// were listed in Config.EncryptionKeys (a key with an ID already listed is
// skipped); call it between New and Start. It lets a program that learns
// the cluster's keys only after New — a node that receives them when it
// joins — hand them over without building a new Store. With KeyFile they
// are merged into the key file at Start, as configured keys are.
//
// Errors: a key that Validate would refuse (naming it); ErrStopped or an
// error saying the Store has started.
func (s *Store) SetEncryptionKeys(keys []EncryptionKey) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if s.started {
		return fmt.Errorf("%w: SetEncryptionKeys after Start", ErrInvalidArgument)
	}
	next := slices.Clone(s.cfg.EncryptionKeys)
	for _, k := range keys {
		if !slices.ContainsFunc(next, func(e EncryptionKey) bool { return e.ID == k.ID }) {
			next = append(next, k)
		}
	}
	cfg := s.cfg
	cfg.EncryptionKeys = next
	if err := cfg.Validate(); err != nil {
		return err
	}
	kr, err := newKeyring(next)
	if err != nil {
		return err
	}
	s.cfg.EncryptionKeys = next
	s.fsm.setKeys(kr, "")
	return nil
}

// ExportEncryptionKeys returns the keys this node holds, secrets included,
// the cluster's primary first: what another server needs to read the
// state (a server that joins receives them). Handle the result as the
// secret it is.
func (s *Store) ExportEncryptionKeys() []EncryptionKey {
	kr := s.fsm.keyring()
	if kr == nil {
		return nil
	}
	primary := kr.primary
	if primary == "" {
		primary = kr.localPrimary
	}
	out := make([]EncryptionKey, 0, len(kr.held))
	for id, k := range kr.held {
		if kr.retired[id] {
			continue
		}
		out = append(out, EncryptionKey{ID: id, Secret: slices.Clone(k.secret)})
	}
	slices.SortFunc(out, func(a, b EncryptionKey) int {
		switch {
		case a.ID == primary:
			return -1
		case b.ID == primary:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
