package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// kubectlBinary returns the path of kubectl: the test is skipped when it is
// not on PATH, and fails when CI=true (CI always has it).
func kubectlBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true and kubectl is not on PATH: %v", err)
		}
		tb.Skipf("kubectl is not on PATH (set CI=true to make this a failure): %v", err)
	}
	return bin
}

// kubectl runs the kubectl binary against one kubeconfig.
type kubectl struct {
	tb         testing.TB
	bin        string
	kubeconfig string
	dir        string // manifests written by manifest
}

// newKubectl returns a kubectl for the kubeconfig file at path.
func newKubectl(tb testing.TB, kubeconfig string) *kubectl {
	tb.Helper()
	return &kubectl{tb: tb, bin: kubectlBinary(tb), kubeconfig: kubeconfig, dir: tb.TempDir()}
}

// withKubeconfig returns a kubectl for another kubeconfig file.
func (k *kubectl) withKubeconfig(path string) *kubectl {
	c := *k
	c.kubeconfig = path
	return &c
}

// kubectlResult is what one kubectl run printed and how it exited.
type kubectlResult struct {
	args   []string
	stdout string
	stderr string
	code   int // -1 when it did not exit on its own
}

func (r kubectlResult) String() string {
	return fmt.Sprintf("kubectl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// kubectlTimeout bounds one kubectl run.
const kubectlTimeout = 60 * time.Second

// command returns the command for args, with the kubeconfig, no cache
// shared with other runs and no colour.
func (k *kubectl) command(ctx context.Context, args ...string) *exec.Cmd {
	all := append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", filepath.Join(k.dir, ".kube-cache")}, args...)
	cmd := exec.CommandContext(ctx, k.bin, all...)
	cmd.Env = append(os.Environ(), "KUBECTL_COMMAND_HEADERS=false", "NO_COLOR=1", "HOME="+k.dir)
	cmd.Dir = k.dir
	return cmd
}

// runInput runs kubectl with args and stdin (none when empty).
func (k *kubectl) runInput(stdin string, args ...string) kubectlResult {
	k.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := k.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	r := kubectlResult{args: args, stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		k.tb.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// run runs kubectl with args.
func (k *kubectl) run(args ...string) kubectlResult {
	k.tb.Helper()
	return k.runInput("", args...)
}

// ok runs kubectl, fails the test unless it exits 0, and returns stdout.
func (k *kubectl) ok(args ...string) string {
	k.tb.Helper()
	r := k.run(args...)
	if r.code != 0 {
		k.tb.Fatalf("want exit 0, got %v", r)
	}
	return r.stdout
}

// fails runs kubectl and fails the test unless it exits non-zero.
func (k *kubectl) fails(args ...string) kubectlResult {
	k.tb.Helper()
	r := k.run(args...)
	if r.code == 0 {
		k.tb.Fatalf("want a failure, got %v", r)
	}
	return r
}

// manifest writes text to the file name in k's directory and returns its
// path.
func (k *kubectl) manifest(name, text string) string {
	k.tb.Helper()
	path := filepath.Join(k.dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		k.tb.Fatal(err)
	}
	return path
}

// eventually runs kubectl args every 100 ms until cond accepts the result,
// or fails the test after timeout with the last result.
func (k *kubectl) eventually(timeout time.Duration, what string, cond func(kubectlResult) bool, args ...string) kubectlResult {
	k.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := k.run(args...)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			k.tb.Fatalf("%s: not after %v; last %v", what, timeout, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// outputIs is a condition of eventually: exit 0 and stdout, trimmed, want.
func outputIs(want string) func(kubectlResult) bool {
	return func(r kubectlResult) bool { return r.code == 0 && strings.TrimSpace(r.stdout) == want }
}

// wantStdout fails tb unless got, trimmed, is exactly the lines want.
func wantStdout(tb testing.TB, r kubectlResult, want ...string) {
	tb.Helper()
	if got := strings.TrimSpace(r.stdout); got != strings.Join(want, "\n") {
		tb.Errorf("want stdout\n%s\ngot %v", strings.Join(want, "\n"), r)
	}
}

// wantContains fails tb unless s contains every one of subs.
func wantContains(tb testing.TB, what, s string, subs ...string) {
	tb.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			tb.Errorf("%s: want %q in\n%s", what, sub, s)
		}
	}
}

// withTB returns k reporting to tb (a subtest).
func (k *kubectl) withTB(tb testing.TB) *kubectl {
	c := *k
	c.tb = tb
	return &c
}

// runOK runs kubectl, fails the test unless it exits 0, and returns the
// result.
func (k *kubectl) runOK(args ...string) kubectlResult {
	k.tb.Helper()
	r := k.run(args...)
	if r.code != 0 {
		k.tb.Fatalf("want exit 0, got %v", r)
	}
	return r
}

// kubectlWatch is a kubectl left running (get -w, logs -f) whose stdout
// lines arrive on lines (buffered; once stopped, lines nobody reads are
// dropped).
type kubectlWatch struct {
	args   []string
	cancel context.CancelFunc
	lines  chan string // closed when stdout ends
	stderr *syncBuffer
	done   chan error // the result of Wait
	seen   []string
}

// watch starts kubectl with args; it runs until stop, or until the test's
// cleanup kills it.
func (k *kubectl) watch(args ...string) *kubectlWatch {
	k.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*kubectlTimeout)
	cmd := k.command(ctx, args...)
	w := &kubectlWatch{args: args, cancel: cancel, lines: make(chan string, 1024), stderr: new(syncBuffer), done: make(chan error, 1)}
	cmd.Stderr = w.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		k.tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		k.tb.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case w.lines <- sc.Text():
			case <-ctx.Done(): // stopped: nobody reads any more
			}
		}
		close(w.lines)
		w.done <- cmd.Wait()
	}()
	k.tb.Cleanup(func() { cancel(); <-w.done })
	return w
}

// waitLine waits until a line equal to want arrives, failing tb after
// timeout or when kubectl ends first.
func (w *kubectlWatch) waitLine(tb testing.TB, want string, timeout time.Duration) {
	tb.Helper()
	w.waitFor(tb, fmt.Sprintf("the line %q", want), timeout, func(line string) bool { return line == want })
}

// waitFor waits until a line that match accepts arrives, failing tb after
// timeout or when kubectl ends first.
func (w *kubectlWatch) waitFor(tb testing.TB, what string, timeout time.Duration, match func(string) bool) string {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				tb.Fatalf("kubectl %s ended before %s; stdout %q, stderr:\n%s", strings.Join(w.args, " "), what, w.seen, w.stderr.String())
			}
			w.seen = append(w.seen, line)
			if match(line) {
				return line
			}
		case <-timer.C:
			tb.Fatalf("kubectl %s: no %s after %v; stdout %q, stderr:\n%s", strings.Join(w.args, " "), what, timeout, w.seen, w.stderr.String())
		}
	}
}

// stop kills kubectl and waits for it to exit.
func (w *kubectlWatch) stop(tb testing.TB) {
	tb.Helper()
	w.cancel()
	for range w.lines {
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and other readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
