package raftstore

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error a Store returns wraps one of these (or a
// context error) so callers test them with errors.Is or the predicates below
// and never parse strings.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("raftstore: key not found")
	// ErrAlreadyExists: Create found the key already present.
	ErrAlreadyExists = errors.New("raftstore: key already exists")
	// ErrConflict: the key's revision differs from the expected one.
	ErrConflict = errors.New("raftstore: revision conflict")
	// ErrNoLeader: the write could not be handed to a leader within the
	// caller's deadline: none was known, or (on a follower) it was still
	// queued for the next forwarded batch. Nothing was applied; retryable
	// (the cluster may be electing, or the leader busy).
	ErrNoLeader = errors.New("raftstore: no leader")
	// ErrNotLeader: the operation runs only on the leader (membership
	// changes, bootstrap of a running cluster). Retry on the leader.
	ErrNotLeader = errors.New("raftstore: not leader")
	// ErrUnknownOutcome: leadership was lost or the connection to the leader
	// broke after a write was sent; it may or may not have been applied.
	// Re-read before retrying a non-idempotent write.
	ErrUnknownOutcome = errors.New("raftstore: leadership lost, outcome unknown")
	// ErrTooOld: a watch asked for a revision older than the retained
	// history, or fell too far behind (Kubernetes' 410 Gone). Re-list and
	// watch from the revision the list returned.
	ErrTooOld = errors.New("raftstore: revision too old")
	// ErrTooLarge: a key or value exceeds the configured limits.
	ErrTooLarge = errors.New("raftstore: too large")
	// ErrInvalidArgument: a malformed argument (empty key, bad option).
	ErrInvalidArgument = errors.New("raftstore: invalid argument")
	// ErrAlreadyBootstrapped: Bootstrap found existing Raft state.
	ErrAlreadyBootstrapped = errors.New("raftstore: already bootstrapped")
	// ErrNotStarted: the Store was used before Start.
	ErrNotStarted = errors.New("raftstore: not started")
	// ErrStopped: the Store has been shut down.
	ErrStopped = errors.New("raftstore: stopped")
	// ErrRefused: a node refused a connection from this one (Store.Dial,
	// and Raft and forwarding inside): its TLS handshake rejected this
	// node's certificate, its AuthorizePeer refused it, it has no such
	// service, or it closed the connection before accepting it (over its
	// connection limits, or stopping). The error says which when the node
	// said so; its log says why at Warn.
	ErrRefused = errors.New("raftstore: connection refused by peer")
	// ErrDecrypt: a value could not be decrypted or encrypted: this node
	// does not hold the key it needs, the ciphertext is corrupt, or, with
	// encryption on, the stored value is not encrypted (it is never served).
	ErrDecrypt = errors.New("raftstore: cannot decrypt value")
	// ErrKeyInUse: an encryption key cannot be retired while it is the
	// primary key or values are still sealed with it (run Reencrypt).
	ErrKeyInUse = errors.New("raftstore: encryption key in use")
	// ErrFenced: a Txn fenced with OpFence(term) reached the log in
	// another term: the node that wrote it no longer leads the term it
	// named (another node was elected since). Nothing was applied. Not
	// retryable: the caller's leadership is over; stop leader-only work.
	ErrFenced = errors.New("raftstore: leadership changed")
	// ErrCorrupt: a log entry or snapshot failed validation.
	ErrCorrupt = errors.New("raftstore: corrupt data")
)

// IsNotFound reports whether err means the key does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsAlreadyExists reports whether err means Create found the key present.
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }

// IsConflict reports whether err is a failed compare-and-swap.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsFenced reports whether a fenced Txn was refused because its term had
// ended.
func IsFenced(err error) bool { return errors.Is(err, ErrFenced) }

// IsTooOld reports whether a watch must re-list (revision compacted away or
// the watcher fell behind).
func IsTooOld(err error) bool { return errors.Is(err, ErrTooOld) }

// IsTooLarge reports whether a key or value exceeded the limits.
func IsTooLarge(err error) bool { return errors.Is(err, ErrTooLarge) }

// IsRetryable reports whether the same request may succeed if retried later
// without change: no leader, not the leader, or an unknown outcome (which
// needs a re-read first for non-idempotent writes).
func IsRetryable(err error) bool {
	return errors.Is(err, ErrNoLeader) || errors.Is(err, ErrNotLeader) || errors.Is(err, ErrUnknownOutcome)
}

// IgnoreNotFound returns nil for a not-found error and err otherwise.
func IgnoreNotFound(err error) error {
	if IsNotFound(err) {
		return nil
	}
	return err
}

// KeyError names the key an operation failed on.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return fmt.Sprintf("%v: %q", e.Err, e.Key) }

// Unwrap returns the sentinel.
func (e *KeyError) Unwrap() error { return e.Err }

// TxnError reports which operation of a transaction failed; nothing of the
// transaction was applied.
type TxnError struct {
	Index int // position of the failing Op in the Txn call
	Err   error
}

func (e *TxnError) Error() string { return fmt.Sprintf("raftstore: txn op %d: %v", e.Index, e.Err) }

// Unwrap returns the cause.
func (e *TxnError) Unwrap() error { return e.Err }

// result codes carried in FSM responses and forwarded RPC replies.
const (
	codeOK byte = iota
	codeNotFound
	codeAlreadyExists
	codeConflict
	codeCorrupt
	codeNotLeader
	codeUnknownOutcome
	codeStopped
	codeNoLeader
	codeInvalid
	// codeStaleKey: a value was sealed with a key the cluster has retired,
	// or a reseal or key entry with a key that is no longer primary; the
	// proposer had not applied the change yet. Nothing was applied: apply
	// up to the result's revision, seal again and retry.
	codeStaleKey
	// codeFenced: a fence named another term than its entry's.
	codeFenced
)

func codeErr(code byte) error {
	switch code {
	case codeOK:
		return nil
	case codeNotFound:
		return ErrNotFound
	case codeAlreadyExists:
		return ErrAlreadyExists
	case codeConflict:
		return ErrConflict
	case codeCorrupt:
		return ErrCorrupt
	case codeNotLeader:
		return ErrNotLeader
	case codeUnknownOutcome:
		return ErrUnknownOutcome
	case codeStopped:
		return ErrStopped
	case codeNoLeader:
		return ErrNoLeader
	case codeInvalid:
		return ErrInvalidArgument
	case codeStaleKey:
		return fmt.Errorf("%w: sealed with an encryption key that is retired or no longer primary", ErrDecrypt)
	case codeFenced:
		return ErrFenced
	}
	return fmt.Errorf("%w: unknown result code %d", ErrCorrupt, code)
}

func errCode(err error) byte {
	switch {
	case err == nil:
		return codeOK
	case errors.Is(err, ErrNotFound):
		return codeNotFound
	case errors.Is(err, ErrAlreadyExists):
		return codeAlreadyExists
	case errors.Is(err, ErrConflict):
		return codeConflict
	case errors.Is(err, ErrNotLeader):
		return codeNotLeader
	case errors.Is(err, ErrStopped):
		return codeStopped
	case errors.Is(err, ErrNoLeader):
		return codeNoLeader
	case errors.Is(err, ErrInvalidArgument), errors.Is(err, ErrTooLarge):
		return codeInvalid
	case errors.Is(err, ErrCorrupt):
		return codeCorrupt
	case errors.Is(err, ErrFenced):
		return codeFenced
	}
	return codeUnknownOutcome
}
