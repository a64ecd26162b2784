package raftstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

var (
	testK1 = EncryptionKey{ID: "k1", Secret: bytes.Repeat([]byte{0x11}, 32)}
	testK2 = EncryptionKey{ID: "k2", Secret: bytes.Repeat([]byte{0x22}, 32)}
)

func randomKey(t testing.TB, id string) EncryptionKey {
	t.Helper()
	k := EncryptionKey{ID: id, Secret: make([]byte, 32)}
	if _, err := rand.Read(k.Secret); err != nil {
		t.Fatal(err)
	}
	return k
}

// waitEncrypted waits until every running node has applied the entry that
// turns encryption on.
func waitEncrypted(t testing.TB, c *testCluster) {
	t.Helper()
	eventually(t, 10*time.Second, "encryption to turn on everywhere", func() bool {
		for _, s := range c.stores {
			if s.running() == nil && !s.EncryptionStatus().Enabled {
				return false
			}
		}
		return true
	})
}

// waitApplied waits until every running node has applied rev.
func waitApplied(t testing.TB, c *testCluster, rev int64) {
	t.Helper()
	for _, s := range c.stores {
		if s.running() != nil {
			continue
		}
		if err := s.fsm.waitApplied(ctxT(t), rev); err != nil {
			t.Fatalf("%s did not apply revision %d: %v", s.ID(), rev, err)
		}
	}
}

