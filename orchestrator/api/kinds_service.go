// Code written for each kind; keep in step with the registry in scheme.go.
package api

import "fmt"

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Service) DeepCopy() *Service {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Service) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *ServiceList) DeepCopy() *ServiceList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *ServiceList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *ServiceList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Service.
func (l *ServiceList) SetItems(items []Object) error {
	out := make([]Service, len(items))
	for i, it := range items {
		o, ok := it.(*Service)
		if !ok || o == nil {
			return fmt.Errorf("api: ServiceList.SetItems: item %d is %T, want *Service", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *EndpointSlice) DeepCopy() *EndpointSlice {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *EndpointSlice) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *EndpointSliceList) DeepCopy() *EndpointSliceList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *EndpointSliceList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *EndpointSliceList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *EndpointSlice.
func (l *EndpointSliceList) SetItems(items []Object) error {
	out := make([]EndpointSlice, len(items))
	for i, it := range items {
		o, ok := it.(*EndpointSlice)
		if !ok || o == nil {
			return fmt.Errorf("api: EndpointSliceList.SetItems: item %d is %T, want *EndpointSlice", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}
