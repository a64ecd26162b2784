package raftstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := TestConfig("n1")
	valid.Network = NewInmemNetwork()
	if err := valid.Validate(); err != nil {
		t.Fatalf("TestConfig is invalid: %v", err)
	}
	tcp := DefaultConfig()
	tcp.NodeID = "n1"
	tcp.BindAddr = "127.0.0.1:0"
	if err := tcp.Validate(); err != nil {
		t.Fatalf("DefaultConfig on loopback is invalid: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*Config)
		fields []string
	}{
		{"no node id", func(c *Config) { c.NodeID = "" }, []string{"NodeID"}},
		{"whitespace id", func(c *Config) { c.NodeID = "a b" }, []string{"NodeID"}},
		{"bad bind", func(c *Config) { c.BindAddr = "nonsense" }, []string{"BindAddr"}},
		{"bad port", func(c *Config) { c.BindAddr = "127.0.0.1:99999" }, []string{"BindAddr"}},
		{"wildcard without advertise", func(c *Config) { c.BindAddr = "0.0.0.0:7000" }, []string{"AdvertiseAddr"}},
		{"advertise port 0", func(c *Config) { c.AdvertiseAddr = "10.0.0.1:0" }, []string{"AdvertiseAddr"}},
		{"election below heartbeat", func(c *Config) {
			c.HeartbeatTimeout, c.ElectionTimeout = time.Second, 500*time.Millisecond
		}, []string{"ElectionTimeout"}},
		{"lease above heartbeat", func(c *Config) { c.LeaderLeaseTimeout = 2 * time.Second }, []string{"LeaderLeaseTimeout"}},
		{"commit at heartbeat", func(c *Config) { c.CommitTimeout = time.Second }, []string{"CommitTimeout"}},
		{"value limit", func(c *Config) { c.MaxValueSize = 100 << 20 }, []string{"MaxValueSize"}},
		{"negative history", func(c *Config) { c.HistorySize = -1 }, []string{"HistorySize"}},
		{"short key", func(c *Config) { c.EncryptionKeys = []EncryptionKey{{ID: "k", Secret: []byte("short")}} }, []string{"EncryptionKeys[0].Secret"}},
		{"repeated key id", func(c *Config) {
			k := EncryptionKey{ID: "k", Secret: make([]byte, 32)}
			c.EncryptionKeys = []EncryptionKey{k, k}
		}, []string{"EncryptionKeys[1].ID"}},
		{"several at once", func(c *Config) { c.NodeID = ""; c.BindAddr = "x" }, []string{"NodeID", "BindAddr"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tcp
			tc.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("want an error")
			}
			for _, f := range tc.fields {
				if !strings.Contains(err.Error(), f+":") {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
			if _, nerr := New(c); nerr == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestUseBeforeStartAndAfterShutdown(t *testing.T) {
	cfg := TestConfig("solo")
	cfg.Network = NewInmemNetwork()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if _, err := s.Put(ctx, "k", nil); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("put before start: %v", err)
	}
	if _, err := s.Watch(ctx, "", 0); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("watch before start: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrStopped) {
		t.Fatalf("get after shutdown: %v", err)
	}
	if err := s.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Fatalf("start after shutdown: %v", err)
	}
}

func TestOperations(t *testing.T) {
	c := newTestCluster(t, 1)
	s := c.stores[0]
	ctx := ctxT(t)

	r1, err := s.Create(ctx, "a/1", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		do      func() (int64, error)
		wantErr error
	}{
		{"create existing", func() (int64, error) { return s.Create(ctx, "a/1", []byte("x")) }, ErrAlreadyExists},
		{"update missing", func() (int64, error) { return s.Update(ctx, "a/none", []byte("x"), 0) }, ErrNotFound},
		{"update stale", func() (int64, error) { return s.Update(ctx, "a/1", []byte("x"), r1+100) }, ErrConflict},
		{"delete missing", func() (int64, error) { return s.Delete(ctx, "a/none", 0) }, ErrNotFound},
		{"delete stale", func() (int64, error) { return s.Delete(ctx, "a/1", r1-1) }, ErrConflict},
		{"empty key", func() (int64, error) { return s.Put(ctx, "", []byte("x")) }, ErrInvalidArgument},
		{"long key", func() (int64, error) { return s.Put(ctx, strings.Repeat("k", MaxKeySize+1), nil) }, ErrTooLarge},
		{"big value", func() (int64, error) { return s.Put(ctx, "big", make([]byte, s.cfg.MaxValueSize+1)) }, ErrTooLarge},
		{"negative rev", func() (int64, error) { return s.Update(ctx, "a/1", nil, -1) }, ErrInvalidArgument},
		{"empty txn", func() (int64, error) { return s.Txn(ctx) }, ErrInvalidArgument},
	}
	for _, st := range steps {
		if _, err := st.do(); !errors.Is(err, st.wantErr) {
			t.Errorf("%s: got %v, want %v", st.name, err, st.wantErr)
		}
	}
	var ke *KeyError
	if _, err := s.Update(ctx, "a/none", nil, 0); !errors.As(err, &ke) || ke.Key != "a/none" {
		t.Errorf("update missing: %v does not name the key", err)
	}
	if !IsNotFound(err) && IgnoreNotFound(&KeyError{Key: "x", Err: ErrNotFound}) != nil {
		t.Error("IgnoreNotFound kept a not-found error")
	}

	// The value at the exact expected revision is replaced.
	r2, err := s.Update(ctx, "a/1", []byte("uno"), r1)
	if err != nil || r2 <= r1 {
		t.Fatalf("update: rev %d err %v", r2, err)
	}
	kv, err := s.Get(ctx, "a/1")
	if err != nil || string(kv.Value) != "uno" || kv.CreateRevision != r1 || kv.ModRevision != r2 || kv.Version != 2 {
		t.Fatalf("get after update: %+v %v", kv, err)
	}
	kv.Value[0] = 'X' // the caller owns the copy
	if kv2, _ := s.Get(ctx, "a/1"); string(kv2.Value) != "uno" {
		t.Fatal("modifying a returned value changed the store")
	}

	// A failing txn applies nothing; the error names the op and key.
	_, err = s.Txn(ctx, OpPut("a/2", []byte("two")), OpCreate("a/1", nil))
	var te *TxnError
	if !errors.As(err, &te) || te.Index != 1 || !IsAlreadyExists(err) || !errors.As(err, &ke) || ke.Key != "a/1" {
		t.Fatalf("txn failure: %v", err)
	}
	if _, err := s.Get(ctx, "a/2"); !IsNotFound(err) {
		t.Fatalf("failed txn left a/2 behind: %v", err)
	}
	// Ops in one txn see each other; all share one revision.
	r3, err := s.Txn(ctx, OpCreate("a/2", []byte("two")), OpUpdate("a/2", []byte("dos"), 0),
		OpCheck("a/1", r2), OpPut("a/3", []byte("three")), OpDelete("a/3", 0))
	if err != nil {
		t.Fatal(err)
	}
	kvs, rev, err := s.List(ctx, "a/")
	if err != nil || rev < r3 {
		t.Fatalf("list: rev %d err %v", rev, err)
	}
	var got []string
	for _, kv := range kvs {
		got = append(got, kv.Key+"="+string(kv.Value))
	}
	if strings.Join(got, ",") != "a/1=uno,a/2=dos" {
		t.Fatalf("list = %v", got)
	}
	if kvs[1].ModRevision != r3 || kvs[1].Version != 2 {
		t.Fatalf("a/2 = %+v, want rev %d version 2", kvs[1], r3)
	}
	if kvs, _, _ := s.List(ctx, "a/", Limit(1)); len(kvs) != 1 || kvs[0].Key != "a/1" {
		t.Fatalf("limited list = %+v", kvs)
	}
	if kvs, _, _ := s.List(ctx, "a/", After("a/1"), Limit(1)); len(kvs) != 1 || kvs[0].Key != "a/2" || string(kvs[0].Value) != "dos" {
		t.Fatalf("list after a/1 = %+v", kvs)
	}
	if n, _, _ := s.Count(ctx, "a/", After("a/1")); n != 1 {
		t.Fatalf("count after a/1 = %d", n)
	}
	if kvs, _, _ := s.List(ctx, "b/"); len(kvs) != 0 {
		t.Fatalf("list of empty prefix = %+v", kvs)
	}
	dr, err := s.Delete(ctx, "a/2", r3)
	if err != nil || dr <= r3 {
		t.Fatalf("delete: %d %v", dr, err)
	}
	if _, err := s.Get(ctx, "a/2", Linearizable()); !IsNotFound(err) {
		t.Fatalf("get deleted: %v", err)
	}
	if s.Revision() != dr {
		t.Fatalf("revision %d, want %d", s.Revision(), dr)
	}
}

// TestClusters writes through every node of 3- and 5-node clusters, in
// memory and on loopback TCP with bolt files, and reads it back everywhere.
func TestClusters(t *testing.T) {
	for _, n := range []int{3, 5} {
		for _, tcp := range []bool{false, true} {
			name := fmt.Sprintf("n=%d/inmem", n)
			var opts []clusterOpt
			if tcp {
				name = fmt.Sprintf("n=%d/tcp+bolt", n)
				opts = append(opts, onTCP())
			}
			t.Run(name, func(t *testing.T) {
				c := newTestCluster(t, n, opts...)
				ctx := ctxT(t)
				var last int64
				for i, s := range c.stores {
					rev, err := s.Create(ctx, fmt.Sprintf("k/%d", i), []byte(fmt.Sprint(i)))
					if err != nil {
						t.Fatalf("create via %s: %v", s.ID(), err)
					}
					last = max(last, rev)
				}
				for _, s := range c.stores {
					kvs, rev, err := s.List(ctx, "k/", Linearizable())
					if err != nil || len(kvs) != n || rev < last {
						t.Fatalf("list on %s: %d keys at %d (want %d at >= %d): %v", s.ID(), len(kvs), rev, n, last, err)
					}
				}
				st := c.leader().State()
				if st.Role != "leader" || len(st.Servers) != n || st.LeaderID != st.ID || st.Revision < last {
					t.Fatalf("leader state %+v", st)
				}
			})
		}
	}
}

func TestLeaderFailover(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	if _, err := c.leader().Put(ctx, "before", []byte("1")); err != nil {
		t.Fatal(err)
	}
	old := c.waitLeader()
	c.stop(old)
	next := c.waitLeader()
	if next == old {
		t.Fatal("the stopped node is still leader")
	}
	for i, s := range c.stores {
		if i == old {
			continue
		}
		if _, err := s.Put(ctx, "after/"+s.ID(), []byte("2")); err != nil {
			t.Fatalf("write via %s after failover: %v", s.ID(), err)
		}
		if _, err := s.Get(ctx, "before", Linearizable()); err != nil {
			t.Fatalf("lost a write acknowledged before failover: %v", err)
		}
	}
}

func TestNoLeaderFailsWithinDeadline(t *testing.T) {
	c := newTestCluster(t, 3)
	l := c.waitLeader()
	survivor := c.stores[(l+1)%3]
	for i := range c.stores {
		if c.stores[i] != survivor {
			c.stop(i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := survivor.Put(ctx, "k", []byte("v"))
	if !errors.Is(err, ErrNoLeader) || !IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write without quorum: %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("write without quorum hung for %v", waited)
	}
	_, err = survivor.Get(ctx, "k", Linearizable())
	if !errors.Is(err, ErrNoLeader) {
		t.Fatalf("linearizable read without quorum: %v", err)
	}
}

func TestFollowerRestartCatchesUp(t *testing.T) {
	c := newTestCluster(t, 3, withDisk())
	ctx := ctxT(t)
	f := c.follower()
	c.stop(f)
	for i := 0; i < 50; i++ {
		if _, err := c.leader().Put(ctx, fmt.Sprintf("k/%02d", i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	s := c.start(f)
	kvs, _, err := s.List(ctx, "k/", Linearizable())
	if err != nil || len(kvs) != 50 {
		t.Fatalf("restarted follower lists %d keys: %v", len(kvs), err)
	}
}

func TestWholeClusterRestart(t *testing.T) {
	c := newTestCluster(t, 3, onTCP())
	ctx := ctxT(t)
	var revs []int64
	for i := 0; i < 20; i++ {
		rev, err := c.stores[i%3].Put(ctx, fmt.Sprintf("k/%02d", i), []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	if err := c.stores[0].Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range c.stores {
		c.stop(i)
	}
	for i := range c.stores {
		c.start(i)
	}
	c.waitLeader()
	for _, s := range c.stores {
		kvs, _, err := s.List(ctx, "k/", Linearizable())
		if err != nil || len(kvs) != 20 {
			t.Fatalf("%s after restart: %d keys, %v", s.ID(), len(kvs), err)
		}
		for i, kv := range kvs {
			if kv.ModRevision != revs[i] || string(kv.Value) != fmt.Sprint(i) {
				t.Fatalf("%s: %+v, want rev %d", s.ID(), kv, revs[i])
			}
		}
	}
	if _, err := c.stores[1].Put(ctx, "k/after", nil); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
	if ok, err := c.stores[0].HasState(); !ok || err != nil {
		t.Fatalf("HasState = %v, %v", ok, err)
	}
	if err := c.stores[0].Bootstrap(ctx); !errors.Is(err, ErrAlreadyBootstrapped) {
		t.Fatalf("re-bootstrap: %v", err)
	}
}

func TestLaggingNodeInstallsSnapshot(t *testing.T) {
	c := newTestCluster(t, 3, withConfig(func(cfg *Config) {
		cfg.TrailingLogs = 10
		cfg.SnapshotThreshold = 20
	}))
	ctx := ctxT(t)
	f := c.follower()
	c.net.Isolate(c.stores[f].Addr())
	for i := 0; i < 100; i++ {
		if _, err := c.leader().Put(ctx, fmt.Sprintf("k/%03d", i), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.leader().Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	// Compacting the log past what the follower has forces a snapshot install.
	c.net.Heal()
	s := c.stores[f]
	eventually(t, 10*time.Second, "the follower to catch up", func() bool {
		kvs, _, _ := s.List(ctx, "k/")
		return len(kvs) == 100
	})
	eventually(t, 5*time.Second, "the follower to record the installed snapshot", func() bool {
		return s.raft.Stats()["last_snapshot_index"] != "0"
	})
	kv, err := s.Get(ctx, "k/099")
	if err != nil || string(kv.Value) != "99" {
		t.Fatalf("%+v %v", kv, err)
	}
}

func TestEncryptionAtRest(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	plaintext := []byte("correct horse battery staple, a secret nobody may see on disk")
	c := newTestCluster(t, 3, withDisk(), withConfig(func(cfg *Config) {
		cfg.EncryptionKeys = []EncryptionKey{{ID: "k1", Secret: secret}}
	}))
	ctx := ctxT(t)
	rev, err := c.stores[1].Create(ctx, "secret/a", plaintext)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := c.leader().Put(ctx, fmt.Sprintf("secret/%d", i), plaintext); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range c.stores {
		if err := s.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
		kv, err := s.Get(ctx, "secret/a", Linearizable())
		if err != nil || !bytes.Equal(kv.Value, plaintext) || kv.ModRevision != rev {
			t.Fatalf("read back on %s: %q %v", s.ID(), kv.Value, err)
		}
	}
	w, err := c.stores[2].Watch(ctx, "secret/", rev-1)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-w.Events(); !bytes.Equal(ev.Value, plaintext) {
		t.Fatalf("watch event value %q", ev.Value)
	}
	w.Stop()
	for i := range c.stores {
		c.stop(i)
	}
	files := c.dataFiles()
	if len(files) < 6 {
		t.Fatalf("expected bolt and snapshot files, found %v", files)
	}
	for _, f := range files {
		data := mustRead(t, f)
		if bytes.Contains(data, plaintext) || bytes.Contains(data, plaintext[:16]) {
			t.Errorf("plaintext found in %s", f)
		}
	}

	// Rotation: a new primary key writes, the old one still reads.
	for i := range c.cfgs {
		c.start(i)
	}
	c.waitLeader()
	k2 := EncryptionKey{ID: "k2", Secret: bytes.Repeat([]byte{9}, 32)}
	if _, err := c.stores[0].RotateEncryptionKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if kv, err := c.stores[0].Get(ctx, "secret/a", Linearizable()); err != nil || !bytes.Equal(kv.Value, plaintext) {
		t.Fatalf("old value after rotation: %v", err)
	}
	if _, err := c.stores[0].Put(ctx, "secret/new", plaintext); err != nil {
		t.Fatal(err)
	}
	// A node without the old key cannot read old values and says why.
	i := c.follower()
	c.stop(i)
	c.cfgs[i].EncryptionKeys = []EncryptionKey{k2}
	s := c.start(i)
	_, err = s.Get(ctx, "secret/a", Linearizable())
	if !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("read with a missing key: %v", err)
	}
	if kv, err := s.Get(ctx, "secret/new"); err != nil || !bytes.Equal(kv.Value, plaintext) {
		t.Fatalf("read of a value under the new key: %v", err)
	}
}
