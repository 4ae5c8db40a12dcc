package content_test

import (
	"context"
	"errors"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
	"slices"
	"sync"
	"testing"
	"time"
)

func holdersOf(t *testing.T, l *contenttest.Ledger, name string, shard int) []string {
	t.Helper()
	m, err := l.GetManifest(context.Background(), name, "1")
	if err != nil {
		t.Fatal(err)
	}
	return m.Shards[shard].Nodes
}

// TestRepairShard: a dead holder's shard is rebuilt from the others onto
// the spare node, recorded on the ledger, and readable from there.
func TestRepairShard(t *testing.T) {
	ctx := context.Background()
	s, l, agents := newTestService(t, 7, func(c *content.Config) { c.CacheBytes = 0 })
	body := payload(40_000)
	m := publishWith(t, s, "heal/app.js", body)
	dead := m.Shards[2].Nodes[0]
	agents.Get(dead).SetDown(true)
	res, err := s.RepairShard(ctx, m.Name, m.Version, 2, []string{dead})
	if err != nil {
		t.Fatal(err)
	}
	if res == nil || res.NewHolder == dead || res.TxID == "" {
		t.Fatalf("repair result %+v", res)
	}
	if got := holdersOf(t, l, m.Name, 2); !slices.Equal(got, []string{res.NewHolder}) {
		t.Fatalf("ledger holders %v, want [%s]", got, res.NewHolder)
	}
	if !agents.Get(res.NewHolder).Has(m.Shards[2].Hash) {
		t.Fatalf("the new holder %s has no copy of shard 2", res.NewHolder)
	}
	// Reads of the repaired manifest use the new holder.
	m2, _ := l.GetManifest(ctx, m.Name, m.Version)
	readBack(t, s, m2, body)
	// Nothing to do once the ledger no longer lists the dead node.
	if again, err := s.RepairShard(ctx, m.Name, m.Version, 2, []string{dead}); again != nil || err != nil {
		t.Fatalf("second repair = %+v, %v; want nothing", again, err)
	}
}

// TestConcurrentRepairsOneWins: two gateways repairing the same shard at
// once: the ledger's compare-and-set accepts one, the other withdraws its
// copy.
func TestConcurrentRepairsOneWins(t *testing.T) {
	ctx := context.Background()
	s1, l, agents := newTestService(t, 8, func(c *content.Config) { c.CacheBytes = 0 })
	s2, err := content.New(testConfig(func(c *content.Config) { c.CacheBytes = 0 }), l, agents, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := publishWith(t, s1, "heal/race.css", payload(12_000))
	dead := m.Shards[0].Nodes[0]
	agents.Get(dead).SetDown(true)
	var wg sync.WaitGroup
	results := make([]*content.Repaired, 2)
	errs := make([]error, 2)
	for i, s := range []*content.Service{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.RepairShard(ctx, m.Name, m.Version, 0, []string{dead})
		}()
	}
	wg.Wait()
	won, lost := 0, 0
	for i := range 2 {
		switch {
		case errs[i] == nil && results[i] != nil:
			won++
		case errors.Is(errs[i], content.ErrRepairLost):
			lost++
		case errs[i] == nil && results[i] == nil:
			lost++ // read the ledger after the winner committed
		default:
			t.Fatalf("repair %d: %v", i, errs[i])
		}
	}
	if won != 1 || lost != 1 || l.Updates() != 1 {
		t.Fatalf("%d won, %d lost, %d ledger updates; want 1, 1, 1", won, lost, l.Updates())
	}
	// Only the recorded holder keeps a copy.
	holders := holdersOf(t, l, m.Name, 0)
	copies := 0
	for _, a := range agents.All() {
		if id := a.ID(); a.Has(m.Shards[0].Hash) && id != dead {
			copies++
			if !slices.Contains(holders, id) {
				t.Fatalf("node %s keeps a copy the ledger does not list (holders %v)", id, holders)
			}
		}
	}
	if copies != 1 {
		t.Fatalf("%d copies of the repaired shard, want 1", copies)
	}
}

// TestRepairerScan: a holder failed in the mesh for longer than DeadAfter
// has all its shards rebuilt; a corrupt copy reported by a read is rebuilt
// at once.
func TestRepairerScan(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	topo := contenttest.NewTopology()
	rep := content.NewRepairer(content.RepairConfig{Interval: 20 * time.Millisecond, DeadAfter: 50 * time.Millisecond})
	s, l, agents := newTestService(t, 8, func(c *content.Config) { c.CacheBytes = 0 }, content.WithTopology(topo), content.WithRepairQueue(rep.Queue()))
	m1 := publishWith(t, s, "heal/one.js", payload(9000))
	m2 := publishWith(t, s, "heal/two.js", payload(9000))
	dead := m1.Shards[1].Nodes[0]
	agents.Get(dead).SetDown(true)
	topo.SetHealth(dead, content.HealthFailed)
	go rep.Run(ctx, s)
	holds := func() int {
		n := 0
		for _, name := range []string{m1.Name, m2.Name} {
			m, _ := l.GetManifest(ctx, name, "1")
			for _, sh := range m.Shards {
				if slices.Contains(sh.Nodes, dead) {
					n++
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for holds() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := holds(); n > 0 {
		t.Fatalf("the dead node still holds %d shards after the scans", n)
	}
	// A read that finds a corrupt copy queues its repair.
	cur, _ := l.GetManifest(ctx, m2.Name, "1")
	bad := cur.Shards[3].Nodes[0]
	agents.Get(bad).Corrupt()
	topo.SetRTT(bad, time.Microsecond) // nearest: the read asks it
	if _, err := s.Read(ctx, cur, 0, cur.Size); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m, _ := l.GetManifest(ctx, m2.Name, "1")
		if !slices.Contains(m.Shards[3].Nodes, bad) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the corrupt copy on %s was not replaced", bad)
}

// TestPublishSkipsFailedNodes: a node the mesh reports failed gets no new
// shards even while its agent still answers.
func TestPublishSkipsFailedNodes(t *testing.T) {
	topo := contenttest.NewTopology()
	topo.SetHealth("n2", content.HealthFailed)
	s, _, _ := newTestService(t, 7, nil, content.WithTopology(topo))
	m := publishWith(t, s, "skip/failed.css", payload(3000))
	for _, sh := range m.Shards {
		if slices.Contains(sh.Nodes, "n2") {
			t.Fatalf("shard %d placed on the failed node n2", sh.Index)
		}
	}
}
