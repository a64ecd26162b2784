package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.uber.org/zap"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

// BenchmarkListPods10000 is one LIST of 10,000 Pods (10 namespaces of
// 1,000) through the handler as JSON: the server's time, without a
// network in between.
func BenchmarkListPods10000(b *testing.B) {
	reg := testutil.Registry(b)
	srv, err := New(Config{Client: reg, Authenticator: headerAuth{}, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const namespaces, perNamespace = 10, 1000
	var wg sync.WaitGroup
	errs := make(chan error, namespaces)
	for n := range namespaces {
		ns := fmt.Sprintf("ns%d", n)
		if err := reg.Create(ctx, &api.Namespace{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: api.ObjectMeta{Name: ns}}, client.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perNamespace {
				p := &api.Pod{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Pod"},
					ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("pod-%04d", i), Namespace: ns, Labels: map[string]string{"app": "bench"}},
					Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox"}}}}
				if err := reg.Create(ctx, p, client.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/pods?resourceVersion=0", nil)
	req.Header.Set("X-Test-User", "bench")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("code %d: %s", rec.Code, rec.Body.String())
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}
