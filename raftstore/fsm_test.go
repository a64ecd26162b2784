package raftstore

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

func newTestFSM() *fsm { return newFSM(100, zap.NewNop(), mustMetrics()) }

func mustMetrics() *metrics {
	m, err := newMetrics(nil, "t")
	if err != nil {
		panic(err)
	}
	return m
}

func apply(f *fsm, index uint64, reqs ...[]Op) any {
	var datas [][]byte
	for _, r := range reqs {
		datas = append(datas, appendRequest(nil, r))
	}
	return f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: encodeEntry(datas)})
}

func TestFSMRejectsCorruptEntries(t *testing.T) {
	f := newTestFSM()
	good := encodeEntry([][]byte{appendRequest(nil, []Op{OpPut("k", []byte("v"))})})
	bad := [][]byte{
		nil,
		{entryMagic},
		{0x00, entryVersion, 1},
		good[:len(good)-1],
		append(append([]byte(nil), good...), 0),
		{entryMagic, entryVersion, 0xff, 0xff, 0xff, 0xff, 0x0f},       // huge count
		{entryMagic, entryVersion, 1, 1, byte(opPut), 0, 0, 0, 0},      // empty key
		{entryMagic, entryVersion, 1, 1, 99, 0, 0, 1, 'k', 0},          // unknown op
		{entryMagic, entryVersion, 1, 1, byte(opPut), 4, 0, 1, 'k', 0}, // unknown flag
		{entryMagic, entryVersion, 1, 0},                               // empty request
	}
	for i, data := range bad {
		res := f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: data})
		if err, ok := res.(error); !ok || !errors.Is(err, ErrCorrupt) {
			t.Errorf("entry %d (%x): got %v, want ErrCorrupt", i, data, res)
		}
	}
	if e, _ := f.get("k"); e != nil {
		t.Fatal("a corrupt entry changed the state")
	}
	if res := f.Apply(&raft.Log{Index: 100, Type: raft.LogCommand, Data: good}); res.([]reqResult)[0].code != codeOK {
		t.Fatalf("good entry: %+v", res)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry([][]byte{appendRequest(nil, []Op{OpPut("k", []byte("v")), OpDelete("x", 3)})}))
	f.Add([]byte{entryMagic, entryVersion, 1, 1, byte(opCreate), 1, 0, 1, 'a', 2, 'h', 'i'})
	f.Add(encodeEntry([][]byte{appendRequest(nil, []Op{OpFence(3), OpPut("k", []byte("v"))})}))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsm := newTestFSM()
		res := fsm.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: data})
		if _, isErr := res.(error); !isErr {
			if _, ok := res.([]reqResult); !ok {
				t.Fatalf("unexpected result %T", res)
			}
		}
	})
}

type bufSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *bufSink) ID() string    { return "test" }
func (s *bufSink) Cancel() error { s.cancelled = true; return nil }
func (s *bufSink) Close() error  { return nil }

func TestSnapshotRoundTripAndCorruption(t *testing.T) {
	f := newTestFSM()
	apply(f, 5, []Op{OpPut("a", []byte("1")), OpPut("b", []byte("2"))})
	apply(f, 7, []Op{OpUpdate("a", []byte("3"), 5), {kind: opPut, flags: flagEncrypted, key: "c", value: []byte("sealed")}})
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Writes after the snapshot do not leak into it.
	apply(f, 9, []Op{OpPut("d", nil)})
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	data := sink.Bytes()

	g := newTestFSM()
	if err := g.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	entries, rev, _ := g.list("", "", 0)
	if rev != 7 || len(entries) != 3 {
		t.Fatalf("restored %d entries at %d", len(entries), rev)
	}
	a := entries[0]
	if a.key != "a" || string(a.value) != "3" || a.createRev != 5 || a.modRev != 7 || a.version != 2 || entries[2].flags != flagEncrypted {
		t.Fatalf("restored %+v %+v", a, entries[2])
	}
	if _, err := g.watchStart(6); !errors.Is(err, ErrTooOld) {
		t.Fatalf("watch before the snapshot revision: %v", err)
	}

	for i := range data {
		broken := append([]byte(nil), data...)
		broken[i] ^= 0x40
		h := newTestFSM()
		if err := h.Restore(io.NopCloser(bytes.NewReader(broken))); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
		if _, rev, _ := h.list("", "", 0); rev != 0 {
			t.Fatal("a failed restore changed the state")
		}
	}
	if err := newTestFSM().Restore(io.NopCloser(bytes.NewReader(data[:len(data)-3]))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated snapshot: %v", err)
	}
}

func TestHistoryEviction(t *testing.T) {
	f := newFSM(4, zap.NewNop(), mustMetrics())
	for i := uint64(1); i <= 6; i++ {
		apply(f, i*10, []Op{OpPut("k", nil)})
	}
	// Revisions 30..60 remain; 20 is the last evicted one.
	if _, err := f.watchStart(10); !errors.Is(err, ErrTooOld) {
		t.Fatalf("from 10: %v", err)
	}
	seq, err := f.watchStart(20)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.eventsAfter(seq, "", 100, nil)
	if err != nil || len(b.events) != 4 || b.events[0].rev != 30 || !b.caughtUp {
		t.Fatalf("events after 20: %v %v", b.events, err)
	}
}

// List and Count with After read only the keys after it, within the prefix.
func TestFSMListAfter(t *testing.T) {
	f := newTestFSM()
	apply(f, 5, []Op{OpPut("a", nil), OpPut("p/", nil), OpPut("p/a", nil), OpPut("p/a-b/x", nil), OpPut("p/a/x", nil),
		OpPut("p/b", nil), OpPut("q", nil)})
	for _, tc := range []struct {
		prefix, after string
		limit         int
		want          string
	}{
		{"p/", "", 0, "p/,p/a,p/a-b/x,p/a/x,p/b"},
		{"p/", "p/a", 0, "p/a-b/x,p/a/x,p/b"},
		{"p/", "p/a", 2, "p/a-b/x,p/a/x"},
		{"p/", "p/a-b/x", 1, "p/a/x"},
		{"p/", "p/a/", 0, "p/a/x,p/b"}, // not a key: the keys after it
		{"p/", "p/b", 0, ""},
		{"p/", "p/zzz", 0, ""},
		{"p/", "a", 0, "p/,p/a,p/a-b/x,p/a/x,p/b"}, // before the prefix: all of it
		{"p/", "p/", 0, "p/a,p/a-b/x,p/a/x,p/b"},
		{"", "p/b", 0, "q"},
	} {
		entries, rev, _ := f.list(tc.prefix, tc.after, tc.limit)
		var keys []string
		for _, e := range entries {
			keys = append(keys, e.key)
		}
		if got := strings.Join(keys, ","); got != tc.want || rev != 5 {
			t.Errorf("list(%q, after %q, limit %d) = %q at %d, want %q at 5", tc.prefix, tc.after, tc.limit, got, rev, tc.want)
		}
		if n, _ := f.count(tc.prefix, tc.after, tc.limit); n != len(keys) {
			t.Errorf("count(%q, after %q, limit %d) = %d, want %d", tc.prefix, tc.after, tc.limit, n, len(keys))
		}
	}
}
