package capacity

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Host is what the process may use.
type Host struct {
	// MilliCPU is the CPU time the process may use, in thousandths of a
	// CPU (a cgroup quota of 1.5 CPUs is 1500).
	MilliCPU int64
	// MemoryBytes is the memory the process may use; 0 means unknown.
	MemoryBytes int64
	// CPUFrom and MemoryFrom name where each figure came from: the file
	// holding the limit (/sys/fs/cgroup/cpu.max), "runtime.NumCPU" or
	// /proc/meminfo.
	CPUFrom, MemoryFrom string
}

// unlimited is the least value taken as no limit: cgroup v1 writes
// 2^63 - 4096 (PAGE_COUNTER_MAX pages) for none.
const unlimited = int64(1) << 62

// limit is the lowest limit found so far, and its file.
type limit struct {
	value int64 // 0: none found
	from  string
}

func (l *limit) lower(v int64, from string) {
	if v > 0 && v < unlimited && (l.value == 0 || v < l.value) {
		l.value, l.from = v, from
	}
}

// Detect returns the CPU and memory the process may use, reading the
// host's files from fsys (the root file system: os.DirFS("/")) and
// capping CPU at numCPU (runtime.NumCPU()). See the package documentation
// for where it looks.
//
// Errors: a cgroup or /proc file that exists but cannot be parsed (naming
// the file; the limit in it is ignored), and memory that neither a cgroup
// limit nor /proc/meminfo gives (MemoryBytes is 0 then). Whatever else it
// found is returned with the error.
func Detect(fsys fs.FS, numCPU int) (Host, error) {
	var errs []error
	groups, err := readProcCgroup(fsys)
	if err != nil {
		errs = append(errs, err)
	}
	var cpu, mem limit
	if exists(fsys, "sys/fs/cgroup/cgroup.controllers") {
		for _, dir := range ancestors("sys/fs/cgroup", groups[""]) {
			errs = appendErr(errs, readCPUMax(fsys, dir, &cpu))
			errs = appendErr(errs, readInt(fsys, path.Join(dir, "memory.max"), &mem))
		}
	}
	if cpu.value == 0 {
		for _, mount := range []string{"sys/fs/cgroup/cpu", "sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpuacct,cpu"} {
			if !exists(fsys, mount) {
				continue
			}
			for _, dir := range ancestors(mount, groups.v1("cpu")) {
				errs = appendErr(errs, readCFSQuota(fsys, dir, &cpu))
			}
			break
		}
	}
	if mem.value == 0 && exists(fsys, "sys/fs/cgroup/memory") {
		for _, dir := range ancestors("sys/fs/cgroup/memory", groups.v1("memory")) {
			errs = appendErr(errs, readInt(fsys, path.Join(dir, "memory.limit_in_bytes"), &mem))
		}
	}

	h := Host{MilliCPU: int64(numCPU) * 1000, CPUFrom: "runtime.NumCPU"}
	if cpu.value > 0 && cpu.value < h.MilliCPU {
		h.MilliCPU, h.CPUFrom = cpu.value, cpu.from
	}
	total, err := memTotal(fsys)
	switch {
	case err != nil:
		errs = append(errs, err)
	case total > 0:
		h.MemoryBytes, h.MemoryFrom = total, "/proc/meminfo"
	}
	if mem.value > 0 && (h.MemoryBytes == 0 || mem.value < h.MemoryBytes) {
		h.MemoryBytes, h.MemoryFrom = mem.value, mem.from
	}
	if h.MemoryBytes == 0 && err == nil {
		errs = append(errs, errors.New("capacity: memory: no cgroup limit and no MemTotal in /proc/meminfo"))
	}
	return h, errors.Join(errs...)
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		return append(errs, err)
	}
	return errs
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// cgroups maps each cgroup v1 hierarchy's controllers ("cpu,cpuacct") to
// the process's path in it, and "" to its cgroup v2 path.
type cgroups map[string]string

// v1 returns the path in the v1 hierarchy that has controller.
func (g cgroups) v1(controller string) string {
	for ctrls, p := range g {
		for c := range strings.SplitSeq(ctrls, ",") {
			if c == controller {
				return p
			}
		}
	}
	return "/"
}

