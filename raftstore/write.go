package raftstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"
)

// KV is one key with its value and revisions.
type KV struct {
	Key   string
	Value []byte // a copy the caller owns
	// CreateRevision is the revision at which the key was created;
	// ModRevision the revision of its last write (use it for
	// compare-and-swap). Version counts writes since creation.
	CreateRevision int64
	ModRevision    int64
	Version        int64
}

// request is one caller's encoded operations waiting for the batcher.
type request struct {
	data []byte
	nops int            // operations, hence at most this many watch events
	keys []string       // keys the request writes or checks
	done chan reqResult // buffered 1: the completer never blocks on it
}

// opKeys lists the distinct keys of ops (a fence names none).
func opKeys(ops []Op) []string {
	keys := make([]string, 0, len(ops))
	for _, o := range ops {
		if o.kind != opFence && !slices.Contains(keys, o.key) {
			keys = append(keys, o.key)
		}
	}
	return keys
}

type pendingBatch struct {
	f     raft.ApplyFuture
	batch []*request
}

// Create stores key only if it does not exist and returns the revision.
//
// Errors: ErrAlreadyExists; ErrInvalidArgument or ErrTooLarge for a bad key
// or value; ErrDecrypt when values are encrypted and this node does not
// hold the primary key; ErrNoLeader if the write could not be handed to a
// leader before ctx's deadline (or RequestTimeout), so nothing was applied;
// ErrUnknownOutcome; ErrStopped; ErrNotStarted; ctx.Err(). Key errors are
// *KeyError.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	return s.single(ctx, OpCreate(key, value))
}

// Put stores key whether or not it exists. Errors as Create, without
// ErrAlreadyExists.
func (s *Store) Put(ctx context.Context, key string, value []byte) (int64, error) {
	return s.single(ctx, OpPut(key, value))
}

// Update overwrites an existing key; expectedRev 0 accepts any revision,
// otherwise it must equal the key's ModRevision.
//
// Errors: ErrNotFound; ErrConflict; and those of Create.
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRev int64) (int64, error) {
	return s.single(ctx, OpUpdate(key, value, expectedRev))
}

// Delete removes an existing key, with the revision rule of Update, and
// returns the revision of the deletion. Errors as Update.
func (s *Store) Delete(ctx context.Context, key string, expectedRev int64) (int64, error) {
	return s.single(ctx, OpDelete(key, expectedRev))
}

func (s *Store) single(ctx context.Context, op Op) (int64, error) {
	rev, err := s.Txn(ctx, op)
	var te *TxnError
	if errors.As(err, &te) {
		return 0, te.Err
	}
	return rev, err
}

// Txn applies ops atomically: either all of them take effect at one
// revision, which it returns, or none does.
//
// Errors: *TxnError naming the failing op (wrapping a *KeyError with
// ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalidArgument or
// ErrTooLarge); ErrInvalidArgument for no ops; ErrTooLarge when the ops
// together exceed four times MaxValueSize; and the errors of Create.
func (s *Store) Txn(ctx context.Context, ops ...Op) (int64, error) {
	if len(ops) == 0 {
		return 0, fmt.Errorf("%w: txn has no operations", ErrInvalidArgument)
	}
	if err := s.running(); err != nil {
		return 0, err
	}
	if len(ops) > MaxTxnOps {
		return 0, fmt.Errorf("%w: txn has %d operations, limit %d", ErrTooLarge, len(ops), MaxTxnOps)
	}
	for i := range ops {
		if err := ops[i].validate(s.cfg.MaxValueSize); err != nil {
			return 0, &TxnError{Index: i, Err: err}
		}
	}
	res, err := s.proposeSealed(ctx, func(kr *keyring) ([]Op, error) { return sealOps(kr, ops) })
	s.metrics.write(err == nil && res.code == codeOK)
	if err != nil {
		return 0, err
	}
	if res.code == codeFenced {
		return 0, fenceErr(ops)
	}
	if res.code != codeOK {
		cause := codeErr(res.code)
		if res.index >= 0 && res.index < len(ops) {
			return 0, &TxnError{Index: res.index, Err: &KeyError{Key: ops[res.index].key, Err: cause}}
		}
		return 0, cause
	}
	return res.rev, nil
}

