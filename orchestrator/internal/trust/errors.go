package trust

import "errors"

// Sentinel errors. Every error this package returns for a refused
// certificate, token or join wraps one of these, so callers test them with
// errors.Is and never parse strings; the wrapping text names the
// certificate, token id or address involved (never a secret).
var (
	// ErrInvalidArgument: a malformed argument (bad role, node name, PEM,
	// key, fingerprint, request field). The text names the field.
	ErrInvalidArgument = errors.New("trust: invalid argument")

	// ErrNoCertificate: the peer presented no certificate.
	ErrNoCertificate = errors.New("trust: no certificate")
	// ErrUnknownAuthority: the certificate was not signed by any trusted CA.
	ErrUnknownAuthority = errors.New("trust: signed by an unknown authority")
	// ErrExpired: the certificate (or the CA that signed it) expired.
	ErrExpired = errors.New("trust: certificate expired")
	// ErrNotYetValid: the certificate (or its CA) is not valid yet; often a
	// clock that is behind.
	ErrNotYetValid = errors.New("trust: certificate not yet valid")
	// ErrWrongUsage: the certificate lacks the extended key usage asked for
	// (client or server authentication).
	ErrWrongUsage = errors.New("trust: certificate not valid for this use")
	// ErrRevoked: the certificate's serial is on the revoked list.
	ErrRevoked = errors.New("trust: certificate revoked")
	// ErrNotNodeCertificate: the certificate is valid but does not name a
	// Flotilla node (a CA certificate, or another subject).
	ErrNotNodeCertificate = errors.New("trust: not a node certificate")
	// ErrInvalidChain: crypto/x509 refused the chain for a reason not
	// covered above (a name constraint of the CA, an unhandled critical
	// extension).
	ErrInvalidChain = errors.New("trust: invalid certificate chain")
	// ErrUnexpectedPeer: the peer's certificate is valid but names the
	// wrong node, or an agent where a server was required.
	ErrUnexpectedPeer = errors.New("trust: unexpected peer")

	// ErrInvalidToken: a join token's text is malformed.
	ErrInvalidToken = errors.New("trust: invalid join token")
	// ErrTokenExpired: the join token's record has expired.
	ErrTokenExpired = errors.New("trust: join token expired")
	// ErrWrongSecret: the secret does not match the token's record (or the
	// token id names no record).
	ErrWrongSecret = errors.New("trust: wrong join token secret")
	// ErrRoleNotAllowed: the token does not allow the role asked for (an
	// agent token cannot make a server).
	ErrRoleNotAllowed = errors.New("trust: role not allowed by join token")

	// ErrFingerprintMismatch: the server a join dialled did not prove
	// possession of the CA the token names. Nothing was sent to it.
	ErrFingerprintMismatch = errors.New("trust: CA fingerprint mismatch")
	// ErrJoinRefused: the server answered the join with an error; the text
	// carries the server's reason.
	ErrJoinRefused = errors.New("trust: server refused the join")
	// ErrFrameTooLarge: a join request or response exceeded MaxFrameSize.
	ErrFrameTooLarge = errors.New("trust: frame too large")
	// ErrBadResponse: the server's join response is malformed or its
	// certificate does not match the request (wrong key, name, role or CA).
	ErrBadResponse = errors.New("trust: bad join response")
)
