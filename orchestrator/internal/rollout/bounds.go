package rollout

import (
	"errors"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Bounds are a rolling update's limits resolved to Pod counts.
type Bounds struct {
	// MaxSurge is how many Pods may exist beyond the desired replicas.
	MaxSurge int32
	// MaxUnavailable is how many of the desired replicas may be unavailable.
	MaxUnavailable int32
}

// ResolveBounds resolves a RollingUpdate strategy's maxSurge and
// maxUnavailable against replicas. A nil ru or nil field takes the default
// 25%. Errors: negative replicas; a value that is a negative count, not a
// percentage, or (maxUnavailable only) over 100% — each naming the field
// (spec.strategy.rollingUpdate.maxSurge / .maxUnavailable).
func ResolveBounds(ru *api.RollingUpdateDeployment, replicas int32) (Bounds, error) {
	def := api.FromString(api.DefaultMaxSurge)
	surge, unavail := &def, &def
	if ru != nil {
		if ru.MaxSurge != nil {
			surge = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			unavail = ru.MaxUnavailable
		}
	}
	return Resolve(surge, unavail, replicas)
}

// Resolve is ResolveBounds for the two values: maxSurge rounds up,
// maxUnavailable rounds down, and when both resolve to 0 maxUnavailable
// becomes 1 so the rollout can progress (Kubernetes' rule). A nil value is
// 0. Errors: as ResolveBounds.
func Resolve(maxSurge, maxUnavailable *api.IntOrString, replicas int32) (Bounds, error) {
	const base = "spec.strategy.rollingUpdate."
	var errs []error
	if replicas < 0 {
		errs = append(errs, fmt.Errorf("rollout: spec.replicas: must be >= 0, got %d", replicas))
	}
	s, err := scaled(maxSurge, replicas, true, base+"maxSurge", false)
	if err != nil {
		errs = append(errs, err)
	}
	u, err := scaled(maxUnavailable, replicas, false, base+"maxUnavailable", true)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Bounds{}, errors.Join(errs...)
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return Bounds{MaxSurge: s, MaxUnavailable: u}, nil
}

func scaled(v *api.IntOrString, replicas int32, roundUp bool, field string, capPercent bool) (int32, error) {
	if v == nil {
		return 0, nil
	}
	if v.Type == api.String {
		p, err := api.ParsePercent(v.StrVal)
		if err != nil {
			return 0, fmt.Errorf("rollout: %s: invalid value %q: must be an integer or a percentage such as \"25%%\"", field, v.StrVal)
		}
		if p > 1<<31-1 {
			return 0, fmt.Errorf("rollout: %s: invalid value %q: percentage too large", field, v.StrVal)
		}
		if capPercent && p > 100 {
			return 0, fmt.Errorf("rollout: %s: invalid value %q: must not be greater than 100%%", field, v.StrVal)
		}
	} else if v.IntVal < 0 {
		return 0, fmt.Errorf("rollout: %s: invalid value %d: must be >= 0", field, v.IntVal)
	}
	n, err := api.ScaledValueFromIntOrPercent(v, int(replicas), roundUp)
	if err != nil {
		return 0, fmt.Errorf("rollout: %s: %w", field, err)
	}
	return int32(min(n, 1<<31-1)), nil
}
