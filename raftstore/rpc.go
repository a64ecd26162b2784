package raftstore

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Followers forward writes and read-index requests to the leader over a
// multiplexed connection on the leader's Raft port:
//
//	frame    = uint32(len) payload
//	request  = uvarint(id) method body
//	response = uvarint(id) result*
//	result   = code uvarint(rev) uvarint(failedOp)
//
// A write (methodWrite, body = one encoded request) and a read index
// (methodReadIndex, no body) get one result. A batch (methodWriteBatch,
// body = uvarint(n) (uvarint(len) request)*) gets n results in the order
// of its writes; each write succeeds or fails on its own, as if sent alone.
//
// A follower leaves at most maxWriteFrames write frames unanswered on one
// connection; writes that arrive meanwhile wait and leave together in the
// next frame once one is answered (group commit on the follower's side, the
// counterpart of batchLoop's). Under load that saves, per write, a frame and
// its system calls on both nodes and a goroutine on the leader; a lone
// write still leaves at once, alone, as methodWrite.
//
// Many requests share one connection; responses may come out of order.

const (
	methodWrite      byte = 1
	methodReadIndex  byte = 2
	methodWriteBatch byte = 3
)

const (
	// maxConnInflight bounds the requests of one connection that the
	// leader handles at a time, each write of a batch counting as one; past
	// that it stops reading the connection, so a peer cannot make it hold
	// unbounded memory. A batch may carry no more writes than this.
	maxConnInflight = 64
	// maxWriteFrames is how many write frames a follower leaves unanswered
	// on one connection; while they are with the leader, new writes gather
	// for the next frame. (Measured with 64 writers through a follower on
	// 2 cores, in CPU per write against writes on the leader: one frame of
	// up to 64 writes 1.0-1.1x, two of up to 32 1.1-1.2x, four of up to 16
	// 1.8x, a frame per write 2x. With 4 writers one frame was no slower
	// than two: the leader's disk, not the trip, sets the pace.) The price:
	// a batch is answered when its slowest write is, and the next batch
	// leaves only then, so a write batched behind many that cannot share a
	// Raft entry (updates of one hot key) hears back late, by tens of ms on
	// disk, although it was applied at once.
	maxWriteFrames = 1
	// maxBatchWrites is the most writes a follower puts in one batch: its
	// unanswered frames never ask for more than the leader will handle at a
	// time.
	maxBatchWrites = maxConnInflight / maxWriteFrames
	// maxBatchBytes bounds the encoded writes of a batch. Every node reads
	// request frames of up to maxRequest+64 bytes, and maxRequest is at
	// least 64 KiB whatever MaxValueSize says, so even a leader configured
	// with smaller limits than this follower accepts every batch; a bigger
	// write goes alone, as methodWrite, exactly as it always did.
	maxBatchBytes = 64 << 10
	// maxRespFrame bounds a response frame: an id and a batch's results.
	maxRespFrame = binary.MaxVarintLen64 + maxBatchWrites*(1+2*binary.MaxVarintLen64)
)

type rpcResp struct {
	code  byte
	rev   int64
	index int
}

func readFrame(r *bufio.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if int64(n) > int64(limit) {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrCorrupt, n, limit)
	}
	buf := make([]byte, n)
	_, err := io.ReadFull(r, buf)
	return buf, err
}

// frameWriter writes frames from many goroutines and flushes only when no
// other writer is queued behind it: under load many frames share one
// system call, and a lone frame still leaves at once.
type frameWriter struct {
	mu      sync.Mutex
	w       *bufio.Writer
	c       net.Conn
	waiting atomic.Int32
}

func newFrameWriter(c net.Conn) *frameWriter {
	return &frameWriter{w: bufio.NewWriterSize(c, 64<<10), c: c}
}

