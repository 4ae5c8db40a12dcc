//go:build integration

package resilience

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dct-network/dct/pkg/metrics"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// Operations listeners: agent a of organisation j serves /metrics on the
// network's base port + 900 + 10j + a, gateway g on base port + 950 + g
// (past the proxies at +800).
const (
	agentOpsOffset   = 900
	gatewayOpsOffset = 950
)

// opsArgs gives agent a its operations listener, on its gRPC port's
// offset from the agents' first port, moved to agentOpsOffset.
func opsArgs(n *testenv.Network, a testnetwork.AgentInfo) []string {
	return []string{"--ops-listen", agentOpsAddr(n, a)}
}

func agentOpsAddr(n *testenv.Network, a testnetwork.AgentInfo) string {
	_, port, _ := net.SplitHostPort(a.Address)
	p, _ := strconv.Atoi(port)
	first, _ := testnetwork.ServicePorts(n.Config.BasePort)
	return net.JoinHostPort(n.Desc.Host, strconv.Itoa(n.Config.BasePort+agentOpsOffset+p-first))
}

func gatewayOpsAddr(n *testenv.Network, g int) string {
	return net.JoinHostPort(n.Desc.Host, strconv.Itoa(n.Config.BasePort+gatewayOpsOffset+g))
}

// sites are where the suite's agents are registered: agent a of each
// organisation at one of five cities (a bank's branches), the second
// organisation's a little east, so that the dashboard's map shows them
// apart.
var sites = [][2]float64{{47.37, 8.54}, {46.20, 6.14}, {46.95, 7.45}, {47.56, 7.59}, {46.00, 8.95}}

func placeArgs(a testnetwork.AgentInfo) []string {
	var i, org int
	if _, err := fmt.Sscanf(a.Name, "agent%d-org%d", &i, &org); err != nil {
		return nil
	}
	s := sites[i%len(sites)]
	return []string{"--latitude", strconv.FormatFloat(s[0]+0.35*float64(org-1), 'f', 2, 64),
		"--longitude", strconv.FormatFloat(s[1]+0.8*float64(org-1), 'f', 2, 64)}
}

// opsAddrOf is the operations address of the named agent or gateway.
func opsAddrOf(t *testing.T, name string) string {
	t.Helper()
	for _, a := range env.Agents {
		for i, arg := range a.Args {
			if arg == "--ops-listen" && i+1 < len(a.Args) && a.Name == name {
				return a.Args[i+1]
			}
		}
	}
	for _, g := range env.Gateways {
		for _, e := range g.Env {
			if v, ok := strings.CutPrefix(e, "DCT_OPS_LISTEN="); ok && g.Name == name {
				return v
			}
		}
	}
	t.Fatalf("%s has no operations listener", name)
	return ""
}

// scrape reads a /metrics page into its metric families.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s", addr, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the metrics of %s: %v", addr, err)
	}
	return fams
}

// sum adds the values (counters, gauges; histograms: their counts) of the
// family's series whose labels include every pair of match.
func sum(fams map[string]*dto.MetricFamily, name string, match ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	var v float64
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(match); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == match[i] && lp.GetValue() == match[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			v += m.GetCounter().GetValue()
		case m.Gauge != nil:
			v += m.GetGauge().GetValue()
		case m.Histogram != nil:
			v += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return v
}

// opsStatus GETs /healthz or /readyz of an operations listener.
func opsStatus(t *testing.T, addr, path string) (int, metrics.Status) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", addr, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st metrics.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("GET %s%s: %s is not the status JSON: %v", addr, path, b, err)
	}
	return resp.StatusCode, st
}