func mustSeal(t testing.TB, kr *keyring, key, value string) []byte {
	t.Helper()
	v, err := kr.seal(key, []byte(value))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// propose appends an entry of the given requests through the leader's Raft
// directly, as a forged entry that got past every check before the log
// would, and returns each request's result.
func propose(t testing.TB, l *Store, reqs ...[]Op) ([]reqResult, int64) {
	t.Helper()
	var datas [][]byte
	for _, ops := range reqs {
		datas = append(datas, appendRequest(nil, ops))
	}
	f := l.raft.Apply(encodeEntry(datas), 0)
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	res, ok := f.Response().([]reqResult)
	if !ok {
		t.Fatalf("response %#v", f.Response())
	}
	return res, int64(f.Index())
}

func statusValues(st EncryptionStatus) map[string]int {
	m := map[string]int{}
	for _, k := range st.Keys {
		m[k.ID] = k.Values
	}
	return m
}

// Once the cluster is encrypted, a plaintext value is refused by the
// leader when a follower forwards it and by the state machine when it
// reaches the log some other way; the leader refuses a forwarded reseal
// that would change a value without a new revision. No replica stores any
// of it.
func TestPlaintextRefusedOnceEncrypted(t *testing.T) {
	c := newTestCluster(t, 3, withConfig(func(cfg *Config) { cfg.EncryptionKeys = []EncryptionKey{testK1} }))
	ctx := ctxT(t)
	waitEncrypted(t, c)
	l, f := c.leader(), c.stores[c.follower()]
	rev, err := f.Put(ctx, "real", []byte("sealed value"))
	if err != nil {
		t.Fatal(err)
	}

	resp, err := f.rpc.forward(ctx, l.Addr(), appendRequest(nil, []Op{OpPut("forged/frame", []byte("plain"))}))
	if err != nil || resp.code != codeInvalid {
		t.Fatalf("forged forwarding frame: %+v, %v; want codeInvalid", resp, err)
	}

	kr := l.fsm.keyring()
	sealed := Op{kind: opPut, flags: flagEncrypted, key: "forged/mixed-sealed", value: mustSeal(t, kr, "forged/mixed-sealed", "x")}
	res, forgedRev := propose(t, l,
		[]Op{OpPut("forged/entry", []byte("plain"))},
		[]Op{sealed, OpCreate("forged/mixed", []byte("plain"))},
		[]Op{{kind: opPut, flags: flagEncrypted, key: "forged/not-ciphertext", value: []byte{0}}},
	)
	for i, want := range []reqResult{{code: codeInvalid, index: 0}, {code: codeInvalid, index: 1}, {code: codeInvalid, index: 0}} {
		if res[i].code != want.code || res[i].index != want.index {
			t.Errorf("forged request %d: %+v, want code %d at op %d", i, res[i], want.code, want.index)
		}
	}

	reseal := Op{kind: opReseal, flags: flagEncrypted, key: "real", value: mustSeal(t, kr, "real", "changed value"), rev: rev}
	resp, err = f.rpc.forward(ctx, l.Addr(), appendRequest(nil, []Op{reseal}))
	if err != nil || resp.code != codeConflict {
		t.Errorf("a forwarded reseal that changes the plaintext: %+v, %v; want codeConflict", resp, err)
	}

	waitApplied(t, c, forgedRev)
	for _, s := range c.stores {
		kvs, _, err := s.List(ctx, "forged/", Linearizable())
		if err != nil || len(kvs) != 0 {
			t.Errorf("%s stored forged writes: %v, %v", s.ID(), kvs, err)
		}
		kv, err := s.Get(ctx, "real", Linearizable())
		if err != nil || string(kv.Value) != "sealed value" || kv.ModRevision != rev {
			t.Errorf("%s: real = %q at %d, %v", s.ID(), kv.Value, kv.ModRevision, err)
		}
		if st := s.EncryptionStatus(); st.Unencrypted != 0 || st.Primary != "k1" || statusValues(st)["k1"] != 1 {
			t.Errorf("%s: %+v", s.ID(), st)
		}
	}
}

// Values that sit unencrypted in the state, from a snapshot made before
// encryption was on or replayed from log entries written then, are never
// served once it is on: reads and watch events fail with ErrDecrypt.
func TestUnencryptedValuesNeverServed(t *testing.T) {
	c := newTestCluster(t, 3, withDisk())
	ctx := ctxT(t)
	if _, err := c.leader().Put(ctx, "old/a", []byte("plaintext a")); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.stores {
		if _, err := s.Get(ctx, "old/a", Linearizable()); err != nil {
			t.Fatal(err)
		}
		if err := s.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
	}
	revB, err := c.leader().Put(ctx, "old/b", []byte("plaintext b"))
	if err != nil {
		t.Fatal(err)
	}
	waitApplied(t, c, revB)
	for i := range c.stores {
		c.stop(i)
	}
	for i := range c.stores {
		c.cfgs[i].EncryptionKeys = []EncryptionKey{testK1}
		c.start(i)
	}
	c.waitLeader()
	waitEncrypted(t, c)

	for _, s := range c.stores {
		for _, key := range []string{"old/a", "old/b"} {
			kv, err := s.Get(ctx, key, Linearizable())
			if !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "not encrypted") || !strings.Contains(err.Error(), key) {
				t.Errorf("%s: Get %s = %q, %v; want ErrDecrypt naming the key", s.ID(), key, kv.Value, err)
			}
		}
		if kvs, _, err := s.List(ctx, "old/"); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: List = %v, %v; want ErrDecrypt", s.ID(), kvs, err)
		}
		if st := s.EncryptionStatus(); st.Unencrypted != 2 {
			t.Errorf("%s: %d unencrypted values, want 2", s.ID(), st.Unencrypted)
		}
		// old/b's entry was replayed after the restart, so its event is in
		// the history.
		w, err := s.Watch(ctx, "old/", revB-1)
		if err != nil {
			t.Fatal(err)
		}
		for ev := range w.Events() {
			t.Errorf("%s: watch served %s %q", s.ID(), ev.Key, ev.Value)
		}
		if err := w.Err(); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: watch ended with %v, want ErrDecrypt", s.ID(), err)
		}
	}
	if _, err := c.stores[0].Put(ctx, "old/a", []byte("rewritten")); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.stores {
		if kv, err := s.Get(ctx, "old/a", Linearizable()); err != nil || string(kv.Value) != "rewritten" {
			t.Errorf("%s: rewritten value %q, %v", s.ID(), kv.Value, err)
		}
	}
}