func (fw *frameWriter) write(payload []byte) error {
	fw.waiting.Add(1)
	fw.mu.Lock()
	defer fw.mu.Unlock()
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(payload)))
	_ = fw.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := fw.w.Write(hdr[:])
	if err == nil {
		_, err = fw.w.Write(payload)
	}
	// The last writer in the queue flushes for everyone before it.
	if fw.waiting.Add(-1) == 0 && err == nil {
		err = fw.w.Flush()
	}
	return err
}

// serveRPC answers forwarded requests on one connection until it closes,
// or until it has had no request in flight for IdleTimeout.
func (s *Store) serveRPC(c net.Conn) {
	var wg sync.WaitGroup
	defer wg.Wait()
	r := bufio.NewReaderSize(c, 64<<10)
	w := newFrameWriter(c)
	idle := newIdleDeadline(c, s.cfg.IdleTimeout)
	sem := make(chan struct{}, maxConnInflight) // see maxConnInflight
	acquire := func(n int) bool {
		for range n {
			select {
			case sem <- struct{}{}:
			case <-s.ctx.Done():
				return false
			}
		}
		return true
	}
	for {
		if !acquire(1) {
			return
		}
		frame, err := readFrame(r, s.maxRequest+64)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				s.log.Debug("closing idle forwarding connection", zap.Stringer("remote", c.RemoteAddr()))
			case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe):
				s.log.Debug("forwarding connection closed", zap.Error(err))
			}
			return
		}
		idle.begin()
		d := decoder{b: frame}
		id := d.uvarint()
		method := d.byte()
		var bodies [][]byte
		if method == methodWriteBatch {
			bodies = d.writeBatch()
		} else {
			bodies = [][]byte{d.b}
		}
		if d.err != nil {
			s.log.Warn("malformed forwarded request", zap.Error(d.err))
			return
		}
		// A batch holds a slot per write; the frame's own slot is the first.
		if !acquire(len(bodies) - 1) {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer idle.end()
			defer func() {
				for range bodies {
					<-sem
				}
			}()
			resps := s.handleRPC(method, bodies)
			out := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(resps)*(1+2*binary.MaxVarintLen64)), id)
			for _, resp := range resps {
				out = append(out, resp.code)
				out = binary.AppendUvarint(out, uint64(resp.rev))
				out = binary.AppendUvarint(out, uint64(resp.index))
			}
			if err := w.write(out); err != nil {
				c.Close()
			}
		}()
	}
}

// idleDeadline keeps a read deadline on a served connection while it has
// no request in flight, so a connection left idle for the timeout fails
// its read and closes; it has none while requests are in flight.
type idleDeadline struct {
	c       net.Conn
	timeout time.Duration
	mu      sync.Mutex
	n       int // requests in flight
}

func newIdleDeadline(c net.Conn, timeout time.Duration) *idleDeadline {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	return &idleDeadline{c: c, timeout: timeout}
}

func (d *idleDeadline) begin() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n++; d.n == 1 {
		_ = d.c.SetReadDeadline(time.Time{})
	}
}

func (d *idleDeadline) end() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n--; d.n == 0 {
		_ = d.c.SetReadDeadline(time.Now().Add(d.timeout))
	}
}

