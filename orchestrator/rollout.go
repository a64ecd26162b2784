package orchestrator

import (
	"context"
	"fmt"
	"maps"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/controllerutil"
	"github.com/flotilla-io/flotilla/orchestrator/internal/rollout"
)

// ErrProgressDeadlineExceeded is wrapped by RolloutStatus's error when a
// rollout made no progress for its progressDeadlineSeconds (its
// Progressing condition turned False with reason ProgressDeadlineExceeded).
var ErrProgressDeadlineExceeded = rollout.ErrProgressDeadlineExceeded

// revisionsOf returns the ReplicaSets controlled by Deployment d.
func revisionsOf(ctx context.Context, c Client, d *Deployment) ([]*ReplicaSet, error) {
	var list ReplicaSetList
	if err := c.List(ctx, &list, InNamespace(d.Namespace)); err != nil {
		return nil, err
	}
	var out []*ReplicaSet
	for i := range list.Items {
		if api.IsControlledBy(&list.Items[i], d) && list.Items[i].DeletionTimestamp == nil {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// Rollback sets the Pod template of the Deployment namespace/name back to
// the one of its ReplicaSet with revision toRevision (the revision
// annotation), or, when toRevision is 0, of the revision before the
// current one (the ReplicaSet matching the current template). The
// Deployment controller then rolls out to it as to any new template,
// reusing that ReplicaSet, which becomes the newest revision. It returns
// the revision rolled back to; when the template is already that
// revision's, it changes nothing.
//
// Like "kubectl rollout undo", it refuses a paused Deployment, whose
// controller would not roll out the restored template until resumed.
//
// Errors: IsBadRequest for a negative toRevision or a paused Deployment;
// IsNotFound for the Deployment or for a revision that is not in its
// history (pruned by revisionHistoryLimit, or no previous one); errors of
// Get, List and Update. Conflicting updates are retried.
func Rollback(ctx context.Context, c Client, namespace, name string, toRevision int64) (int64, error) {
	if toRevision < 0 {
		return 0, api.NewBadRequest(fmt.Sprintf("rollback: toRevision must be 0 (the previous revision) or a revision number, got %d", toRevision))
	}
	for {
		var d Deployment
		if err := c.Get(ctx, ObjectKey{Namespace: namespace, Name: name}, &d); err != nil {
			return 0, err
		}
		if d.Spec.Paused {
			return 0, api.NewBadRequest(fmt.Sprintf("rollback: deployment %s/%s is paused; resume it (spec.paused: false) before rolling back", namespace, name))
		}
		rss, err := revisionsOf(ctx, c, &d)
		if err != nil {
			return 0, err
		}
		hash := controllerutil.PodTemplateHash(&d.Spec.Template, d.Status.CollisionCount)
		var target *ReplicaSet
		if toRevision > 0 {
			target = rollout.FindRevision(rss, toRevision)
		} else {
			current := rollout.MaxRevision(rss)
			for _, rs := range rss {
				if rs.Labels[api.PodTemplateHashLabel] == hash {
					current, _ = rollout.Revision(rs)
				}
			}
			target = rollout.PreviousRevision(rss, current)
		}
		if target == nil {
			what := "a previous revision"
			if toRevision > 0 {
				what = fmt.Sprintf("revision %d", toRevision)
			}
			return 0, api.NewNotFound("revision", fmt.Sprintf("deployment %s/%s has no %s", namespace, name, what))
		}
		rev, _ := rollout.Revision(target)
		if target.Labels[api.PodTemplateHashLabel] == hash {
			return rev, nil
		}
		tmpl := api.Clone(target.Spec.Template)
		tmpl.Labels = maps.Clone(tmpl.Labels)
		delete(tmpl.Labels, api.PodTemplateHashLabel)
		d.Spec.Template = tmpl
		err = c.Update(ctx, &d)
		if api.IsConflict(err) {
			continue
		}
		if err != nil {
			return 0, err
		}
		return rev, nil
	}
}

// RolloutStatus follows the rollout of the Deployment namespace/name, like
// "kubectl rollout status": it calls progress (if not nil) with each new
// message ("Waiting for deployment "web" rollout to finish: 2 of 5
// updated replicas are available...") and returns nil once the rollout is
// complete, an error wrapping ErrProgressDeadlineExceeded once it failed,
// or ctx's error when ctx ends first. It watches the Deployment, so it
// sees every status change; progress is called on the caller's goroutine.
//
// Errors: also those of Get and Watch (IsNotFound when the Deployment is
// missing or deleted meanwhile).
func RolloutStatus(ctx context.Context, c Client, namespace, name string, progress func(msg string)) error {
	last := ""
	check := func(d *Deployment) (bool, error) {
		msg, done, err := rollout.Status(d)
		if err != nil {
			return true, err
		}
		if msg != last && progress != nil {
			progress(msg)
		}
		last = msg
		return done, nil
	}
	for {
		var d Deployment
		if err := c.Get(ctx, ObjectKey{Namespace: namespace, Name: name}, &d); err != nil {
			return err
		}
		if end, err := check(&d); end || err != nil {
			return err
		}
		w, err := c.Watch(ctx, &DeploymentList{}, InNamespace(namespace), FromResourceVersion(d.ResourceVersion))
		if err != nil {
			if api.IsTooOld(err) {
				continue
			}
			return err
		}
		end, err := func() (bool, error) {
			defer w.Stop()
			for ev := range w.Events() {
				dep, ok := ev.Object.(*Deployment)
				if !ok || dep.Name != name {
					continue
				}
				if ev.Type == Deleted {
					return true, api.NewNotFound("deployments", name)
				}
				if end, err := check(dep); end || err != nil {
					return true, err
				}
			}
			return false, nil
		}()
		if end || err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// The watch ended (history compacted, leader change): look again.
	}
}
