package docker_test

import (
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/moby/moby/client"
	"go.uber.org/zap/zaptest"
)

// cutProxy forwards a unix socket to the daemon's and can cut every open
// connection, the way a daemon restart or a network blip loses the event
// stream.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, daemonHost string) *cutProxy {
	u, err := url.Parse(daemonHost)
	if err != nil || u.Scheme != "unix" {
		t.Skipf("reconnect test needs a unix socket daemon, have %q", daemonHost)
	}
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "docker.sock"))
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: u.Path}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		d, err := net.Dial("unix", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, d)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(d, c); d.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(c, d); c.Close() }()
	}
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestEventStreamReconnect(t *testing.T) {
	e := newEnv(t)
	proxy := newCutProxy(t, e.cli.DaemonHost())
	cli, err := client.New(client.WithHost("unix://" + proxy.ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	r, err := docker.New(ctx, docker.Config{ClusterID: e.cluster, NodeName: "node-1", Network: e.network, CreateNetwork: true,
		Client: cli, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ev := subscribe(t, r)
	sb := sandbox(t, r, "flaky")
	id := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "app"})
	ev.want(runtime.EventContainerStarted, id)
	// Lose the stream, then kill the container (directly, not through the
	// proxy): the exit must still be reported once the stream is back.
	proxy.cut()
	if _, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	// The re-list after the reconnect ends with a Resync; it may come
	// before the kill (then the exit arrives on the new stream) or after
	// it (then the re-list reports the exit): both must arrive.
	exited, resynced := false, false
	deadline := time.After(20 * time.Second)
	for !exited || !resynced {
		select {
		case got := <-ev.ch:
			switch {
			case got.Type == runtime.EventResync:
				resynced = true
			case got.Type == runtime.EventContainerExited && got.ContainerID == id:
				if got.ExitCode != 137 {
					t.Fatalf("exit after reconnect: %+v", got)
				}
				exited = true
			}
		case <-deadline:
			t.Fatalf("after 20 s: exit seen %v, resync seen %v", exited, resynced)
		}
	}
}
