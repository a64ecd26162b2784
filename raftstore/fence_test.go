package raftstore

import (
	"errors"
	"testing"

	"github.com/hashicorp/raft"
	dto "github.com/prometheus/client_model/go"
)

func fencedCount(s *Store) float64 {
	var m dto.Metric
	_ = s.metrics.fencedWrites.Write(&m)
	return m.GetCounter().GetValue()
}

// TestFenceInEntry: in one entry, a request fenced to the entry's term
// applies, one fenced to another term fails as a whole (none of its ops
// applies, even one that would have succeeded) and an unfenced one applies.
func TestFenceInEntry(t *testing.T) {
	f := newTestFSM()
	data := encodeEntry([][]byte{
		appendRequest(nil, []Op{OpFence(7), OpPut("a", []byte("1"))}),
		appendRequest(nil, []Op{OpPut("b", []byte("2")), OpFence(6)}),
		appendRequest(nil, []Op{OpPut("c", []byte("3"))}),
	})
	res, ok := f.Apply(&raft.Log{Index: 10, Term: 7, Type: raft.LogCommand, Data: data}).([]reqResult)
	if !ok || len(res) != 3 {
		t.Fatalf("got %#v, want three results", res)
	}
	if res[0].code != codeOK || res[2].code != codeOK {
		t.Errorf("fenced to its entry's term: %+v; unfenced: %+v; want both applied", res[0], res[2])
	}
	if res[1].code != codeFenced || res[1].index != -1 {
		t.Errorf("fenced to another term: %+v, want codeFenced for the whole request", res[1])
	}
	for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if e, _ := f.get(key); (e != nil) != want {
			t.Errorf("key %q present = %v, want %v", key, e != nil, want)
		}
	}
	var m dto.Metric
	_ = f.metrics.fencedWrites.Write(&m)
	if n := m.GetCounter().GetValue(); n != 1 {
		t.Errorf("fenced writes counted: %v, want 1", n)
	}
}

// TestFenceCodec: a fence survives encoding; a malformed one is corrupt
// when decoded and invalid when proposed.
func TestFenceCodec(t *testing.T) {
	ops, err := decodeRequest(appendRequest(nil, []Op{OpFence(42), OpCheck("k", 3)}), 1<<10)
	if err != nil || len(ops) != 2 || ops[0].kind != opFence || ops[0].rev != 42 || ops[0].key != "" {
		t.Fatalf("decoded %+v, %v; want the fence of term 42 and the check", ops, err)
	}
	bad := [][]byte{
		appendRequest(nil, []Op{{kind: opFence}}),                           // term 0
		appendRequest(nil, []Op{{kind: opFence, key: "k", rev: 1}}),         // a key
		appendRequest(nil, []Op{{kind: opFence, value: []byte{1}, rev: 1}}), // a value
		appendRequest(nil, []Op{{kind: opFence, flags: flagEncrypted, rev: 1}}),
	}
	for i, b := range bad {
		if _, err := decodeRequest(b, 1<<10); !errors.Is(err, ErrCorrupt) {
			t.Errorf("bad fence %d: %v, want ErrCorrupt", i, err)
		}
	}
	if err := OpFence(0).validate(1 << 10); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("OpFence(0): %v, want ErrInvalidArgument", err)
	}
	if keys := opKeys([]Op{OpFence(1), OpPut("k", nil)}); len(keys) != 1 || keys[0] != "k" {
		t.Errorf("opKeys = %q, want only k (a fence must not keep requests out of one entry)", keys)
	}
}

// TestFenceAcrossLeaderChange: a write fenced to the leader's term applies
// whether the leader or a follower (forwarding it) proposes it; after
// leadership moves, the same fence sent by the old leader (now forwarding
// to the new one) fails with ErrFenced and lands on no replica, while an
// unfenced write from it still applies.
func TestFenceAcrossLeaderChange(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	li := c.waitLeader()
	old := c.stores[li]
	term, leader, _ := old.LeaderTerm()
	if !leader || term == 0 || term != old.State().Term {
		t.Fatalf("LeaderTerm on the leader = %d, %v; want its term %d", term, leader, old.State().Term)
	}
	fi := c.follower()
	if ft, fl, _ := c.stores[fi].LeaderTerm(); fl || ft != 0 {
		t.Fatalf("LeaderTerm on a follower = %d, %v; want 0, false", ft, fl)
	}
	if _, err := old.Txn(ctx, OpFence(term), OpPut("by-leader", []byte("1"))); err != nil {
		t.Fatalf("fenced write on the leader in its term: %v", err)
	}
	if _, err := c.stores[fi].Txn(ctx, OpFence(term), OpPut("forwarded", []byte("1"))); err != nil {
		t.Fatalf("fenced write forwarded in the leader's term: %v", err)
	}
	if _, err := old.Txn(ctx, OpFence(term+1), OpPut("future", []byte("1"))); !IsFenced(err) {
		t.Fatalf("write fenced to a term not begun: %v, want ErrFenced", err)
	}

	_, changed := old.Leadership()
	if err := old.TransferLeadership(ctx); err != nil {
		t.Fatal(err)
	}
	<-changed
	ni := c.waitLeader()
	if ni == li {
		t.Fatal("leadership did not move")
	}
	newTerm, _, _ := c.stores[ni].LeaderTerm()
	if newTerm <= term {
		t.Fatalf("new leader's term %d, want above %d", newTerm, term)
	}
	_, err := old.Txn(ctx, OpFence(term), OpPut("stale", []byte("1")), OpPut("stale2", []byte("1")))
	if !IsFenced(err) {
		t.Fatalf("old leader's fenced write after the change: %v, want ErrFenced", err)
	}
	var te *TxnError
	if errors.As(err, &te) {
		t.Errorf("a fenced write failed as op %d; want the request refused as a whole", te.Index)
	}
	rev, err := old.Put(ctx, "unfenced", []byte("1"))
	if err != nil {
		t.Fatalf("unfenced write from the old leader: %v", err)
	}
	for _, s := range c.stores {
		if err := s.fsm.waitApplied(ctx, rev); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"stale", "stale2"} {
			if _, err := s.Get(ctx, key); !IsNotFound(err) {
				t.Errorf("%s: the deposed leader's fenced write of %q landed (%v)", s.ID(), key, err)
			}
		}
		for _, key := range []string{"by-leader", "forwarded", "unfenced"} {
			if _, err := s.Get(ctx, key); err != nil {
				t.Errorf("%s: %q: %v", s.ID(), key, err)
			}
		}
		if n := fencedCount(s); n != 2 { // the write to a future term, the stale one
			t.Errorf("%s counted %v fenced writes, want 2", s.ID(), n)
		}
	}
}
