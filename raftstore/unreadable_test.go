package raftstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A value that cannot be served (here: written before encryption was
// turned on) fails a plain List, as before; with SkipUnreadable the List
// serves the other keys and reports the bad one, in key order. Get of
// that key still fails, naming it.
func TestListSkipUnreadable(t *testing.T) {
	c := newTestCluster(t, 1, withDisk())
	ctx := ctxT(t)
	for _, k := range []string{"p/a", "p/c"} {
		if _, err := c.leader().Put(ctx, k, []byte("plaintext "+k)); err != nil {
			t.Fatal(err)
		}
	}
	c.stop(0)
	c.cfgs[0].EncryptionKeys = []EncryptionKey{testK1}
	c.start(0)
	c.waitLeader()
	waitEncrypted(t, c)
	s := c.leader()
	for _, k := range []string{"p/b", "p/d"} {
		if _, err := s.Put(ctx, k, []byte("sealed "+k)); err != nil {
			t.Fatal(err)
		}
	}

	if kvs, _, err := s.List(ctx, "p/"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("List without SkipUnreadable = %d keys, %v; want ErrDecrypt", len(kvs), err)
	}
	var skipped []string
	kvs, rev, err := s.List(ctx, "p/", Linearizable(), SkipUnreadable(func(key string, err error) {
		if !errors.Is(err, ErrDecrypt) {
			t.Errorf("skipped %s with %v, want ErrDecrypt", key, err)
		}
		skipped = append(skipped, key)
	}))
	if err != nil {
		t.Fatalf("List with SkipUnreadable: %v", err)
	}
	var got []string
	for _, kv := range kvs {
		got = append(got, kv.Key+"="+string(kv.Value))
	}
	if want := []string{"p/b=sealed p/b", "p/d=sealed p/d"}; !slices.Equal(got, want) {
		t.Errorf("List served %q, want %q", got, want)
	}
	if want := []string{"p/a", "p/c"}; !slices.Equal(skipped, want) {
		t.Errorf("reported %q, want %q", skipped, want)
	}
	if rev != s.Revision() {
		t.Errorf("List at revision %d, store at %d", rev, s.Revision())
	}
	var ke *KeyError
	if _, err := s.Get(ctx, "p/a"); !errors.As(err, &ke) || ke.Key != "p/a" || !errors.Is(err, ErrDecrypt) {
		t.Errorf("Get p/a = %v, want a *KeyError for p/a wrapping ErrDecrypt", err)
	}
	if kvs, _, err := s.List(ctx, "p/", SkipUnreadable(nil)); err != nil || len(kvs) != 2 {
		t.Errorf("List with SkipUnreadable(nil) = %d keys, %v; want 2, nil", len(kvs), err)
	}
}

// Count walks keys only, stops at Limit, and counts values List could not
// serve too (it never reads them).
func TestCount(t *testing.T) {
	c := newTestCluster(t, 1)
	ctx := ctxT(t)
	s := c.leader()
	for _, k := range []string{"a/1", "a/2", "a/3", "ab", "b/1"} {
		if _, err := s.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		prefix string
		opts   []ReadOption
		want   int
	}{
		{"a/", nil, 3},
		{"a", nil, 4},
		{"", nil, 5},
		{"c/", nil, 0},
		{"a/", []ReadOption{Limit(2)}, 2},
		{"a/", []ReadOption{Limit(10), Linearizable()}, 3},
	} {
		n, rev, err := s.Count(ctx, tc.prefix, tc.opts...)
		if err != nil || n != tc.want || rev != s.Revision() {
			t.Errorf("Count(%q) = %d at %d, %v; want %d at %d", tc.prefix, n, rev, err, tc.want, s.Revision())
		}
	}
}

// A node killed while writing a snapshot leaves DataDir/snapshots/*.tmp;
// the next Start removes it and keeps the finished snapshots, which the
// node still restores from.
func TestStartRemovesUnfinishedSnapshots(t *testing.T) {
	c := newTestCluster(t, 1, withDisk())
	ctx := ctxT(t)
	if _, err := c.leader().Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := c.leader().Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	c.stop(0)
	dir := filepath.Join(c.cfgs[0].DataDir, snapshotsDir)
	finished, err := os.ReadDir(dir)
	if err != nil || len(finished) == 0 {
		t.Fatalf("snapshot dir: %d entries, %v", len(finished), err)
	}
	tmp := filepath.Join(dir, "2-99-1700000000000.tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "state.bin"), []byte("half a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := c.start(0)
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unfinished snapshot still there after Start: %v", err)
	}
	for _, e := range finished {
		if _, err := os.Stat(filepath.Join(dir, e.Name())); err != nil {
			t.Errorf("finished snapshot %s gone: %v", e.Name(), err)
		}
	}
	c.waitLeader()
	if kv, err := s.Get(ctx, "k", Linearizable()); err != nil || string(kv.Value) != "v" {
		t.Errorf("after restart Get k = %q, %v", kv.Value, err)
	}
}