// fenceErr is the error of a Txn refused by its fence, naming the term.
func fenceErr(ops []Op) error {
	for _, o := range ops {
		if o.kind == opFence {
			return fmt.Errorf("%w: this node no longer leads term %d", ErrFenced, o.rev)
		}
	}
	return ErrFenced
}

// sealOps returns ops with their values sealed, when values are encrypted.
func sealOps(kr *keyring, ops []Op) ([]Op, error) {
	if !kr.on() {
		return ops, nil
	}
	sealed := make([]Op, len(ops))
	for i, o := range ops {
		if o.kind == opCreate || o.kind == opPut || o.kind == opUpdate {
			v, err := kr.seal(o.key, o.value)
			if err != nil {
				return nil, err
			}
			o.value, o.flags = v, o.flags|flagEncrypted
		}
		sealed[i] = o
	}
	return sealed, nil
}

// maxResealAttempts bounds how often proposeSealed seals a request again.
const maxResealAttempts = 3

// proposeSealed builds a request with the current keyring and gets it
// applied. If the cluster had meanwhile moved on to another key
// (codeStaleKey: nothing was applied), it waits until this node has applied
// that change and builds the request again.
func (s *Store) proposeSealed(ctx context.Context, build func(*keyring) ([]Op, error)) (reqResult, error) {
	for attempt := 1; ; attempt++ {
		ops, err := build(s.fsm.keyring())
		if err != nil {
			return reqResult{}, err
		}
		// The limit applies to the request as sent (encoded, sealed), so
		// what the leader accepts a follower can forward.
		data := appendRequest(nil, ops)
		if len(data) > s.maxRequest {
			return reqResult{}, fmt.Errorf("%w: txn encodes to %d bytes, limit %d", ErrTooLarge, len(data), s.maxRequest)
		}
		res, err := s.submit(ctx, data, len(ops), opKeys(ops))
		if err != nil || res.code != codeStaleKey || attempt == maxResealAttempts {
			return res, err
		}
		wctx, cancel := s.requestContext(ctx)
		err = s.fsm.waitApplied(wctx, res.rev)
		cancel()
		if err != nil {
			return reqResult{}, fmt.Errorf("raftstore: waiting to apply an encryption key change: %w", err)
		}
	}
}

// submit gets one encoded request applied, on this node if it leads or
// through the leader otherwise, retrying while that is safe.
func (s *Store) submit(ctx context.Context, data []byte, nops int, keys []string) (reqResult, error) {
	ctx, cancel := s.requestContext(ctx)
	defer cancel()
	var lastErr error = ErrNoLeader
	backoff := time.Millisecond
	for {
		if s.raft.State() == raft.Leader {
			res, err := s.proposeLocal(ctx, data, nops, keys)
			if err == nil && res.code != codeNotLeader {
				return res, nil
			}
			if err != nil && !errors.Is(err, errNotSent) {
				return res, err
			}
			lastErr = ErrNoLeader
		} else if addr, _ := s.raft.LeaderWithID(); addr != "" {
			s.metrics.forwardedOut.Inc()
			resp, err := s.rpc.forward(ctx, string(addr), data)
			switch {
			case err == nil && resp.code != codeNotLeader && resp.code != codeNoLeader && resp.code != codeStopped:
				return reqResult{rev: resp.rev, code: resp.code, index: resp.index}, nil
			case err != nil && !errors.Is(err, errNotSent):
				return reqResult{}, err
			case err != nil:
				lastErr = err
			default:
				lastErr = ErrNoLeader
			}
		}
		if err := s.pause(ctx, backoff); err != nil {
			return reqResult{}, retryErr(lastErr, err)
		}
		backoff = min(2*backoff, 20*time.Millisecond)
	}
}

// retryErr says why retrying stopped: the store stopped, or the deadline
// passed while no leader could take the request.
func retryErr(last, err error) error {
	if errors.Is(err, ErrStopped) {
		return ErrStopped
	}
	if errors.Is(last, ErrNoLeader) {
		return fmt.Errorf("%w: %w", ErrNoLeader, err)
	}
	return fmt.Errorf("%w: %w (last attempt: %v)", ErrNoLeader, err, last)
}

