package boltlog

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.etcd.io/bbolt"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func entry(index uint64) *raft.Log {
	return &raft.Log{
		Index:      index,
		Term:       index/10 + 1,
		Type:       raft.LogCommand,
		Data:       []byte{'d', byte(index)},
		AppendedAt: time.Unix(1700000000, int64(index)).UTC(),
	}
}

func indexes(t *testing.T, s *Store) (first, last uint64) {
	t.Helper()
	first, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	if last, err = s.LastIndex(); err != nil {
		t.Fatal(err)
	}
	return first, last
}

func sameEntry(t *testing.T, got, want *raft.Log) {
	t.Helper()
	if got.Index != want.Index || got.Term != want.Term || got.Type != want.Type ||
		!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) ||
		!got.AppendedAt.Equal(want.AppendedAt) {
		t.Fatalf("entry %d: got %+v, want %+v", want.Index, got, want)
	}
}

func TestLog(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "raft.db"))
	if first, last := indexes(t, s); first != 0 || last != 0 {
		t.Fatalf("empty log: first %d, last %d; want 0, 0", first, last)
	}
	var l raft.Log
	if err := s.GetLog(1, &l); err != raft.ErrLogNotFound {
		t.Fatalf("GetLog on an empty log: %v, want raft.ErrLogNotFound", err)
	}

	var batch []*raft.Log
	for i := uint64(1); i <= 30; i++ {
		batch = append(batch, entry(i))
	}
	if err := s.StoreLogs(batch); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLog(entry(31)); err != nil {
		t.Fatal(err)
	}
	if first, last := indexes(t, s); first != 1 || last != 31 {
		t.Fatalf("after storing 1-31: first %d, last %d", first, last)
	}
	for _, i := range []uint64{1, 17, 31} {
		if err := s.GetLog(i, &l); err != nil {
			t.Fatal(err)
		}
		sameEntry(t, &l, entry(i))
	}

	// Raft truncates a conflicting suffix with DeleteRange and compacts the
	// prefix after a snapshot; both must leave the rest in place.
	if err := s.DeleteRange(25, 31); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(0, 9); err != nil {
		t.Fatal(err)
	}
	if first, last := indexes(t, s); first != 10 || last != 24 {
		t.Fatalf("after deleting 0-9 and 25-31: first %d, last %d; want 10, 24", first, last)
	}
	for _, i := range []uint64{9, 25} {
		if err := s.GetLog(i, &l); err != raft.ErrLogNotFound {
			t.Fatalf("GetLog(%d) after delete: %v, want raft.ErrLogNotFound", i, err)
		}
	}
	if err := s.DeleteRange(20, 10); err != nil {
		t.Fatal(err)
	}
	if first, last := indexes(t, s); first != 10 || last != 24 {
		t.Fatalf("an empty range deleted something: first %d, last %d", first, last)
	}

	replaced := entry(24)
	replaced.Term, replaced.Data = 99, []byte("new leader's entry")
	if err := s.StoreLog(replaced); err != nil {
		t.Fatal(err)
	}
	if err := s.GetLog(24, &l); err != nil {
		t.Fatal(err)
	}
	sameEntry(t, &l, replaced)
}

