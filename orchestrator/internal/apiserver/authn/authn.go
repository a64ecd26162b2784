package authn

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
)

// Config says what the Authenticator accepts.
type Config struct {
	// Pool verifies client certificates: the trusted CAs and the revoked
	// serials, read at every request so that a revocation applies at once.
	// nil means client certificates are not accepted.
	Pool *trust.Pool
	// Tokens are the static bearer tokens (ReadTokenFile). nil means none.
	Tokens *Tokens
	// Now is the clock certificates are checked against; nil means
	// time.Now.
	Now func() time.Time
}

// Authenticator is an apiserver.Authenticator over client certificates and
// static tokens. It is safe for concurrent use.
type Authenticator struct {
	cfg Config
}

// New returns an Authenticator for cfg. It never fails: an empty Config
// authenticates nobody.
func New(cfg Config) *Authenticator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Authenticator{cfg: cfg}
}

// Errors of Authenticate; each is wrapped with the detail (never a token).
var (
	// ErrInvalidCertificate: the client certificate does not verify
	// (another CA, expired, revoked, not for client authentication); it
	// wraps the trust package's sentinel.
	ErrInvalidCertificate = errors.New("authn: invalid client certificate")
	// ErrInvalidToken: the bearer token is not in the token file.
	ErrInvalidToken = errors.New("authn: invalid bearer token")
)

// Authenticate returns the user r proves to be: by its client certificate,
// else by its bearer token, with GroupAuthenticated added to its groups. ok is false with a nil error when r carries
// neither; err wraps ErrInvalidCertificate and/or ErrInvalidToken when what
// it carries proves nobody.
func (a *Authenticator) Authenticate(r *http.Request) (apiserver.User, bool, error) {
	var errs []error
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && a.cfg.Pool != nil {
		u, err := a.cfg.Pool.VerifyClient(r.TLS.PeerCertificates, a.cfg.Now())
		if err == nil {
			return authenticated(apiserver.User{Name: u.Name, Groups: u.Groups}), true, nil
		}
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidCertificate, err))
	}
	if tok, ok := bearerToken(r); ok {
		if u, ok := a.cfg.Tokens.lookup(tok); ok {
			return authenticated(u), true, nil
		}
		errs = append(errs, ErrInvalidToken)
	}
	if len(errs) == 0 {
		return apiserver.User{}, false, nil
	}
	return apiserver.User{}, false, errors.Join(errs...)
}

// GroupAuthenticated is in the groups of every authenticated user, as
// Kubernetes adds it.
const GroupAuthenticated = "system:authenticated"

func authenticated(u apiserver.User) apiserver.User {
	if !slices.Contains(u.Groups, GroupAuthenticated) {
		u.Groups = append(slices.Clip(u.Groups), GroupAuthenticated)
	}
	return u
}

// bearerToken reads "Authorization: Bearer <token>" (the scheme in any
// case, as Kubernetes reads it).
func bearerToken(r *http.Request) (string, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Tokens are static bearer tokens and the users they prove. Safe for
// concurrent use; immutable.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	sum  [sha256.Size]byte // of the token; the token itself is not kept
	user apiserver.User
}

// Len is the number of tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// lookup compares tok with every entry in constant time (per entry, and
// without stopping at a match) so that timing tells nothing of the tokens.
func (t *Tokens) lookup(tok string) (apiserver.User, bool) {
	if t == nil {
		return apiserver.User{}, false
	}
	sum := sha256.Sum256([]byte(tok))
	found := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(sum[:], t.entries[i].sum[:]) == 1 && found < 0 {
			found = i
		}
	}
	if found < 0 {
		return apiserver.User{}, false
	}
	u := t.entries[found].user
	u.Groups = append([]string(nil), u.Groups...)
	return u, true
}

// ReadTokenFile reads a static token file in kube-apiserver's
// --token-auth-file format: CSV, one token a line,
//
//	token,user,uid,"group1,group2"
//
// with at least the first three columns; the fourth, optional, is a
// comma-separated group list. Blank lines are skipped.
//
// Errors: the file cannot be read; a malformed line — fewer than three
// columns, an empty token, user or uid, a token with spaces or repeated
// from an earlier line, bad CSV quoting — names the file and the line
// (never the token).
func ReadTokenFile(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("authn: token file: %w", err)
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("authn: token file %s: %w", path, err)
	}
	return t, nil
}

// ParseTokens reads a token file's content from r; see ReadTokenFile.
func ParseTokens(r io.Reader) (*Tokens, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	t := &Tokens{}
	seen := map[[sha256.Size]byte]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("line %d: %v", pe.StartLine, pe.Err)
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 3 {
			return nil, fmt.Errorf("line %d: %d columns; want at least 3 (token, user name, uid[, \"groups\"])", line, len(rec))
		}
		tok, name, uid := rec[0], strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		switch {
		case tok == "":
			return nil, fmt.Errorf("line %d: column 1 (token) is empty", line)
		case strings.ContainsAny(tok, " \t"):
			return nil, fmt.Errorf("line %d: column 1 (token) holds white space", line)
		case name == "":
			return nil, fmt.Errorf("line %d: column 2 (user name) is empty", line)
		case uid == "":
			return nil, fmt.Errorf("line %d: column 3 (uid) is empty", line)
		}
		sum := sha256.Sum256([]byte(tok))
		if first, dup := seen[sum]; dup {
			return nil, fmt.Errorf("line %d: the token of line %d is repeated", line, first)
		}
		seen[sum] = line
		u := apiserver.User{Name: name, UID: uid}
		if len(rec) >= 4 {
			for g := range strings.SplitSeq(rec[3], ",") {
				if g = strings.TrimSpace(g); g != "" {
					u.Groups = append(u.Groups, g)
				}
			}
		}
		t.entries = append(t.entries, tokenEntry{sum: sum, user: u})
	}
}
