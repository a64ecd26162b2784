// Command testapp is the program of the Docker runtime's integration tests.
// It runs in a FROM scratch image, so it brings its own "shell" commands.
//
//	testapp [serve]        HTTP on $HTTP_PORT (8080), TCP echo on $TCP_PORT (9090)
//	testapp dial HOST:PORT send "ping" over TCP, print the reply
//	testapp get URL        HTTP GET, print the status and body
//	testapp env NAME       print an environment variable
//	testapp cat PATH       print a file
//	testapp write PATH S   write S to a file
//	testapp exit CODE      exit with CODE
//	testapp sleep DURATION sleep, e.g. "10s"
//
// HTTP endpoints: /healthz (200, or 503 after /health?ok=false; back to
// 200 after /health?ok=true), /exit?code=N, /alloc?mb=N (allocates and
// touches memory). The same port speaks cleartext HTTP/2 too, for the
// gRPC health service: grpc.health.v1.Health/Check answers SERVING, or
// NOT_SERVING while /healthz answers 503.
// On SIGTERM serve prints "testapp: got SIGTERM" and exits 0.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"serve"}
	}
	if err := run(args); err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	need := func(n int) error {
		if len(args) < n+1 {
			return fmt.Errorf("%s needs %d argument(s)", args[0], n)
		}
		return nil
	}
	switch args[0] {
	case "serve":
		return serve()
	case "dial":
		if err := need(1); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", args[1], 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, "ping\n"); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		fmt.Print(line)
	case "get":
		if err := need(1); err != nil {
			return err
		}
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(args[1])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s", resp.StatusCode, body)
	case "env":
		if err := need(1); err != nil {
			return err
		}
		fmt.Println(os.Getenv(args[1]))
	case "cat":
		if err := need(1); err != nil {
			return err
		}
		b, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		os.Stdout.Write(b)
	case "write":
		if err := need(2); err != nil {
			return err
		}
		return os.WriteFile(args[1], []byte(args[2]), 0o644)
	case "sleep":
		if err := need(1); err != nil {
			return err
		}
		d, err := time.ParseDuration(args[1])
		if err != nil {
			return err
		}
		time.Sleep(d)
	case "exit":
		if err := need(1); err != nil {
			return err
		}
		code, err := strconv.Atoi(args[1])
		if err != nil {
			return err
		}
		os.Exit(code)
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serve() error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	var unhealthy atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if unhealthy.Load() {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		unhealthy.Store(r.URL.Query().Get("ok") == "false")
		fmt.Fprintln(w, "set")
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		fmt.Printf("testapp: exiting with %d\n", code)
		os.Exit(code)
	})
	mux.HandleFunc("/grpc.health.v1.Health/Check", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		status := byte(1) // SERVING
		if unhealthy.Load() {
			status = 2 // NOT_SERVING
		}
		// One length-prefixed HealthCheckResponse{status}, then the
		// gRPC status in the trailers.
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = w.Write([]byte{0, 0, 0, 0, 2, 0x08, status})
		w.Header().Set("Grpc-Status", "0")
	})
	var hog [][]byte
	mux.HandleFunc("/alloc", func(w http.ResponseWriter, r *http.Request) {
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		for range mb {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			hog = append(hog, b)
		}
		fmt.Fprintln(w, len(hog))
	})
	httpLn, err := net.Listen("tcp", ":"+env("HTTP_PORT", "8080"))
	if err != nil {
		return err
	}
	tcpLn, err := net.Listen("tcp", ":"+env("TCP_PORT", "9090"))
	if err != nil {
		return err
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: &protocols}
	go func() { _ = srv.Serve(httpLn) }()
	go func() {
		for {
			c, err := tcpLn.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "pong %s", line)
			}()
		}
	}()
	fmt.Printf("testapp: serving http %s tcp %s\n", httpLn.Addr(), tcpLn.Addr())
	sig := <-sigs
	fmt.Printf("testapp: got %s\n", map[os.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"}[sig])
	return nil
}
