package runtime

import "strconv"

// Label keys the runtimes put on everything they create. Keys starting with
// LabelPrefix are reserved: user labels with that prefix are rejected.
const (
	LabelPrefix = "io.flotilla."

	// LabelManaged is "true" on every object a runtime created.
	LabelManaged = LabelPrefix + "managed"
	// LabelKind is KindSandbox, KindContainer, KindHelper, KindVolume,
	// KindNetwork or KindImage.
	LabelKind          = LabelPrefix + "kind"
	LabelClusterID     = LabelPrefix + "cluster"
	LabelNode          = LabelPrefix + "node"
	LabelNamespace     = LabelPrefix + "pod.namespace"
	LabelPodName       = LabelPrefix + "pod.name"
	LabelPodUID        = LabelPrefix + "pod.uid"
	LabelSandboxID     = LabelPrefix + "sandbox.id"
	LabelAttempt       = LabelPrefix + "sandbox.attempt"
	LabelContainerName = LabelPrefix + "container.name"
	LabelRestartCount  = LabelPrefix + "container.restart-count"
	// LabelEmptyDir names the emptyDir a volume backs.
	LabelEmptyDir = LabelPrefix + "emptydir"
)

// Values of LabelKind.
const (
	KindSandbox   = "sandbox"
	KindContainer = "container"
	KindVolume    = "volume"
	// KindHelper is a container a runtime runs for a Pod besides its
	// sandbox and app containers (holding or filling its volumes);
	// removed with the Pod's sandbox, never listed as the Pod's.
	KindHelper  = "helper"
	KindNetwork = "network"
	KindImage   = "image"
)

// MatchLabels reports whether have holds every key of want with the same
// value. An empty want matches everything.
func MatchLabels(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// RestartCountOf parses LabelRestartCount from labels; missing or malformed
// values read as 0.
func RestartCountOf(labels map[string]string) int {
	n, err := strconv.Atoi(labels[LabelRestartCount])
	if err != nil || n < 0 {
		return 0
	}
	return n
}
