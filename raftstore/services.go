package raftstore

import (
	"context"
	"fmt"
	"net"
)

// Dial connects to the service proto (a key of the other node's
// Config.Services) on the node at addr, the address its peers dial
// (Store.Addr): over TLS as this node's Config.TLS says, presenting this
// node's certificate, or through the in-memory network when Config.Network
// is set. The protocol byte is written and the other node has accepted it
// when Dial returns; the connection is the caller's to use and close.
// With TLS it is a *tls.Conn: the server's certificate verified against
// the configured roots, and the caller may check more in its
// ConnectionState (AuthorizePeer is for Raft and forwarding only). ctx
// bounds the dial, the handshake and the answer; it does not bound the
// connection once returned.
//
// Errors: ErrInvalidArgument for proto 0, 'R' or 'F' (reserved);
// ErrNotStarted, ErrStopped; the dial's error (a *net.OpError: nothing
// listens at addr, or the in-memory link is cut); the TLS handshake's
// (the server's certificate did not verify); ErrRefused if the node
// refused the connection (a TLS alert: this node's certificate, or its
// own TLS config; no such service; closed: over its connection limits,
// or stopping); ctx's error, wrapped, if it ended first.
func (s *Store) Dial(ctx context.Context, addr string, proto byte) (net.Conn, error) {
	if proto == 0 || isPeerProto(proto) {
		return nil, fmt.Errorf("%w: protocol byte %q is reserved", ErrInvalidArgument, proto)
	}
	if err := s.running(); err != nil {
		return nil, err
	}
	return s.mux.dialProto(ctx, addr, proto)
}

// SelectService selects the service proto on conn, a connection to a
// node's port that the caller has already taken through TLS itself
// (verifying the node its own way): for clients that cannot use Dial,
// such as a node without credentials yet that checks the server against a
// join token. It writes the protocol byte and reads the node's answer;
// then conn belongs to the service. A deadline on conn bounds it.
//
// Errors: ErrInvalidArgument for proto 0, 'R' or 'F'; ErrRefused if the
// node refused (no such service, over its limits, stopping); the
// connection's error.
func SelectService(conn net.Conn, proto byte) error {
	if proto == 0 || isPeerProto(proto) {
		return fmt.Errorf("%w: protocol byte %q is reserved", ErrInvalidArgument, proto)
	}
	return selectProto(conn, conn.RemoteAddr().String(), proto, true)
}
