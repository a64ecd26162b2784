package trust

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTokenRoundTrip(t *testing.T) {
	ca := newCA(t, t0, 0)
	tok, err := NewToken(ca.Fingerprint())
	if err != nil {
		t.Fatalf("NewToken: %v", err)
	}
	text := tok.String()
	if !regexp.MustCompile(`^FLT1\.[0-9a-f]{64}\.[a-z0-9]{6}\.[a-z0-9]{32}$`).MatchString(text) {
		t.Fatalf("token text %q does not have the FLT1 form", text)
	}
	if !strings.Contains(text, strings.TrimPrefix(ca.Fingerprint(), "sha256:")) {
		t.Fatal("token text does not carry the CA fingerprint")
	}
	back, err := ParseToken("  " + text + "\n")
	if err != nil {
		t.Fatalf("ParseToken: %v", err)
	}
	if back != tok {
		t.Fatalf("ParseToken(String()) = %+v; want %+v", back, tok)
	}
	other, err := NewToken(ca.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == tok.ID || other.Secret == tok.Secret {
		t.Fatal("two tokens share an id or a secret")
	}
	for _, fp := range []string{"", "md5:00", "sha256:" + strings.Repeat("A", 64), "sha256:" + strings.Repeat("0", 63)} {
		if _, err := NewToken(fp); err == nil {
			t.Fatalf("NewToken(%q) accepted a bad fingerprint", fp)
		}
	}
}

func TestParseTokenErrors(t *testing.T) {
	// The secret-looking parts below must never come back in an error.
	const secret = "zq9zq9zq9zq9zq9zq9zq9zq9zq9zq9zq"
	fp := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty", "", "1 parts"},
		{"secret alone", secret, "1 parts"},
		{"three parts", "FLT1." + fp + "." + secret, "3 parts"},
		{"five parts", "FLT1." + fp + ".abc123." + secret + ".x", "5 parts"},
		{"wrong prefix", "FLT2." + fp + ".abc123." + secret, `start with "FLT1."`},
		{"short fingerprint", "FLT1." + fp[:60] + ".abc123." + secret, "CA fingerprint: 60 hex digits; want 64"},
		{"upper-case fingerprint", "FLT1." + strings.ToUpper(fp) + ".abc123." + secret, "CA fingerprint: character 1"},
		{"short id", "FLT1." + fp + ".abc12." + secret, "id: 5 characters; want 6"},
		{"id with a dash", "FLT1." + fp + ".abc-12." + secret, "id: character 4"},
		{"bad id character", "FLT1." + fp + ".abC123." + secret, "id: character 3"},
		{"short secret", "FLT1." + fp + ".abc123." + secret[:31], "secret: 31 characters; want 32"},
		{"bad secret character", "FLT1." + fp + ".abc123." + secret[:31] + "_", "secret: character 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseToken(tc.text)
			wantErr(t, err, ErrInvalidToken, tc.want)
			if strings.Contains(err.Error(), "zq9") {
				t.Fatalf("error %q echoes the secret", err)
			}
		})
	}
}

func TestTokenRecordCheck(t *testing.T) {
	ca := newCA(t, t0, 0)
	tok, err := NewToken(ca.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	server := NewTokenRecord(tok, RoleServer, t0, time.Hour, "servers")
	agent := NewTokenRecord(tok, RoleAgent, t0, 0, "")
	if !agent.Expires.IsZero() || !server.Expires.Equal(t0.Add(time.Hour)) || !server.Created.Equal(t0) {
		t.Fatalf("Expires %v / %v, Created %v", agent.Expires, server.Expires, server.Created)
	}
	if strings.Contains(string(server.SecretHash), tok.Secret) {
		t.Fatal("the record holds the secret")
	}
	wrong := strings.Repeat("a", 32)
	for _, tc := range []struct {
		name   string
		rec    TokenRecord
		secret string
		want   Role
		now    time.Time
		target error
	}{
		{"server token, server", server, tok.Secret, RoleServer, t0, nil},
		{"server token, agent", server, tok.Secret, RoleAgent, t0, nil},
		{"agent token, agent, never expires", agent, tok.Secret, RoleAgent, t0.Add(1000 * 24 * time.Hour), nil},
		{"agent token, server", agent, tok.Secret, RoleServer, t0, ErrRoleNotAllowed},
		{"wrong secret", server, wrong, RoleAgent, t0, ErrWrongSecret},
		{"wrong secret of an expired token", server, wrong, RoleAgent, t0.Add(2 * time.Hour), ErrWrongSecret},
		{"empty secret", server, "", RoleAgent, t0, ErrWrongSecret},
		{"expired at the instant", server, tok.Secret, RoleAgent, t0.Add(time.Hour), ErrTokenExpired},
		{"expired after", server, tok.Secret, RoleAgent, t0.Add(2 * time.Hour), ErrTokenExpired},
		{"bad role asked", server, tok.Secret, "root", t0, ErrInvalidArgument},
		{"record without hash", TokenRecord{ID: tok.ID, Role: RoleServer}, tok.Secret, RoleAgent, t0, ErrInvalidArgument},
		{"record with a bad role", NewTokenRecord(tok, "root", t0, 0, ""), tok.Secret, RoleAgent, t0, ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rec.Check(tc.secret, tc.want, tc.now)
			if tc.target == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if tc.target == ErrInvalidArgument {
				wantErr(t, err, tc.target)
			} else {
				wantErr(t, err, tc.target, "token "+tok.ID)
			}
			if strings.Contains(err.Error(), tok.Secret) || strings.Contains(err.Error(), wrong) {
				t.Fatalf("error %q contains a secret", err)
			}
		})
	}

	b, err := json.Marshal(server)
	if err != nil {
		t.Fatal(err)
	}
	var back TokenRecord
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(tok.Secret, RoleServer, t0); err != nil || back.Description != "servers" || !back.Expires.Equal(server.Expires) {
		t.Fatalf("record after a JSON round trip: %+v, %v", back, err)
	}
	if b, _ := json.Marshal(agent); strings.Contains(string(b), "expires") {
		t.Fatalf("a record that never expires marshals an expiry: %s", b)
	}
}

func TestAuthorize(t *testing.T) {
	tok, err := NewToken(newCA(t, t0, 0).Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	rec := NewTokenRecord(tok, RoleAgent, t0, time.Hour, "")
	req := JoinRequest{TokenID: tok.ID, Secret: tok.Secret, NodeName: "n1", Role: RoleAgent}
	if err := Authorize(rec, req, t0); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*JoinRequest)
		target error
		text   string
	}{
		{"other token id", func(r *JoinRequest) { r.TokenID = "zzzzzz" }, ErrWrongSecret, "not the one asked for"},
		{"bad node name", func(r *JoinRequest) { r.NodeName = "N 1" }, ErrInvalidArgument, "NodeName"},
		{"bad role", func(r *JoinRequest) { r.Role = "" }, ErrInvalidArgument, "Role"},
		{"server with an agent token", func(r *JoinRequest) { r.Role = RoleServer }, ErrRoleNotAllowed, tok.ID},
		{"wrong secret", func(r *JoinRequest) { r.Secret = "x" }, ErrWrongSecret, tok.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req
			tc.change(&r)
			wantErr(t, Authorize(rec, r, t0), tc.target, tc.text)
		})
	}
	if s := req.String(); strings.Contains(s, tok.Secret) || !strings.Contains(s, tok.ID) {
		t.Fatalf("JoinRequest.String() = %q; want the id and not the secret", s)
	}
}
