// Command benchapp is the application of the e2e benchmarks, for Flotilla
// Pods and Docker Swarm services alike. It runs in a FROM scratch image
// (dockerimage.BuildGo), which has no shell, so it is its own health check:
//
//	benchapp [serve]  HTTP on $PORT (default 8080) until SIGTERM
//	benchapp health   GET http://127.0.0.1:$PORT/healthz; exit 0 on a
//	                  status 200-399, 1 otherwise (a Docker HEALTHCHECK)
//
// Endpoints: / answers "$VERSION $HOSTNAME"; /healthz answers 200 "ok", or
// 503 once /health?ok=false was requested (until /health?ok=true), so a
// benchmark can make a liveness probe fail on demand.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(port)
	case "health":
		err = health(port)
	default:
		err = fmt.Errorf("unknown command %q (want serve or health)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchapp:", err)
		os.Exit(1)
	}
}

func serve(port string) error {
	var failing atomic.Bool
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			http.Error(w, "failing on request", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		failing.Store(r.URL.Query().Get("ok") == "false")
		fmt.Fprintf(w, "failing=%v\n", failing.Load())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%s %s\n", os.Getenv("VERSION"), host)
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func health(port string) error {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}
