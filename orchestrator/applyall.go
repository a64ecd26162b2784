package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// ApplyAllError is the error of Client.ApplyAll: the documents that
// failed, and whether anything was stored.
type ApplyAllError struct {
	// Failed lists the failing documents in file order, each with Err
	// set (a *DocumentError naming its number, line, kind and name) and
	// Object nil. When Validated is true it holds the one document whose
	// write failed.
	Failed []Document
	// Validated is false when the manifest failed the checks, so nothing
	// was stored; true when every object passed them and a write failed
	// afterwards.
	Validated bool
	// Applied is how many objects were stored before the failure (0 when
	// Validated is false); they are the first Applied objects of the
	// manifest.
	Applied int
	// Total is the number of objects in the manifest.
	Total int
}

// Error lists every failing document, one per line after a summary:
//
//	nothing applied: 2 of 5 objects failed the checks
//	document 2 (line 6): Deployment "web" is invalid: spec.replicas: ...
//	document 4 (line 20, Pod "p"): Namespace "shop" not found
//
// or, when a write failed after the checks passed, says how far it got.
func (e *ApplyAllError) Error() string {
	var b strings.Builder
	if !e.Validated {
		fmt.Fprintf(&b, "nothing applied: %d of %d objects failed the checks", len(e.Failed), e.Total)
		for _, d := range e.Failed {
			b.WriteString("\n")
			b.WriteString(errString(d.Err))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "applied %d of %d objects, then ", e.Applied, e.Total)
	for i, d := range e.Failed {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(errString(d.Err))
	}
	switch rest := e.Total - e.Applied - len(e.Failed); {
	case rest == 1:
		b.WriteString("; the object after it was not applied")
	case rest > 1:
		fmt.Fprintf(&b, "; the %d objects after it were not applied", rest)
	}
	b.WriteString(" (Apply is idempotent: apply the manifest again to finish)")
	return b.String()
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// Unwrap returns the error of each failing document.
func (e *ApplyAllError) Unwrap() []error {
	errs := make([]error, 0, len(e.Failed))
	for _, d := range e.Failed {
		errs = append(errs, d.Err)
	}
	return errs
}

// applyAll is Client.ApplyAll for any Client: it needs only Apply, so a
// remote Client shares it.
func applyAll(ctx context.Context, c Client, manifest []byte, opts []ApplyOption) ([]Object, error) {
	docs, err := api.DecodeDocuments(manifest)
	if len(docs) == 0 {
		if api.IsRequestEntityTooLarge(err) {
			return nil, err // over the decoders' limits: refused whole
		}
		return nil, api.NewBadRequest("ApplyAll: the manifest holds no object")
	}
	dryRunOnly := writeOpts(opts, ApplyOption.ApplyToApply).DryRun
	dry := append(slices.Clip(opts), DryRunAll)

	// Where the manifest creates each Namespace: its first document.
	createdAt := map[string]int{}
	for _, d := range docs {
		if ns, ok := d.Object.(*Namespace); ok && d.Err == nil {
			if _, seen := createdAt[ns.Name]; !seen {
				createdAt[ns.Name] = d.Index
			}
		}
	}

	var failed []Document
	for _, d := range docs {
		if d.Err != nil {
			failed = append(failed, failedDocument(d, nil))
			continue
		}
		obj := d.Object
		if !dryRunOnly {
			obj = obj.DeepCopyObject()
		}
		err := c.Apply(ctx, obj, dry...)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ApplyAll: checking document %d: %w", d.Index, ctx.Err())
		}
		if ns := obj.GetNamespace(); ns != "" && namespaceNotFound(err, ns) {
			if at, ok := createdAt[ns]; ok {
				if at < d.Index {
					continue // the Namespace exists by the time this object is applied
				}
				err = fmt.Errorf("%w (document %d creates it: put that document before this one)", err, at)
			}
		}
		failed = append(failed, failedDocument(d, err))
	}
	if len(failed) > 0 {
		return nil, &ApplyAllError{Failed: failed, Total: len(docs)}
	}

	objs := make([]Object, len(docs))
	for i, d := range docs {
		objs[i] = d.Object
	}
	if dryRunOnly {
		return objs, nil
	}
	for i, d := range docs {
		if err := c.Apply(ctx, d.Object, opts...); err != nil {
			return objs[:i], &ApplyAllError{Failed: []Document{failedDocument(d, err)}, Validated: true, Applied: i, Total: len(docs)}
		}
	}
	return objs, nil
}

// namespaceNotFound reports whether err says the Namespace ns does not
// exist: the registry names the kind ("Namespace"), the HTTPS API, as
// Kubernetes, the core group's resource ("namespaces").
func namespaceNotFound(err error, ns string) bool {
	return errors.Is(err, api.NewNotFound("Namespace", ns)) || errors.Is(err, api.NewNotFound("namespaces", ns))
}

// failedDocument returns d failed with err (or with its own Err when err
// is nil), Object cleared.
func failedDocument(d Document, err error) Document {
	if err != nil {
		d.Err = &DocumentError{Index: d.Index, Line: d.Line, Kind: d.Kind, Name: d.Name, Err: err}
	}
	d.Object = nil
	return d
}
