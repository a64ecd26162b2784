// Command podapp is the program of the e2e tests that check, from inside
// a container, that a Pod runs as written. It runs in a FROM scratch
// image (no shell), so it reports what the tests look at itself:
//
//	podapp report ITEM... [--exit CODE]
//
// prints one line per item and then sleeps until SIGTERM, or exits with
// CODE when --exit is given. Items:
//
//	env:NAME      NAME=<value>, or NAME unset
//	file:PATH     file:PATH=<content, quoted>, or the error
//	write:PATH=S  writes S to PATH: write:PATH ok, or the error
//	mount:PATH    mount:PATH=<the /proc/mounts line of the mount at PATH>
//	hostname      hostname=<the kernel's hostname>
//	status        uid, gid, groups, capabilities, no_new_privs and
//	              seccomp lines from /proc/self/status
//	args          args=<the program's arguments, quoted>
//
// Each line is also written, as one "key=value" line, to the file named by
// $REPORT_FILE when it is set.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "report" {
		fmt.Fprintln(os.Stderr, "usage: podapp report ITEM... [--exit CODE]")
		os.Exit(2)
	}
	exit := -1
	var lines []string
	items := os.Args[2:]
	for i := 0; i < len(items); i++ {
		it := items[i]
		if it == "--exit" && i+1 < len(items) {
			code, err := strconv.Atoi(items[i+1])
			if err != nil {
				fmt.Fprintln(os.Stderr, "podapp: bad exit code:", err)
				os.Exit(2)
			}
			exit = code
			i++
			continue
		}
		lines = append(lines, report(it)...)
	}
	out := strings.Join(lines, "\n") + "\n"
	fmt.Print(out)
	if f := os.Getenv("REPORT_FILE"); f != "" {
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "podapp:", err)
			os.Exit(1)
		}
	}
	if exit >= 0 {
		os.Exit(exit)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
}

func report(item string) []string {
	kind, arg, _ := strings.Cut(item, ":")
	switch kind {
	case "env":
		if v, ok := os.LookupEnv(arg); ok {
			return []string{arg + "=" + v}
		}
		return []string{arg + " unset"}
	case "file":
		b, err := os.ReadFile(arg)
		if err != nil {
			return []string{"file:" + arg + " error: " + err.Error()}
		}
		return []string{"file:" + arg + "=" + strconv.Quote(string(b))}
	case "write":
		path, data, _ := strings.Cut(arg, "=")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			return []string{"write:" + path + " error: " + err.Error()}
		}
		return []string{"write:" + path + " ok"}
	case "mount":
		b, err := os.ReadFile("/proc/mounts")
		if err != nil {
			return []string{"mount:" + arg + " error: " + err.Error()}
		}
		line := "none"
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[1] == arg {
				line = l
			}
		}
		return []string{"mount:" + arg + "=" + line}
	case "hostname":
		b, err := os.ReadFile("/proc/sys/kernel/hostname")
		if err != nil {
			return []string{"hostname error: " + err.Error()}
		}
		return []string{"hostname=" + strings.TrimSpace(string(b))}
	case "status":
		f, err := os.Open("/proc/self/status")
		if err != nil {
			return []string{"status error: " + err.Error()}
		}
		defer f.Close()
		var out []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			switch k {
			case "Uid", "Gid", "Groups", "CapEff", "CapBnd", "NoNewPrivs", "Seccomp":
				out = append(out, k+"="+strings.Join(strings.Fields(v), " "))
			}
		}
		return out
	case "args":
		return []string{"args=" + strconv.Quote(strings.Join(os.Args, " "))}
	}
	return []string{"unknown item " + strconv.Quote(item)}
}