// pause waits d, or returns early with ctx's error or ErrStopped.
func (s *Store) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrStopped
	}
}

// proposeLocal hands a request to this node's batcher and waits for its
// result. A result with codeNotLeader means nothing was appended.
func (s *Store) proposeLocal(ctx context.Context, data []byte, nops int, keys []string) (reqResult, error) {
	req := newRequest(data, nops, keys)
	if err := s.enqueue(ctx, req); err != nil {
		return reqResult{}, err
	}
	return s.await(ctx, req)
}

func newRequest(data []byte, nops int, keys []string) *request {
	return &request{data: data, nops: nops, keys: keys, done: make(chan reqResult, 1)}
}

// enqueue hands req to the batcher; an error wraps errNotSent.
func (s *Store) enqueue(ctx context.Context, req *request) error {
	select {
	case s.reqCh <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", errNotSent, ctx.Err())
	case <-s.ctx.Done():
		return fmt.Errorf("%w: %w", errNotSent, ErrStopped)
	}
}

// await waits for the result of an enqueued request.
func (s *Store) await(ctx context.Context, req *request) (reqResult, error) {
	select {
	case res := <-req.done:
		return res, nil
	case <-ctx.Done():
		return reqResult{}, fmt.Errorf("%w: %w", ErrUnknownOutcome, ctx.Err())
	case <-s.ctx.Done():
		return reqResult{}, ErrStopped
	}
}

// maxInflightEntries bounds the Raft entries proposed and not yet applied.
// Keeping it small is what makes group commit work: while the entries in
// flight commit, new requests pile up and leave together in the next one.
// (Measured with 64 writers: 64 in flight gave 6-11 requests per entry, 1
// gave 33 and 1.8x the throughput; 2 keeps one entry's preparation
// overlapping the previous commit.)
const maxInflightEntries = 2

// batchLoop is the group commit: it takes every request that is waiting
// (up to MaxBatch and 1 MiB) into one Raft entry. A lone request goes at
// once, so batching never adds latency; under load, requests pile up while
// the entries in flight commit and leave together.
//
// Two requests for the same key never share an entry: they would share a
// revision, and a client that wrote first could then compare-and-swap
// against the revision of a write it never saw. Such a request starts the
// next entry instead.
func (s *Store) batchLoop() {
	defer s.raftOps.Done()
	defer close(s.inflight)
	const maxEntryBytes = 1 << 20
	// One entry carries fewer events than a quarter of the watch history,
	// so the dispatcher never finds an entry's events already evicted.
	maxEntryOps := max(1, s.cfg.HistorySize/4)
	var (
		datas [][]byte
		carry *request
		keys  = map[string]struct{}{}
	)
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-s.reqCh:
			case <-s.ctx.Done():
				return
			}
		}
		select {
		case s.slots <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		clear(keys)
		for _, k := range first.keys {
			keys[k] = struct{}{}
		}
		batch := []*request{first}
		size, nops := len(first.data), first.nops
	drain:
		for len(batch) < s.cfg.MaxBatch && size < maxEntryBytes {
			select {
			case r := <-s.reqCh:
				if nops+r.nops > maxEntryOps {
					carry = r
					break drain
				}
				for _, k := range r.keys {
					if _, dup := keys[k]; dup {
						carry = r
						break drain
					}
				}
				for _, k := range r.keys {
					keys[k] = struct{}{}
				}
				batch = append(batch, r)
				size += len(r.data)
				nops += r.nops
			default:
				break drain
			}
		}
		datas = datas[:0]
		for _, r := range batch {
			datas = append(datas, r.data)
		}
		s.metrics.batch(len(batch))
		f := s.raft.Apply(encodeEntry(datas), 0)
		select {
		case s.inflight <- &pendingBatch{f: f, batch: batch}:
		case <-s.ctx.Done():
			return
		}
	}
}

