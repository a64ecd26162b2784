package capacity_test

import (
	"fmt"
	"os"

	"github.com/flotilla-io/flotilla/orchestrator/internal/capacity"
)

// On a real host: Detect(os.DirFS("/"), runtime.NumCPU()). Here, a host
// whose systemd slice allows 1.5 CPUs and whose service 2 GiB.
func Example() {
	h, err := capacity.Detect(os.DirFS("testdata/v2"), 8)
	if err != nil {
		fmt.Println("incomplete:", err)
	}
	fmt.Printf("cpu %dm from %s\n", h.MilliCPU, h.CPUFrom)
	fmt.Printf("memory %d MiB from %s\n", h.MemoryBytes>>20, h.MemoryFrom)
	// Output:
	// cpu 1500m from /sys/fs/cgroup/system.slice/cpu.max
	// memory 2048 MiB from /sys/fs/cgroup/system.slice/app.service/memory.max
}
