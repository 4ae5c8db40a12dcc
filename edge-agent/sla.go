package edgeagent

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/sla"
)

// slaLedger is what the agent's SLA attestations need of the ledger
// (*ledger.Client): sla:Attest with the agent's node identity, and the
// node registry to check the mesh's claims against.
type slaLedger interface {
	sla.Ledger
	ListNodes(ctx context.Context) ([]*records.Node, error)
}

// slaNodesTTL is how long the agent reuses the node list it checks mesh
// members against.
const slaNodesTTL = time.Minute

// meshView is what the sampler needs of the mesh (*mesh.Mesh).
type meshView interface {
	Members() []mesh.Member
}

// slaSampler counts, every interval, one probe of each other
// organisation's registered node the mesh knows (answered when the mesh
// sees it alive) and its Vivaldi RTT. A member counts as node X only when
// its gRPC tag is X's registered endpoint (gossip tags are claims).
type slaSampler struct {
	l     slaLedger
	m     meshView
	agg   *sla.Aggregator
	self  string // the agent's node id
	own   string // its organisation
	nodes atomic.Pointer[map[string]*records.Node]
	at    time.Time
}

// refresh rereads the node list when it is older than slaNodesTTL.
func (s *slaSampler) refresh(ctx context.Context) {
	if s.nodes.Load() != nil && time.Since(s.at) < slaNodesTTL {
		return
	}
	list, err := s.l.ListNodes(ctx)
	if err != nil {
		return
	}
	m := make(map[string]*records.Node, len(list))
	for _, n := range list {
		m[n.ID] = n
	}
	s.nodes.Store(&m)
	s.at = time.Now()
}

// keep reports whether node is another organisation's registered node.
func (s *slaSampler) keep(node string) bool {
	p := s.nodes.Load()
	if p == nil {
		return false
	}
	n, ok := (*p)[node]
	return ok && n.Org != s.own
}

// sample counts what the mesh shows now.
func (s *slaSampler) sample(ctx context.Context) {
	s.refresh(ctx)
	p := s.nodes.Load()
	if p == nil {
		return
	}
	for _, mb := range s.m.Members() {
		n, ok := (*p)[mb.NodeID]
		if mb.Role != mesh.RoleAgent || mb.NodeID == s.self || !ok || !n.Active() || n.Org == s.own || mb.Tags[mesh.TagGRPC] != n.Endpoint {
			continue
		}
		switch mb.Status {
		case mesh.StatusAlive:
			s.agg.Probe(n.ID, true)
			if mb.HasRTT {
				s.agg.Latency(n.ID, mb.RTT)
			}
		case mesh.StatusSuspect, mesh.StatusFailed:
			s.agg.Probe(n.ID, false)
		}
	}
}

// startSLA runs the agent's SLA attestations until ctx ends or the
// returned function is called: the mesh sampler every SLASampleInterval
// and one sla:Attest an epoch. Nothing without SLAAttest or a mesh.
func startSLA(ctx context.Context, cfg Config, lc Ledger, m meshView, epochSecs int64, sm *metrics.SLA, log *slog.Logger) func() {
	if !cfg.SLAAttest || m == nil {
		return func() {}
	}
	l, ok := lc.(slaLedger)
	if !ok {
		log.Warn("SLA attestations off: the ledger client cannot submit them")
		return func() {}
	}
	agg := sla.NewAggregator(sla.WithEpochLength(time.Duration(epochSecs) * time.Second))
	smp := &slaSampler{l: l, m: m, agg: agg, self: cfg.NodeID, own: cfg.MSPID}
	sub := &sla.Submitter{Agg: agg, Ledger: sm.Ledger(l), Keep: smp.keep, Grace: cfg.SLAGrace, Log: log.With("component", "sla")}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		t := time.NewTicker(cfg.SLASampleInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				smp.sample(ctx)
			}
		}
	}()
	go func() {
		defer wg.Done()
		sub.Run(ctx, time.Second)
	}()
	log.Info("SLA attestations on", "sampleInterval", cfg.SLASampleInterval, "grace", cfg.SLAGrace)
	return func() {
		cancel()
		wg.Wait()
	}
}
