//go:build integration

package resilience

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// dashboardState is what the dashboard page shows: its poll count and
// errors, each node's health as the page's script holds it, and as the
// map's markers and the node table's rows carry it (data-health).
type dashboardState struct {
	Polls  int               `json:"polls"`
	Errors []string          `json:"errors"`
	Nodes  map[string]string `json:"nodes"`
	Map    map[string]string `json:"map"`
	Table  map[string]string `json:"table"`
}

const dashboardStateJS = `JSON.stringify({
  polls: window.dctDashboard ? dctDashboard.polls : 0,
  errors: window.dctDashboard ? dctDashboard.errors : ["no dashboard state"],
  nodes: window.dctDashboard ? dctDashboard.nodes : {},
  map: Object.fromEntries([...document.querySelectorAll("#map g.node")].map(g => [g.dataset.nodeId, g.dataset.health])),
  table: Object.fromEntries([...document.querySelectorAll("#nodes tbody tr")].map(r => [r.dataset.nodeId, r.dataset.health]))
})`

// TestDashboardInBrowser opens gateway 0's dashboard in headless Chromium:
// the page loads without a console error, shows every registered node of
// the network on its map and in its table, and an agent killed during the
// test turns "failed" there (map marker and table row) once the gateway's
// mesh declares it failed. A screenshot of the page with the failed node
// is written to $DCT_DASHBOARD_SCREENSHOT (the README's
// docs/dashboard.png), else to the test's temporary directory.
func TestDashboardInBrowser(t *testing.T) {
	gw := env.Gateways[0]
	b := newBrowser(t)
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1440, 1500), chromedp.Navigate(gw.URL+"/dashboard/")); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	read := func() dashboardState {
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](dashboardStateJS))
		if err != nil {
			t.Fatalf("read the dashboard's state: %v", err)
		}
		var st dashboardState
		if err := json.Unmarshal([]byte(s), &st); err != nil {
			t.Fatalf("dashboard state %s: %v", s, err)
		}
		return st
	}
	var st dashboardState
	waitFor(t, time.Minute, "the dashboard shows every registered node", func() bool {
		st = read()
		if st.Polls == 0 {
			return false
		}
		for _, a := range env.Agents {
			if st.Map[a.NodeID] == "" || st.Table[a.NodeID] == "" {
				return false
			}
		}
		return true
	})
	// A victim the page shows alive.
	var victim string
	waitFor(t, time.Minute, "an agent shown alive", func() bool {
		st = read()
		for _, a := range env.Agents {
			if st.Nodes[a.NodeID] == "alive" && st.Map[a.NodeID] == "alive" {
				victim = a.NodeID
				return true
			}
		}
		return false
	})
	name := ""
	for _, a := range env.Agents {
		if a.NodeID == victim {
			name = a.Name
		}
	}
	restartAfter(t, name)
	if err := env.KillService(ctxFor(t, 30*time.Second), name); err != nil {
		t.Fatalf("kill %s: %v", name, err)
	}
	took := waitFor(t, 90*time.Second, victim+" shown failed", func() bool {
		st = read()
		return st.Nodes[victim] == "failed" && st.Map[victim] == "failed" && st.Table[victim] == "failed"
	})
	t.Logf("%s killed; the dashboard showed it failed %s later (%d polls)", victim, took.Round(100*time.Millisecond), st.Polls)
	// The picture shows the failed node.
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := os.Getenv("DCT_DASHBOARD_SCREENSHOT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "dashboard.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatalf("write the screenshot: %v", err)
	}
	t.Logf("screenshot (%d bytes) written to %s", len(png), out)
	if len(st.Errors) > 0 {
		t.Errorf("the page's polls failed: %v", st.Errors)
	}
	var bad []string
	for _, m := range b.messages() {
		if strings.HasPrefix(m, "error:") || strings.HasPrefix(m, "exception:") {
			bad = append(bad, m)
		}
	}
	if len(bad) > 0 {
		t.Errorf("console errors: %v", bad)
	}
}
