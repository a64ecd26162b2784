package prober

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The gRPC health checking protocol (grpc.health.v1.Health/Check) spoken
// directly over cleartext HTTP/2 with net/http, so that Flotilla needs no
// gRPC module: the request and response messages have a single field
// each, and the gRPC framing is a flag byte and a length.

const grpcHealthPath = "/grpc.health.v1.Health/Check"

// Serving statuses of grpc.health.v1.HealthCheckResponse.
var grpcServingStatus = map[uint64]string{0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}

// grpcRequest frames a HealthCheckRequest{service}.
func grpcRequest(service string) []byte {
	var msg []byte
	if service != "" {
		msg = append(msg, 0x0a) // field 1, wire type 2 (bytes)
		msg = binary.AppendUvarint(msg, uint64(len(service)))
		msg = append(msg, service...)
	}
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	return append(frame, msg...)
}

// parseHealthResponse decodes the status field of a HealthCheckResponse,
// skipping fields it does not know.
func parseHealthResponse(msg []byte) (uint64, error) {
	var status uint64
	for len(msg) > 0 {
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return 0, errors.New("malformed health response")
		}
		msg = msg[n:]
		field, wire := key>>3, key&7
		switch wire {
		case 0:
			v, n := binary.Uvarint(msg)
			if n <= 0 {
				return 0, errors.New("malformed health response")
			}
			msg = msg[n:]
			if field == 1 {
				status = v
			}
		case 1, 5:
			size := 8
			if wire == 5 {
				size = 4
			}
			if len(msg) < size {
				return 0, errors.New("malformed health response")
			}
			msg = msg[size:]
		case 2:
			l, n := binary.Uvarint(msg)
			if n <= 0 || uint64(len(msg)-n) < l {
				return 0, errors.New("malformed health response")
			}
			msg = msg[n+int(l):]
		default:
			return 0, fmt.Errorf("malformed health response (wire type %d)", wire)
		}
	}
	return status, nil
}

func (e *executor) runGRPC(ctx context.Context, s *spec, t *target) outcome {
	if e.viaNetworkProber(s) {
		status, err := e.network.ProbeGRPC(ctx, t.podIP, s.port, s.service)
		if err != nil {
			return fail("failed to connect service %q within %v: %v", s.addr(t.podIP), s.timeout, err)
		}
		return servingOutcome(uint64(status))
	}
	u := url.URL{Scheme: "http", Host: s.addr(t.podIP), Path: grpcHealthPath}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(grpcRequest(s.service)))
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	req.Header.Set("User-Agent", userAgent)
	if dl, ok := ctx.Deadline(); ok {
		req.Header.Set("Grpc-Timeout", strconv.FormatInt(max(1, int64(time.Until(dl).Milliseconds())), 10)+"m")
	}
	resp, err := e.grpc.Do(req)
	if err != nil {
		return fail("failed to connect service %q within %v: %v", u.Host, s.timeout, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fail("grpc health check: reading response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail("grpc health check: HTTP status %d", resp.StatusCode)
	}
	code := resp.Trailer.Get("Grpc-Status")
	msg := resp.Trailer.Get("Grpc-Message")
	if code == "" { // a "trailers-only" response carries them as headers
		code, msg = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	switch code {
	case "0":
	case "12":
		return fail("this server does not implement the grpc health protocol (grpc.health.v1.Health): %s", unescapeGRPC(msg))
	case "":
		return fail("grpc health check: response without grpc-status")
	default:
		return fail("grpc health check failed: status %s: %s", code, unescapeGRPC(msg))
	}
	if len(body) < 5 || body[0] != 0 {
		return fail("grpc health check: malformed or compressed response")
	}
	l := binary.BigEndian.Uint32(body[1:5])
	if uint64(len(body)-5) < uint64(l) {
		return fail("grpc health check: truncated response")
	}
	status, err := parseHealthResponse(body[5 : 5+l])
	if err != nil {
		return fail("grpc health check: %v", err)
	}
	return servingOutcome(status)
}

// servingOutcome is the outcome of a health check that answered status:
// success on SERVING only.
func servingOutcome(status uint64) outcome {
	if status != 1 {
		name, ok := grpcServingStatus[status]
		if !ok {
			name = strconv.FormatUint(status, 10)
		}
		return fail("service unhealthy (responded with %q)", name)
	}
	return outcome{ok: true}
}

// unescapeGRPC decodes grpc-message's percent-encoding.
func unescapeGRPC(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return strings.TrimSpace(s)
}
