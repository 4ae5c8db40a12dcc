//go:build integration

package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/gatewayclient"
)

// load reads objects round-robin through every gateway, one reader a
// gateway, until stopped, counting reads and failures (a non-200 answer, an
// error, or other bytes than published).
type load struct {
	reads, failed atomic.Int64
	mu            sync.Mutex
	firstErrs     []string
	stop          context.CancelFunc
	done          sync.WaitGroup
}

type object struct {
	name string
	data []byte
}

func startLoad(ctx context.Context, s *stack, objects []object) *load {
	ctx, cancel := context.WithCancel(ctx)
	l := &load{stop: cancel}
	for g := 0; g < 2; g++ {
		l.done.Add(1)
		go func(g int) {
			defer l.done.Done()
			for i := g; ctx.Err() == nil; i++ {
				o := objects[i%len(objects)]
				rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
				code, body, err := get(rctx, s.url(g), o.name)
				rcancel()
				if ctx.Err() != nil {
					return // stopped mid-read: not a failure
				}
				l.reads.Add(1)
				if err != nil || code != http.StatusOK || !bytes.Equal(body, o.data) {
					l.failed.Add(1)
					l.mu.Lock()
					if len(l.firstErrs) < 10 {
						l.firstErrs = append(l.firstErrs, fmt.Sprintf("%s gateway%d GET %s: %d, %d bytes %.160q, %v",
							time.Now().Format("15:04:05.000"), g, o.name, code, len(body), body, err))
					}
					l.mu.Unlock()
				}
			}
		}(g)
	}
	return l
}