// TestGetLogOwnsData checks that an entry read stays intact after later
// writes reuse bbolt's pages.
func TestGetLogOwnsData(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "raft.db"))
	if err := s.StoreLog(entry(1)); err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	if err := s.GetLog(1, &l); err != nil {
		t.Fatal(err)
	}
	for i := uint64(2); i < 200; i++ {
		if err := s.StoreLog(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteRange(1, 150); err != nil {
		t.Fatal(err)
	}
	sameEntry(t, &l, entry(1))
}

func TestStable(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "raft.db"))
	if _, err := s.Get([]byte("LastVoteCand")); err != ErrKeyNotFound {
		t.Fatalf("Get of a missing key: %v, want ErrKeyNotFound", err)
	}
	// hashicorp/raft tells "never set" from a failure by this text alone.
	if _, err := s.GetUint64([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
		t.Fatalf("GetUint64 of a missing key: %v, want the text \"not found\"", err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 1<<40+3); err != nil {
		t.Fatal(err)
	}
	if n, err := s.GetUint64([]byte("CurrentTerm")); err != nil || n != 1<<40+3 {
		t.Fatalf("GetUint64: %d, %v", n, err)
	}
	if err := s.Set([]byte("LastVoteCand"), []byte("n1")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get([]byte("LastVoteCand"))
	if err != nil || string(got) != "n1" {
		t.Fatalf("Get: %q, %v", got, err)
	}
	if err := s.Set([]byte("empty"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get([]byte("empty")); err != nil || len(got) != 0 {
		t.Fatalf("Get of an empty value: %q, %v", got, err)
	}
	if _, err := s.GetUint64([]byte("LastVoteCand")); err == nil {
		t.Fatal("GetUint64 of a 2-byte value: no error")
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLogs([]*raft.Log{entry(5), entry(6)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 4); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = open(t, path)
	if first, last := indexes(t, s); first != 5 || last != 6 {
		t.Fatalf("after reopening: first %d, last %d; want 5, 6", first, last)
	}
	if n, err := s.GetUint64([]byte("CurrentTerm")); err != nil || n != 4 {
		t.Fatalf("CurrentTerm after reopening: %d, %v", n, err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	open(t, path)
	_, err := Open(path, 50*time.Millisecond)
	if !errors.Is(err, bbolt.ErrTimeout) {
		t.Fatalf("second Open of a file in use: %v, want bbolt.ErrTimeout", err)
	}
}

// TestRaftBoltDBFile reads testdata/raft-boltdb-v2.db.gz, written by
// raft-boltdb v2.3.1 (the log store of Flotilla before this package), and
// checks that this package reads every entry and stable value in it and
// encodes each entry to the very bytes raft-boltdb stored, so data dirs
// move both ways between the two. The file holds entries 2-5 (1 was
// deleted), each of a different shape, CurrentTerm 2 and a LastVoteCand.
func TestRaftBoltDBFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	gunzip(t, "testdata/raft-boltdb-v2.db.gz", path)
	s := open(t, path)

	if first, last := indexes(t, s); first != 2 || last != 5 {
		t.Fatalf("first %d, last %d; want 2, 5", first, last)
	}
	at := time.Date(2026, 11, 25, 17, 32, 0, 123456789, time.UTC)
	want := map[uint64]*raft.Log{
		2: {Index: 2, Term: 1, Type: raft.LogNoop},
		3: {Index: 3, Term: 2, Type: raft.LogCommand, Data: []byte("v3")},
		4: {Index: 4, Term: 2, Type: raft.LogCommand, Data: []byte("v4"), Extensions: []byte("ext")},
		5: {Index: 5, Term: 2, Type: raft.LogCommand, Data: []byte("v5")},
	}
	for i, w := range want {
		w.AppendedAt = at.Add(time.Duration(i) * time.Millisecond)
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil {
			t.Fatal(err)
		}
		sameEntry(t, &l, w)
	}
	if n, err := s.GetUint64([]byte("CurrentTerm")); err != nil || n != 2 {
		t.Fatalf("CurrentTerm: %d, %v; want 2", n, err)
	}
	if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "127.0.0.1:7000" {
		t.Fatalf("LastVoteCand: %q, %v", v, err)
	}

	stored := make(map[uint64][]byte)
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(logsBucket).ForEach(func(k, v []byte) error {
			stored[binary.BigEndian.Uint64(k)] = bytes.Clone(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if err := s.StoreLog(w); err != nil {
			t.Fatal(err)
		}
		var mine []byte
		err := s.db.View(func(tx *bbolt.Tx) error {
			mine = bytes.Clone(tx.Bucket(logsBucket).Get(indexKey(i)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mine, stored[i]) {
			t.Errorf("entry %d encodes to\n%x\nraft-boltdb v2 stored\n%x", i, mine, stored[i])
		}
	}
}

func gunzip(t *testing.T, from, to string) {
	t.Helper()
	f, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkStoreLogs writes batches as Raft does: one transaction, so one
// fsync, per batch.
func BenchmarkStoreLogs(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "raft.db"))
			next := uint64(1)
			logs := make([]*raft.Log, batch)
			for b.Loop() {
				for i := range logs {
					logs[i] = entry(next)
					logs[i].Data = make([]byte, 300)
					next++
				}
				if err := s.StoreLogs(logs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetLog reads entries of 300 bytes, as replication and a restart
// with log replay do.
func BenchmarkGetLog(b *testing.B) {
	const n = 10000
	s := open(b, filepath.Join(b.TempDir(), "raft.db"))
	logs := make([]*raft.Log, 0, n)
	for i := uint64(1); i <= n; i++ {
		l := entry(i)
		l.Data = make([]byte, 300)
		logs = append(logs, l)
	}
	if err := s.StoreLogs(logs); err != nil {
		b.Fatal(err)
	}
	var l raft.Log
	i := uint64(0)
	for b.Loop() {
		if err := s.GetLog(i%n+1, &l); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