// writeBatch decodes the body of a methodWriteBatch request into its
// writes, still encoded; they alias the input.
func (d *decoder) writeBatch() [][]byte {
	n := d.count(2) // a write takes a length and at least one byte
	if d.err == nil && (n == 0 || n > maxConnInflight) {
		d.fail("batch of %d writes (limit %d)", n, maxConnInflight)
	}
	if d.err != nil {
		return nil
	}
	bodies := make([][]byte, 0, n)
	for range n {
		bodies = append(bodies, d.bytes(len(d.b)))
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return bodies
}

// handleRPC answers one request: a result per write of a batch, one
// result otherwise (an unknown method gets codeInvalid, which a follower
// sending a batch to a leader of an older version relies on).
func (s *Store) handleRPC(method byte, bodies [][]byte) []rpcResp {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	switch method {
	case methodWrite, methodWriteBatch:
		return s.handleWrites(ctx, bodies)
	case methodReadIndex:
		rev, err := s.readIndexLocal(ctx)
		if errors.Is(err, ErrStopped) {
			return []rpcResp{{code: codeNotLeader}} // reads are always safe to retry
		}
		return []rpcResp{{code: errCode(err), rev: rev}}
	}
	return []rpcResp{{code: codeInvalid}}
}

// handleWrites proposes forwarded writes through this node's batcher. It
// queues all of them before it waits for any, so the writes of a batch can
// share a Raft entry; each gets its own result.
func (s *Store) handleWrites(ctx context.Context, bodies [][]byte) []rpcResp {
	resps := make([]rpcResp, len(bodies))
	reqs := make([]*request, len(bodies))
	valid := 0
	for i, body := range bodies {
		ops, err := decodeRequest(body, s.cfg.MaxValueSize)
		if err != nil || len(ops) > MaxTxnOps {
			resps[i] = rpcResp{code: codeInvalid}
			continue
		}
		if refused, ok := s.admitForwarded(ops); !ok {
			resps[i] = refused
			continue
		}
		reqs[i] = newRequest(body, len(ops), opKeys(ops))
		valid++
	}
	s.metrics.forwardedIn.Add(float64(valid))
	var notSent error
	for i, req := range reqs {
		if req == nil {
			continue
		}
		if notSent == nil {
			notSent = s.enqueue(ctx, req)
		}
		if notSent != nil {
			// Never proposed (this node is stopping or too busy): the
			// follower may safely try again, with the next leader.
			resps[i], reqs[i] = rpcResp{code: codeNotLeader}, nil
		}
	}
	for i, req := range reqs {
		if req == nil {
			continue
		}
		res, err := s.await(ctx, req)
		if err != nil {
			resps[i] = rpcResp{code: codeUnknownOutcome}
			continue
		}
		resps[i] = rpcResp{code: res.code, rev: res.rev, index: res.index}
	}
	return resps
}

// rpcClient keeps one multiplexed connection per leader address.
type rpcClient struct {
	s       *Store
	mu      sync.Mutex
	conns   map[string]*rpcConn
	dialing map[string]*dialCall
	done    bool
}

// fwdCall is one request to the leader. A write waits in its connection's
// queue until a frame takes it; then it is sent and waits for its result.
type fwdCall struct {
	data []byte
	done chan rpcResp // buffered 1: the read loop never blocks on it
	sent bool         // under rpcConn.mu: its frame went to the writer
}

// sentFrame is a request frame waiting for its response.
type sentFrame struct {
	calls []*fwdCall // one result each, in this order
	write bool       // counts toward maxWriteFrames
}

type rpcConn struct {
	c    net.Conn
	w    *frameWriter
	kick chan struct{} // buffered 1: wakes sendLoop to send the queue

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]sentFrame
	dead    chan struct{}
	queue   []*fwdCall // writes waiting for a frame
	writing int        // write frames sent and not yet answered
	sending bool       // a goroutine is turning the queue into frames
	noBatch bool       // the leader predates methodWriteBatch
	used    time.Time  // last request queued or answered
	retired bool       // closed for idleness: take another connection
}

// errNotSent marks a request that never left this node; it is always safe
// to retry.
var errNotSent = errors.New("raftstore: request not sent")

// conn returns the connection to addr, dialing it if there is none. One
// caller dials while the others wait for its outcome: a burst of writes
// after the connection closed costs one dial (and one TLS handshake), not
// one each.
func (rc *rpcClient) conn(ctx context.Context, addr string) (*rpcConn, error) {
	rc.mu.Lock()
	for {
		if rc.done {
			rc.mu.Unlock()
			return nil, ErrStopped
		}
		if c, ok := rc.conns[addr]; ok {
			rc.mu.Unlock()
			return c, nil
		}
		d, ok := rc.dialing[addr]
		if !ok {
			break
		}
		rc.mu.Unlock()
		select {
		case <-d.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: dial leader %s: %w", errNotSent, addr, ctx.Err())
		}
		if d.err != nil {
			return nil, d.err
		}
		rc.mu.Lock()
	}
	d := &dialCall{done: make(chan struct{})}
	if rc.dialing == nil {
		rc.dialing = map[string]*dialCall{}
	}
	rc.dialing[addr] = d
	rc.mu.Unlock()

	c, err := rc.dial(ctx, addr)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	delete(rc.dialing, addr)
	d.err = err
	close(d.done)
	return c, err
}

