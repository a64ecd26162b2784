package trust

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// Limits of the join protocol.
const (
	// MaxFrameSize is the largest request or response, in bytes of JSON.
	MaxFrameSize = 64 << 10
	// ServeJoinTimeout bounds one ServeJoin call, handshake to response,
	// when the context allows longer.
	ServeJoinTimeout = 10 * time.Second
	// JoinTimeout bounds one Join call when the context allows longer.
	JoinTimeout = 15 * time.Second
	// maxReasonLen bounds the error text a server sends back.
	maxReasonLen = 1024
)

// JoinRequest is what a joining node sends: the token, who it wants to
// be, and a certificate signing request made with its new key.
type JoinRequest struct {
	// TokenID and Secret are the token's; Join fills them in.
	TokenID string `json:"tokenID"`
	Secret  string `json:"secret"`
	// NodeName is the node's name (a DNS-1123 subdomain).
	NodeName string `json:"nodeName"`
	// Role is the role the node asks for; the token must allow it.
	Role Role `json:"role"`
	// CSR is a DER certificate signing request signed by the node's key:
	// the proof that the node holds the key it asks a certificate for. Its
	// subject and SANs are ignored; the certificate names NodeName and Role.
	// Join makes it when empty.
	CSR []byte `json:"csr"`
	// DNSNames and IPs are the extra names and the advertised addresses
	// the certificate should carry.
	DNSNames []string `json:"dnsNames,omitempty"`
	IPs      []string `json:"ips,omitempty"`
}

// String describes the request without its secret, so a request that
// reaches a log by accident leaks nothing.
func (r JoinRequest) String() string {
	return fmt.Sprintf("join request of %s %q with token %s", r.Role, r.NodeName, r.TokenID)
}

// IssueRequest is the IssueRequest for this (validated) join request:
// its identity, csrKey, its DNS names and IPs, issued at now with the
// default validity. It fails with ErrInvalidArgument for an IP that does
// not parse (ServeJoin has already refused such a request).
func (r JoinRequest) IssueRequest(csrKey crypto.PublicKey, now time.Time) (IssueRequest, error) {
	ips, err := parseIPs(r.IPs, "")
	if err != nil {
		return IssueRequest{}, err
	}
	return IssueRequest{
		Identity:  Identity{NodeName: r.NodeName, Role: r.Role},
		PublicKey: csrKey,
		DNSNames:  r.DNSNames,
		IPs:       ips,
		NotBefore: now,
	}, nil
}

// JoinResponse is what the server answers: either Error, or the node's
// certificate and the cluster secrets it needs to take part.
type JoinResponse struct {
	// Certificate is the node's certificate, PEM.
	Certificate []byte `json:"certificate,omitempty"`
	// CAs are all trusted CA certificates, PEM.
	CAs []byte `json:"cas,omitempty"`
	// GossipKeys are the gossip encryption keys, primary first.
	GossipKeys [][]byte `json:"gossipKeys,omitempty"`
	// EncryptionKeys are the store's encryption keys at rest, for servers
	// only: ServeJoin refuses to send them to an agent.
	EncryptionKeys []EncryptionKey `json:"encryptionKeys,omitempty"`
	// Error is why the join was refused; empty on success.
	Error string `json:"error,omitempty"`
}

// EncryptionKey is one store encryption key (raftstore.EncryptionKey).
type EncryptionKey struct {
	ID     string `json:"id"`
	Secret []byte `json:"secret"`
}

// JoinHandler decides a join on the server: req has been parsed and
// checked (well-formed name, role, token id, DNS names and IPs; a CSR
// whose signature verifies, its public key in csrKey), but not
// authorized: call Authorize with the stored record of req.TokenID, then
// CA.Issue. The error's text is sent to the joining node, so it must not
// contain a secret. ctx ends when ServeJoin's time is up.
type JoinHandler func(ctx context.Context, req JoinRequest, csrKey crypto.PublicKey) (*JoinResponse, error)

