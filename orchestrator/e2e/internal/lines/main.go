// Command lines is the program of the e2e tests of `kubectl logs`: it
// prints "line 1", "line 2", ... one line per interval (the first argument,
// a Go duration; 100ms when absent) to stdout until SIGTERM or SIGINT, when
// it exits 0. It runs in a FROM scratch image (no shell).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	interval := 100 * time.Millisecond
	if len(os.Args) > 1 {
		d, err := time.ParseDuration(os.Args[1])
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "lines: bad interval %q: want a positive Go duration\n", os.Args[1])
			os.Exit(2)
		}
		interval = d
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 1; ; n++ {
		fmt.Printf("line %d\n", n)
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}
