package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b), w.Header()
}

// TestOpsHandler: /metrics serves the registry in the text format,
// /healthz and /readyz answer the JSON status (503 naming the failed
// check), anything else a JSON 404.
func TestOpsHandler(t *testing.T) {
	reg := metrics.NewRegistry()
	g := metrics.NewGateway(reg)
	g.Request("/v1/objects", http.MethodGet, 200, time.Millisecond, 0, 10)
	var notReady error = errors.New("ledger unreachable")
	h := metrics.OpsHandler(metrics.OpsConfig{Component: "gateway", Gatherer: reg,
		Health: map[string]metrics.Check{"process": func(context.Context) error { return nil }},
		Ready:  map[string]metrics.Check{"ledger": func(context.Context) error { return notReady }},
	})
	code, body, hd := get(t, h, "/metrics")
	if code != 200 || !strings.Contains(body, `dct_gateway_requests_total{code="200",method="GET",route="/v1/objects"} 1`) ||
		!strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_") {
		t.Fatalf("/metrics: %d %s\n%s", code, hd.Get("Content-Type"), body)
	}
	tests := []struct {
		path   string
		code   int
		status string
		failed string
	}{
		{"/healthz", 200, metrics.StatusOK, ""},
		{"/readyz", 503, metrics.StatusUnavailable, "ledger"},
	}
	for _, tc := range tests {
		code, body, hd := get(t, h, tc.path)
		var st metrics.Status
		if err := json.Unmarshal([]byte(body), &st); err != nil || code != tc.code || st.Status != tc.status ||
			st.Component != "gateway" || hd.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s (%v)", tc.path, code, body, err)
		}
		if tc.failed != "" && (len(st.FailedChecks) != 1 || st.FailedChecks[0].Component != tc.failed || st.FailedChecks[0].Reason != notReady.Error()) {
			t.Errorf("%s: failed checks %+v", tc.path, st.FailedChecks)
		}
	}
	notReady = nil
	if code, body, _ := get(t, h, "/readyz"); code != 200 {
		t.Errorf("/readyz once ready: %d %s", code, body)
	}
	if code, body, _ := get(t, h, "/nope"); code != 404 || !strings.Contains(body, `"not_found"`) {
		t.Errorf("/nope: %d %s", code, body)
	}
}

// TestGatewayInstruments: each hook moves its series.
func TestGatewayInstruments(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := metrics.NewGateway(reg)
	g.Request("", "BREW", 404, time.Millisecond, 0, 50)
	g.Request("/v1/objects/*name", http.MethodPut, 201, time.Second, 1000, 80)
	g.ServeWarm(false, false, 50*time.Microsecond, 700)
	g.ServeWarm(true, false, 50*time.Microsecond, 0)
	g.ServeWarm(false, true, 50*time.Microsecond, 0)
	g.CacheMiss()
	g.ShardFetch("n1", 3*time.Millisecond, nil)
	g.ShardFetch("n1", 0, errors.New("gone"))
	g.HedgeLaunched()
	g.HedgeLaunched()
	g.HedgeWon()
	g.Published(time.Second, nil)
	g.Published(0, errors.New("no"))
	g.Repair("ok")
	g.ReceiptsIssued(3)
	g.ReceiptsCommitted(2)
	g.Batch("committed")
	g.Auction("awarded")
	g.LedgerEvent("manifest")
	g.Payout("Org2MSP", 40)
	tests := []struct {
		c    prometheus.Collector
		want float64
	}{
		{mustCounter(t, reg, "dct_gateway_requests_total", map[string]string{"route": metrics.UnmatchedRoute, "method": "OTHER", "code": "404"}), 1},
		{mustCounter(t, reg, "dct_gateway_requests_total", map[string]string{"route": metrics.ServeRoute, "method": "GET", "code": "200"}), 1},
		{mustCounter(t, reg, "dct_gateway_requests_total", map[string]string{"route": metrics.ServeRoute, "method": "HEAD", "code": "200"}), 1},
		{mustCounter(t, reg, "dct_gateway_requests_total", map[string]string{"route": metrics.ServeRoute, "method": "GET", "code": "304"}), 1},
		{mustCounter(t, reg, "dct_gateway_cache_requests_total", map[string]string{"result": "hit"}), 3},
		{mustCounter(t, reg, "dct_gateway_cache_requests_total", map[string]string{"result": "miss"}), 1},
		{mustCounter(t, reg, "dct_gateway_sent_bytes_total", nil), 830},
		{mustCounter(t, reg, "dct_gateway_received_bytes_total", nil), 1000},
		{mustCounter(t, reg, "dct_gateway_shard_fetch_failures_total", map[string]string{"node": "n1"}), 1},
		{mustCounter(t, reg, "dct_gateway_hedges_total", map[string]string{"outcome": "launched"}), 2},
		{mustCounter(t, reg, "dct_gateway_hedges_total", map[string]string{"outcome": "won"}), 1},
		{mustCounter(t, reg, "dct_gateway_publishes_total", map[string]string{"result": "error"}), 1},
		{mustCounter(t, reg, "dct_gateway_repairs_total", map[string]string{"result": "ok"}), 1},
		{mustCounter(t, reg, "dct_gateway_receipts_total", map[string]string{"stage": "issued"}), 3},
		{mustCounter(t, reg, "dct_gateway_receipts_total", map[string]string{"stage": "committed"}), 2},
		{mustCounter(t, reg, "dct_gateway_batches_total", map[string]string{"result": "committed"}), 1},
		{mustCounter(t, reg, "dct_gateway_auctions_total", map[string]string{"result": "awarded"}), 1},
		{mustCounter(t, reg, "dct_gateway_ledger_events_total", map[string]string{"event": "manifest"}), 1},
		{mustCounter(t, reg, "dct_gateway_payout_tokens_total", map[string]string{"payee": "Org2MSP"}), 40},
	}
	for i, tc := range tests {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("case %d: %v, want %v", i, got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(reg, "dct_gateway_shard_fetch_duration_seconds"); n != 1 {
		t.Errorf("shard fetch histogram series: %d", n)
	}
	tot := g.Totals()
	if tot.Requests != 5 || tot.SentBytes != 830 || tot.Errors != 0 {
		t.Errorf("totals %+v", tot)
	}
	var nilG *metrics.Gateway
	nilG.Request("/x", "GET", 200, 0, 0, 0) // a nil Gateway records nothing and does not panic
	nilG.ServeWarm(false, false, 0, 1)
}

// mustCounter finds one series of a family in reg by its labels.
func mustCounter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) prometheus.Collector {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			v := m.GetCounter().GetValue()
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "value"}, func() float64 { return v })
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return nil
}

