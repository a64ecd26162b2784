package registry

import (
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/raftstore"
)

// Unreadable is a stored object that a List, ListObjects or Scan left out
// because it could not be read: its value does not decrypt (Err wraps
// raftstore.ErrDecrypt) or is not the JSON of its kind (an InternalError).
// The rest of the list is served: one bad value (corruption, a bug, an
// object written by an older version) must not stop every reader of its
// kind. Get of the object still returns the error.
type Unreadable struct {
	// Kind is the kind listed.
	Kind api.KindInfo
	// Key is the store key; Namespace and Name are read from it
	// (Namespace is empty for a cluster-scoped kind).
	Key       string
	Namespace string
	Name      string
	Err       error
}

// unreadable reports an object a read skipped to Config.OnUnreadable.
func (r *Registry) unreadable(info api.KindInfo, key string, err error) {
	if r.onUnreadable == nil {
		return
	}
	u := Unreadable{Kind: info, Key: key, Err: err}
	rest := strings.TrimPrefix(key, KeyPrefix(info, ""))
	if ns, name, ok := strings.Cut(rest, "/"); ok && info.Namespaced {
		u.Namespace, u.Name = ns, name
	} else {
		u.Name = rest
	}
	r.onUnreadable(u)
}

// skipUnreadable is the store's read option that leaves out, and
// reports, values of info's kind that do not decrypt.
func (r *Registry) skipUnreadable(info api.KindInfo) raftstore.ReadOption {
	return raftstore.SkipUnreadable(func(key string, err error) { r.unreadable(info, key, err) })
}
