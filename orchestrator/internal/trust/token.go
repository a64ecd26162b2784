package trust

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"
)

// Join token text: "FLT1.<CA fingerprint, 64 hex>.<id>.<secret>".
const (
	tokenPrefix    = "FLT1"
	tokenIDLen     = 6
	tokenSecretLen = 32 // 32 characters of 36: 165 bits
	tokenAlphabet  = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// Token is a join token: what an operator hands a new node. It names the
// cluster CA by fingerprint (so the node can authenticate the server it
// joins through, with no trust on first use), an id that is public and
// names the token in lists, and a secret of which the cluster stores only
// the SHA-256.
type Token struct {
	// CAFingerprint is "sha256:<64 hex>", as CA.Fingerprint.
	CAFingerprint string
	// ID is 6 characters of [a-z0-9].
	ID string
	// Secret is 32 characters of [a-z0-9]. Never log it.
	Secret string
}

// NewToken makes a token with a random id and secret for the CA whose
// fingerprint is caFingerprint. It fails with ErrInvalidArgument when the
// fingerprint is not "sha256:" and 64 lower-case hex digits.
func NewToken(caFingerprint string) (Token, error) {
	if err := checkFingerprint(caFingerprint); err != nil {
		return Token{}, fmt.Errorf("%w: caFingerprint: %s", ErrInvalidArgument, err)
	}
	return Token{CAFingerprint: caFingerprint, ID: randomText(tokenIDLen), Secret: randomText(tokenSecretLen)}, nil
}

// ParseToken reads a token's text form (surrounding white space is
// ignored). The error wraps ErrInvalidToken and says which part is wrong
// and how, without quoting the input.
func ParseToken(s string) (Token, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 4 {
		return Token{}, fmt.Errorf("%w: %d parts separated by '.'; want 4 (%s.<CA fingerprint>.<id>.<secret>)", ErrInvalidToken, len(parts), tokenPrefix)
	}
	if parts[0] != tokenPrefix {
		return Token{}, fmt.Errorf("%w: it does not start with %q", ErrInvalidToken, tokenPrefix+".")
	}
	t := Token{CAFingerprint: fingerprintPrefix + parts[1], ID: parts[2], Secret: parts[3]}
	if err := checkFingerprint(t.CAFingerprint); err != nil {
		return Token{}, fmt.Errorf("%w: CA fingerprint: %s", ErrInvalidToken, err)
	}
	if err := checkTokenText(t.ID, tokenIDLen); err != nil {
		return Token{}, fmt.Errorf("%w: id: %s", ErrInvalidToken, err)
	}
	if err := checkTokenText(t.Secret, tokenSecretLen); err != nil {
		return Token{}, fmt.Errorf("%w: secret: %s", ErrInvalidToken, err)
	}
	return t, nil
}

// String is the token's text form, secret included.
func (t Token) String() string {
	return tokenPrefix + "." + strings.TrimPrefix(t.CAFingerprint, fingerprintPrefix) + "." + t.ID + "." + t.Secret
}

// TokenRecord is what the cluster stores for a token: never the secret,
// only its SHA-256. It marshals to JSON.
type TokenRecord struct {
	// ID is the token's public id.
	ID string `json:"id"`
	// Role is the most a node joining with the token may be: RoleServer
	// admits servers and agents, RoleAgent only agents.
	Role Role `json:"role"`
	// SecretHash is the SHA-256 of the secret.
	SecretHash []byte `json:"secretHash"`
	// Created is when the token was made.
	Created time.Time `json:"created"`
	// Expires is when the token stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
	// Description is the operator's note on what the token is for.
	Description string `json:"description,omitempty"`
}

// NewTokenRecord makes the record to store for t. ttl 0 means the token
// never expires; a negative ttl makes a token that has already expired.
func NewTokenRecord(t Token, role Role, now time.Time, ttl time.Duration, desc string) TokenRecord {
	sum := sha256.Sum256([]byte(t.Secret))
	r := TokenRecord{ID: t.ID, Role: role, SecretHash: sum[:], Created: now, Description: desc}
	if ttl != 0 {
		r.Expires = now.Add(ttl)
	}
	return r
}

// Check decides whether secret, presented at now by a node that wants to
// be role want, matches the record. It compares hashes in constant time,
// and checks the secret before anything else, so only a holder of the
// secret learns whether the token has expired. The error wraps
// ErrWrongSecret, ErrTokenExpired, ErrRoleNotAllowed (an agent token
// asked for a server), or ErrInvalidArgument (want or the record's role is
// not a role, or the record holds no SHA-256); it names the token's id and
// never the secret.
func (r TokenRecord) Check(secret string, want Role, now time.Time) error {
	if err := validateRole(want); err != nil {
		return fmt.Errorf("%w: role: %s", ErrInvalidArgument, err)
	}
	if len(r.SecretHash) != sha256.Size {
		return fmt.Errorf("%w: token %s: record holds a %d-byte secret hash; want %d", ErrInvalidArgument, r.ID, len(r.SecretHash), sha256.Size)
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], r.SecretHash) != 1 {
		return fmt.Errorf("%w (token %s)", ErrWrongSecret, r.ID)
	}
	if !r.Expires.IsZero() && !now.Before(r.Expires) {
		return fmt.Errorf("%w at %s (token %s)", ErrTokenExpired, r.Expires.UTC().Format(time.RFC3339), r.ID)
	}
	switch r.Role {
	case RoleServer:
	case RoleAgent:
		if want == RoleServer {
			return fmt.Errorf("%w: token %s admits agents only; a server was asked for", ErrRoleNotAllowed, r.ID)
		}
	default:
		return fmt.Errorf("%w: token %s: record role %q is not %q or %q", ErrInvalidArgument, r.ID, r.Role, RoleServer, RoleAgent)
	}
	return nil
}

