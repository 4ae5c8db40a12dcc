package content

import (
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Metrics receives the service's events for its operators' instruments
// (*metrics.Gateway). Its methods are called on the read path and must be
// cheap and non-blocking.
type Metrics interface {
	// CacheHit and CacheMiss: a read of the decoded-object cache.
	CacheHit()
	CacheMiss()
	// ShardFetch: a shard request to node answered in d (err nil) or
	// failed (not for requests cancelled because another holder answered
	// first).
	ShardFetch(node string, d time.Duration, err error)
	// HedgeLaunched: a hedge request was sent; HedgeWon: one delivered its
	// shard first.
	HedgeLaunched()
	HedgeWon()
	// Published: a publish ended, after d.
	Published(d time.Duration, err error)
	// Repair: a repair ended: "ok", "lost" (another gateway recorded it
	// first) or "error".
	Repair(result string)
}

// WithMetrics reports the service's events to m.
func WithMetrics(m Metrics) Option {
	return func(s *Service) {
		if m != nil {
			s.metrics = m
		}
	}
}

// noMetrics is the default Metrics: nothing recorded.
type noMetrics struct{}

func (noMetrics) CacheHit()                               {}
func (noMetrics) CacheMiss()                              {}
func (noMetrics) ShardFetch(string, time.Duration, error) {}
func (noMetrics) HedgeLaunched()                          {}
func (noMetrics) HedgeWon()                               {}
func (noMetrics) Published(time.Duration, error)          {}
func (noMetrics) Repair(string)                           {}

// Tolerance is how many more holders of an object version may fail.
type Tolerance struct {
	// Object is "name@version".
	Object string
	// Read is how many more shards may become unreachable before the
	// version cannot be read: shards with a live holder, minus k
	// (negative: unreadable now).
	Read int
	// Write is how many more usable nodes may fail before the version's
	// k+m shards can no longer each be placed on a distinct live node (a
	// full repair, or publishing it again): live usable nodes minus k+m.
	Write int
}

// Tolerances computes the tolerances of the latest versions in the
// manifest cache (at most max of them, cheapest first: no ledger call),
// from the topology's health and the last node list read. Holders the
// topology reports failed, and inactive or unknown nodes, count as lost;
// without a topology every active holder counts as live.
func (s *Service) Tolerances(max int) []Tolerance {
	nodes := s.lastNodes.Load()
	active := map[string]bool{}
	live := 0
	if nodes != nil {
		for _, n := range *nodes {
			if !n.Active() {
				continue
			}
			up := true
			if s.topo != nil {
				h, _, _ := s.topo.Node(n.ID)
				up = h != HealthFailed
			}
			active[n.ID] = up
			if up {
				live++
			}
		}
	}
	ms := s.manifests.latest(max)
	out := make([]Tolerance, 0, len(ms))
	for _, m := range ms {
		out = append(out, tolerance(m, active, live))
	}
	return out
}

func tolerance(m *records.Manifest, up map[string]bool, live int) Tolerance {
	readable := 0
	for _, sh := range m.Shards {
		for _, id := range sh.Nodes {
			if up[id] {
				readable++
				break
			}
		}
	}
	return Tolerance{Object: m.Name + "@" + m.Version, Read: readable - m.K, Write: live - (m.K + m.M)}
}