// readProcCgroup parses /proc/self/cgroup: lines "id:controllers:path";
// v2's has id 0 and no controllers. A missing file is no error (not
// Linux): every path is then the root.
func readProcCgroup(fsys fs.FS) (cgroups, error) {
	g := cgroups{"": "/"}
	b, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if errors.Is(err, fs.ErrNotExist) {
		return g, nil
	}
	if err != nil {
		return g, fmt.Errorf("capacity: /proc/self/cgroup: %w", err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			return g, fmt.Errorf("capacity: /proc/self/cgroup line %d: %q is not id:controllers:/path", i+1, line)
		}
		g[parts[1]] = parts[2]
	}
	return g, nil
}

// ancestors returns mount/p and each of its parents up to mount itself,
// deepest first: a limit anywhere above the process applies to it.
func ancestors(mount, p string) []string {
	p = path.Clean("/" + p)
	var dirs []string
	for {
		dirs = append(dirs, path.Join(mount, p))
		if p == "/" {
			return dirs
		}
		p = path.Dir(p)
	}
}

// read returns the trimmed content of name, or ok false if it does not
// exist.
func read(fsys fs.FS, name string) (s string, ok bool, err error) {
	b, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("capacity: /%s: %w", name, err)
	}
	return string(bytes.TrimSpace(b)), true, nil
}

// readCPUMax lowers l to the limit of dir's cgroup v2 cpu.max: "max
// <period>" (none) or "<quota> <period>" in microseconds.
func readCPUMax(fsys fs.FS, dir string, l *limit) error {
	name := path.Join(dir, "cpu.max")
	s, ok, err := read(fsys, name)
	if !ok || err != nil {
		return err
	}
	quota, period, _ := strings.Cut(s, " ")
	if quota == "max" {
		return nil
	}
	q, err1 := strconv.ParseInt(quota, 10, 64)
	p, err2 := strconv.ParseInt(period, 10, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return fmt.Errorf("capacity: /%s: %q is not \"max <period>\" or \"<quota> <period>\"", name, s)
	}
	l.lower(milliCPU(q, p), "/"+name)
	return nil
}

// readCFSQuota lowers l to the limit of dir's cgroup v1 CFS quota:
// cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us.
func readCFSQuota(fsys fs.FS, dir string, l *limit) error {
	quotaFile, periodFile := path.Join(dir, "cpu.cfs_quota_us"), path.Join(dir, "cpu.cfs_period_us")
	s, ok, err := read(fsys, quotaFile)
	if !ok || err != nil {
		return err
	}
	q, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("capacity: /%s: %q is not a number", quotaFile, s)
	}
	if q <= 0 {
		return nil
	}
	s, ok, err = read(fsys, periodFile)
	if err != nil {
		return err
	}
	p, perr := strconv.ParseInt(s, 10, 64)
	if !ok || perr != nil || p <= 0 {
		return fmt.Errorf("capacity: /%s: %q is not a positive number (beside a quota of %d)", periodFile, s, q)
	}
	l.lower(milliCPU(q, p), "/"+quotaFile)
	return nil
}

// milliCPU is quota over period in thousandths of a CPU, at least 1.
func milliCPU(quota, period int64) int64 {
	return max(quota*1000/period, 1)
}

// readInt lowers l to the byte count in name ("max": none).
func readInt(fsys fs.FS, name string, l *limit) error {
	s, ok, err := read(fsys, name)
	if !ok || err != nil || s == "max" {
		return err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("capacity: /%s: %q is not \"max\" or a byte count", name, s)
	}
	l.lower(v, "/"+name)
	return nil
}

// memTotal returns MemTotal of /proc/meminfo in bytes, or 0 without the
// file (not Linux).
func memTotal(fsys fs.FS) (int64, error) {
	b, err := fs.ReadFile(fsys, "proc/meminfo")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("capacity: /proc/meminfo: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 2 && f[1] == "kB" {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > 0 {
				return kb * 1024, nil
			}
		}
		return 0, fmt.Errorf("capacity: /proc/meminfo: MemTotal %q is not \"<n> kB\"", strings.TrimSpace(rest))
	}
	return 0, errors.New("capacity: /proc/meminfo: no MemTotal line")
}
