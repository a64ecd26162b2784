package raftstore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
)

// EncryptionKey is one AES-256 key for values at rest. Its ID is recorded in
// every value it encrypts, so keys can rotate: new writes use the primary
// key, reads find the key by ID.
type EncryptionKey struct {
	ID     string // 1 to 255 bytes, unique in the list
	Secret []byte // exactly 32 bytes
}

// ciphertext layout: len(id) id nonce sealed(value, aad=key)
const (
	nonceSize      = 12
	cipherOverhead = 1 + maxKeyIDLen + nonceSize + 16
	keySecretSize  = 32
	maxKeyIDLen    = 255
)

// wrapInfo derives, from each key, a second AES key that seals only other
// keys (rotation entries and snapshot keyrings). A sealed key is thus never
// a valid sealed value, whatever the name it might be stored under.
const wrapInfo = "flotilla raftstore: key wrapping"

// heldKey is a key whose secret this node holds.
type heldKey struct {
	secret []byte
	values cipher.AEAD // seals values, with the key name as associated data
	wrap   cipher.AEAD // seals other keys
}

func newHeldKey(id string, secret []byte) (*heldKey, error) {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return nil, fmt.Errorf("encryption key id %q: must be 1 to %d bytes", id, maxKeyIDLen)
	}
	if len(secret) != keySecretSize {
		return nil, fmt.Errorf("encryption key %q: secret is %d bytes, AES-256 needs %d", id, len(secret), keySecretSize)
	}
	values, err := newGCM(secret)
	if err != nil {
		return nil, fmt.Errorf("encryption key %q: %w", id, err)
	}
	wk, err := hkdf.Key(sha256.New, secret, nil, wrapInfo, keySecretSize)
	if err != nil {
		return nil, fmt.Errorf("encryption key %q: %w", id, err)
	}
	wrap, err := newGCM(wk)
	if err != nil {
		return nil, fmt.Errorf("encryption key %q: %w", id, err)
	}
	return &heldKey{secret: bytes.Clone(secret), values: values, wrap: wrap}, nil
}

