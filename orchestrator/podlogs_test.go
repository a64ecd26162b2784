package orchestrator_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// pods/log through any node's API: the Pod's own node reads its runtime,
// another node forwards over the cluster port; tailLines, limitBytes,
// follow and the errors.
func TestPodLogsAcrossNodes(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 2, orchestratortest.WithAPI(),
		orchestratortest.WithFakeRuntime(func(i int, cfg *fake.Config) {
			cfg.ImageBehaviors = map[string]fake.Behavior{"logger:1": {Logs: []string{"one", "two", "three"}}}
		}))
	ctx := context.Background()
	cl := tc.Client()
	for i := range 2 {
		p := &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: "p" + tc.NodeName(i), Namespace: "default"},
			Spec: orchestrator.PodSpec{NodeName: tc.NodeName(i), Containers: []orchestrator.Container{{Name: "app", Image: "logger:1"}}}}
		if err := cl.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	two := &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: "two", Namespace: "default"},
		Spec: orchestrator.PodSpec{NodeName: tc.NodeName(1), Containers: []orchestrator.Container{{Name: "a", Image: "logger:1"}, {Name: "b", Image: "logger:1"}}}}
	if err := cl.Create(ctx, two); err != nil {
		t.Fatal(err)
	}
	kc := readKubeconfig(t, tc.Kubeconfig(t))
	admin := httpsClient(t, kc.Clusters[0].Cluster.CA, kc.Users[0].User.Cert, kc.Users[0].User.Key)
	logURL := func(via int, pod, query string) string {
		return "https://" + tc.APIAddr(via) + "/api/v1/namespaces/default/pods/" + pod + "/log" + query
	}
	for via := range 2 {
		for on := range 2 {
			url := logURL(via, "p"+tc.NodeName(on), "")
			var code int
			var body string
			eventually(t, "the log of a Pod on "+tc.NodeName(on)+" through "+tc.NodeName(via), func() bool {
				code, body = get(t, admin, url, "")
				return code == 200 && body == "one\ntwo\nthree\n"
			})
		}
	}
	remote := "p" + tc.NodeName(1)
	for _, c := range []struct{ query, want string }{
		{"?tailLines=1", "three\n"},
		{"?limitBytes=5", "one\nt"},
		{"?tailLines=0", ""},
		{"?timestamps=true&tailLines=1", " three\n"},
	} {
		code, body := get(t, admin, logURL(0, remote, c.query), "")
		if code != 200 || !strings.HasSuffix(body, c.want) || c.want == "" && body != "" {
			t.Errorf("log%s: %d %q; want %q", c.query, code, body, c.want)
		}
	}
	for _, c := range []struct {
		pod, query string
		code       int
		text       string
	}{
		{"two", "", 400, "a container name must be specified for pod two"},
		{"two", "?container=c", 400, "container c is not valid for pod two"},
		{"two", "?container=b", 200, "one\ntwo\nthree\n"},
		{remote, "?previous=true", 404, "no previous instance"},
	} {
		code, body := get(t, admin, logURL(0, c.pod, c.query), "")
		if code != c.code || !strings.Contains(body, c.text) {
			t.Errorf("log of %s%s: %d %s; want %d %q", c.pod, c.query, code, body, c.code, c.text)
		}
	}

	// Follow a Pod of node-1 through node-0 (forwarded) and through
	// node-1 (local): new lines arrive as written; the client leaving ends
	// the stream on both nodes (goleak checks).
	list, err := tc.Runtime(1).ListContainers(ctx, &runtime.ContainerFilter{Labels: map[string]string{runtime.LabelPodName: remote}})
	if err != nil || len(list) != 1 {
		t.Fatalf("the container of %s: %v %v", remote, list, err)
	}
	for via, line := range []string{"four", "five"} {
		follow(t, admin, logURL(via, remote, "?follow=true&tailLines=1"), func() {
			if err := tc.Runtime(1).WriteLog(list[0].ID, false, line); err != nil {
				t.Fatal(err)
			}
		}, line)
	}
}

// follow reads url's followed log: its first line must be the last one
// written so far, then write() adds want, which must arrive next.
func follow(t *testing.T, c *http.Client, url string, write func(), want string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l := <-lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no followed line within 10s", url)
			return ""
		}
	}
	first := next()
	write()
	if got := next(); got != want {
		t.Fatalf("%s: followed %q after %q; want %q", url, got, first, want)
	}
}