// waitReads returns once the load has made n more reads.
func (l *load) waitReads(ctx context.Context, t *testing.T, n int64) {
	t.Helper()
	target := l.reads.Load() + n
	for l.reads.Load() < target {
		select {
		case <-ctx.Done():
			t.Fatalf("load made %d of %d reads: %v", l.reads.Load(), target, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l *load) finish() (reads, failed int64, errs []string) {
	l.stop()
	l.done.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads.Load(), l.failed.Load(), l.firstErrs
}

// waitMeshStatus waits until both gateways' gossip view (GET /v1/mesh)
// shows member with one of statuses (comma-separated) and, when ip is
// set, at that address.
func (s *stack) waitMeshStatus(ctx context.Context, member, statuses, ip string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for g := 0; g < 2; g++ {
		for {
			status, at, err := s.meshStatus(ctx, g, member)
			host, _, _ := net.SplitHostPort(at)
			if err == nil && slices.Contains(strings.Split(statuses, ","), status) && (ip == "" || host == ip) {
				break
			}
			select {
			case <-ctx.Done():
				s.t.Fatalf("gateway%d never saw %s %s at %q (last %q at %q, %v): %v", g, member, statuses, ip, status, at, err, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// meshStatus is member's status and gossip address in gateway g's view
// ("" when absent).
func (s *stack) meshStatus(ctx context.Context, g int, member string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(g)+"/v1/mesh", nil)
	if err != nil {
		return "", "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("GET /v1/mesh: %s", resp.Status)
	}
	var view struct {
		Mesh struct {
			Map struct {
				Members []struct {
					Name   string `json:"name"`
					Addr   string `json:"addr"`
					Status string `json:"status"`
				} `json:"members"`
			} `json:"members"`
		} `json:"mesh"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&view); err != nil {
		return "", "", fmt.Errorf("GET /v1/mesh: %w", err)
	}
	for _, m := range view.Mesh.Map.Members {
		if m.Name == member {
			return m.Status, m.Addr, nil
		}
	}
	return "", "", nil
}

// backboneIP is the container's address on the project's backbone network.
func (s *stack) backboneIP(ctx context.Context, id string) string {
	s.t.Helper()
	ip, err := docker(ctx, "inspect", "-f", fmt.Sprintf("{{(index .NetworkSettings.Networks %q).IPAddress}}", s.project+"_backbone"), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return ip
}

// compareIP orders two IP addresses (unparsable ones first).
func compareIP(a, b string) int {
	x, _ := netip.ParseAddr(a)
	y, _ := netip.ParseAddr(b)
	return x.Compare(y)
}

// waitService waits until the service's container reports healthy.
func (s *stack) waitService(ctx context.Context, svc string) {
	s.t.Helper()
	for {
		id := s.containers(ctx)[svc]
		if id != "" {
			if st, err := docker(ctx, "inspect", "-f", "{{.State.Health.Status}}", id); err == nil && st == "healthy" {
				return
			}
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("%s not healthy: %v", svc, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runDrills runs the container drills under a read load on objects:
// the stopped agent started again, agent cut's uplink to the backbone
// cut and restored, bank site's whole branch site cut off the backbone
// and reconnected, agent lost removed for good until repair has every
// object back at full redundancy on the ledger, a rolling restart of the
// ordering service (its Raft leader included) with a publish after each
// restart, and a rolling restart of the agents left. No read and no
// publish may fail. It returns when the load stopped.
func runDrills(ctx context.Context, t *testing.T, s *stack, objects []object, stopped string, cut agent, site string, lost agent,
	pub *gatewayclient.Client, orgOf map[string]string, publish func(name string) error) {
	l := startLoad(ctx, s, objects)
	type figure struct {
		drill        string
		start        time.Time
		took         time.Duration
		reads, fails int64
	}
	var figures []figure
	drill := func(name string, f func()) {
		start, before, failed := time.Now(), l.reads.Load(), l.failed.Load()
		f()
		fg := figure{name, start, time.Since(start), l.reads.Load() - before, l.failed.Load() - failed}
		figures = append(figures, fg)
		t.Logf("drill %s done: %s, %d reads, %d failed", name, fg.took.Round(100*time.Millisecond), fg.reads, fg.fails)
	}
	const settle = 20 // reads made in each degraded state
	var repairTook time.Duration

	drill("stopped agent started again", func() {
		l.waitReads(ctx, t, settle)
		if _, err := s.run(ctx, "start", stopped); err != nil {
			t.Fatal(err)
		}
		s.waitService(ctx, stopped)
		l.waitReads(ctx, t, settle)
	})
	s.stats(ctx, "under the read load (both gateways, every read fetching shards)")

	// Partition: one agent's branch uplink goes down. It keeps its site
	// network (and its bank's peer); the gateways no longer reach it. The
	// cut lasts until both gateways' gossip has declared it failed and the
	// load has read on; after the reconnection, until gossip sees it alive again.
	// (A whole site cut off loses every shard on its agents: more than M
	// when placement put more there, which it may.)
	backbone := s.project + "_backbone"
	// A member cut off is seen failed, or left when gossip still holds
	// the leave of an earlier graceful stop (serf's leave intents): both
	// take it out of the gateways' routing.
	const down = "failed,left"
	drill(cut.svc+" cut off the backbone and reconnected", func() {
		id := s.containers(ctx)[cut.svc]
		if _, err := docker(ctx, "network", "disconnect", backbone, id); err != nil {
			t.Fatal(err)
		}
		s.waitMeshStatus(ctx, cut.node, down, "")
		l.waitReads(ctx, t, settle)
		if _, err := docker(ctx, "network", "connect", "--alias", cut.alias, backbone, id); err != nil {
			t.Fatal(err)
		}
		s.waitMeshStatus(ctx, cut.node, "alive", s.backboneIP(ctx, id))
		l.waitReads(ctx, t, settle)
	})

	// Partition: a whole branch site goes down, both of its bank's agents
	// cut off the backbone (the bank's peer, in its data centre, stays).
	// Placement keeps every bank at <= M shards of an object, so every
	// object is still served from the other two banks' agents.
	var siteAgents []agent
	for _, a := range composeAgents() {
		if strings.HasSuffix(a.svc, "-"+site) {
			siteAgents = append(siteAgents, a)
		}
	}
	full := fullDrills(t)
	drillIf := func(on bool, name string, f func()) {
		if on {
			drill(name, f)
		}
	}
	// The agents are reconnected in the reverse order of their backbone
	// addresses, so Docker (which hands out the lowest free address) gives
	// them each other's: like hosts re-attached under new addresses, they
	// must notice and rejoin under the new ones (the mesh's
	// Timing.ResolveInterval) while their peers still know the old ones.
	drillIf(full, fmt.Sprintf("branch site %s (%d agents) cut off the backbone and reconnected", site, len(siteAgents)), func() {
		ids := s.containers(ctx)
		before := map[string]string{}
		for _, a := range siteAgents {
			before[a.svc] = s.backboneIP(ctx, ids[a.svc])
		}
		slices.SortFunc(siteAgents, func(a, b agent) int { return compareIP(before[b.svc], before[a.svc]) })
		for _, a := range siteAgents {
			if _, err := docker(ctx, "network", "disconnect", backbone, ids[a.svc]); err != nil {
				t.Fatal(err)
			}
		}
		for _, a := range siteAgents {
			s.waitMeshStatus(ctx, a.node, down, "")
		}
		l.waitReads(ctx, t, settle)
		var moves []string
		for _, a := range siteAgents {
			if _, err := docker(ctx, "network", "connect", "--alias", a.alias, backbone, ids[a.svc]); err != nil {
				t.Fatal(err)
			}
			moves = append(moves, fmt.Sprintf("%s %s -> %s", a.svc, before[a.svc], s.backboneIP(ctx, ids[a.svc])))
		}
		t.Logf("site %s reconnected, backbone addresses: %s", site, strings.Join(moves, ", "))
		for _, a := range siteAgents {
			s.waitMeshStatus(ctx, a.node, "alive", s.backboneIP(ctx, ids[a.svc]))
		}
		l.waitReads(ctx, t, settle)
	})

	// An agent lost for good: its container and its shard store removed.
	// The gateways' repair rebuilds each of its shards on another agent
	// (gossip marks it failed, DeadAfter passes, the next scan repairs);
	// the ledger then lists every shard with its holder again, none on
	// the lost agent, no bank above M shards of an object.
	if !full {
		lost = agent{} // nothing removed: every agent restarts below
	}
	drillIf(full, fmt.Sprintf("%s removed for good, repaired to full redundancy", lost.svc), func() {
		removed := time.Now()
		if _, err := s.run(ctx, "rm", "--stop", "-f", "-v", lost.svc); err != nil {
			t.Fatal(err)
		}
		waitRedundancy(ctx, t, pub, lost.node, orgOf)
		repairTook = time.Since(removed) // from the stop, through gossip, DeadAfter and the repairs
		l.waitReads(ctx, t, settle)
	})

	publishes := 0
	drill("rolling restart of the 3 orderers, a publish after each", func() {
		for i := 0; i < 3; i++ {
			svc := fmt.Sprintf("orderer%d", i)
			if _, err := s.run(ctx, "restart", "-t", "5", svc); err != nil {
				t.Fatal(err)
			}
			s.waitService(ctx, svc)
			publishes++
			if err := publish(fmt.Sprintf("compose/after-%s.bin", svc)); err != nil {
				t.Errorf("publish after restarting %s: %v", svc, err)
			}
			l.waitReads(ctx, t, settle/2)
		}
	})

	left := len(composeAgents())
	if lost.svc != "" {
		left--
	}
	drill(fmt.Sprintf("rolling restart of the %d agents left", left), func() {
		for _, a := range composeAgents() {
			if a.svc == lost.svc {
				continue
			}
			if _, err := s.run(ctx, "restart", "-t", "5", a.svc); err != nil {
				t.Fatal(err)
			}
			s.waitService(ctx, a.svc)
			l.waitReads(ctx, t, settle/2)
		}
	})

	reads, failed, errs := l.finish()
	for _, f := range figures {
		t.Logf("drill %-55s from %s, %7s, %4d reads, %d failed", f.drill, f.start.Format("15:04:05"), f.took.Round(100*time.Millisecond), f.reads, f.fails)
	}
	t.Logf("drills: %d reads under load, %d failed; %d publishes after orderer restarts", reads, failed, publishes)
	if lost.svc != "" {
		t.Logf("%s's shards repaired to full redundancy (ledger) %s after its removal", lost.svc, repairTook.Round(100*time.Millisecond))
	}
	if failed > 0 {
		t.Errorf("%d of %d reads failed during the drills; first: %v", failed, reads, errs)
	}
}

// fullDrills reports whether every drill runs: the default, and
// DCT_COMPOSE_DRILLS=full. DCT_COMPOSE_DRILLS=short skips the whole branch
// site cut off, the agent removed for good until repair restores full
// redundancy, and the receipts' check (about a minute and a half less);
// any other value fails the test.
func fullDrills(t *testing.T) bool {
	switch v := os.Getenv("DCT_COMPOSE_DRILLS"); v {
	case "", "full":
		return true
	case "short":
		return false
	default:
		t.Fatalf("DCT_COMPOSE_DRILLS=%q: want full (the default) or short", v)
		return false
	}
}
