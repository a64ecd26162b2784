// Package boltlog keeps a Raft node's log and stable state (term, vote) in
// one bbolt file: the raft.LogStore and raft.StableStore of a raftstore
// node with a DataDir.
//
// It exists so that Flotilla needs no log store that imports
// hashicorp/go-metrics' compat package: raft-boltdb does, go-metrics v0.7.0
// dropped it, and raft v1.8 and memberlist v0.7 require v0.7.0, so the two
// cannot build together without a replace directive, which Go ignores in a
// dependency and so would break every program that imports Flotilla.
//
// The file keeps raft-boltdb v2's layout (bucket "logs" keyed by the
// big-endian index, bucket "conf" for the stable store, entries in
// MessagePack with the same time encoding), so a data dir written by
// earlier versions of Flotilla opens unchanged, and one written by this
// package opens in raft-boltdb v2.
//
//  1. Open(path, lockTimeout) creates the file if needed and takes its
//     lock (another process holding it fails the call after lockTimeout).
//  2. Pass the Store to raft.NewRaft as both the LogStore and the
//     StableStore.
//  3. Close it after Raft has shut down.
//
// Every write is one bbolt transaction, fsynced before it returns.
//
// It does not cache entries (wrap it in raft.NewLogCache for that), report
// metrics (Raft's own storeLogs and dispatchLog timings cover its writes),
// or migrate files of raft-boltdb v1 (boltdb/bolt), which Flotilla never
// wrote.
package boltlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
	"go.etcd.io/bbolt"
)

var (
	logsBucket = []byte("logs")
	confBucket = []byte("conf")
)

// ErrKeyNotFound is returned by Get and GetUint64 for a key never set. Its
// text is "not found" without a package prefix because hashicorp/raft
// recognises a missing term or vote by that exact text.
var ErrKeyNotFound = errors.New("not found")

// Store is a raft.LogStore and raft.StableStore on one bbolt file. Its
// methods are safe for concurrent use.
type Store struct {
	db *bbolt.DB
	// encode writes entries as raft-boltdb v2 does by default: time.Time
	// through its BinaryMarshaler rather than MessagePack's time extension,
	// so that raft-boltdb v2 can read what this package writes. Decoding
	// accepts either form.
	encode *codec.MsgpackHandle
	decode *codec.MsgpackHandle
}

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// Open opens or creates the bbolt file at path (mode 0600) with both
// buckets. lockTimeout bounds the wait for the file's lock when another
// process holds it; zero waits forever.
//
// Errors: the file cannot be created or read, is not a bbolt file, or its
// lock was not had within lockTimeout (bbolt's ErrTimeout, wrapped).
func Open(path string, lockTimeout time.Duration) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("boltlog: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{logsBucket, confBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltlog: create buckets in %s: %w", path, err)
	}
	enc := &codec.MsgpackHandle{}
	enc.TimeNotBuiltin = true
	return &Store{db: db, encode: enc, decode: &codec.MsgpackHandle{}}, nil
}

// Close closes the file. Calls after the first return nil.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltlog: close: %w", err)
	}
	return nil
}

// FirstIndex returns the lowest index in the log, 0 if it is empty.
func (s *Store) FirstIndex() (uint64, error) {
	return s.edgeIndex(func(c *bbolt.Cursor) []byte { k, _ := c.First(); return k })
}

// LastIndex returns the highest index in the log, 0 if it is empty.
func (s *Store) LastIndex() (uint64, error) {
	return s.edgeIndex(func(c *bbolt.Cursor) []byte { k, _ := c.Last(); return k })
}

func (s *Store) edgeIndex(move func(*bbolt.Cursor) []byte) (uint64, error) {
	var idx uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		if k := move(tx.Bucket(logsBucket).Cursor()); k != nil {
			idx = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("boltlog: read index: %w", err)
	}
	return idx, nil
}

// GetLog reads the entry at index into log.
//
// Errors: raft.ErrLogNotFound (unwrapped, as Raft compares it) when there
// is no entry at index; a decoding error for a damaged entry.
func (s *Store) GetLog(index uint64, log *raft.Log) error {
	var val []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		// bbolt's slice is valid only inside the transaction, and the
		// decoder may point log.Data into its input: keep a copy.
		val = slices.Clone(tx.Bucket(logsBucket).Get(indexKey(index)))
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltlog: read entry %d: %w", index, err)
	}
	if val == nil {
		return raft.ErrLogNotFound
	}
	if err := codec.NewDecoderBytes(val, s.decode).Decode(log); err != nil {
		return fmt.Errorf("boltlog: decode entry %d: %w", index, err)
	}
	return nil
}

// StoreLog appends one entry; see StoreLogs.
func (s *Store) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs writes the entries in one transaction: after a crash either
// all of them are on disk or none is. An entry at an index already present
// replaces it.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	// Encode before the write transaction, which holds bbolt's single
	// writer lock.
	vals := make([][]byte, len(logs))
	for i, l := range logs {
		if err := codec.NewEncoderBytes(&vals[i], s.encode).Encode(l); err != nil {
			return fmt.Errorf("boltlog: encode entry %d: %w", l.Index, err)
		}
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(logsBucket)
		for i, l := range logs {
			if err := b.Put(indexKey(l.Index), vals[i]); err != nil {
				return fmt.Errorf("entry %d: %w", l.Index, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltlog: store entries: %w", err)
	}
	return nil
}

// DeleteRange removes the entries from min to max, both included, in one
// transaction. Indexes without an entry are skipped.
func (s *Store) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(logsBucket)
		// Collect first: deleting under a cursor while it moves is easy to
		// get wrong in bbolt, and the keys are small.
		var keys [][]byte
		c := b.Cursor()
		for k, _ := c.Seek(indexKey(min)); k != nil && binary.BigEndian.Uint64(k) <= max; k, _ = c.Next() {
			keys = append(keys, k)
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltlog: delete entries %d-%d: %w", min, max, err)
	}
	return nil
}

// Set stores val under key in the stable store.
func (s *Store) Set(key, val []byte) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(confBucket).Put(key, val)
	})
	if err != nil {
		return fmt.Errorf("boltlog: set %q: %w", key, err)
	}
	return nil
}

// Get returns the value stored under key.
//
// Errors: ErrKeyNotFound (unwrapped) when key was never set.
func (s *Store) Get(key []byte) ([]byte, error) {
	var val []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		val = slices.Clone(tx.Bucket(confBucket).Get(key))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltlog: get %q: %w", key, err)
	}
	if val == nil {
		return nil, ErrKeyNotFound
	}
	return val, nil
}

// SetUint64 stores val under key as 8 big-endian bytes.
func (s *Store) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns the number stored under key by SetUint64.
//
// Errors: ErrKeyNotFound (unwrapped) when key was never set; an error when
// the value is not 8 bytes long.
func (s *Store) GetUint64(key []byte) (uint64, error) {
	val, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(val) != 8 {
		return 0, fmt.Errorf("boltlog: %q holds %d bytes, not a uint64", key, len(val))
	}
	return binary.BigEndian.Uint64(val), nil
}

func indexKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), index)
}
