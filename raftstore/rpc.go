package raftstore

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
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
//	response = uvarint(id) code uvarint(rev) uvarint(failedOp)
//
// Many requests share one connection; responses may come out of order.

const (
	methodWrite     byte = 1
	methodReadIndex byte = 2
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

// serveRPC answers forwarded requests on one connection until it closes.
func (s *Store) serveRPC(c net.Conn) {
	var wg sync.WaitGroup
	defer wg.Wait()
	r := bufio.NewReaderSize(c, 64<<10)
	w := newFrameWriter(c)
	// At most maxConnInflight requests of one connection are handled at a
	// time; past that the connection is not read, so a peer cannot make
	// this node hold unbounded memory.
	const maxConnInflight = 64
	sem := make(chan struct{}, maxConnInflight)
	for {
		select {
		case sem <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		frame, err := readFrame(r, s.maxRequest+64)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
				s.log.Debug("forwarding connection closed", zap.Error(err))
			}
			return
		}
		d := decoder{b: frame}
		id := d.uvarint()
		method := d.byte()
		if d.err != nil {
			s.log.Warn("malformed forwarded request", zap.Error(d.err))
			return
		}
		body := d.b
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp := s.handleRPC(method, body)
			out := binary.AppendUvarint(nil, id)
			out = append(out, resp.code)
			out = binary.AppendUvarint(out, uint64(resp.rev))
			out = binary.AppendUvarint(out, uint64(resp.index))
			if err := w.write(out); err != nil {
				c.Close()
			}
		}()
	}
}

func (s *Store) handleRPC(method byte, body []byte) rpcResp {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	switch method {
	case methodWrite:
		ops, err := decodeRequest(body, s.cfg.MaxValueSize)
		if err != nil || len(ops) > MaxTxnOps {
			return rpcResp{code: codeInvalid}
		}
		s.metrics.forwardedIn.Inc()
		res, err := s.proposeLocal(ctx, body, len(ops), opKeys(ops))
		switch {
		case errors.Is(err, errNotSent):
			// Never proposed (this node is stopping or too busy): the
			// follower may safely try again, with the next leader.
			return rpcResp{code: codeNotLeader}
		case err != nil:
			return rpcResp{code: codeUnknownOutcome}
		}
		return rpcResp{code: res.code, rev: res.rev, index: res.index}
	case methodReadIndex:
		rev, err := s.readIndexLocal(ctx)
		if errors.Is(err, ErrStopped) {
			return rpcResp{code: codeNotLeader} // reads are always safe to retry
		}
		return rpcResp{code: errCode(err), rev: rev}
	}
	return rpcResp{code: codeInvalid}
}

// rpcClient keeps one multiplexed connection per leader address.
type rpcClient struct {
	s     *Store
	mu    sync.Mutex
	conns map[string]*rpcConn
	done  bool
}

type rpcConn struct {
	c net.Conn
	w *frameWriter

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan rpcResp
	dead    chan struct{}
}

// errNotSent marks a request that never left this node; it is always safe
// to retry.
var errNotSent = errors.New("raftstore: request not sent")

func (rc *rpcClient) conn(ctx context.Context, addr string) (*rpcConn, error) {
	rc.mu.Lock()
	if rc.done {
		rc.mu.Unlock()
		return nil, ErrStopped
	}
	if c, ok := rc.conns[addr]; ok {
		rc.mu.Unlock()
		return c, nil
	}
	rc.mu.Unlock()
	nc, err := rc.s.mux.dialProto(ctx, addr, muxRPC)
	if err != nil {
		return nil, fmt.Errorf("%w: dial leader %s: %v", errNotSent, addr, err)
	}
	c := &rpcConn{c: nc, w: newFrameWriter(nc), pending: map[uint64]chan rpcResp{}, dead: make(chan struct{})}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.done {
		nc.Close()
		return nil, ErrStopped
	}
	if old, ok := rc.conns[addr]; ok {
		nc.Close()
		return old, nil
	}
	rc.conns[addr] = c
	rc.s.wg.Add(1)
	go rc.readLoop(addr, c)
	return c, nil
}

func (rc *rpcClient) readLoop(addr string, c *rpcConn) {
	defer rc.s.wg.Done()
	r := bufio.NewReaderSize(c.c, 16<<10)
	for {
		frame, err := readFrame(r, 64)
		if err != nil {
			break
		}
		d := decoder{b: frame}
		id := d.uvarint()
		resp := rpcResp{code: d.byte(), rev: int64(d.uvarint()), index: int(d.uvarint())}
		if d.err != nil {
			break
		}
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- resp
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

// call sends one request and waits for its answer.
func (rc *rpcClient) call(ctx context.Context, addr string, method byte, body []byte) (rpcResp, error) {
	c, err := rc.conn(ctx, addr)
	if err != nil {
		return rpcResp{}, err
	}
	ch := make(chan rpcResp, 1)
	c.mu.Lock()
	select {
	case <-c.dead:
		c.mu.Unlock()
		return rpcResp{}, fmt.Errorf("%w: connection to %s closed", errNotSent, addr)
	default:
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	payload := binary.AppendUvarint(make([]byte, 0, len(body)+12), id)
	payload = append(payload, method)
	payload = append(payload, body...)
	err = c.w.write(payload)
	if err != nil {
		c.c.Close()
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return rpcResp{}, fmt.Errorf("%w: write to %s: %v", errNotSent, addr, err)
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-c.dead:
		select {
		case resp := <-ch:
			return resp, nil
		default:
		}
		return rpcResp{}, fmt.Errorf("%w: connection to leader %s lost", ErrUnknownOutcome, addr)
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		// The leader has the request and may still apply it.
		return rpcResp{}, fmt.Errorf("%w: %w", ErrUnknownOutcome, ctx.Err())
	}
}

// close shuts every connection; read loops exit and are awaited by Store.
func (rc *rpcClient) close() {
	rc.mu.Lock()
	rc.done = true
	for _, c := range rc.conns {
		c.c.Close()
	}
	rc.mu.Unlock()
}
