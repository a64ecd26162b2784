package membership

import "errors"

// Sentinel errors. Every error returned by this package that falls into one of
// these classes wraps the matching sentinel, so callers test with errors.Is (or
// the Is* predicates) and never parse strings.
var (
	// ErrInvalidConfig wraps every problem Config.Validate reports.
	ErrInvalidConfig = errors.New("membership: invalid config")
	// ErrInvalidRecord is returned when a node record fails validation.
	ErrInvalidRecord = errors.New("membership: invalid node record")
	// ErrRecordTooLarge is returned when the encoded node record exceeds
	// MaxRecordSize (memberlist's 512-byte metadata limit).
	ErrRecordTooLarge = errors.New("membership: node record too large")
	// ErrNotStarted is returned by calls that need a started Membership.
	ErrNotStarted = errors.New("membership: not started")
	// ErrShutdown is returned by calls made after Shutdown.
	ErrShutdown = errors.New("membership: shut down")
	// ErrLeft is returned by Join and UpdateRecord after Leave: the node
	// announced its departure and must not reappear; create a new
	// Membership to come back.
	ErrLeft = errors.New("membership: node has left the cluster")
	// ErrAlreadyStarted is returned by a second call to Start.
	ErrAlreadyStarted = errors.New("membership: already started")
	// ErrJoinFailed is returned when no join address could be reached before
	// the context ended; the error text names every address and its last error.
	ErrJoinFailed = errors.New("membership: join failed")
	// ErrNameConflict is returned when another live member already uses this
	// node's name at a different address.
	ErrNameConflict = errors.New("membership: node name conflict")
	// ErrProtocolMismatch is returned when a peer speaks a membership protocol
	// version this node does not understand (or the other way round).
	ErrProtocolMismatch = errors.New("membership: protocol version mismatch")
	// ErrGossipKey is returned when a peer cannot be joined because it uses a
	// different gossip encryption key (or none, or this node uses none).
	ErrGossipKey = errors.New("membership: gossip key mismatch")
	// ErrKeyNotFound is returned by key rotation calls for an unknown key.
	ErrKeyNotFound = errors.New("membership: gossip key not installed")
)

// IsJoinFailed reports whether err means that no join address was reachable.
func IsJoinFailed(err error) bool { return errors.Is(err, ErrJoinFailed) }

// IsNameConflict reports whether err is a node name conflict.
func IsNameConflict(err error) bool { return errors.Is(err, ErrNameConflict) }

// IsProtocolMismatch reports whether err is a protocol version mismatch.
func IsProtocolMismatch(err error) bool { return errors.Is(err, ErrProtocolMismatch) }

// IsGossipKey reports whether err is a gossip encryption key mismatch.
func IsGossipKey(err error) bool { return errors.Is(err, ErrGossipKey) }
