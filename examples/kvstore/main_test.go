package main

import (
	"io"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun keeps the README's example working: it must run to the end.
func TestRun(t *testing.T) {
	stdout := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		done <- b
	}()
	err = run()
	w.Close()
	os.Stdout = stdout
	out := <-done
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