// A key is rotated while writers keep writing through the leader and a
// follower; nothing acknowledged is lost. Reencrypt then moves every value
// to the new key without new revisions or events, the old key is retired,
// and every node restarts from its data dir with only its key file. No
// file under any data dir holds a value or a key secret in plaintext.
func TestRotateReencryptRetireRestart(t *testing.T) {
	k1 := randomKey(t, "k1")
	c := newTestCluster(t, 3, withDisk(), withConfig(func(cfg *Config) {
		cfg.EncryptionKeys = []EncryptionKey{k1}
		cfg.KeyFile = filepath.Join(cfg.DataDir, "keys.json")
	}))
	ctx := ctxT(t)
	waitEncrypted(t, c)

	const marker = "PLAINTEXT-MARKER"
	var (
		mu    sync.Mutex
		acked = map[string]string{}
		errs  []error
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		once  sync.Once
	)
	stopWriters := func() { once.Do(func() { close(stop); wg.Wait() }) }
	defer stopWriters()
	write := func(s *Store, name string) {
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			key, value := fmt.Sprintf("w/%s/%04d", name, n), fmt.Sprintf("%s %s %d", marker, name, n)
			_, err := s.Put(ctx, key, []byte(value))
			mu.Lock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			} else {
				acked[key] = value
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	l, fi := c.leader(), c.follower()
	wg.Add(2)
	go write(l, "leader")
	go write(c.stores[fi], "follower")
	eventually(t, 10*time.Second, "writes before the rotation", func() bool { return ackedCount() >= 40 })
	k2, err := c.stores[fi].RotateEncryptionKey(ctx, EncryptionKey{})
	if err != nil {
		t.Fatal(err)
	}
	before := ackedCount()
	eventually(t, 10*time.Second, "writes after the rotation", func() bool { return ackedCount() >= before+40 })
	stopWriters()
	if len(errs) > 0 {
		t.Fatalf("writes failed: %v", errs)
	}

	// Every acknowledged write is on every replica, readable.
	var final []KV
	for _, s := range c.stores {
		kvs, _, err := s.List(ctx, "w/", Linearizable())
		if err != nil || len(kvs) != len(acked) {
			t.Fatalf("%s lists %d of %d acknowledged writes: %v", s.ID(), len(kvs), len(acked), err)
		}
		for _, kv := range kvs {
			if string(kv.Value) != acked[kv.Key] {
				t.Fatalf("%s: %s = %q, want %q", s.ID(), kv.Key, kv.Value, acked[kv.Key])
			}
		}
		final = kvs
	}
	// n1 and n2 restart from a snapshot taken now, holding values and keys
	// sealed with both keys; n0 has none and replays the whole log,
	// including entries sealed with the key retired below.
	for _, s := range c.stores[1:] {
		if err := s.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st := c.stores[0].EncryptionStatus()
	oldValues := statusValues(st)["k1"]
	if st.Primary != k2 || oldValues == 0 || statusValues(st)[k2] == 0 || oldValues+statusValues(st)[k2] != len(acked) {
		t.Fatalf("status after rotation: %+v", st)
	}

	// The old key is refused while values or the primary role use it.
	err = l.RetireEncryptionKey(ctx, "k1")
	if !errors.Is(err, ErrKeyInUse) || !strings.Contains(err.Error(), fmt.Sprintf("%d values", oldValues)) {
		t.Fatalf("retire a key in use: %v", err)
	}
	if err := l.RetireEncryptionKey(ctx, k2); !errors.Is(err, ErrKeyInUse) || !strings.Contains(err.Error(), "primary") {
		t.Fatalf("retire the primary key: %v", err)
	}

	// Reencrypt keeps revisions and sends no events.
	_, listRev, err := l.List(ctx, "", Linearizable())
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.stores[fi].Watch(ctx, "", listRev)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	n, err := c.stores[fi].Reencrypt(ctx)
	if err != nil || n != oldValues {
		t.Fatalf("Reencrypt = %d, %v; want %d", n, err, oldValues)
	}
	if _, err := l.Put(ctx, "after-reencrypt", nil); err != nil {
		t.Fatal(err)
	}
	if ev := <-w.Events(); ev.Key != "after-reencrypt" {
		t.Fatalf("first event after Reencrypt: %s at %d", ev.Key, ev.Revision)
	}
	for _, s := range c.stores {
		kvs, _, err := s.List(ctx, "w/", Linearizable())
		if err != nil || len(kvs) != len(final) {
			t.Fatalf("%s after Reencrypt: %d, %v", s.ID(), len(kvs), err)
		}
		for i, kv := range kvs {
			if kv.Key != final[i].Key || !bytes.Equal(kv.Value, final[i].Value) || kv.ModRevision != final[i].ModRevision || kv.Version != final[i].Version {
				t.Fatalf("%s: %+v after Reencrypt, was %+v", s.ID(), kv, final[i])
			}
		}
		if v := statusValues(s.EncryptionStatus()); v["k1"] != 0 || v[k2] != len(acked)+1 { // and after-reencrypt
			t.Fatalf("%s: values per key after Reencrypt %v", s.ID(), v)
		}
	}
	if n, err := l.Reencrypt(ctx); n != 0 || err != nil {
		t.Fatalf("second Reencrypt = %d, %v", n, err)
	}

	if err := c.stores[fi].RetireEncryptionKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, c, c.stores[fi].Revision())
	var secrets [][]byte
	secrets = append(secrets, k1.Secret)
	for i, s := range c.stores {
		st := s.EncryptionStatus()
		if len(st.Keys) != 1 || st.Keys[0].ID != k2 || !st.Keys[0].Held || len(st.Retired) != 1 || st.Retired[0] != "k1" {
			t.Fatalf("%s after retiring k1: %+v", s.ID(), st)
		}
		kf, err := readKeyFile(c.cfgs[i].KeyFile)
		if err != nil || len(kf.keys) != 1 || kf.keys[0].ID != k2 || kf.primary != k2 {
			t.Fatalf("%s key file after retiring k1: %+v, %v", s.ID(), kf, err)
		}
		secrets = append(secrets, kf.keys[0].Secret)
	}

	// Restart from the data dirs with nothing but the key files.
	for i := range c.stores {
		c.stop(i)
	}
	for i := range c.stores {
		c.cfgs[i].EncryptionKeys = nil
		c.start(i)
	}
	c.waitLeader()
	for _, s := range c.stores {
		kvs, _, err := s.List(ctx, "w/", Linearizable())
		if err != nil || len(kvs) != len(final) {
			t.Fatalf("%s after restart: %d values, %v", s.ID(), len(kvs), err)
		}
		for i, kv := range kvs {
			if kv.Key != final[i].Key || !bytes.Equal(kv.Value, final[i].Value) || kv.ModRevision != final[i].ModRevision {
				t.Fatalf("%s after restart: %+v, want %+v", s.ID(), kv, final[i])
			}
		}
		if st := s.EncryptionStatus(); st.Primary != k2 || !st.Enabled {
			t.Fatalf("%s after restart: %+v", s.ID(), st)
		}
	}
	if _, err := c.stores[fi].Put(ctx, "w/after-restart", []byte(marker+" after restart")); err != nil {
		t.Fatal(err)
	}
	for i := range c.stores {
		c.stop(i)
	}

	scanned := 0
	for _, f := range c.dataFiles() {
		if filepath.Base(f) == "keys.json" {
			continue
		}
		data := mustRead(t, f)
		scanned++
		if bytes.Contains(data, []byte(marker)) {
			t.Errorf("plaintext value in %s", f)
		}
		for _, secret := range secrets {
			if bytes.Contains(data, secret) || bytes.Contains(data, []byte(base64.StdEncoding.EncodeToString(secret))) {
				t.Errorf("a key secret in %s", f)
			}
		}
	}
	if scanned < 6 {
		t.Fatalf("scanned only %d files: %v", scanned, c.dataFiles())
	}
}

// Reencrypt's rewrites are compare-and-swaps: values written between its
// read and its rewrite win, and the rest of the batch still goes through.
func TestReencryptLosesToConcurrentWrites(t *testing.T) {
	c := newTestCluster(t, 3, withConfig(func(cfg *Config) { cfg.EncryptionKeys = []EncryptionKey{testK1} }))
	ctx := ctxT(t)
	waitEncrypted(t, c)
	const keys = 200 // two batches
	want := map[string]string{}
	for i := range keys {
		key := fmt.Sprintf("hot/%03d", i)
		if _, err := c.leader().Put(ctx, key, []byte("v0")); err != nil {
			t.Fatal(err)
		}
		want[key] = "v0"
	}
	if _, err := c.leader().RotateEncryptionKey(ctx, testK2); err != nil {
		t.Fatal(err)
	}
	f := c.stores[c.follower()]
	if err := f.linearize(ctx); err != nil {
		t.Fatal(err)
	}
	// What Reencrypt read; then writes overtake its rewrites, in both
	// batches.
	stale, kr := f.fsm.staleEntries()
	if len(stale) != keys {
		t.Fatalf("%d values under the old key, want %d", len(stale), keys)
	}
	for _, key := range []string{"hot/000", "hot/001", "hot/150"} {
		if _, err := c.leader().Put(ctx, key, []byte("new")); err != nil {
			t.Fatal(err)
		}
		want[key] = "new"
	}
	if _, err := c.leader().Delete(ctx, "hot/199", 0); err != nil {
		t.Fatal(err)
	}
	delete(want, "hot/199")
	n, err := f.reseal(ctx, kr, stale)
	if err != nil || n != keys-4 {
		t.Fatalf("reseal = %d, %v; want %d", n, err, keys-4)
	}
	if n, err := f.Reencrypt(ctx); n != 0 || err != nil {
		t.Fatalf("Reencrypt afterwards = %d, %v", n, err)
	}
	for _, s := range c.stores {
		kvs, _, err := s.List(ctx, "hot/", Linearizable())
		if err != nil || len(kvs) != len(want) {
			t.Fatalf("%s: %d keys, %v", s.ID(), len(kvs), err)
		}
		for _, kv := range kvs {
			if string(kv.Value) != want[kv.Key] {
				t.Fatalf("%s: %s = %q, want %q", s.ID(), kv.Key, kv.Value, want[kv.Key])
			}
		}
		if v := statusValues(s.EncryptionStatus()); v["k1"] != 0 || v["k2"] != len(want) {
			t.Fatalf("%s: values per key %v", s.ID(), v)
		}
	}
}

// A follower cut off during a rotation catches up by installing a
// snapshot, learns the new key from it (sealed under the old one it
// holds), writes it to its key file and reads everything; the old key can
// then be retired.
func TestCatchUpBySnapshotAfterRotation(t *testing.T) {
	dir := t.TempDir()
	c := newTestCluster(t, 3, withConfig(func(cfg *Config) {
		cfg.EncryptionKeys = []EncryptionKey{testK1}
		cfg.KeyFile = filepath.Join(dir, cfg.NodeID+".keys")
		cfg.TrailingLogs = 10
		cfg.SnapshotThreshold = 20
	}))
	ctx := ctxT(t)
	waitEncrypted(t, c)
	put := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := c.leader().Put(ctx, fmt.Sprintf("k/%03d", i), []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(0, 20)
	fi := c.follower()
	waitApplied(t, c, c.leader().Revision())
	c.net.Isolate(c.stores[fi].Addr())
	if _, err := c.leader().RotateEncryptionKey(ctx, testK2); err != nil {
		t.Fatal(err)
	}
	put(20, 100)
	if _, err := c.leader().Reencrypt(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.leader().Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	c.net.Heal()
	f := c.stores[fi]
	eventually(t, 10*time.Second, "the follower to install a snapshot", func() bool {
		return f.raft.Stats()["last_snapshot_index"] != "0" && f.EncryptionStatus().Primary == "k2"
	})
	kvs, _, err := f.List(ctx, "k/", Linearizable())
	if err != nil || len(kvs) != 100 {
		t.Fatalf("follower lists %d values: %v", len(kvs), err)
	}
	for i, kv := range kvs {
		if string(kv.Value) != fmt.Sprint(i) {
			t.Fatalf("%s = %q", kv.Key, kv.Value)
		}
	}
	if kf, err := readKeyFile(c.cfgs[fi].KeyFile); err != nil || kf.primary != "k2" || len(kf.keys) != 2 {
		t.Fatalf("follower's key file: %+v, %v", kf, err)
	}
	if err := c.leader().RetireEncryptionKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, c, c.leader().Revision())
	if kv, err := f.Get(ctx, "k/007", Linearizable()); err != nil || string(kv.Value) != "7" {
		t.Fatalf("after retiring k1: %q, %v", kv.Value, err)
	}
	if kf, err := readKeyFile(c.cfgs[fi].KeyFile); err != nil || len(kf.keys) != 1 || kf.keys[0].ID != "k2" {
		t.Fatalf("follower's key file after retiring k1: %+v, %v", kf, err)
	}
}

// startSolo starts (without bootstrapping) a single node with cfg changed
// by mutate; the node is shut down at the end of the test.
func startSolo(t *testing.T, mutate func(*Config)) (*Store, error) {
	t.Helper()
	cfg := TestConfig("solo")
	cfg.Network = NewInmemNetwork()
	cfg.Logger = zaptest.NewLogger(t)
	mutate(&cfg)
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, s.Start(ctxT(t))
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "keys.json")

	s, err := startSolo(t, func(cfg *Config) { cfg.KeyFile, cfg.EncryptionKeys = path, []EncryptionKey{testK1} })
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(ctxT(t))
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file written: %v, %v; want mode 0600", info, err)
	}
	if kf, err := readKeyFile(path); err != nil || kf.primary != "k1" || len(kf.keys) != 1 || !bytes.Equal(kf.keys[0].Secret, testK1.Secret) {
		t.Fatalf("key file holds %+v, %v", kf, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}

	t.Run("only the key file", func(t *testing.T) {
		s, err := startSolo(t, func(cfg *Config) { cfg.KeyFile = path })
		if err != nil {
			t.Fatal(err)
		}
		if st := s.EncryptionStatus(); st.Primary != "k1" || len(st.Keys) != 1 || !st.Keys[0].Held {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("configured keys are added", func(t *testing.T) {
		s, err := startSolo(t, func(cfg *Config) { cfg.KeyFile, cfg.EncryptionKeys = path, []EncryptionKey{testK2} })
		if err != nil {
			t.Fatal(err)
		}
		// The file's primary stays primary; the configured key decrypts.
		if st := s.EncryptionStatus(); st.Primary != "k1" || len(st.Keys) != 2 {
			t.Fatalf("%+v", st)
		}
		if kf, err := readKeyFile(path); err != nil || len(kf.keys) != 2 {
			t.Fatalf("%+v, %v", kf, err)
		}
	})
	t.Run("retired keys stay out", func(t *testing.T) {
		retired := filepath.Join(dir, "retired.json")
		data := `{"version": 1, "keys": [{"id": "k1", "secret": "` + base64.StdEncoding.EncodeToString(testK1.Secret) + `"}], "retired": ["k2"]}`
		if err := os.WriteFile(retired, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := startSolo(t, func(cfg *Config) { cfg.KeyFile, cfg.EncryptionKeys = retired, []EncryptionKey{testK2} })
		if err != nil {
			t.Fatal(err)
		}
		if st := s.EncryptionStatus(); len(st.Keys) != 1 || st.Keys[0].ID != "k1" {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("same id, another secret", func(t *testing.T) {
		other := EncryptionKey{ID: "k1", Secret: bytes.Repeat([]byte{0x33}, 32)}
		_, err := startSolo(t, func(cfg *Config) { cfg.KeyFile, cfg.EncryptionKeys = path, []EncryptionKey{other} })
		if err == nil || !strings.Contains(err.Error(), `EncryptionKeys[0] "k1"`) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Start: %v", err)
		}
	})
	t.Run("looser mode", func(t *testing.T) {
		for _, mode := range []os.FileMode{0o640, 0o604, 0o666} {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := startSolo(t, func(cfg *Config) { cfg.KeyFile = path })
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("%#o", mode)) {
				t.Errorf("mode %#o: %v", mode, err)
			}
		}
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		if _, err := startSolo(t, func(cfg *Config) { cfg.KeyFile = path }); err != nil {
			t.Errorf("mode 0400: %v", err)
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		bad := filepath.Join(dir, "corrupt.json")
		if err := os.WriteFile(bad, []byte(`{"version": 1, "keys": [{"id": "k1", "secret": "c2hvcnQ="}`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := startSolo(t, func(cfg *Config) { cfg.KeyFile = bad })
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "not a key file") {
			t.Fatalf("Start: %v", err)
		}
	})
}

func TestParseKeyFile(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(testK1.Secret)
	for _, tc := range []struct {
		name, data string
		want       []string // substrings of the error; none: valid
	}{
		{"valid", `{"version":1,"primary":"b","keys":[{"id":"a","secret":"` + secret + `"},{"id":"b","secret":"` + secret + `"}],"retired":["z"]}`, nil},
		{"empty", `{"version":1,"keys":[]}`, nil},
		{"not json", `id=k1`, []string{"not a key file"}},
		{"unknown field", `{"version":1,"keys":[],"extra":1}`, []string{"not a key file", "extra"}},
		{"trailing data", `{"version":1,"keys":[]} {}`, []string{"data after"}},
		{"version", `{"version":2,"keys":[]}`, []string{"version: 2"}},
		{"bad keys", `{"version":1,"primary":"x","keys":[{"id":"","secret":"` + secret + `"},{"id":"a","secret":"***"},{"id":"b","secret":"c2hvcnQ="},{"id":"c","secret":"` + secret + `"},{"id":"c","secret":"` + secret + `"}],"retired":["c"]}`,
			[]string{"keys[0].id", "keys[1].secret: not standard base64", "keys[2].secret: 5 bytes", `keys[4].id: "c" is repeated`, `primary: "x"`, `retired[0]: "c"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kf, err := parseKeyFile([]byte(tc.data))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tc.name == "valid" && (kf.primary != "b" || len(kf.keys) != 2 || kf.retired[0] != "z") {
					t.Fatalf("%+v", kf)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// fsmHolding is a state machine that holds keys.
func fsmHolding(t testing.TB, keys ...EncryptionKey) *fsm {
	t.Helper()
	f := newTestFSM()
	kr, err := newKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	f.setKeys(kr, "")
	return f
}

func keyAddOp(t testing.TB, kr *keyring, k EncryptionKey) Op {
	t.Helper()
	v, err := kr.wrapKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return Op{kind: opKeyAdd, flags: flagEncrypted, key: k.ID, value: v}
}

func resultCode(t testing.TB, res any) byte {
	t.Helper()
	r, ok := res.([]reqResult)
	if !ok || len(r) != 1 {
		t.Fatalf("result %#v", res)
	}
	return r[0].code
}

// The keyring entries, applied to a state machine, and replayed by one
// that holds only the new key (a restart after the old one was retired)
// reach the same state; snapshots carry the keys.
func TestFSMKeyringEntries(t *testing.T) {
	f := fsmHolding(t, testK1)
	k1ring := f.keyring()
	var log []*raft.Log
	step := func(ops []Op, want byte) {
		t.Helper()
		l := &raft.Log{Index: uint64(len(log) + 2), Type: raft.LogCommand, Data: encodeEntry([][]byte{appendRequest(nil, ops)})}
		log = append(log, l)
		if got := resultCode(t, f.Apply(l)); got != want {
			t.Fatalf("entry %d (%s): code %d, want %d", l.Index, ops[0].kind, got, want)
		}
	}
	sealedPut := func(kr *keyring, key, value string) Op {
		return Op{kind: opPut, flags: flagEncrypted, key: key, value: mustSeal(t, kr, key, value)}
	}

	step([]Op{OpPut("plain", []byte("before encryption"))}, codeOK)
	step([]Op{keyAddOp(t, k1ring, testK1)}, codeOK) // turns encryption on
	step([]Op{OpPut("plain2", []byte("after"))}, codeInvalid)
	step([]Op{sealedPut(k1ring, "a", "1")}, codeOK)
	step([]Op{sealedPut(k1ring, "b", "2")}, codeOK)
	step([]Op{keyAddOp(t, f.keyring(), testK2)}, codeOK)
	if kr := f.keyring(); kr.primary != "k2" || kr.held["k2"] == nil {
		t.Fatalf("after the rotation: primary %q, held %v", kr.primary, kr.heldIDs())
	}
	step([]Op{sealedPut(k1ring, "c", "3")}, codeOK) // sealed before this node saw the rotation
	aRev := int64(5)
	reseal := func(key, value string, rev int64) Op {
		return Op{kind: opReseal, flags: flagEncrypted, key: key, value: mustSeal(t, f.keyring(), key, value), rev: rev}
	}
	step([]Op{reseal("a", "1", aRev-1)}, codeConflict)
	step([]Op{{kind: opReseal, flags: flagEncrypted, key: "a", value: mustSeal(t, k1ring, "a", "1"), rev: aRev}}, codeStaleKey)
	seqBefore := f.hist.nextSeq
	step([]Op{reseal("a", "1", aRev)}, codeOK)
	if e, _ := f.get("a"); e.modRev != aRev || e.version != 1 || f.hist.nextSeq != seqBefore {
		t.Fatalf("reseal changed revisions or made an event: %+v", e)
	}
	step([]Op{{kind: opKeyRetire, key: "k1"}}, codeConflict) // b and c still use it
	step([]Op{reseal("b", "2", 6), reseal("c", "3", 8)}, codeOK)
	step([]Op{{kind: opKeyRetire, key: "k2"}}, codeInvalid) // primary
	step([]Op{{kind: opKeyRetire, key: "k1"}}, codeOK)
	step([]Op{sealedPut(k1ring, "d", "4")}, codeStaleKey)
	step([]Op{keyAddOp(t, k1ring, testK1)}, codeInvalid) // a retired key cannot come back
	if _, err := f.watchStart(3); !errors.Is(err, ErrTooOld) {
		t.Fatalf("history of the retired key still watchable: %v", err)
	}

	check := func(name string, g *fsm) {
		t.Helper()
		kr := g.keyring()
		if !kr.encrypted || kr.primary != "k2" || !kr.retired["k1"] || kr.held["k1"] != nil || kr.held["k2"] == nil {
			t.Fatalf("%s: keyring encrypted %v primary %q retired %v held %v", name, kr.encrypted, kr.primary, kr.retired, kr.heldIDs())
		}
		want, _, _ := f.list("", "", 0)
		got, _, _ := g.list("", "", 0)
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i].key != want[i].key || !bytes.Equal(got[i].value, want[i].value) || got[i].modRev != want[i].modRev {
				t.Fatalf("%s: %+v, want %+v", name, got[i], want[i])
			}
		}
		if n, _ := g.sealedCounts(); n["k2"] != 3 || n[""] != 1 || len(n) != 2 {
			t.Fatalf("%s: counts %v", name, n)
		}
	}
	check("applied", f)

	replay := fsmHolding(t, testK2)
	for _, l := range log {
		replay.Apply(l)
	}
	check("replayed with only the new key", replay)

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{testK1.Secret, testK2.Secret} {
		if bytes.Contains(sink.Bytes(), secret) {
			t.Fatal("a key secret in the snapshot")
		}
	}
	restored := fsmHolding(t, testK2)
	if err := restored.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	check("restored", restored)
	keyless := newTestFSM()
	if err := keyless.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if kr := keyless.keyring(); !kr.encrypted || kr.primary != "k2" || len(kr.held) != 0 {
		t.Fatalf("restored without keys: %+v", kr)
	}
}

// Snapshots written before they carried a keyring (FLS1) still restore.
func TestSnapshotWithoutKeyringRestores(t *testing.T) {
	f := newTestFSM()
	apply(f, 5, []Op{OpPut("a", []byte("1")), OpPut("b", []byte("2"))})
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	data := sink.Bytes()
	// FLS2 = magic rev(5) encrypted(0) primary("") retired(0) keyrings(0)
	// entries crc; FLS1 lacks the four keyring bytes.
	head := append(append([]byte{}, snapshotMagicV1[:]...), 5)
	if !bytes.Equal(data[4:9], []byte{5, 0, 0, 0, 0}) {
		t.Fatalf("unexpected snapshot layout %x", data[:9])
	}
	v1 := append(head, data[9:len(data)-4]...)
	v1 = binary.BigEndian.AppendUint32(v1, crc32.Checksum(v1, crcTable))
	g := fsmHolding(t, testK1)
	if err := g.Restore(io.NopCloser(bytes.NewReader(v1))); err != nil {
		t.Fatal(err)
	}
	entries, rev, kr := g.list("", "", 0)
	if rev != 5 || len(entries) != 2 || string(entries[1].value) != "2" || kr.encrypted || kr.held["k1"] == nil {
		t.Fatalf("restored %d entries at %d, keyring %+v", len(entries), rev, kr)
	}
}

// BenchmarkFSMApplySealedPuts measures the state machine's apply of
// entries of 64 encrypted puts with encryption on (the checks of the
// value's seal and the per-key counts are on this path).
func BenchmarkFSMApplySealedPuts(b *testing.B) {
	f := fsmHolding(b, testK1)
	kr := f.keyring()
	apply(f, 1, []Op{keyAddOp(b, kr, testK1)})
	const perEntry, entries = 64, 16
	var datas [][]byte
	for e := range entries {
		var reqs [][]byte
		for i := range perEntry {
			key := fmt.Sprintf("k/%04d", e*perEntry+i)
			reqs = append(reqs, appendRequest(nil, []Op{{kind: opPut, flags: flagEncrypted, key: key, value: mustSeal(b, kr, key, strings.Repeat("v", 100))}}))
		}
		datas = append(datas, encodeEntry(reqs))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Apply(&raft.Log{Index: uint64(i + 2), Type: raft.LogCommand, Data: datas[i%entries]})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perEntry), "ns/put")
}

// BenchmarkReencrypt measures Reencrypt on a follower of a 3-node
// in-memory cluster: each round rotates to a new key and rewrites 2,000
// values of 256 bytes.
func BenchmarkReencrypt(b *testing.B) {
	c := newTestCluster(b, 3, withConfig(func(cfg *Config) {
		cfg.EncryptionKeys = []EncryptionKey{testK1}
		cfg.Logger = zap.NewNop() // a benchmark prints whatever it logs
	}))
	ctx := context.Background()
	const values = 2000
	for i := range values {
		if _, err := c.leader().Put(ctx, fmt.Sprintf("k/%04d", i), bytes.Repeat([]byte{'v'}, 256)); err != nil {
			b.Fatal(err)
		}
	}
	f := c.stores[c.follower()]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.RotateEncryptionKey(ctx, EncryptionKey{ID: fmt.Sprintf("bench-%d", i)}); err != nil {
			b.Fatal(err)
		}
		if n, err := f.Reencrypt(ctx); err != nil || n != values {
			b.Fatalf("Reencrypt = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*values)/b.Elapsed().Seconds(), "values/s")
}
