package raftstore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// The tests here steer the follower's side of forwarding by hand: they
// hold its frame slots so that writes queue, then send the queue
// themselves, which fixes what goes in which frame without any timing.

// heldConn is a follower's connection to the leader with its frame slots
// taken, so forwarded writes queue instead of leaving.
type heldConn struct {
	t *testing.T
	c *rpcConn
}

func holdConn(t *testing.T, f, leader *Store) *heldConn {
	t.Helper()
	c, err := f.rpc.conn(ctxT(t), leader.Addr())
	if err != nil {
		t.Fatalf("connect %s to the leader: %v", f.ID(), err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writing != 0 || c.sending || len(c.queue) != 0 {
		t.Fatalf("connection busy: %d frames out, sending %v, %d queued", c.writing, c.sending, len(c.queue))
	}
	c.writing = maxWriteFrames
	return &heldConn{t: t, c: c}
}

func (h *heldConn) queued() int {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return len(h.c.queue)
}

// start runs write in a goroutine and waits until it has queued, so the
// queue's order is the order of the calls to start.
func (h *heldConn) start(wg *sync.WaitGroup, write func()) {
	h.t.Helper()
	n := h.queued()
	wg.Add(1)
	go func() {
		defer wg.Done()
		write()
	}()
	eventually(h.t, 10*time.Second, fmt.Sprintf("write %d to queue", n+1), func() bool { return h.queued() == n+1 })
}

// send frees the frame slots, sends what the queue holds as the follower
// would, and returns the number of frames sent and of writes left queued
// (those wait for a frame slot, as usual).
func (h *heldConn) send() (frames, left int) {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writing -= maxWriteFrames
	before := c.nextID
	c.sending = true
	c.sendLocked()
	return int(c.nextID - before), len(c.queue)
}

// Writes forwarded in one batch each get their own outcome: a failed
// compare-and-swap, a duplicate create or a missing key fails only its
// own write, and every success reports the revision it was applied at.
func TestForwardedBatchMixedOutcomes(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	l := c.leader()
	f := c.stores[c.follower()]
	const kinds = 6
	per := maxBatchWrites / kinds
	okRev := make([]int64, per)
	for i := range per {
		if _, err := l.Create(ctx, fmt.Sprintf("exists/%d", i), []byte("x")); err != nil {
			t.Fatal(err)
		}
		var err error
		if okRev[i], err = l.Create(ctx, fmt.Sprintf("cas-ok/%d", i), []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Create(ctx, fmt.Sprintf("cas-bad/%d", i), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}

	type outcome struct {
		rev int64
		err error
	}
	out := make([][kinds]outcome, per)
	h := holdConn(t, f, l)
	var wg sync.WaitGroup
	for i := range per {
		k := func(s string) string { return fmt.Sprintf("%s/%d", s, i) }
		v := []byte(k("v"))
		writes := [kinds]func() (int64, error){
			func() (int64, error) { return f.Create(ctx, k("exists"), v) },
			func() (int64, error) { return f.Create(ctx, k("new"), v) },
			func() (int64, error) { return f.Update(ctx, k("cas-ok"), v, okRev[i]) },
			func() (int64, error) { return f.Update(ctx, k("cas-bad"), v, okRev[i]) }, // older than its own revision
			func() (int64, error) { return f.Delete(ctx, k("missing"), 0) },
			func() (int64, error) { return f.Txn(ctx, OpPut(k("txn"), v), OpCheck(k("absent"), 0)) },
		}
		for j, w := range writes {
			h.start(&wg, func() {
				rev, err := w()
				out[i][j] = outcome{rev, err}
			})
		}
	}
	if frames, left := h.send(); frames != 1 || left != 0 {
		t.Fatalf("%d writes left in %d frames with %d still queued, want one frame", per*kinds, frames, left)
	}
	wg.Wait()

	for i := range per {
		o := out[i]
		for j, want := range []error{ErrAlreadyExists, nil, nil, ErrConflict, ErrNotFound, ErrNotFound} {
			if !errors.Is(o[j].err, want) {
				t.Errorf("write %d of kind %d: got %v, want %v", i, j, o[j].err, want)
			}
		}
		var te *TxnError
		if !errors.As(o[5].err, &te) || te.Index != 1 {
			t.Errorf("txn %d: %v does not name its second op", i, o[5].err)
		}
		for j, key := range map[int]string{1: "new", 2: "cas-ok"} {
			kv, err := l.Get(ctx, fmt.Sprintf("%s/%d", key, i))
			if err != nil || o[j].err != nil || kv.ModRevision != o[j].rev {
				t.Errorf("%s/%d: revision %d reported, %d (%v) stored", key, i, o[j].rev, kv.ModRevision, err)
			}
		}
		if _, err := l.Get(ctx, fmt.Sprintf("txn/%d", i)); !IsNotFound(err) {
			t.Errorf("txn/%d: the failed txn took effect (%v)", i, err)
		}
		if kv, err := l.Get(ctx, fmt.Sprintf("cas-bad/%d", i)); err != nil || string(kv.Value) != "x" {
			t.Errorf("cas-bad/%d: the failed update took effect: %q (%v)", i, kv.Value, err)
		}
	}
}

// A queue longer or bigger than one batch may be leaves in several
// frames, each within every node's frame limit; a write too big to share
// a frame goes alone, in the format of a single write.
func TestBatchLimits(t *testing.T) {
	calls := func(sizes ...int) []*fwdCall {
		var out []*fwdCall
		for i, n := range sizes {
			out = append(out, &fwdCall{data: appendRequest(nil, []Op{OpPut(fmt.Sprintf("k%d", i), make([]byte, n))})})
		}
		return out
	}
	many := make([]int, 2*maxBatchWrites+3)
	mid, big := maxBatchBytes/3-100, maxBatchBytes // three mids fit a frame, four do not
	for _, tc := range []struct {
		name    string
		queue   []*fwdCall
		noBatch bool
		want    []int
	}{
		{"count", calls(many...), false, []int{maxBatchWrites, maxBatchWrites, 3}},
		{"bytes", calls(mid, mid, mid, mid, big, mid), false, []int{3, 1, 1, 1}},
		{"older leader", calls(0, 0, 0), true, []int{1, 1, 1}},
	} {
		c := &rpcConn{queue: tc.queue, noBatch: tc.noBatch}
		var got []int
		for len(c.queue) > 0 {
			n := c.batchLen()
			got = append(got, n)
			frame := appendWrites(nil, 1, c.queue[:n])
			// Below every node's frame limit, maxRequest+64 (maxRequest
			// is 64 KiB plus four times MaxValueSize).
			if limit := 64<<10 + 64; n > 1 && len(frame) > limit {
				t.Errorf("%s: a frame of %d writes takes %d bytes, over the limit of %d", tc.name, n, len(frame), limit)
			}
			d := decoder{b: frame}
			d.uvarint()
			switch method := d.byte(); {
			case n == 1 && (method != methodWrite || !bytes.Equal(d.b, c.queue[0].data)):
				t.Errorf("%s: a lone write goes as method %d", tc.name, method)
			case n > 1:
				bodies := d.writeBatch()
				if d.err != nil || len(bodies) != n {
					t.Fatalf("%s: a batch of %d decodes to %d writes: %v", tc.name, n, len(bodies), d.err)
				}
				for i, b := range bodies {
					if !bytes.Equal(b, c.queue[i].data) {
						t.Errorf("%s: write %d of a batch changed on the way", tc.name, i)
					}
				}
			}
			c.queue = c.queue[n:]
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: frames of %v writes, want %v", tc.name, got, tc.want)
		}
	}
}

// Many writes queued at once through a follower, more and bigger than
// one batch holds, all succeed.
func TestForwardedBatchesAllApply(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	l := c.leader()
	f := c.stores[c.follower()]
	h := holdConn(t, f, l)
	var wg sync.WaitGroup
	values := make([][]byte, 2*maxBatchWrites+3)
	for i := range values {
		values[i] = []byte(fmt.Sprint(i))
		if i%10 == 0 {
			values[i] = bytes.Repeat([]byte{byte(i)}, maxBatchBytes/3)
		}
	}
	values[len(values)-2] = make([]byte, maxBatchBytes)
	for i, v := range values {
		h.start(&wg, func() {
			if _, err := f.Put(ctx, fmt.Sprintf("k/%d", i), v); err != nil {
				t.Errorf("put %d: %v", i, err)
			}
		})
	}
	h.send()
	wg.Wait()
	for i, v := range values {
		if kv, err := l.Get(ctx, fmt.Sprintf("k/%d", i)); err != nil || !bytes.Equal(kv.Value, v) {
			t.Errorf("k/%d: %d bytes stored (%v), want %d", i, len(kv.Value), err, len(v))
		}
	}
}

// rawConn speaks the forwarding protocol to a node directly.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, c *testCluster, addr string) *rawConn {
	t.Helper()
	nc, err := c.net.dialer("raw")(ctxT(t), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := nc.Write([]byte{muxRPC}); err != nil {
		t.Fatal(err)
	}
	return &rawConn{Conn: nc, r: bufio.NewReader(nc)}
}

func (rc *rawConn) send(t *testing.T, payload []byte) {
	t.Helper()
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	if _, err := rc.Write(append(frame, payload...)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// batchPayload encodes a methodWriteBatch request of the given writes.
func batchPayload(id uint64, writes ...[]byte) []byte {
	b := binary.AppendUvarint(nil, id)
	b = append(b, methodWriteBatch)
	b = binary.AppendUvarint(b, uint64(len(writes)))
	for _, w := range writes {
		b = binary.AppendUvarint(b, uint64(len(w)))
		b = append(b, w...)
	}
	return b
}

// The leader answers every write of a batch on its own, a malformed one
// included, in the batch's order; it drops a connection whose batch
// claims more writes than it handles at a time.
func TestLeaderAnswersBatchWriteByWrite(t *testing.T) {
	c := newTestCluster(t, 1)
	l := c.leader()
	rc := dialRaw(t, c, l.Addr())
	rc.send(t, batchPayload(7,
		appendRequest(nil, []Op{OpPut("a", []byte("1"))}),
		[]byte{0xff, 0xff},
		appendRequest(nil, []Op{OpCreate("a", []byte("2"))}), // after the put: exists
		appendRequest(nil, []Op{OpCreate("b", []byte("3"))}),
	))
	frame, err := readFrame(rc.r, maxRespFrame)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	d := decoder{b: frame}
	if id := d.uvarint(); id != 7 {
		t.Fatalf("response to request %d, want 7", id)
	}
	var got []rpcResp
	for range 4 {
		got = append(got, rpcResp{code: d.byte(), rev: int64(d.uvarint()), index: int(d.uvarint())})
	}
	if d.err != nil || len(d.b) != 0 {
		t.Fatalf("response of %d bytes holds not 4 results: %v, %d bytes over", len(frame), d.err, len(d.b))
	}
	for i, want := range []byte{codeOK, codeInvalid, codeAlreadyExists, codeOK} {
		if got[i].code != want {
			t.Errorf("write %d: code %d, want %d", i, got[i].code, want)
		}
	}
	if kv, err := l.Get(ctxT(t), "a"); err != nil || kv.ModRevision != got[0].rev || string(kv.Value) != "1" {
		t.Errorf("a: %q at %d (%v), the put reported %d", kv.Value, kv.ModRevision, err, got[0].rev)
	}

	writes := make([][]byte, maxConnInflight+1)
	for i := range writes {
		writes[i] = appendRequest(nil, []Op{OpPut(fmt.Sprintf("over/%d", i), nil)})
	}
	rc.send(t, batchPayload(8, writes...))
	if _, err := readFrame(rc.r, maxRespFrame); !errors.Is(err, io.EOF) {
		t.Fatalf("after a batch over the limit: %v, want the connection closed", err)
	}
	if _, err := l.Get(ctxT(t), "over/0"); !IsNotFound(err) {
		t.Fatalf("a rejected batch was applied: %v", err)
	}
}

// When the connection to the leader breaks while a batch is out, its
// writes report an unknown outcome (the leader had them) and writes still
// queued behind it are retried with the next leader.
func TestLeaderLostDuringBatch(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	l := c.leader()
	f := c.stores[c.follower()]
	// The leader takes requests but proposes none: its entry slots are
	// full.
	for range maxInflightEntries {
		l.slots <- struct{}{}
	}
	freed := false
	free := func() {
		if !freed {
			freed = true
			for range maxInflightEntries {
				<-l.slots
			}
		}
	}
	defer free()

	h := holdConn(t, f, l)
	var wg sync.WaitGroup
	const sent, queued = 5, 4
	errs := make([]error, sent+queued)
	for i := range sent {
		h.start(&wg, func() { _, errs[i] = f.Put(ctx, fmt.Sprintf("sent/%d", i), nil) })
	}
	if frames, _ := h.send(); frames != 1 {
		t.Fatalf("%d frames sent, want 1", frames)
	}
	// The batch loop holds one request while it waits for a slot.
	eventually(t, 10*time.Second, "the leader to queue the batch", func() bool { return len(l.reqCh) == sent-1 })
	h.c.mu.Lock()
	h.c.writing = maxWriteFrames // no free frame slot: later writes queue
	h.c.mu.Unlock()
	for i := range queued {
		h.start(&wg, func() { _, errs[sent+i] = f.Put(ctx, fmt.Sprintf("queued/%d", i), nil) })
	}

	c.net.Isolate(l.Addr())
	wg.Wait()
	free()
	c.net.Heal()
	for i, err := range errs {
		switch {
		case i < sent && !errors.Is(err, ErrUnknownOutcome):
			t.Errorf("sent write %d: %v, want ErrUnknownOutcome", i, err)
		case i >= sent && err != nil:
			t.Errorf("queued write %d: %v, want it retried with the new leader", i-sent, err)
		}
	}
}

// A leader of an older version answers a batch with one codeInvalid and
// proposes nothing; its writes come back retryable and the follower sends
// single writes to it from then on.
func TestBatchToOlderLeader(t *testing.T) {
	c := newTestCluster(t, 1)
	s := c.stores[0]
	ln, err := c.net.listen("old")
	if err != nil {
		t.Fatal(err)
	}
	var methods bytes.Buffer // written by the fake leader, read after it ends
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		r := bufio.NewReader(nc)
		if proto, err := r.ReadByte(); err != nil || proto != muxRPC {
			return
		}
		w := newFrameWriter(nc)
		for {
			frame, err := readFrame(r, 1<<20)
			if err != nil {
				return
			}
			d := decoder{b: frame}
			id, method := d.uvarint(), d.byte()
			methods.WriteByte(method)
			out := binary.AppendUvarint(nil, id)
			if method == methodWrite {
				out = append(out, codeOK, 42, 0)
			} else {
				out = append(out, codeInvalid, 0, 0)
			}
			if w.write(out) != nil {
				return
			}
		}
	}()
	defer func() {
		ln.Close()
		s.rpc.close() // ends the fake leader's connection
		<-done
	}()

	ctx := ctxT(t)
	rc, err := s.rpc.conn(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	h := &heldConn{t: t, c: rc}
	rc.mu.Lock()
	rc.writing = maxWriteFrames
	rc.mu.Unlock()
	forwardAll := func(n int) []rpcResp {
		resps := make([]rpcResp, n)
		var wg sync.WaitGroup
		for i := range n {
			h.start(&wg, func() {
				var err error
				if resps[i], err = s.rpc.forward(ctx, "old", appendRequest(nil, []Op{OpPut("k", nil)})); err != nil {
					t.Errorf("forward %d: %v", i, err)
				}
			})
		}
		h.send()
		wg.Wait()
		rc.mu.Lock()
		rc.writing = maxWriteFrames
		rc.mu.Unlock()
		return resps
	}
	for i, r := range forwardAll(3) {
		if r.code != codeNotLeader {
			t.Errorf("batched write %d to the old leader: code %d, want codeNotLeader (retry)", i, r.code)
		}
	}
	for i, r := range forwardAll(3) {
		if r.code != codeOK || r.rev != 42 {
			t.Errorf("single write %d to the old leader: code %d rev %d, want OK at 42", i, r.code, r.rev)
		}
	}
	rc.mu.Lock()
	rc.writing = 0
	rc.mu.Unlock()
	s.rpc.close()
	<-done
	want := []byte{methodWriteBatch, methodWrite, methodWrite, methodWrite}
	if !bytes.Equal(methods.Bytes(), want) {
		t.Errorf("the old leader got methods %v, want %v", methods.Bytes(), want)
	}
}