// Authorize is the server's whole decision on a join request given the
// stored record of the token it names: the token id matches, the node name
// and role are well formed, and Check passes for the requested role. Errors
// are those of Check, or ErrInvalidArgument naming the request field, or
// ErrWrongSecret when the record is for another token id; none contains
// the secret, so they may be sent back to the joining node.
func Authorize(rec TokenRecord, req JoinRequest, now time.Time) error {
	if req.TokenID != rec.ID {
		return fmt.Errorf("%w (token %s is not the one asked for)", ErrWrongSecret, rec.ID)
	}
	if err := (Identity{NodeName: req.NodeName, Role: req.Role}).Validate(); err != nil {
		return err
	}
	return rec.Check(req.Secret, req.Role, now)
}

// randomText returns n characters drawn uniformly from tokenAlphabet.
func randomText(n int) string {
	const limit = 256 - 256%len(tokenAlphabet) // reject bytes above a multiple of 36
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, tokenAlphabet[int(b)%len(tokenAlphabet)])
			}
		}
	}
	return string(out)
}

func checkTokenText(s string, n int) error {
	if len(s) != n {
		return fmt.Errorf("%d characters; want %d", len(s), n)
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(tokenAlphabet, rune(s[i])) {
			return fmt.Errorf("character %d is not in [a-z0-9]", i+1)
		}
	}
	return nil
}

func checkFingerprint(fp string) error {
	hexPart, ok := strings.CutPrefix(fp, fingerprintPrefix)
	if !ok {
		return fmt.Errorf("does not start with %q", fingerprintPrefix)
	}
	if len(hexPart) != 2*sha256.Size {
		return fmt.Errorf("%d hex digits; want %d", len(hexPart), 2*sha256.Size)
	}
	for i := 0; i < len(hexPart); i++ {
		c := hexPart[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("character %d is not a lower-case hex digit", i+1)
		}
	}
	return nil
}
