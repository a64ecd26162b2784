package client

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// maxFieldManager is Kubernetes' limit on a field manager's length.
const maxFieldManager = 128

// CheckFieldManager refuses a field manager Kubernetes would refuse. Every
// implementation checks it before writing, so that the local and the
// remote client refuse it alike.
//
// Errors: BadRequest naming fieldManager, for more than 128 characters
// or one that is not printable.
func CheckFieldManager(m string) error {
	if len(m) > maxFieldManager {
		return api.NewBadRequest(fmt.Sprintf("fieldManager: must be at most %d characters, have %d", maxFieldManager, len(m)))
	}
	for _, r := range m {
		if !unicode.IsPrint(r) {
			return api.NewBadRequest(fmt.Sprintf("fieldManager: invalid character %q: only printable characters are allowed", r))
		}
	}
	return nil
}

// CheckListOptions refuses what Kubernetes refuses in a list or watch of
// info's kind: a namespace that is no namespace name, a label selector
// with a key or value no label may have. Every implementation checks it
// first, so that the local and the remote client refuse it alike.
//
// Errors: BadRequest naming the namespace or the label key or value.
func CheckListOptions(info api.KindInfo, o ListOptions) error {
	if o.Namespace != "" && info.Namespaced {
		if msgs := api.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
			return api.NewBadRequest(fmt.Sprintf("invalid namespace %q: %s", o.Namespace, strings.Join(msgs, "; ")))
		}
	}
	for _, req := range o.Labels.Requirements() {
		if msgs := api.IsQualifiedName(req.Key); len(msgs) > 0 {
			return api.NewBadRequest(fmt.Sprintf("invalid label selector: invalid label key %q: %s", req.Key, strings.Join(msgs, "; ")))
		}
		for _, v := range req.Values {
			if msgs := api.IsValidLabelValue(v); len(msgs) > 0 {
				return api.NewBadRequest(fmt.Sprintf("invalid label selector: invalid value %q for label key %q: %s", v, req.Key, strings.Join(msgs, "; ")))
			}
		}
	}
	return nil
}