// TestGaugesAndSLA: scrape-time gauges report what their source says, the
// mesh gauge reports every state (0 included), and the SLA ledger wrapper
// counts its transactions by result.
func TestGaugesAndSLA(t *testing.T) {
	reg := prometheus.NewRegistry()
	members := []mesh.Member{{Name: "a1", Role: mesh.RoleAgent, Status: mesh.StatusAlive},
		{Name: "a2", Role: mesh.RoleAgent, Status: mesh.StatusFailed}, {Name: "g", Role: mesh.RoleGateway, Status: mesh.StatusAlive}}
	metrics.RegisterMesh(reg, "gateway", func() []mesh.Member { return members })
	metrics.RegisterGaugeFunc(reg, "gateway", "things", "test", []string{"kind"}, func(e metrics.Emit) { e(7, "x") })
	want := `
# HELP dct_gateway_things test
# TYPE dct_gateway_things gauge
dct_gateway_things{kind="x"} 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "dct_gateway_things"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "dct_gateway_mesh_members"); n != 8 {
		t.Errorf("mesh series %d, want 8 (2 roles x 4 states)", n)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP dct_gateway_mesh_members Gossip mesh members this process sees, by role and state.
# TYPE dct_gateway_mesh_members gauge
dct_gateway_mesh_members{role="agent",state="alive"} 1
dct_gateway_mesh_members{role="agent",state="failed"} 1
dct_gateway_mesh_members{role="agent",state="left"} 0
dct_gateway_mesh_members{role="agent",state="suspect"} 0
dct_gateway_mesh_members{role="gateway",state="alive"} 1
dct_gateway_mesh_members{role="gateway",state="failed"} 0
dct_gateway_mesh_members{role="gateway",state="left"} 0
dct_gateway_mesh_members{role="gateway",state="suspect"} 0
`), "dct_gateway_mesh_members"); err != nil {
		t.Error(err)
	}
	s := metrics.NewSLA(reg, "agent")
	l := s.Ledger(fakeSLA{err: errors.New("refused")})
	_, _ = l.Attest(context.Background(), records.SLAAttestationInput{})
	_, _ = l.ScoreEpoch(context.Background(), 3)
	l = s.Ledger(fakeSLA{})
	_, _ = l.Attest(context.Background(), records.SLAAttestationInput{})
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP dct_agent_sla_attestations_total SLA attestations submitted (sla:Attest), by result (ok, error).
# TYPE dct_agent_sla_attestations_total counter
dct_agent_sla_attestations_total{result="error"} 1
dct_agent_sla_attestations_total{result="ok"} 1
# HELP dct_agent_sla_scorings_total Epochs scored (sla:Score), by result (ok, error).
# TYPE dct_agent_sla_scorings_total counter
dct_agent_sla_scorings_total{result="error"} 1
dct_agent_sla_scorings_total{result="ok"} 0
`), "dct_agent_sla_attestations_total", "dct_agent_sla_scorings_total"); err != nil {
		t.Error(err)
	}
}

type fakeSLA struct{ err error }

func (f fakeSLA) Attest(context.Context, records.SLAAttestationInput) (*records.SLAAttestation, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &records.SLAAttestation{}, nil
}

func (f fakeSLA) ScoreEpoch(context.Context, int64) (*records.SLAEpoch, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &records.SLAEpoch{}, nil
}

func (f fakeSLA) SLAEpoch(context.Context, int64) (*records.SLAEpoch, error) {
	return &records.SLAEpoch{}, nil
}

// TestServeOps: the listener binds, serves, and refuses a malformed
// address.
func TestServeOps(t *testing.T) {
	if err := metrics.CheckAddr("nope"); err == nil {
		t.Error("CheckAddr(nope) passed")
	}
	if err := metrics.CheckAddr(""); err != nil {
		t.Errorf("CheckAddr(\"\"): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := metrics.NewRegistry()
	addr, err := metrics.ServeOps(ctx, "127.0.0.1:0", metrics.OpsHandler(metrics.OpsConfig{Component: "agent", Gatherer: reg}), slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz: %s", resp.Status)
	}
	if a, err := metrics.ServeOps(ctx, "", nil, slogDiscard()); a != "" || err != nil {
		t.Errorf("empty address: %q %v", a, err)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
