package raftstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// EncryptionKey is one AES-256 key for values at rest. Its ID is recorded in
// every value it encrypts, so keys can rotate: new writes use the first key
// of Config.EncryptionKeys, reads find the key by ID among all of them.
type EncryptionKey struct {
	ID     string // 1 to 255 bytes, unique in the list
	Secret []byte // exactly 32 bytes
}

// ciphertext layout: len(id) id nonce sealed(value, aad=key)
const (
	nonceSize      = 12
	cipherOverhead = 1 + 255 + nonceSize + 16
)

type keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
}

func newKeyring(keys []EncryptionKey) (*keyring, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	kr := &keyring{primary: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", k.ID, err)
		}
		kr.aeads[k.ID] = aead
	}
	return kr, nil
}

// seal encrypts value for key with the primary key.
func (kr *keyring) seal(key string, value []byte) ([]byte, error) {
	aead := kr.aeads[kr.primary]
	out := make([]byte, 0, 1+len(kr.primary)+nonceSize+len(value)+aead.Overhead())
	out = append(out, byte(len(kr.primary)))
	out = append(out, kr.primary...)
	nonce := out[len(out) : len(out)+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("raftstore: nonce: %w", err)
	}
	out = out[:len(out)+nonceSize]
	return aead.Seal(out, nonce, value, []byte(key)), nil
}

// open decrypts a value sealed by seal.
func (kr *keyring) open(key string, sealed []byte) ([]byte, error) {
	if kr == nil {
		return nil, &KeyError{Key: key, Err: fmt.Errorf("%w: value is encrypted and no encryption keys are configured", ErrDecrypt)}
	}
	if len(sealed) < 1 || len(sealed) < 1+int(sealed[0])+nonceSize {
		return nil, &KeyError{Key: key, Err: fmt.Errorf("%w: truncated ciphertext", ErrDecrypt)}
	}
	idLen := int(sealed[0])
	id := string(sealed[1 : 1+idLen])
	aead, ok := kr.aeads[id]
	if !ok {
		return nil, &KeyError{Key: key, Err: fmt.Errorf("%w: key id %q is not configured", ErrDecrypt, id)}
	}
	nonce := sealed[1+idLen : 1+idLen+nonceSize]
	plain, err := aead.Open(nil, nonce, sealed[1+idLen+nonceSize:], []byte(key))
	if err != nil {
		return nil, &KeyError{Key: key, Err: fmt.Errorf("%w: key id %q: %v", ErrDecrypt, id, err)}
	}
	return plain, nil
}