func newGCM(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// keyring is the encryption state of a node as of one applied log index.
// It is never modified: a change builds a new one, so a reader may keep
// using the one it took.
//
// Part of it is replicated: encrypted, primary and retired follow from the
// Raft log and snapshots alone, so every replica agrees on them at every
// index, and the state machine decides what to accept from them only.
// The secrets (held) are this node's own: from its configuration and key
// file, and learned from rotation entries and snapshots it could open.
type keyring struct {
	// encrypted: the cluster refuses values that are not sealed. It turns
	// on with the first key entry in the log and never turns off.
	encrypted bool
	// primary is the key every replica seals new values with, once
	// encrypted.
	primary string
	// retired keys: values sealed with them are refused.
	retired map[string]bool

	held map[string]*heldKey
	// localPrimary is the key this node seals with before the cluster is
	// encrypted (the first configured key, or the key file's choice).
	localPrimary string
}

func emptyKeyring() *keyring {
	return &keyring{retired: map[string]bool{}, held: map[string]*heldKey{}}
}

// newKeyring holds keys, the first one primary.
func newKeyring(keys []EncryptionKey) (*keyring, error) {
	kr := emptyKeyring()
	for _, k := range keys {
		hk, err := newHeldKey(k.ID, k.Secret)
		if err != nil {
			return nil, err
		}
		kr.held[k.ID] = hk
	}
	if len(keys) > 0 {
		kr.localPrimary = keys[0].ID
	}
	return kr, nil
}

func (kr *keyring) clone() *keyring {
	c := *kr
	c.retired = maps.Clone(kr.retired)
	c.held = maps.Clone(kr.held)
	return &c
}

// on reports whether values are (to be) encrypted: the cluster says so, or
// this node has keys. Either way an unsealed value is never served.
func (kr *keyring) on() bool { return kr.encrypted || len(kr.held) > 0 }

// sealID is the key new values are sealed with: the cluster's primary once
// encrypted, this node's choice before.
func (kr *keyring) sealID() string {
	if kr.encrypted {
		return kr.primary
	}
	return kr.localPrimary
}

// heldIDs lists the ids of the keys this node holds, sorted.
func (kr *keyring) heldIDs() []string { return slices.Sorted(maps.Keys(kr.held)) }

// sealer returns the key to seal with.
func (kr *keyring) sealer() (string, *heldKey, error) {
	id := kr.sealID()
	hk := kr.held[id]
	if hk == nil {
		return "", nil, fmt.Errorf("%w: this node does not hold the primary encryption key %q (add it to EncryptionKeys or KeyFile)", ErrDecrypt, id)
	}
	return id, hk, nil
}

// sealWith encrypts plain with aead under a fresh random nonce and returns
// len(id) id nonce ciphertext.
func sealWith(aead cipher.AEAD, id string, plain, aad []byte) ([]byte, error) {
	out := make([]byte, 0, 1+len(id)+nonceSize+len(plain)+aead.Overhead())
	out = append(out, byte(len(id)))
	out = append(out, id...)
	nonce := out[len(out) : len(out)+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("raftstore: nonce: %w", err)
	}
	out = out[:len(out)+nonceSize]
	return aead.Seal(out, nonce, plain, aad), nil
}

// sealedKeyIDBytes returns the id of the key sealed was sealed with,
// aliasing sealed; false if sealed is too short to be ciphertext. (Map
// lookups and comparisons with string(id) do not allocate, so the apply
// and read paths use it.)
func sealedKeyIDBytes(sealed []byte) ([]byte, bool) {
	if len(sealed) < 1 || sealed[0] == 0 || len(sealed) < 1+int(sealed[0])+nonceSize {
		return nil, false
	}
	return sealed[1 : 1+int(sealed[0])], true
}

// sealedKeyID is sealedKeyIDBytes as a string.
func sealedKeyID(sealed []byte) (string, bool) {
	id, ok := sealedKeyIDBytes(sealed)
	return string(id), ok
}

// openWith decrypts a sealWith result. held is false when this node does
// not hold the key it names.
func (kr *keyring) openWith(sealed, aad []byte, wrap bool) (plain []byte, held bool, err error) {
	id, ok := sealedKeyIDBytes(sealed)
	if !ok {
		return nil, false, fmt.Errorf("%w: truncated ciphertext", ErrDecrypt)
	}
	hk := kr.held[string(id)]
	if hk == nil {
		return nil, false, fmt.Errorf("%w: key id %q is not held by this node", ErrDecrypt, id)
	}
	aead := hk.values
	if wrap {
		aead = hk.wrap
	}
	rest := sealed[1+len(id):]
	plain, err = aead.Open(nil, rest[:nonceSize], rest[nonceSize:], aad)
	if err != nil {
		return nil, true, fmt.Errorf("%w: key id %q: %v", ErrDecrypt, id, err)
	}
	return plain, true, nil
}

// seal encrypts the value of key with the key new values use.
func (kr *keyring) seal(key string, value []byte) ([]byte, error) {
	id, hk, err := kr.sealer()
	if err != nil {
		return nil, &KeyError{Key: key, Err: err}
	}
	return sealWith(hk.values, id, value, []byte(key))
}

// open decrypts the value of key.
func (kr *keyring) open(key string, sealed []byte) ([]byte, error) {
	plain, _, err := kr.openWith(sealed, []byte(key), false)
	if err != nil {
		return nil, &KeyError{Key: key, Err: err}
	}
	return plain, nil
}

// value returns e's plaintext, or an error if it cannot or must not be
// served: with encryption on, an unsealed value is refused, whoever put it
// there. shared returns an unsealed value without copying it.
func (kr *keyring) value(e *entry, shared bool) ([]byte, error) {
	switch {
	case e.flags&flagEncrypted != 0:
		return kr.open(e.key, e.value)
	case kr.on():
		return nil, &KeyError{Key: e.key, Err: fmt.Errorf("%w: value is not encrypted", ErrDecrypt)}
	case shared:
		// Entries are immutable and event values read-only; the capacity is
		// clipped so that an append cannot write into the entry.
		return e.value[:len(e.value):len(e.value)], nil
	}
	return bytes.Clone(e.value), nil
}

// keyAAD binds a sealed key to its id, so an entry cannot smuggle one key
// under the name of another.
func keyAAD(id string) []byte { return []byte("key\x00" + id) }

// wrapKey seals k's secret for a rotation entry: with the cluster's
// primary key, or, for the entry that turns encryption on, with k itself
// (so that only nodes that already hold k can read it).
func (kr *keyring) wrapKey(k EncryptionKey) ([]byte, error) {
	if !kr.encrypted {
		hk, err := newHeldKey(k.ID, k.Secret)
		if err != nil {
			return nil, err
		}
		return sealWith(hk.wrap, k.ID, k.Secret, keyAAD(k.ID))
	}
	id, hk, err := kr.sealer()
	if err != nil {
		return nil, err
	}
	return sealWith(hk.wrap, id, k.Secret, keyAAD(k.ID))
}

// unwrapKey opens a rotation entry's sealed secret for key id. held is
// false when this node does not hold the key it was sealed with.
func (kr *keyring) unwrapKey(id string, sealed []byte) (secret []byte, held bool, err error) {
	secret, held, err = kr.openWith(sealed, keyAAD(id), true)
	if err == nil && len(secret) != keySecretSize {
		err = fmt.Errorf("%w: sealed key %q has %d bytes", ErrCorrupt, id, len(secret))
	}
	return secret, held, err
}

// keyringAAD marks a snapshot's sealed key list.
var keyringAAD = []byte("keyring")

// sealKeyrings seals the list of held keys once under each held key, so a
// node that holds any one of them can learn them all.
func (kr *keyring) sealKeyrings() ([][]byte, error) {
	ids := kr.heldIDs()
	var plain []byte
	plain = binary.AppendUvarint(plain, uint64(len(ids)))
	for _, id := range ids {
		plain = append(plain, byte(len(id)))
		plain = append(plain, id...)
		plain = append(plain, kr.held[id].secret...)
	}
	blobs := make([][]byte, 0, len(ids))
	for _, id := range ids {
		b, err := sealWith(kr.held[id].wrap, id, plain, keyringAAD)
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, b)
	}
	clear(plain)
	return blobs, nil
}

