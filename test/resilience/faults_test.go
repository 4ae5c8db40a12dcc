//go:build integration

package resilience

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func restartAfter(t *testing.T, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = env.Signal(name, syscall.SIGCONT)
		if _, err := env.PID(name); err == nil {
			return
		}
		if err := env.RestartService(ctx, name); err != nil {
			t.Errorf("restart %s: %v", name, err)
		}
	})
}

// meshMembers decodes the gateway's mesh map.
type member struct {
	Name          string   `json:"name"`
	NodeID        string   `json:"nodeId"`
	Status        string   `json:"status"`
	RTTEstimateMs *float64 `json:"rttEstimateMs"`
}

func members(t *testing.T, gw int, measure bool) ([]member, map[string]float64) {
	t.Helper()
	q := ""
	if measure {
		q = "?measure=1"
	}
	v := getMesh(t, gw, q)
	var out struct {
		Members  []member                   `json:"members"`
		Map      struct{ Members []member } `json:"map"`
		Measured map[string]float64         `json:"measuredRttMs"`
	}
	if err := json.Unmarshal(v.Mesh.Members, &out); err != nil {
		t.Fatalf("mesh view: %v", err)
	}
	if measure {
		return out.Map.Members, out.Measured
	}
	return out.Members, nil
}

// TestMeshSeesEveryAgent: both gateways see all agents alive, with RTT
// estimates; the estimates' mean relative error against measured probes is
// reported.
func TestMeshSeesEveryAgent(t *testing.T) {
	for gw := range env.Gateways {
		waitFor(t, 30*time.Second, "every agent alive with an estimate", func() bool {
			ms, _ := members(t, gw, false)
			alive := 0
			for _, m := range ms {
				if m.NodeID != "" && m.Status == "alive" && m.RTTEstimateMs != nil {
					alive++
				}
			}
			return alive == len(env.Agents)
		})
	}
	// Let the coordinates settle, then compare with measured round trips.
	time.Sleep(3 * time.Second)
	ms, measured := members(t, 0, true)
	// On loopback a near agent's true RTT is tens of microseconds, below
	// Vivaldi's resolution: its relative error says nothing, so near agents
	// get the absolute error and agents 1 ms or more away the relative one.
	var relSum, absSum float64
	var relN, absN int
	var lines []string
	for _, m := range ms {
		got, ok := measured[m.Name]
		if m.NodeID == "" || !ok || m.RTTEstimateMs == nil {
			continue
		}
		est := *m.RTTEstimateMs
		if got >= 1 {
			relSum += math.Abs(est-got) / got
			relN++
		} else {
			absSum += math.Abs(est - got)
			absN++
		}
		lines = append(lines, fmt.Sprintf("%s est %.2f ms, measured %.2f ms", m.Name, est, got))
	}
	if relN+absN < len(env.Agents)/2 || relN == 0 {
		t.Fatalf("only %d agents measured (%d far)", relN+absN, relN)
	}
	slices.Sort(lines)
	fmt.Printf("RTT estimates vs measured (gateway0):\n  %s\n  mean relative error over the %d agents ≥ 1 ms away: %.1f%%; mean absolute error over the %d near agents: %.2f ms\n",
		strings.Join(lines, "\n  "), relN, 100*relSum/float64(relN), absN, absSum/float64(max(absN, 1)))
	// Far agents must be estimated farther than every near one.
	var nearMax, farMin float64 = 0, math.MaxFloat64
	for _, m := range ms {
		if m.NodeID == "" || m.RTTEstimateMs == nil {
			continue
		}
		if slices.Contains(far, m.NodeID) {
			farMin = min(farMin, *m.RTTEstimateMs)
		} else {
			nearMax = max(nearMax, *m.RTTEstimateMs)
		}
	}
	if farMin <= nearMax {
		t.Fatalf("far agents estimated at ≥ %.2f ms, near ones up to %.2f ms: the map does not tell them apart", farMin, nearMax)
	}
}

