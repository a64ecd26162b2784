package clientgo

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// tableAccept is what kubectl get sends to ask for a server-side table.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

// TestServerSideTable asks for Deployments and Pods as meta.k8s.io/v1
// Tables through the REST client, from the leader and from a follower.
func TestServerSideTable(t *testing.T) {
	c := newCluster(t, 2)
	ctx := ctxFor(t, time.Minute)
	setup := c.clientset(0)
	createNamespace(t, setup, "tables")
	if _, err := setup.AppsV1().Deployments("tables").Create(ctx, testDeployment("tables", "web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "2 available replicas", func() (bool, error) {
		d, err := setup.AppsV1().Deployments("tables").Get(ctx, "web", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 2, err
	})

	for _, s := range c.servers() {
		t.Run(s.name, func(t *testing.T) {
			cs := c.clientset(s.node)
			raw, err := cs.AppsV1().RESTClient().Get().Namespace("tables").Resource("deployments").
				SetHeader("Accept", tableAccept).Do(ctx).Raw()
			if err != nil {
				t.Fatalf("deployments as a table: %v", err)
			}
			tab := decodeTable(t, raw)
			wantColumns(t, tab, "Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector")
			if len(tab.Rows) != 1 || tab.Rows[0].Cells[0] != "web" || tab.Rows[0].Cells[1] != "2/2" {
				t.Errorf("deployment rows: %+v", tab.Rows)
			}
			if tab.Rows[0].Object.Raw == nil {
				t.Error("the row has no object (includeObject defaults to Metadata)")
			}

			raw, err = cs.CoreV1().RESTClient().Get().Namespace("tables").Resource("pods").
				Param("labelSelector", "app=web").SetHeader("Accept", tableAccept).Do(ctx).Raw()
			if err != nil {
				t.Fatalf("pods as a table: %v", err)
			}
			tab = decodeTable(t, raw)
			wantColumns(t, tab, "Name", "Ready", "Status", "Restarts", "Age", "IP", "Node")
			if len(tab.Rows) != 2 {
				t.Fatalf("pod rows: %+v", tab.Rows)
			}
			for _, r := range tab.Rows {
				if r.Cells[1] != "1/1" || r.Cells[2] != "Running" {
					t.Errorf("pod row %v: want 1/1 Running", r.Cells)
				}
			}
		})
	}
}

func decodeTable(t *testing.T, raw []byte) *metav1.Table {
	t.Helper()
	var tab metav1.Table
	if err := json.Unmarshal(raw, &tab); err != nil {
		t.Fatalf("decode the table: %v\n%s", err, raw)
	}
	if tab.Kind != "Table" || tab.APIVersion != "meta.k8s.io/v1" {
		t.Fatalf("answer is %s %s, want meta.k8s.io/v1 Table:\n%.500s", tab.APIVersion, tab.Kind, raw)
	}
	return &tab
}

func wantColumns(t *testing.T, tab *metav1.Table, names ...string) {
	t.Helper()
	var got []string
	for _, c := range tab.ColumnDefinitions {
		got = append(got, c.Name)
	}
	if len(got) < len(names) {
		t.Fatalf("columns %v, want %v", got, names)
	}
	for i, n := range names {
		if got[i] != n {
			t.Errorf("columns %v, want %v", got, names)
			return
		}
	}
}