// completeLoop hands each entry's results to its callers, in log order.
func (s *Store) completeLoop() {
	defer s.raftOps.Done()
	for p := range s.inflight {
		err := p.f.Error()
		var results []reqResult
		code := codeOK
		if err == nil {
			switch r := p.f.Response().(type) {
			case []reqResult:
				results = r
			default:
				code = codeCorrupt
			}
		} else {
			code = errCode(mapRaftErr(err))
		}
		for i, req := range p.batch {
			switch {
			case i < len(results):
				req.done <- results[i]
			case code == codeOK: // fewer results than requests: never trust it
				req.done <- reqResult{code: codeCorrupt, index: -1}
			default:
				req.done <- reqResult{code: code, index: -1}
			}
		}
		<-s.slots
	}
}

// ReadOption changes how Get and List read.
type ReadOption func(*readOptions)

type readOptions struct {
	linearizable bool
	limit        int
	after        string
	skip         func(key string, err error)
}

// Linearizable makes a read reflect every write acknowledged before it
// started, on any node: the leader commits a barrier entry through a quorum
// (concurrent reads share one), and the reading node waits until it has
// applied as much as the leader had then. Without it a read is served from local state at once and may be
// stale on a follower.
func Linearizable() ReadOption { return func(o *readOptions) { o.linearizable = true } }

// Limit makes List return at most n keys (n <= 0: no limit). Keys that
// SkipUnreadable skips count toward n. With After, the n keys after it.
func Limit(n int) ReadOption { return func(o *readOptions) { o.limit = max(n, 0) } }

// After makes List and Count start after key: they read only the keys
// under their prefix that sort after key, in key order, so a caller pages
// through a large prefix a limited part at a time (After with the last key
// of one part, and Limit, reads the next part), each part costing its own
// size rather than the prefix's. key "" (or one sorting before the prefix)
// starts at the prefix's first key; a key sorting after every key of the
// prefix lists nothing. Each part is its own read, consistent at the
// revision it returns.
func After(key string) ReadOption { return func(o *readOptions) { o.after = key } }

// SkipUnreadable makes List leave out a value it cannot serve (one that
// does not decrypt, or is not encrypted while encryption is on: an error
// wrapping ErrDecrypt) instead of failing, and call report with its key
// and error, synchronously, in key order, before List returns. report
// must not block. Without it one such value fails the whole List. Get
// always returns the error: reading one key is how a caller looks at a
// value List skipped. nil report: skip silently.
func SkipUnreadable(report func(key string, err error)) ReadOption {
	return func(o *readOptions) {
		o.skip = report
		if o.skip == nil {
			o.skip = func(string, error) {}
		}
	}
}

func (s *Store) readOpts(ctx context.Context, opts []ReadOption) (readOptions, error) {
	var o readOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := s.running(); err != nil {
		return o, err
	}
	if o.linearizable {
		return o, s.linearize(ctx)
	}
	return o, nil
}

// Get returns the value of key.
//
// Errors: *KeyError wrapping ErrNotFound or ErrDecrypt; ErrInvalidArgument
// for an empty key; with Linearizable, ErrNoLeader and ctx.Err();
// ErrNotStarted; ErrStopped.
func (s *Store) Get(ctx context.Context, key string, opts ...ReadOption) (KV, error) {
	if key == "" {
		return KV{}, fmt.Errorf("%w: key is empty", ErrInvalidArgument)
	}
	if _, err := s.readOpts(ctx, opts); err != nil {
		return KV{}, err
	}
	e, kr := s.fsm.get(key)
	if e == nil {
		return KV{}, &KeyError{Key: key, Err: ErrNotFound}
	}
	return toKV(e, kr)
}

// List returns the keys under prefix in key order ("" lists everything)
// and the revision the result is consistent at; watch from that revision to
// follow later changes. A store that has applied no write lists at
// revision 1, not 0, which Watch reads as "from now": no write has
// revision 1 (Raft's first entry is its configuration), so a watch from it
// misses nothing written after the list.
//
// Errors: as Get, without ErrNotFound (an empty prefix range is an empty
// list); a value that cannot be read (ErrDecrypt) fails the List unless
// SkipUnreadable is given.
func (s *Store) List(ctx context.Context, prefix string, opts ...ReadOption) ([]KV, int64, error) {
	o, err := s.readOpts(ctx, opts)
	if err != nil {
		return nil, 0, err
	}
	entries, rev, kr := s.fsm.list(prefix, o.after, o.limit)
	rev = max(rev, 1)
	out := make([]KV, 0, len(entries))
	for _, e := range entries {
		kv, err := toKV(e, kr)
		if err != nil {
			if o.skip == nil {
				return nil, 0, err
			}
			o.skip(e.key, err)
			continue
		}
		out = append(out, kv)
	}
	return out, rev, nil
}