// ServeJoin answers one join on conn and closes conn. conn is the server
// side of a connection the joining node opened, already TLS from
// ServerConfig (a *tls.Conn, or any conn with a HandshakeContext method:
// the handshake is done here). It reads one request, checks it, calls
// handle, and writes handle's response or its error. It takes at most
// ServeJoinTimeout, less if ctx ends sooner.
//
// It returns nil when the node got its certificate. Otherwise the error
// says why, wrapping: the handshake's error (a joining node that refused
// our CA), ErrFrameTooLarge or ErrInvalidArgument (a bad request, also
// sent back), handle's error (sent back), or the context's error. A
// response with EncryptionKeys for an agent is not sent; the node is
// refused instead.
func ServeJoin(ctx context.Context, conn net.Conn, handle JoinHandler) error {
	defer conn.Close()
	remote := conn.RemoteAddr()
	deadline := time.Now().Add(ServeJoinTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(what string, err error) error {
		return fmt.Errorf("trust: join from %s: %s: %w", remote, what, timeoutCause(ctx, err))
	}

	if tc, ok := conn.(interface{ HandshakeContext(context.Context) error }); ok {
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake", err)
		}
	}
	var req JoinRequest
	if err := ReadFrame(conn, &req); err != nil {
		if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrInvalidArgument) {
			_ = WriteFrame(conn, &JoinResponse{Error: reason(err)})
		}
		return fail("read request", err)
	}
	csrKey, err := req.check()
	if err != nil {
		_ = WriteFrame(conn, &JoinResponse{Error: reason(err)})
		return fail("refused "+req.String(), err)
	}
	resp, err := handle(ctx, req, csrKey)
	switch {
	case err != nil:
	case resp == nil:
		err = errors.New("trust: join handler returned no response")
	case resp.Error != "":
		err = errors.New(resp.Error)
	case req.Role == RoleAgent && len(resp.EncryptionKeys) > 0:
		err = errors.New("trust: the server offered store encryption keys to an agent; refusing")
	}
	if err != nil {
		_ = WriteFrame(conn, &JoinResponse{Error: reason(err)})
		return fail("refused "+req.String(), err)
	}
	if err := WriteFrame(conn, resp); err != nil {
		if errors.Is(err, ErrFrameTooLarge) {
			_ = WriteFrame(conn, &JoinResponse{Error: reason(err)})
		}
		return fail("write response", err)
	}
	return nil
}

// check validates a request as ServeJoin received it and returns the
// CSR's public key.
func (r *JoinRequest) check() (crypto.PublicKey, error) {
	if err := checkTokenText(r.TokenID, tokenIDLen); err != nil {
		return nil, fmt.Errorf("%w: TokenID: %s", ErrInvalidArgument, err)
	}
	if err := (Identity{NodeName: r.NodeName, Role: r.Role}).Validate(); err != nil {
		return nil, err
	}
	for i, n := range r.DNSNames {
		if err := validateDNSName(n); err != nil {
			return nil, fmt.Errorf("%w: DNSNames[%d]: %s", ErrInvalidArgument, i, err)
		}
	}
	if _, err := parseIPs(r.IPs, ""); err != nil {
		return nil, err
	}
	if len(r.CSR) == 0 {
		return nil, fmt.Errorf("%w: CSR: required", ErrInvalidArgument)
	}
	csr, err := x509.ParseCertificateRequest(r.CSR)
	if err != nil {
		return nil, fmt.Errorf("%w: CSR: %v", ErrInvalidArgument, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: CSR: the signature does not verify, so the node did not prove it holds the key: %v", ErrInvalidArgument, err)
	}
	if err := checkPublicKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: CSR: %s", ErrInvalidArgument, err)
	}
	return csr.PublicKey, nil
}

// DialFunc opens the connection a join runs over (plain: Join adds TLS).
type DialFunc func(ctx context.Context, addr string) (net.Conn, error)