// openKeyring opens one of sealKeyrings' blobs. held is false when this
// node does not hold the key it was sealed with.
func (kr *keyring) openKeyring(blob []byte) (keys []EncryptionKey, held bool, err error) {
	plain, held, err := kr.openWith(blob, keyringAAD, true)
	if err != nil {
		return nil, held, err
	}
	id, _ := sealedKeyID(blob)
	d := decoder{b: plain}
	n := d.count(1 + 1 + keySecretSize)
	for i := 0; i < n && d.err == nil; i++ {
		idLen := int(d.byte())
		if d.err == nil && (idLen == 0 || len(d.b) < idLen+keySecretSize) {
			d.fail("key %d of the keyring sealed with %q", i, id)
			break
		}
		keys = append(keys, EncryptionKey{ID: string(d.b[:idLen]), Secret: bytes.Clone(d.b[idLen : idLen+keySecretSize])})
		d.b = d.b[idLen+keySecretSize:]
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes in the keyring sealed with %q", len(d.b), id)
	}
	clear(plain)
	return keys, true, d.err
}

// withKey returns a copy that also holds k, keeping a secret it already
// holds under that id; differs reports such a secret that is not k's.
func (kr *keyring) withKey(k EncryptionKey) (next *keyring, differs bool, err error) {
	if hk := kr.held[k.ID]; hk != nil {
		return kr, !bytes.Equal(hk.secret, k.Secret), nil
	}
	hk, err := newHeldKey(k.ID, k.Secret)
	if err != nil {
		return kr, false, err
	}
	next = kr.clone()
	next.held[k.ID] = hk
	if next.localPrimary == "" {
		next.localPrimary = k.ID
	}
	return next, false, nil
}