// Count returns how many keys are under prefix ("" counts everything) and
// the revision the count is consistent at, without reading a value: the
// cost is a walk of the keys, not of the data. With Limit(n) it stops
// counting at n, so "are there n keys yet?" costs at most n steps.
// Linearizable works as for List.
//
// Errors: with Linearizable, ErrNoLeader and ctx.Err(); ErrNotStarted;
// ErrStopped.
func (s *Store) Count(ctx context.Context, prefix string, opts ...ReadOption) (int, int64, error) {
	o, err := s.readOpts(ctx, opts)
	if err != nil {
		return 0, 0, err
	}
	n, rev := s.fsm.count(prefix, o.after, o.limit)
	return n, max(rev, 1), nil
}

// Revision returns the last revision this node has applied.
func (s *Store) Revision() int64 { return s.fsm.revision() }

func toKV(e *entry, kr *keyring) (KV, error) {
	v, err := kr.value(e, false)
	if err != nil {
		return KV{}, err
	}
	return KV{Key: e.key, Value: v, CreateRevision: e.createRev, ModRevision: e.modRev, Version: e.version}, nil
}

// linearize waits until this node has applied every write acknowledged
// before the call (read-index protocol).
func (s *Store) linearize(ctx context.Context) error {
	ctx, cancel := s.requestContext(ctx)
	defer cancel()
	backoff := time.Millisecond
	var lastErr error = ErrNoLeader
	for {
		var rev int64
		var err error
		if s.raft.State() == raft.Leader {
			rev, err = s.readIndexLocal(ctx)
		} else if addr, _ := s.raft.LeaderWithID(); addr != "" {
			var resp rpcResp
			resp, err = s.rpc.call(ctx, string(addr), methodReadIndex, nil)
			if err == nil {
				rev, err = resp.rev, codeErr(resp.code)
			}
		} else {
			err = ErrNoLeader
		}
		if err == nil {
			return s.fsm.waitApplied(ctx, rev)
		}
		if !IsRetryable(err) && !errors.Is(err, errNotSent) {
			return err
		}
		lastErr = err
		if err := s.pause(ctx, backoff); err != nil {
			return retryErr(lastErr, err)
		}
		backoff = min(2*backoff, 20*time.Millisecond)
	}
}

// readIndexLocal returns, on the leader, a revision that covers every
// write acknowledged before the call. It queues the caller for the next
// Raft barrier: the barrier commits through a quorum (so this node still
// leads) and is applied only after every entry before it, including those
// of earlier terms. Concurrent callers share one barrier.
func (s *Store) readIndexLocal(ctx context.Context) (int64, error) {
	req := readReq{done: make(chan readRes, 1)}
	select {
	case s.readCh <- req:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.ctx.Done():
		return 0, ErrStopped
	}
	select {
	case r := <-req.done:
		return r.rev, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.ctx.Done():
		return 0, ErrStopped
	}
}

type readReq struct{ done chan readRes }

type readRes struct {
	rev int64
	err error
}

// readLoop serves read-index requests in rounds of one barrier each. A
// request that arrives while a barrier is in flight waits for the next one,
// whose start follows its arrival.
//
// (Raft's VerifyLeader would avoid the log entry, but a verify request
// queued just before Raft shuts down is never answered, which would leave a
// goroutine waiting forever; barriers are always answered.)
func (s *Store) readLoop() {
	defer s.raftOps.Done()
	for {
		var batch []readReq
		select {
		case r := <-s.readCh:
			batch = append(batch, r)
		case <-s.ctx.Done():
			return
		}
	drain:
		for {
			select {
			case r := <-s.readCh:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		var res readRes
		if s.raft.State() != raft.Leader {
			res.err = ErrNotLeader
		} else if err := s.raft.Barrier(0).Error(); err != nil {
			res.err = mapRaftErr(err)
		} else {
			res.rev = s.fsm.revision()
		}
		for _, r := range batch {
			r.done <- res
		}
	}
}
