package api

import (
	"sync"
	"testing"
)

// The package holds no mutable state: decoding, encoding and copying
// may run concurrently (run with -race).
func TestConcurrentUse(t *testing.T) {
	data := readTestdata(t, "web.yaml")
	shared := newTestDeployment()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				objs, err := DecodeAll(data)
				if err != nil {
					t.Error(err)
					return
				}
				for _, o := range objs {
					if _, err := EncodeJSON(o); err != nil {
						t.Error(err)
					}
				}
				c := shared.DeepCopy()
				c.Spec.Replicas = Ptr(int32(j))
				_, _ = EncodeYAML(shared)
				_, _ = EncodeJSON(c)
			}
		}()
	}
	wg.Wait()
}