// dialCall is a dial in progress; err is set before done closes.
type dialCall struct {
	done chan struct{}
	err  error
}

// dial connects to addr and registers the connection; rc.mu is not held.
func (rc *rpcClient) dial(ctx context.Context, addr string) (*rpcConn, error) {
	nc, err := rc.s.mux.dialProto(ctx, addr, muxRPC)
	if err != nil {
		return nil, fmt.Errorf("%w: dial leader %s: %w", errNotSent, addr, err)
	}
	c := &rpcConn{c: nc, w: newFrameWriter(nc), kick: make(chan struct{}, 1),
		pending: map[uint64]sentFrame{}, dead: make(chan struct{})}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.done {
		nc.Close()
		return nil, ErrStopped
	}
	rc.conns[addr] = c
	rc.s.wg.Add(2)
	go rc.readLoop(addr, c)
	go rc.sendLoop(addr, c)
	return c, nil
}

// lockedConn returns a connection to addr that is not retired, with its
// mu held.
func (rc *rpcClient) lockedConn(ctx context.Context, addr string) (*rpcConn, error) {
	for {
		c, err := rc.conn(ctx, addr)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if !c.retired {
			c.used = time.Now()
			return c, nil
		}
		c.mu.Unlock()
	}
}

func (rc *rpcClient) readLoop(addr string, c *rpcConn) {
	defer rc.s.wg.Done()
	r := bufio.NewReaderSize(c.c, 16<<10)
	for {
		frame, err := readFrame(r, maxRespFrame)
		if err != nil {
			break
		}
		d := decoder{b: frame}
		id := d.uvarint()
		if d.err != nil {
			break
		}
		c.mu.Lock()
		f, ok := c.pending[id]
		delete(c.pending, id)
		c.used = time.Now()
		if ok && f.write {
			// A frame slot is free: the writes that queued while this
			// one was out leave now, before its results are handed out.
			c.writing--
			c.kickLocked()
		}
		c.mu.Unlock()
		if ok && !c.deliver(f, d.b) {
			// Its calls stay sent and unanswered: they see the
			// connection die and report an unknown outcome.
			break
		}
	}
	c.c.Close()
	rc.mu.Lock()
	if rc.conns[addr] == c {
		delete(rc.conns, addr)
	}
	rc.mu.Unlock()
	c.mu.Lock()
	close(c.dead)
	c.mu.Unlock()
}

// deliver hands the results in b to the calls of f. It reports false, and
// delivers nothing, if b does not hold exactly one result per call.
func (c *rpcConn) deliver(f sentFrame, b []byte) bool {
	if len(f.calls) > 1 && len(b) == 3 && b[0] == codeInvalid && b[1] == 0 && b[2] == 0 {
		// One codeInvalid for a whole batch: a leader of an older version
		// that does not know methodWriteBatch, and proposed nothing. Send
		// it single writes from now on; these may be retried at once.
		c.mu.Lock()
		c.noBatch = true
		c.mu.Unlock()
		for _, call := range f.calls {
			call.done <- rpcResp{code: codeNotLeader}
		}
		return true
	}
	check := decoder{b: b}
	for range f.calls {
		check.byte()
		check.uvarint()
		check.uvarint()
	}
	if check.err != nil || len(check.b) != 0 {
		return false
	}
	d := decoder{b: b}
	for _, call := range f.calls {
		call.done <- rpcResp{code: d.byte(), rev: int64(d.uvarint()), index: int(d.uvarint())}
	}
	return true
}

