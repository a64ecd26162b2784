package capacity

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	gi = int64(1) << 30
	mi = int64(1) << 20
)

// Each fixture under testdata is a host's root file system as Detect
// reads it.
func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		numCPU  int
		want    Host
	}{
		{"v2", 8, Host{MilliCPU: 1500, MemoryBytes: 2 * gi,
			CPUFrom:    "/sys/fs/cgroup/system.slice/cpu.max",
			MemoryFrom: "/sys/fs/cgroup/system.slice/app.service/memory.max"}},
		{"v2-container", 8, Host{MilliCPU: 2000, MemoryBytes: 512 * mi,
			CPUFrom: "/sys/fs/cgroup/cpu.max", MemoryFrom: "/sys/fs/cgroup/memory.max"}},
		{"v2-unlimited", 4, Host{MilliCPU: 4000, MemoryBytes: 16 * gi, CPUFrom: "runtime.NumCPU", MemoryFrom: "/proc/meminfo"}},
		// A quota above the host's CPUs is no limit.
		{"v2-container", 1, Host{MilliCPU: 1000, MemoryBytes: 512 * mi,
			CPUFrom: "runtime.NumCPU", MemoryFrom: "/sys/fs/cgroup/memory.max"}},
		{"v1", 8, Host{MilliCPU: 500, MemoryBytes: gi,
			CPUFrom:    "/sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_quota_us",
			MemoryFrom: "/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes"}},
		{"v1-unlimited", 2, Host{MilliCPU: 2000, MemoryBytes: 16 * gi, CPUFrom: "runtime.NumCPU", MemoryFrom: "/proc/meminfo"}},
		{"v1-container", 8, Host{MilliCPU: 2500, MemoryBytes: 256 * mi,
			CPUFrom: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", MemoryFrom: "/sys/fs/cgroup/memory/memory.limit_in_bytes"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			got, err := Detect(os.DirFS("testdata/"+tc.fixture), tc.numCPU)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// Unparseable files are named in the error, and what could be read is
// still returned.
func TestDetectBadFiles(t *testing.T) {
	got, err := Detect(os.DirFS("testdata/bad"), 4)
	want := Host{MilliCPU: 4000, MemoryBytes: 16 * gi, CPUFrom: "runtime.NumCPU", MemoryFrom: "/proc/meminfo"}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if err == nil {
		t.Fatal("no error for unparseable cpu.max and memory.max")
	}
	for _, name := range []string{`/sys/fs/cgroup/cpu.max: "lots 100000"`, `/sys/fs/cgroup/memory.max: "-5"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

// Without /proc (not Linux) CPU comes from numCPU and memory is unknown,
// which the error says.
func TestDetectNoProc(t *testing.T) {
	got, err := Detect(fstest.MapFS{}, 6)
	if got != (Host{MilliCPU: 6000, CPUFrom: "runtime.NumCPU"}) {
		t.Errorf("got %+v, want 6 CPUs and no memory", got)
	}
	if err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("error %v, want one saying memory was not found", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"cgroup line", fstest.MapFS{"proc/self/cgroup": {Data: []byte("garbage\n")}}, `/proc/self/cgroup line 1: "garbage"`},
		{"meminfo unit", fstest.MapFS{"proc/meminfo": {Data: []byte("MemTotal: 12 MB\n")}}, `MemTotal "12 MB"`},
		{"meminfo line", fstest.MapFS{"proc/meminfo": {Data: []byte("MemFree: 12 kB\n")}}, "no MemTotal line"},
		{"v1 period", fstest.MapFS{
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us": {Data: []byte("50000\n")},
		}, "/sys/fs/cgroup/cpu/cpu.cfs_period_us"},
		{"v1 quota", fstest.MapFS{
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us": {Data: []byte("half\n")},
		}, `/sys/fs/cgroup/cpu/cpu.cfs_quota_us: "half"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Detect(tc.files, 2)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %s", err, tc.want)
			}
		})
	}
}

func TestAncestors(t *testing.T) {
	got := strings.Join(ancestors("sys/fs/cgroup", "/a/b/../c"), " ")
	if want := "sys/fs/cgroup/a/c sys/fs/cgroup/a sys/fs/cgroup"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