// TestOpsMetrics: every gateway and agent of the running network answers
// on its operations listener: /healthz and /readyz with the JSON status,
// /metrics in the Prometheus text format; reads through a gateway move its
// request, cache, shard-fetch and byte counters and the agents' GetShard
// counters by at least what the test did, and the gateway sees the agents
// in its mesh gauge and the object in its tolerance gauges.
func TestOpsMetrics(t *testing.T) {
	for _, name := range append(serviceNames(), env.Gateways[0].Name) {
		addr := opsAddrOf(t, name)
		for _, path := range []string{"/healthz", "/readyz"} {
			code, st := opsStatus(t, addr, path)
			if code != http.StatusOK || st.Status != metrics.StatusOK || st.Component == "" {
				t.Errorf("%s %s: %d %+v", name, path, code, st)
			}
		}
	}
	gw := env.Gateways[0]
	gwOps := opsAddrOf(t, gw.Name)
	c := testenv.Publisher(env, gw)
	body := bytes.Repeat([]byte("dct operations "), 2000)
	name := fmt.Sprintf("res/ops-%d.txt", time.Now().UnixNano())
	pub, err := c.Publish(ctxFor(t, time.Minute), name, "text/plain", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatalf("publish %s: %v", name, err)
	}
	before := scrape(t, gwOps)
	agentsBefore := map[string]map[string]*dto.MetricFamily{}
	for _, a := range env.Agents {
		if _, err := env.PID(a.Name); err == nil {
			agentsBefore[a.Name] = scrape(t, opsAddrOf(t, a.Name))
		}
	}
	const reads = 3
	size := len(body)
	for range reads {
		b, _, err := c.Get(ctxFor(t, 30*time.Second), name, "")
		if err != nil || !bytes.Equal(b, body) {
			t.Fatalf("read %s: %d bytes, %v", name, len(b), err)
		}
	}
	after := scrape(t, gwOps)
	delta := func(name string, match ...string) float64 {
		return sum(after, name, match...) - sum(before, name, match...)
	}
	if d := delta("dct_gateway_requests_total", "route", metrics.ServeRoute, "method", "GET", "code", "200"); d < reads {
		t.Errorf("dct_gateway_requests_total{route=%q,code=200} moved by %v, want >= %d", metrics.ServeRoute, d, reads)
	}
	if d := delta("dct_gateway_request_duration_seconds", "route", metrics.ServeRoute); d < reads {
		t.Errorf("serve latency histogram counted %v requests, want >= %d", d, reads)
	}
	if d := delta("dct_gateway_sent_bytes_total"); d < float64(reads*size) {
		t.Errorf("dct_gateway_sent_bytes_total moved by %v, want >= %d", d, reads*size)
	}
	// The suite runs the gateways without the decoded-object cache: every
	// read misses it and fetches shards.
	if d := delta("dct_gateway_cache_requests_total", "result", "miss"); d < reads {
		t.Errorf("cache misses moved by %v, want >= %d", d, reads)
	}
	if d := delta("dct_gateway_shard_fetch_duration_seconds"); d < reads {
		t.Errorf("shard fetches observed %v, want >= %d", d, reads)
	}
	if n := sum(after, "dct_gateway_mesh_members", "role", "agent", "state", "alive"); n < 1 {
		t.Errorf("dct_gateway_mesh_members{role=agent,state=alive} = %v", n)
	}
	obj := name + "@" + pub.Version
	if f := after["dct_gateway_object_read_tolerance"]; f == nil || sum(after, "dct_gateway_object_read_tolerance", "object", obj) < 0 {
		t.Errorf("no non-negative read tolerance for %s", obj)
	}
	if after["dct_gateway_receipts_total"] == nil || after["go_goroutines"] == nil || after["process_cpu_seconds_total"] == nil {
		t.Error("the receipts counter or the Go and process collectors are missing")
	}
	var getShard float64
	for name, b := range agentsBefore {
		a := scrape(t, opsAddrOf(t, name))
		getShard += sum(a, "dct_agent_requests_total", "method", "/dct.v1.ShardService/GetShard", "code", "OK") -
			sum(b, "dct_agent_requests_total", "method", "/dct.v1.ShardService/GetShard", "code", "OK")
		if a["dct_agent_store_bytes"] == nil || a["dct_agent_mesh_members"] == nil {
			t.Errorf("%s: store or mesh gauges missing", name)
		}
	}
	if getShard < reads {
		t.Errorf("the agents answered %v GetShard calls, want >= %d (k per read)", getShard, reads)
	}
	// The chaincode server counts the calls the peers made for the publish
	// and the reads' manifest lookups.
	if cc := env.ChaincodeOpsAddress; cc == "" {
		t.Error("the test network started the chaincode server without an operations listener")
	} else if code, st := opsStatus(t, cc, "/healthz"); code != http.StatusOK || st.Status != metrics.StatusOK {
		t.Errorf("chaincode server /healthz: %d %+v", code, st)
	} else if n := sum(scrape(t, cc), "dct_chaincode_calls_total"); n < 1 {
		t.Errorf("dct_chaincode_calls_total = %v after a publish, want >= 1", n)
	}
	t.Logf("gateway %s: %v serve requests, %v shard fetches, agents %v GetShard calls for %d reads",
		gw.Name, delta("dct_gateway_requests_total", "route", metrics.ServeRoute), delta("dct_gateway_shard_fetch_duration_seconds"), getShard, reads)
}

// serviceNames are the agents running now (some tests kill agents for
// good).
func serviceNames() []string {
	var out []string
	for _, a := range env.Agents {
		if _, err := env.PID(a.Name); err == nil {
			out = append(out, a.Name)
		}
	}
	return out
}
