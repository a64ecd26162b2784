package api

// Default values, as Kubernetes sets them (and Flotilla's documented
// deviations). The API server applies them on every write (the kinds'
// strategies in orchestrator/internal/strategy); they are here because
// programs reading objects, and the agent and prober acting on them,
// need to know what an unset field means.
const (
	DefaultNamespace                     = "default"
	DefaultTerminationGracePeriodSeconds = int64(30)
	DefaultProbePeriodSeconds            = int32(10)
	DefaultProbeTimeoutSeconds           = int32(1)
	DefaultProbeSuccessThreshold         = int32(1)
	DefaultProbeFailureThreshold         = int32(3)
	DefaultDeploymentReplicas            = int32(1)
	DefaultRevisionHistoryLimit          = int32(10)
	DefaultProgressDeadlineSeconds       = int32(600)
	DefaultMaxSurge                      = "25%"
	DefaultMaxUnavailable                = "25%"
	DefaultVolumeMode                    = int32(0o644)
	DefaultJobBackoffLimit               = int32(6)
	// DefaultDaemonSetMaxUnavailable is a DaemonSet rolling update's
	// maxUnavailable when unset (its maxSurge defaults to 0).
	DefaultDaemonSetMaxUnavailable = int32(1)
)

// Ptr returns a pointer to v, for optional fields such as
// DeploymentSpec.Replicas: Ptr(int32(3)).
func Ptr[T any](v T) *T { return &v }
