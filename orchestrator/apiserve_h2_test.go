package orchestrator_test

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// TestAPIHTTP2MaxConcurrentStreams reads the SETTINGS frame the API sends
// on a new HTTP/2 connection: it allows 1,000 concurrent streams, as
// kube-apiserver does, so that 1,000 watches fit one connection per
// server instead of Go's 250 (past which Go's client opens more
// connections).
func TestAPIHTTP2MaxConcurrentStreams(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 1, orchestratortest.WithAPI())
	addr := tc.APIAddr(0)
	var conn *tls.Conn
	// The serving certificate follows the cluster CA into the store
	// shortly after start; until then handshakes fail.
	eventually(t, "a TLS handshake with the API", func() bool {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
			&tls.Config{NextProtos: []string{"h2"}, InsecureSkipVerify: true}) // only the HTTP/2 settings are checked
		if err != nil {
			return false
		}
		conn = c
		return true
	})
	defer conn.Close()
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN protocol %q, want h2", p)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	// The client preface, then an empty SETTINGS frame.
	preface := append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 0x4, 0, 0, 0, 0, 0)
	if _, err := conn.Write(preface); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	var hdr [9]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("reading the server's first frame: %v", err)
	}
	length := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
	if typ := hdr[3]; typ != 0x4 {
		t.Fatalf("first frame of type %#x, want SETTINGS (0x4)", typ)
	}
	payload := make([]byte, length)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	const settingsMaxConcurrentStreams = 0x3
	found := false
	for i := 0; i+6 <= len(payload); i += 6 {
		if binary.BigEndian.Uint16(payload[i:]) == settingsMaxConcurrentStreams {
			found = true
			if v := binary.BigEndian.Uint32(payload[i+2:]); v != 1000 {
				t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS %d, want 1000", v)
			}
		}
	}
	if !found {
		t.Errorf("no SETTINGS_MAX_CONCURRENT_STREAMS in the server's SETTINGS (%x)", payload)
	}
}