// TestRoutingPrefersNear: the share of shard fetches that go to near agents.
func TestRoutingPrefersNear(t *testing.T) {
	objs := publishSet(t, "res/route", 10)
	before := getMesh(t, 0, "").Fetches
	res := load(ctxFor(t, time.Minute), objs, gatewayURLs()[:1], 4, 4*time.Second)
	after := getMesh(t, 0, "").Fetches
	if res.Failed > 0 {
		t.Fatalf("load: %s: %v", res, res.Errors[:min(3, len(res.Errors))])
	}
	var nearN, farN int64
	for id, st := range after.Nodes {
		d := st.Fetches - before.Nodes[id].Fetches
		if slices.Contains(far, id) {
			farN += d
		} else {
			nearN += d
		}
	}
	share := float64(nearN) / float64(nearN+farN)
	fmt.Printf("routing with %v far (+%s): %d shard fetches to near agents, %d to far ones: %.1f%% near (%s)\n", far, farDelay, nearN, farN, 100*share, res)
	// Far agents hold 2 of 10 agents' shards; without routing about 20%
	// of fetches would go to them. On an idle machine 97–99% go to near
	// ones; the bound leaves room for the two cores being shared with other
	// work (then near agents answer late too and some hedges go far: 90.5%
	// was seen with a unit-test run beside this suite).
	if share < 0.85 {
		t.Fatalf("only %.1f%% of shard fetches went to near agents", 100*share)
	}
}