// Join asks the server at addr (any server's cluster port) for a node
// certificate: JoinWith over TCP.
func Join(ctx context.Context, addr string, token Token, key crypto.Signer, req JoinRequest) (*JoinResponse, []*x509.Certificate, error) {
	var d net.Dialer
	dial := func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	return JoinWith(ctx, dial, addr, token, key, req)
}

// JoinWith asks the server at addr for a node certificate over a
// connection from dial. It runs TLS 1.3 without a client certificate and
// sends nothing until the server has proved itself: its chain must include
// a CA certificate whose Fingerprint is token.CAFingerprint, and a
// RoleServer node certificate signed by it for the key the server holds.
// Then it sends req, with the token's id and secret and (if req.CSR is
// empty) a CSR signed by key, and checks the answer: the certificate is
// for key, names req.NodeName and req.Role, and chains to the CAs sent,
// which include the token's CA. It returns the response and those CAs.
// It takes at most JoinTimeout, less if ctx ends sooner.
//
// Errors wrap ErrInvalidArgument (a bad token, key or req field),
// ErrFingerprintMismatch (the server did not present the token's CA;
// nothing was sent), a Pool.Verify sentinel or ErrUnexpectedPeer (the
// server's certificate), ErrJoinRefused (the server's reason, and, when
// the server said so, ErrWrongSecret, ErrTokenExpired, ErrRoleNotAllowed
// or ErrInvalidArgument too), ErrFrameTooLarge, ErrBadResponse, or the
// dial, network or context error; each names addr.
func JoinWith(ctx context.Context, dial DialFunc, addr string, token Token, key crypto.Signer, req JoinRequest) (*JoinResponse, []*x509.Certificate, error) {
	return joinWith(ctx, dial, addr, nil, token, key, req)
}

// SelectFunc picks the join service on a connection that is past TLS,
// for a server whose port carries several protocols (raftstore's
// SelectService with the service's byte).
type SelectFunc func(conn net.Conn) error

// JoinService is Join to a join service that shares its port with other
// protocols: once the server has proved itself (as in JoinWith), sel
// selects the service on the TLS connection, then the request goes out.
// Errors as JoinWith, and sel's, wrapped.
func JoinService(ctx context.Context, addr string, sel SelectFunc, token Token, key crypto.Signer, req JoinRequest) (*JoinResponse, []*x509.Certificate, error) {
	var d net.Dialer
	dial := func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	return joinWith(ctx, dial, addr, sel, token, key, req)
}