// sendLoop sends the queue when the read loop frees a frame slot: the read
// loop must never block writing, or it could stop reading the responses
// that the leader is blocked writing. It also retires the connection once
// it has been idle for half the IdleTimeout, before the leader closes its
// end: a request then never leaves on a connection the leader is closing.
func (rc *rpcClient) sendLoop(addr string, c *rpcConn) {
	defer rc.s.wg.Done()
	idle := rc.s.cfg.IdleTimeout / 2
	timer := time.NewTimer(idle)
	defer timer.Stop()
	for {
		select {
		case <-c.kick:
			c.mu.Lock()
			c.sendLocked()
			c.mu.Unlock()
		case <-timer.C:
			if wait := rc.retireIdle(addr, c, idle); wait > 0 {
				timer.Reset(wait)
			} // else the read loop sees the close and ends c.dead
		case <-c.dead:
			return
		}
	}
}

// retireIdle closes c if nothing has been queued on it or answered for
// idle and nothing is in flight; otherwise it returns how long to wait
// before asking again.
func (rc *rpcClient) retireIdle(addr string, c *rpcConn, idle time.Duration) time.Duration {
	rc.mu.Lock()
	c.mu.Lock()
	wait := idle - time.Since(c.used)
	busy := len(c.pending) > 0 || len(c.queue) > 0 || c.sending
	if busy || wait > 0 {
		c.mu.Unlock()
		rc.mu.Unlock()
		return max(wait, idle/8)
	}
	c.retired = true
	if rc.conns[addr] == c {
		delete(rc.conns, addr)
	}
	c.mu.Unlock()
	rc.mu.Unlock()
	c.c.Close()
	return 0
}

// kickLocked starts sendLoop if writes wait, a frame slot is free and
// nobody is sending.
func (c *rpcConn) kickLocked() {
	if len(c.queue) == 0 || c.sending || c.writing >= maxWriteFrames {
		return
	}
	c.sending = true
	select {
	case c.kick <- struct{}{}:
	default: // cannot happen (kicks are sent only while nobody sends); a pending kick would do
	}
}

// sendLocked turns queued writes into frames while a frame slot is free.
// The caller holds c.mu and has set c.sending, which sendLocked clears; it
// unlocks c.mu while writing.
func (c *rpcConn) sendLocked() {
	defer func() { c.sending = false }()
	for len(c.queue) > 0 && c.writing < maxWriteFrames {
		select {
		case <-c.dead:
			return // the waiting calls see it and were never sent
		default:
		}
		n := c.batchLen()
		calls := slices.Clone(c.queue[:n])
		rest := copy(c.queue, c.queue[n:])
		clear(c.queue[rest:])
		c.queue = c.queue[:rest]
		for _, call := range calls {
			call.sent = true
		}
		c.nextID++
		id := c.nextID
		c.pending[id] = sentFrame{calls: calls, write: true}
		c.writing++
		c.mu.Unlock()
		err := c.w.write(appendWrites(nil, id, calls))
		c.mu.Lock()
		if err != nil {
			// The frame did not leave whole, so the leader has none of it.
			delete(c.pending, id)
			c.writing--
			for _, call := range calls {
				call.sent = false
			}
			c.c.Close()
			return
		}
	}
}

