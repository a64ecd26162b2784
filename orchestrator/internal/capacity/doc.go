// Package capacity finds the CPU and memory this process may use: its
// cgroup's limits where there are any, the host's otherwise. A node that
// offers Pods what its host really has (not a fixed figure) lets the
// scheduler keep Pods off a node they would not fit on.
//
// # Usage
//
//  1. Call Detect(os.DirFS("/"), runtime.NumCPU()).
//  2. Use Host.MilliCPU and Host.MemoryBytes (0: unknown); CPUFrom and
//     MemoryFrom say where each came from, for the log.
//  3. Log a non-nil error (a file that could not be parsed, memory not
//     found): Detect still returns what it found.
//
// # Where it looks
//
// It reads the process's cgroups from /proc/self/cgroup. With cgroup v2
// (/sys/fs/cgroup/cgroup.controllers exists) it reads cpu.max and
// memory.max in the process's cgroup and each of its ancestors and takes
// the lowest limit. Otherwise, or where v2 sets no limit, it reads cgroup
// v1's cpu.cfs_quota_us and cpu.cfs_period_us under /sys/fs/cgroup/cpu
// (or cpu,cpuacct) and memory.limit_in_bytes under /sys/fs/cgroup/memory,
// in the process's cgroup and its ancestors likewise. A limit above what
// the host has (cgroup v1's "no limit" is a huge number) counts as none:
// the host's CPU count (the numCPU passed in) and MemTotal of /proc/meminfo
// are the ceiling.
//
// # What it does not do
//
// It assumes the usual mount points (it does not read
// /proc/self/mountinfo), ignores cpuset and CPU shares (a share is no
// limit), and subtracts nothing for the system or this process: what it
// returns is what the cgroup allows, not what is free. It does not watch
// for changes: a limit changed later is seen by the next Detect.
package capacity