// TestKillAgentsUnderLoad: SIGKILL m agents during a load run: no request
// fails and every body is byte-identical.
func TestKillAgentsUnderLoad(t *testing.T) {
	objs := publishSet(t, "res/kill", 12)
	ctx := ctxFor(t, 2*time.Minute)
	victims := []string{"agent0-org1", "agent1-org2"}
	done := make(chan *loadResult)
	go func() { done <- load(ctx, objs, gatewayURLs()[:1], 8, 8*time.Second) }()
	time.Sleep(2 * time.Second)
	for _, v := range victims {
		restartAfter(t, v)
		if err := env.KillService(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	res := <-done
	fmt.Printf("SIGKILL of %v during load: %s\n", victims, res)
	if res.Failed > 0 || res.Retried > 0 {
		t.Fatalf("%d requests failed (%d retried): %v", res.Failed, res.Retried, res.Errors[:min(3, len(res.Errors))])
	}
}

// TestStoppedAgentUnderLoad: SIGSTOP one agent (it hangs without refusing):
// requests still complete and p99 stays bounded.
func TestStoppedAgentUnderLoad(t *testing.T) {
	objs := publishSet(t, "res/stop", 12)
	ctx := ctxFor(t, 2*time.Minute)
	victim := "agent2-org1"
	restartAfter(t, victim)
	done := make(chan *loadResult)
	go func() { done <- load(ctx, objs, gatewayURLs()[:1], 8, 8*time.Second) }()
	time.Sleep(2 * time.Second)
	if err := env.Signal(victim, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	res := <-done
	fmt.Printf("SIGSTOP of %s during load: %s\n", victim, res)
	if res.Failed > 0 {
		t.Fatalf("%d requests failed: %v", res.Failed, res.Errors[:min(3, len(res.Errors))])
	}
	if p99 := res.pct(0.99); p99 > 2*time.Second {
		t.Fatalf("p99 %s with a hung agent", p99)
	}
}

// TestAgentLostForGood: an agent killed for good: how long until no
// request is sent to it, and until repair has restored full redundancy
// (no manifest lists it, each shard repaired once on the ledger).
func TestAgentLostForGood(t *testing.T) {
	objs := publishSet(t, "res/lost", 8)
	ctx := ctxFor(t, 3*time.Minute)
	settings, _, err := env.ClientSettings("")
	if err != nil {
		t.Fatal(err)
	}
	lc, err := ledger.Connect(ctx, settings)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	var victim string // chosen below
	holding := func() (n int, ms []*records.Manifest) {
		for _, o := range objs {
			m, err := lc.GetManifest(ctx, o.name, "1")
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
			for _, sh := range m.Shards {
				if slices.Contains(sh.Nodes, victim) {
					n++
				}
			}
		}
		return n, ms
	}
	// The victim: the near agent holding the most shards of the objects.
	counts := map[string]int{}
	for _, o := range objs {
		m, err := lc.GetManifest(ctx, o.name, "1")
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range m.Shards {
			for _, id := range sh.Nodes {
				if !slices.Contains(far, id) {
					counts[id]++
				}
			}
		}
	}
	for id, n := range counts {
		if victim == "" || n > counts[victim] || n == counts[victim] && id < victim {
			victim = id
		}
	}
	restartAfter(t, victim)
	held, _ := holding()
	if held == 0 {
		t.Fatalf("%s holds no shard of the test objects", victim)
	}
	done := make(chan *loadResult)
	go func() { done <- load(ctx, objs, gatewayURLs()[:1], 4, 6*time.Second) }()
	time.Sleep(time.Second)
	killedAt := time.Now()
	if err := env.KillService(ctx, victim); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.Failed > 0 {
		t.Fatalf("%d requests failed: %v", res.Failed, res.Errors[:min(3, len(res.Errors))])
	}
	last := getMesh(t, 0, "").Fetches.Nodes[victim].LastAttemptAt
	noRequests := max(last.Sub(killedAt), 0)
	restored := waitFor(t, 90*time.Second, "full redundancy", func() bool { n, _ := holding(); return n == 0 })
	_, ms := holding()
	// One repair per shard: the manifests' histories show exactly one
	// holder change away from the victim per shard copy it held (other
	// changes, e.g. repairs of an agent stopped by an earlier test, are
	// not counted).
	updates := 0
	for _, m := range ms {
		h, err := lc.ManifestHistory(ctx, m.Name, m.Version)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(h); i++ {
			var prev, next records.Manifest
			if json.Unmarshal([]byte(h[i-1].Value), &prev) != nil || json.Unmarshal([]byte(h[i].Value), &next) != nil {
				t.Fatalf("history of %s: undecodable entry", m)
			}
			for j := range prev.Shards {
				if slices.Contains(prev.Shards[j].Nodes, victim) && !slices.Equal(prev.Shards[j].Nodes, next.Shards[j].Nodes) {
					updates++
				}
			}
		}
	}
	fmt.Printf("agent %s killed for good (%d shard copies): last shard request %s after the kill; full redundancy restored %s after the kill, in %d ledger updates (one per shard); load during the kill: %s\n",
		victim, held, noRequests.Round(time.Millisecond), (time.Since(killedAt)).Round(100*time.Millisecond), updates, res)
	_ = restored
	if updates != held {
		t.Fatalf("%d holder updates on the ledger for %d lost shard copies: repairs were not one per shard", updates, held)
	}
}

// TestGatewayKilledUnderLoad: a gateway SIGKILLed mid-load: clients retry on
// the other gateways and see no failed request and no wrong byte.
func TestGatewayKilledUnderLoad(t *testing.T) {
	objs := publishSet(t, "res/gw", 10)
	ctx := ctxFor(t, 2*time.Minute)
	victim := env.Gateways[0].Name
	restartAfter(t, victim)
	done := make(chan *loadResult)
	go func() { done <- load(ctx, objs, gatewayURLs(), 8, 6*time.Second) }()
	time.Sleep(2 * time.Second)
	if err := env.KillService(ctx, victim); err != nil {
		t.Fatal(err)
	}
	res := <-done
	fmt.Printf("SIGKILL of %s during load, clients failing over to the other gateways: %s\n", victim, res)
	if res.Failed > 0 {
		t.Fatalf("%d requests failed: %v", res.Failed, res.Errors[:min(3, len(res.Errors))])
	}
	if res.Retried == 0 {
		t.Fatal("no request was retried: the gateway was not killed under load")
	}
}
