package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/sla"
)

// slaParts are the gateway's SLA pieces: the aggregator of its
// observations (nil when it does not attest) and the score table (nil when
// routing ignores scores).
type slaParts struct {
	agg   *sla.Aggregator
	table *sla.Table
}

// newSLA builds the SLA pieces cfg asks for and the content options that
// feed and use them.
func newSLA(cfg Config) (slaParts, []content.Option) {
	var p slaParts
	var opts []content.Option
	if cfg.SLAAttest {
		p.agg = sla.NewAggregator(sla.WithEpochLength(cfg.EpochLength))
		opts = append(opts, content.WithObserver(p.agg))
	}
	if cfg.SLARefresh > 0 {
		p.table = sla.NewTable()
		opts = append(opts, content.WithScores(p.table, cfg.SLARouteBand))
	}
	return p, opts
}

// startSLA runs the SLA loops until ctx ends or the returned function is
// called (which waits for them): the score table's refresh (on every
// dct.sla event with SLAEvents, periodically as the fallback), and, when the
// gateway attests, the mesh sampler (each other organisation's active
// node's health and RTT every SLASampleInterval) and the submitter (one
// sla:Attest an epoch; sla:Score of settled epochs).
func startSLA(ctx context.Context, cfg Config, p slaParts, svc *content.Service, lc *ledger.Client, m *mesh.Mesh, sm *metrics.SLA, log *slog.Logger) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	log = log.With("component", "sla")
	if p.table != nil {
		run(func() { p.table.Run(ctx, lc, cfg.SLARefresh, log) })
		if cfg.SLAEvents {
			run(func() { p.table.Watch(ctx, lc, lc, sla.DefaultWatchConfig(), log) })
		}
	}
	if p.agg != nil {
		own := lc.MSPID()
		if m != nil {
			topo := newMeshTopology(m, log)
			topo.nodes = svc.CachedNode
			run(func() { sampleMesh(ctx, svc, topo, p.agg, own, cfg.SLASampleInterval) })
		}
		sub := &sla.Submitter{
			Agg: p.agg, Ledger: sm.Ledger(lc), Grace: cfg.SLAGrace, ScoreWait: cfg.SLAScoreWait, Log: log,
			Keep: func(node string) bool {
				n, ok := svc.CachedNode(node)
				return ok && n.Org != own
			},
		}
		run(func() { sub.Run(ctx, time.Second) })
		log.Info("SLA attestations on", "sampleInterval", cfg.SLASampleInterval, "grace", cfg.SLAGrace, "scoreWait", cfg.SLAScoreWait)
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// sampleMesh counts, every interval, a probe of each active node of
// another organisation the mesh knows (answered when alive, not when
// suspect or failed) and its Vivaldi RTT estimate.
func sampleMesh(ctx context.Context, svc *content.Service, topo content.Topology, agg *sla.Aggregator, own string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		nodes, err := svc.Nodes(ctx)
		if err != nil {
			continue
		}
		for _, n := range nodes {
			if !n.Active() || n.Org == own {
				continue
			}
			h, rtt, hasRTT := topo.Node(n.ID)
			switch h {
			case content.HealthAlive:
				agg.Probe(n.ID, true)
			case content.HealthSuspect, content.HealthFailed:
				agg.Probe(n.ID, false)
			}
			if hasRTT && h == content.HealthAlive {
				agg.Latency(n.ID, rtt)
			}
		}
	}
}