// batchLen says how many queued writes the next frame takes: as many as
// fit the batch limits, and at least one.
func (c *rpcConn) batchLen() int {
	if c.noBatch {
		return 1
	}
	n, size := 0, 0
	for _, call := range c.queue {
		sz := uvarintLen(uint64(len(call.data))) + len(call.data)
		if n == maxBatchWrites || (n > 0 && size+sz > maxBatchBytes) {
			break
		}
		n, size = n+1, size+sz
	}
	return n
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

// appendWrites encodes a frame of writes: one alone as methodWrite, more
// as a methodWriteBatch.
func appendWrites(b []byte, id uint64, calls []*fwdCall) []byte {
	size := binary.MaxVarintLen64 + 1 + binary.MaxVarintLen64
	for _, call := range calls {
		size += binary.MaxVarintLen64 + len(call.data)
	}
	b = slices.Grow(b, size)
	b = binary.AppendUvarint(b, id)
	if len(calls) == 1 {
		b = append(b, methodWrite)
		return append(b, calls[0].data...)
	}
	b = append(b, methodWriteBatch)
	b = binary.AppendUvarint(b, uint64(len(calls)))
	for _, call := range calls {
		b = binary.AppendUvarint(b, uint64(len(call.data)))
		b = append(b, call.data...)
	}
	return b
}

// forward sends one encoded write to the leader at addr, in one frame with
// the others waiting on the same connection, and waits for its result.
func (rc *rpcClient) forward(ctx context.Context, addr string, data []byte) (rpcResp, error) {
	c, err := rc.lockedConn(ctx, addr)
	if err != nil {
		return rpcResp{}, err
	}
	call := &fwdCall{data: data, done: make(chan rpcResp, 1)}
	select {
	case <-c.dead:
		c.mu.Unlock()
		return rpcResp{}, fmt.Errorf("%w: connection to %s closed", errNotSent, addr)
	default:
	}
	c.queue = append(c.queue, call)
	if !c.sending && c.writing < maxWriteFrames {
		// A frame slot is free and nobody sends: send from this goroutine,
		// so a lone write waits for no hand-off.
		c.sending = true
		c.sendLocked()
	}
	c.mu.Unlock()
	return c.wait(ctx, addr, call)
}

// call sends one request other than a write, at once, and waits for its
// answer.
func (rc *rpcClient) call(ctx context.Context, addr string, method byte, body []byte) (rpcResp, error) {
	c, err := rc.lockedConn(ctx, addr)
	if err != nil {
		return rpcResp{}, err
	}
	call := &fwdCall{done: make(chan rpcResp, 1), sent: true}
	select {
	case <-c.dead:
		c.mu.Unlock()
		return rpcResp{}, fmt.Errorf("%w: connection to %s closed", errNotSent, addr)
	default:
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = sentFrame{calls: []*fwdCall{call}}
	c.mu.Unlock()

	payload := binary.AppendUvarint(make([]byte, 0, len(body)+12), id)
	payload = append(payload, method)
	payload = append(payload, body...)
	if err := c.w.write(payload); err != nil {
		c.c.Close()
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return rpcResp{}, fmt.Errorf("%w: write to %s: %v", errNotSent, addr, err)
	}
	return c.wait(ctx, addr, call)
}

// wait returns call's result, or says why there will be none: a call
// never sent was not applied and may be retried; a sent one may yet be.
func (c *rpcConn) wait(ctx context.Context, addr string, call *fwdCall) (rpcResp, error) {
	select {
	case resp := <-call.done:
		return resp, nil
	case <-c.dead:
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case resp := <-call.done:
		return resp, nil
	default:
	}
	if !call.sent {
		if i := slices.Index(c.queue, call); i >= 0 {
			c.queue = slices.Delete(c.queue, i, i+1)
		}
		if err := ctx.Err(); err != nil {
			return rpcResp{}, fmt.Errorf("%w: %w", errNotSent, err)
		}
		return rpcResp{}, fmt.Errorf("%w: connection to %s closed", errNotSent, addr)
	}
	if err := ctx.Err(); err != nil {
		// The leader has the request and may still apply it.
		return rpcResp{}, fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
	return rpcResp{}, fmt.Errorf("%w: connection to leader %s lost", ErrUnknownOutcome, addr)
}

// close shuts every connection; read and send loops exit and are awaited
// by Store.
func (rc *rpcClient) close() {
	rc.mu.Lock()
	rc.done = true
	for _, c := range rc.conns {
		c.c.Close()
	}
	rc.mu.Unlock()
}
