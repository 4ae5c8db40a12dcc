package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
)

// dashboardFake is a gateway's dashboard data with nodes whose health the
// test changes.
type dashboardFake struct {
	mu     sync.Mutex
	health map[string]string
	calls  int
}

func fakeDashboard(health map[string]string) *dashboardFake {
	if health == nil {
		health = map[string]string{"n1": "alive"}
	}
	return &dashboardFake{health: health}
}

func (d *dashboardFake) set(node, h string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.health[node] = h
}

// view answers like the gateway's: nodes at Swiss coordinates, RTTs, two
// organisations, request totals that grow, a repair and ledger events.
func (d *dashboardFake) view(context.Context) api.DashboardView {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	v := api.DashboardView{Gateway: api.DashboardGateway{Name: "gateway-0", MSPID: "Org1MSP", Mesh: true}, At: time.Now().UTC(),
		Requests: api.DashboardRequests{Requests: int64(100 * d.calls), LatencyNanos: int64(d.calls) * 100 * int64(2*time.Millisecond), SentBytes: int64(d.calls) << 20},
		Fetch:    api.DashboardFetch{Reads: 10, Launched: 42, Hedges: 2, HedgeDelayM: 12.5},
		Repairs: api.DashboardRepairs{Count: 1, Recent: []api.DashboardRepair{{Name: "site/a.js", Version: "v1", Shard: 2,
			Lost: []string{"n2"}, NewHolder: "n3", TxID: "tx1"}}},
		Gateways: []api.DashboardMember{{Name: "gateway-1", Health: "alive", RTTMs: ptr(1.5)}},
		Events: []api.DashboardEvent{{At: time.Now().UTC(), Block: 12, Kind: "manifest", Detail: "record site/a.js@v1", TxID: "tx0"},
			{At: time.Now().UTC(), Kind: "batch", Detail: "batch b1 proved: 2 payouts, 30 tokens", TxID: "tx2"}},
		Block: 12, Live: map[string]bool{"manifest": true, "sla": true, "auction": true},
		Orgs: []api.DashboardOrg{{MSPID: "Org1MSP", Nodes: 2}, {MSPID: "Org2MSP", Nodes: 1, Payouts: 2, PayoutAmount: 30}},
	}
	ids := make([]string, 0, len(d.health))
	for id := range d.health {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		score := int64(10000 - 3000*i)
		v.Nodes = append(v.Nodes, api.DashboardNode{ID: id, Org: []string{"Org1MSP", "Org2MSP"}[i%2], Zone: "z", Latitude: 46 + 0.5*float64(i),
			Longitude: 6 + float64(i), Active: true, Health: d.health[id], RTTMs: ptr(float64(2 + 3*i)), SLAScore: &score, SLAState: "good",
			Fetches: int64(10 * i), DeliveredBytes: int64(i) << 20, Receipts: int64(i)})
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// TestDashboardInBrowser (the page against a fake gateway view) runs the
// dashboard in headless Chromium: it loads with no console error, shows
// every node on the map and in the table, and a node the view turns
// failed turns failed on the page. test/resilience's TestDashboardInBrowser
// does the same against a running network, killing an agent.
func TestDashboardInBrowser(t *testing.T) {
	ctx := headlessChromium(t)
	d := fakeDashboard(map[string]string{"n1": "alive", "n2": "alive", "n3": "suspect"})
	f := newFixtureWith(t, fixtureOptions{api: func(c *httpapi.Config) { c.Dashboard = d.view }})
	var mu sync.Mutex
	var console []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1400), chromedp.Navigate(f.srv.URL+api.DashboardPath)); err != nil {
		t.Fatal(err)
	}
	type pageState struct {
		Polls int               `json:"polls"`
		Map   map[string]string `json:"map"`
		Table map[string]string `json:"table"`
	}
	read := func() pageState {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({polls: window.dctDashboard ? dctDashboard.polls : 0,
  map: Object.fromEntries([...document.querySelectorAll("#map g.node")].map(g => [g.dataset.nodeId, g.dataset.health])),
  table: Object.fromEntries([...document.querySelectorAll("#nodes tbody tr")].map(r => [r.dataset.nodeId, r.dataset.health]))})`))
		if err != nil {
			t.Fatal(err)
		}
		var st pageState
		if err := json.Unmarshal([]byte(s), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	wait := func(what string, cond func(pageState) bool) pageState {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			st := read()
			if cond(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: page state %+v", what, st)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("every node shown", func(st pageState) bool {
		return st.Polls >= 2 && st.Map["n1"] == "alive" && st.Map["n2"] == "alive" && st.Map["n3"] == "suspect" && len(st.Table) == 3
	})
	d.set("n2", "failed")
	wait("n2 failed on the map and in the table", func(st pageState) bool { return st.Map["n2"] == "failed" && st.Table["n2"] == "failed" })
	if out := os.Getenv("DCT_DASHBOARD_UNIT_SCREENSHOT"); out != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range console {
		if strings.HasPrefix(m, "error:") || strings.HasPrefix(m, "exception:") {
			t.Errorf("console: %s", m)
		}
	}
	if a := f.do(t, http.MethodGet, api.DashboardDataPath, nil, nil); a.status != 200 {
		t.Errorf("data: %d", a.status)
	}
}