func joinWith(ctx context.Context, dial DialFunc, addr string, sel SelectFunc, token Token, key crypto.Signer, req JoinRequest) (*JoinResponse, []*x509.Certificate, error) {
	if err := checkFingerprint(token.CAFingerprint); err != nil {
		return nil, nil, fmt.Errorf("%w: token.CAFingerprint: %s", ErrInvalidArgument, err)
	}
	if err := checkTokenText(token.ID, tokenIDLen); err != nil {
		return nil, nil, fmt.Errorf("%w: token.ID: %s", ErrInvalidArgument, err)
	}
	if err := checkTokenText(token.Secret, tokenSecretLen); err != nil {
		return nil, nil, fmt.Errorf("%w: token.Secret: %s", ErrInvalidArgument, err)
	}
	if key == nil {
		return nil, nil, fmt.Errorf("%w: key: nil", ErrInvalidArgument)
	}
	if err := checkPublicKey(key.Public()); err != nil {
		return nil, nil, fmt.Errorf("%w: key: %s", ErrInvalidArgument, err)
	}
	id := Identity{NodeName: req.NodeName, Role: req.Role}
	if err := id.validate("req."); err != nil {
		return nil, nil, err
	}
	req.TokenID, req.Secret = token.ID, token.Secret
	if len(req.CSR) == 0 {
		csr, err := newCSR(key, req)
		if err != nil {
			return nil, nil, err
		}
		req.CSR = csr
	}

	ctx, cancel := context.WithTimeout(ctx, JoinTimeout)
	defer cancel()
	fail := func(what string, err error) error {
		return fmt.Errorf("trust: join via %s: %s: %w", addr, what, timeoutCause(ctx, err))
	}
	raw, err := dial(ctx, addr)
	if err != nil {
		return nil, nil, fail("dial", err)
	}
	defer raw.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	conn := tls.Client(raw, &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // VerifyConnection checks against the token's fingerprint
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyJoinServer(cs.PeerCertificates, token.CAFingerprint, addr, time.Now())
		},
	})
	if err := conn.HandshakeContext(ctx); err != nil {
		if errors.Is(err, ErrFingerprintMismatch) {
			return nil, nil, err
		}
		return nil, nil, fail("TLS handshake", err)
	}
	if sel != nil {
		if err := sel(conn); err != nil {
			return nil, nil, fail("select the join service", err)
		}
	}
	if err := WriteFrame(conn, &req); err != nil {
		return nil, nil, fail("send request", err)
	}
	var resp JoinResponse
	if err := ReadFrame(conn, &resp); err != nil {
		return nil, nil, fail("read response", err)
	}
	if resp.Error != "" {
		return nil, nil, refused(addr, resp.Error)
	}
	cas, err := checkJoinResponse(&resp, token.CAFingerprint, key, id, time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("%w (server %s)", err, addr)
	}
	return &resp, cas, nil
}

// verifyJoinServer checks, before anything is sent, that the server holds a
// RoleServer certificate of the CA the token names.
func verifyJoinServer(chain []*x509.Certificate, fingerprint, addr string, now time.Time) error {
	if len(chain) == 0 {
		return fmt.Errorf("%w: the server presented none", ErrNoCertificate)
	}
	var matched []*x509.Certificate
	var presented []string
	for _, c := range chain[1:] {
		if !c.IsCA {
			continue
		}
		fp := Fingerprint(c)
		presented = append(presented, fp)
		if fp == fingerprint {
			matched = append(matched, c)
		}
	}
	if len(matched) == 0 {
		got := "no CA certificate"
		if len(presented) > 0 {
			got = strings.Join(presented, ", ")
		}
		return fmt.Errorf("%w: token expects %s, server %s presented %s", ErrFingerprintMismatch, fingerprint, addr, got)
	}
	id, err := NewPool(matched...).Verify(chain[:1], x509.ExtKeyUsageServerAuth, now)
	if err != nil {
		return err
	}
	if id.Role != RoleServer {
		return fmt.Errorf("%w: the server presented the certificate of %s %q; want a server", ErrUnexpectedPeer, id.Role, id.NodeName)
	}
	return nil
}

// checkJoinResponse checks that the response carries a certificate for key
// and id, chaining to its CAs, which include the token's CA; it returns
// the CAs.
func checkJoinResponse(resp *JoinResponse, fingerprint string, key crypto.Signer, id Identity, now time.Time) ([]*x509.Certificate, error) {
	cas, err := ParseCerts(resp.CAs)
	if err != nil {
		return nil, fmt.Errorf("%w: CAs: %w", ErrBadResponse, err)
	}
	if !containsFingerprint(cas, fingerprint) {
		return nil, fmt.Errorf("%w: CAs do not include the token's CA %s", ErrBadResponse, fingerprint)
	}
	certs, err := ParseCerts(resp.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%w: Certificate: %w", ErrBadResponse, err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%w: Certificate: %d certificates; want 1", ErrBadResponse, len(certs))
	}
	if !sameKey(key, certs[0].PublicKey) {
		return nil, fmt.Errorf("%w: Certificate: issued for another key", ErrBadResponse)
	}
	got, err := NewPool(cas...).Verify(certs, x509.ExtKeyUsageClientAuth, now)
	if err != nil {
		return nil, fmt.Errorf("%w: Certificate: %w", ErrBadResponse, err)
	}
	if got != id {
		return nil, fmt.Errorf("%w: Certificate: names %s %q; asked for %s %q", ErrBadResponse, got.Role, got.NodeName, id.Role, id.NodeName)
	}
	return cas, nil
}

