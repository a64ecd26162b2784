package orchestrator

import (
	"os"
	goruntime "runtime"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/capacity"
	"go.uber.org/zap"
)

// detectCapacity returns c.Capacity completed: cpu and memory it leaves
// out detected from this process's cgroup limits or the host
// (capacity.Detect), pods DefaultMaxPodsPerNode. It logs the figures and where
// they came from, and warns when detection falls short.
func (c Config) detectCapacity(log *zap.Logger) ResourceList {
	_, cpu := c.Capacity[api.ResourceCPU]
	_, mem := c.Capacity[api.ResourceMemory]
	var host capacity.Host
	if !cpu || !mem {
		var err error
		host, err = capacity.Detect(os.DirFS("/"), goruntime.NumCPU())
		if err != nil {
			log.Warn("node capacity: detection incomplete; set Config.Capacity for what is missing", zap.Error(err))
		}
	}
	out := completeCapacity(c.Capacity, host)
	fields := []zap.Field{zap.String("cpu", show(out, api.ResourceCPU)), zap.String("memory", show(out, api.ResourceMemory)),
		zap.String("pods", show(out, api.ResourcePods))}
	if !cpu {
		fields = append(fields, zap.String("cpuFrom", host.CPUFrom))
	}
	if !mem && host.MemoryBytes > 0 {
		fields = append(fields, zap.String("memoryFrom", host.MemoryFrom))
	}
	log.Info("node capacity", fields...)
	return out
}

// completeCapacity returns a copy of given with cpu and memory it lacks
// taken from host (memory left out if host does not know it) and pods
// DefaultMaxPodsPerNode.
func completeCapacity(given ResourceList, host capacity.Host) ResourceList {
	out := make(ResourceList, len(given)+3)
	for k, v := range given {
		out[k] = v
	}
	if _, ok := out[api.ResourceCPU]; !ok {
		out[api.ResourceCPU] = api.NewMilliQuantity(host.MilliCPU, api.DecimalSI)
	}
	if _, ok := out[api.ResourceMemory]; !ok && host.MemoryBytes > 0 {
		out[api.ResourceMemory] = api.NewQuantity(host.MemoryBytes, api.BinarySI)
	}
	if _, ok := out[api.ResourcePods]; !ok {
		out[api.ResourcePods] = api.NewQuantity(DefaultMaxPodsPerNode, api.DecimalSI)
	}
	return out
}

// show returns l[name] as a string, or "none".
func show(l ResourceList, name api.ResourceName) string {
	if q, ok := l[name]; ok {
		return q.String()
	}
	return "none"
}