func containsFingerprint(certs []*x509.Certificate, fingerprint string) bool {
	for _, c := range certs {
		if c.IsCA && Fingerprint(c) == fingerprint {
			return true
		}
	}
	return false
}

func newCSR(key crypto.Signer, req JoinRequest) ([]byte, error) {
	ips, err := parseIPs(req.IPs, "req.")
	if err != nil {
		return nil, err
	}
	for i, n := range req.DNSNames {
		if err := validateDNSName(n); err != nil {
			return nil, fmt.Errorf("%w: req.DNSNames[%d]: %s", ErrInvalidArgument, i, err)
		}
	}
	id := Identity{NodeName: req.NodeName, Role: req.Role}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: id.UserName(), Organization: id.Groups()},
		DNSNames:    req.DNSNames,
		IPAddresses: ips,
	}, key)
	if err != nil {
		return nil, fmt.Errorf("trust: join: make CSR: %w", err)
	}
	return der, nil
}

// parseIPs parses the IPs of a JoinRequest; path prefixes the field name
// in errors.
func parseIPs(ips []string, path string) ([]net.IP, error) {
	var out []net.IP
	for i, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("%w: %sIPs[%d]: %q is not an IP address", ErrInvalidArgument, path, i, s)
		}
		out = append(out, ip)
	}
	return out, nil
}

// refusedError is a join the server refused: its text is the server's
// reason; it wraps ErrJoinRefused and, when the reason is one, the
// sentinel the server's error wrapped.
type refusedError struct {
	addr, reason string
	cause        error
}

func refused(addr, reason string) error {
	e := &refusedError{addr: addr, reason: reason}
	for _, s := range []error{ErrWrongSecret, ErrTokenExpired, ErrRoleNotAllowed, ErrInvalidArgument, ErrFrameTooLarge} {
		if strings.HasPrefix(reason, s.Error()) {
			e.cause = s
			break
		}
	}
	return e
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("%v: %s (server %s)", ErrJoinRefused, strings.TrimPrefix(e.reason, "trust: "), e.addr)
}

func (e *refusedError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrJoinRefused}
	}
	return []error{ErrJoinRefused, e.cause}
}

// timeoutCause reports a failure on a connection whose deadline follows
// ctx as the context's error: the connection's deadline can pass a moment
// before ctx notices its own.
func timeoutCause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

// reason is the text of err sent back to a joining node, bounded.
func reason(err error) string {
	s := err.Error()
	if len(s) > maxReasonLen {
		s = s[:maxReasonLen] + "..."
	}
	return s
}

// WriteFrame sends v as one frame: a big-endian uint32 length and that
// many bytes of JSON, at most MaxFrameSize (the join protocol's framing,
// for other small request/response services on the same port).
//
// Errors: ErrFrameTooLarge; v's JSON error; w's error.
func WriteFrame(w io.Writer, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(body) > MaxFrameSize {
		return fmt.Errorf("%w: %d bytes; the limit is %d", ErrFrameTooLarge, len(body), MaxFrameSize)
	}
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	_, err = w.Write(buf)
	return err
}

// ReadFrame reads one frame (see WriteFrame) into v, refusing frames over
// MaxFrameSize before reading their body.
//
// Errors: ErrFrameTooLarge; ErrInvalidArgument for JSON that does not
// decode into v; r's error (io.EOF, a deadline).
func ReadFrame(r io.Reader, v any) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrameSize {
		return fmt.Errorf("%w: %d bytes; the limit is %d", ErrFrameTooLarge, n, MaxFrameSize)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: malformed frame: %v", ErrInvalidArgument, err)
	}
	return nil
}
