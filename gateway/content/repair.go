package content

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/placement"
	"github.com/dct-network/dct/pkg/codec"
)

// ErrRepairLost: another gateway recorded a repair of the shard first; this
// gateway's copy was withdrawn.
var ErrRepairLost = errors.New("repair recorded by another gateway first")

// Repaired is the outcome of one repair.
type Repaired struct {
	Name, Version string
	Shard         int
	Lost          []string
	NewHolder     string
	TxID          string
}

// RepairShard rebuilds shard of name@version, whose copies on the lost nodes
// are gone or bad, on a new healthy node chosen under the placement rules,
// then records the new holders on the ledger with a compare-and-set on the
// old ones. Of several gateways repairing the same shard at once, the
// ledger accepts one; the others get ErrRepairLost and delete their copy.
// Nothing is done (nil, nil) when the ledger no longer lists a lost node as
// a holder.
func (s *Service) RepairShard(ctx context.Context, name, version string, shard int, lost []string) (*Repaired, error) {
	return s.repairShard(ctx, name, version, shard, lost, "")
}

// MoveShard moves shard of name@version from node from to node to (a
// re-auction's winner, see Lifecycle) as RepairShard rebuilds it: the
// copy is made from a surviving holder or rebuilt, stored on to, and the
// holders replaced on the ledger with a compare-and-set.
func (s *Service) MoveShard(ctx context.Context, name, version string, shard int, from, to string) (*Repaired, error) {
	return s.repairShard(ctx, name, version, shard, []string{from}, to)
}

// repairShard is RepairShard, onto target when it is not empty.
func (s *Service) repairShard(ctx context.Context, name, version string, shard int, lost []string, target string) (*Repaired, error) {
	m, err := s.ledger.GetManifest(ctx, name, version)
	if err != nil {
		return nil, ledgerErr(err)
	}
	if m.IsPurged() || shard < 0 || shard >= len(m.Shards) {
		return nil, nil
	}
	l, err := codec.LayoutFromManifest(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	expected := m.Shards[shard].Nodes
	var gone, kept []string
	for _, id := range expected {
		if slices.Contains(lost, id) {
			gone = append(gone, id)
		} else {
			kept = append(kept, id)
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	if ok, err := s.mayRepair(ctx, m, gone); err != nil || !ok {
		return nil, err
	}
	want, err := codec.ParseHash(m.Shards[shard].Hash)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	data, err := s.rebuild(ctx, m, l, shard, kept, want)
	if err != nil {
		return nil, err
	}
	// Choose the new holder among usable, healthy nodes.
	usable, err := s.usableNodes(ctx, l.ShardSize())
	if err != nil {
		return nil, err
	}
	var cands []placement.Node
	for _, n := range usable.candidates {
		if slices.Contains(lost, n.ID) {
			continue
		}
		if s.topo != nil {
			if h, _, _ := s.topo.Node(n.ID); h == HealthFailed || h == HealthSuspect {
				continue
			}
		}
		cands = append(cands, n)
	}
	p := make(placement.Placement, len(m.Shards))
	for i, sh := range m.Shards {
		p[i] = slices.DeleteFunc(slices.Clone(sh.Nodes), func(id string) bool { return slices.Contains(lost, id) })
	}
	req := placement.Request{K: m.K, M: m.M, R: max(1, len(expected)), ShardSize: l.ShardSize(), Seed: m.Name, Orgs: map[string]string{}}
	if target == "" {
		if all, err := s.Nodes(ctx); err == nil {
			for _, n := range all { // the organisations of holders out of reach count too
				req.Orgs[n.ID] = n.Org
			}
		}
		if target, err = placement.Replace(req, p, shard, cands); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoPlacement, err)
		}
	} else if usable.byID[target] == nil {
		return nil, fmt.Errorf("%w: node %s is not usable (unregistered, inactive or full)", ErrNoPlacement, target)
	}
	agent, err := s.agents.Agent(usable.byID[target])
	if err != nil {
		return nil, fmt.Errorf("%w: node %s: %w", ErrUpload, target, err)
	}
	if err := putWhole(ctx, agent, name, data, m.Shards[shard].Hash); err != nil {
		return nil, fmt.Errorf("%w: node %s: %w", ErrUpload, target, err)
	}
	holders := append(slices.Clone(kept), target)
	slices.Sort(holders)
	rec, err := s.ledger.UpdateShardHolders(ctx, name, version, shard, expected, holders)
	if err != nil {
		lost := lostRace(err)
		err = ledgerErr(err)
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrForbidden) {
			// Not recorded: the copy is withdrawn unless the ledger lists
			// the node anyway.
			if cur, gerr := s.ledger.GetManifest(ctx, name, version); gerr != nil || !slices.Contains(cur.Shards[shard].Nodes, target) {
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AgentTimeout)
				_ = agent.DeleteShard(dctx, ShardRef{Hash: m.Shards[shard].Hash, Name: name, Version: version, Index: shard})
				cancel()
			}
		}
		if lost {
			// Another gateway repaired it first.
			return nil, fmt.Errorf("%w: %s shard %d: %w", ErrRepairLost, m, shard, err)
		}
		return nil, err
	}
	s.manifests.drop(name + "@")
	s.manifests.drop(name + "@" + version)
	s.free.drop(target)
	s.log.Info("shard repaired", "object", m.String(), "shard", shard, "lost", gone, "newHolder", target, "tx", rec.UpdateTxID)
	return &Repaired{Name: name, Version: version, Shard: shard, Lost: gone, NewHolder: target, TxID: rec.UpdateTxID}, nil
}

// mayRepair mirrors the chaincode's rule for manifest:UpdateHolders (see
// chaincode/contract mayReplaceHolders): this gateway's organisation may
// replace the holders of its own objects, and of others' objects only the
// holders that are its own nodes or deactivated. A shard it may not repair
// is left to the owner's gateways (false, nil) instead of being rebuilt and
// refused.
func (s *Service) mayRepair(ctx context.Context, m *records.Manifest, gone []string) (bool, error) {
	msp := s.ledger.MSPID()
	if m.Publisher == msp {
		return true, nil
	}
	for _, id := range gone {
		n, err := s.nodeByID(ctx, id)
		if errors.Is(err, errUnregistered) {
			continue
		}
		if err != nil {
			return false, err
		}
		if n.Org != msp && n.Active() {
			return false, nil
		}
	}
	return true, nil
}

// rebuild returns shard i's bytes: copied from a surviving holder when one
// has a good copy, else reconstructed from k other shards.
func (s *Service) rebuild(ctx context.Context, m *records.Manifest, l codec.Layout, i int, kept []string, want codec.Hash) ([]byte, error) {
	for _, id := range kept {
		b, _, err := s.fetchFrom(ctx, m.Shards[i], id, 0, l.ShardSize()) // kept: a pooled buffer is left to the GC
		if err == nil && codec.VerifyShard(b, want) {
			return b, nil
		}
	}
	others := *m
	others.Shards = slices.Clone(m.Shards)
	others.Shards[i].Nodes = nil                                          // never read the shard being rebuilt
	shards, _, _, err := s.fetch(ctx, &others, l, 0, l.ShardSize(), true) // kept: its buffers are left to the GC
	if err != nil {
		return nil, err
	}
	b, err := codec.RebuildShard(l, shards, i, want)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return b, nil
}

// putWhole stores a whole shard on an agent.
func putWhole(ctx context.Context, a Agent, object string, data []byte, hash string) error {
	w, err := a.PutShard(ctx, object, int64(len(data)))
	if err != nil {
		return err
	}
	if err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Commit(hash)
}

// RepairConfig tunes the repair loop.
type RepairConfig struct {
	// Interval between scans of every manifest.
	Interval time.Duration
	// DeadAfter is how long a holder must have been failed (per the
	// mesh) or inactive on the ledger before its shards are rebuilt.
	DeadAfter time.Duration
}

// Repairer runs the self-healing loop of one gateway: periodic scans for
// shards held by nodes dead for longer than DeadAfter, and the corrupt
// copies reported by reads.
type Repairer struct {
	svc   *Service
	cfg   RepairConfig
	queue chan RepairRequest

	mu          sync.Mutex
	failedSince map[string]time.Time
	repaired    []Repaired
}

// NewRepairer returns a repairer of svc; pass its Queue to WithRepairQueue.
func NewRepairer(cfg RepairConfig) *Repairer {
	return &Repairer{cfg: cfg, queue: make(chan RepairRequest, 256), failedSince: map[string]time.Time{}}
}

// Queue receives corrupt-copy reports.
func (r *Repairer) Queue() chan<- RepairRequest { return r.queue }

// Repaired lists the repairs this gateway recorded, oldest first.
func (r *Repairer) Repaired() []Repaired {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.repaired)
}

// Run repairs until ctx ends.
func (r *Repairer) Run(ctx context.Context, svc *Service) {
	r.svc = svc
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-r.queue:
			r.repair(ctx, req.Name, req.Version, req.Shard, []string{req.Node})
		case <-t.C:
			r.scan(ctx)
		}
	}
}

func (r *Repairer) repair(ctx context.Context, name, version string, shard int, lost []string) {
	res, err := r.svc.RepairShard(ctx, name, version, shard, lost)
	switch {
	case errors.Is(err, ErrRepairLost):
		r.svc.metrics.Repair("lost")
		r.svc.log.Info("repair done by another gateway", "object", name+"@"+version, "shard", shard)
	case err != nil:
		r.svc.metrics.Repair("error")
		r.svc.log.Warn("repair failed; retried at the next scan", "object", name+"@"+version, "shard", shard, "err", err)
	case res != nil:
		r.svc.metrics.Repair("ok")
		r.mu.Lock()
		r.repaired = append(r.repaired, *res)
		r.mu.Unlock()
	}
}

// dead lists the nodes whose shards must be rebuilt: failed in the mesh
// for longer than DeadAfter, or deactivated on the ledger.
func (r *Repairer) dead(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	nodes, err := r.svc.Nodes(ctx)
	if err != nil {
		return out
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range nodes {
		if !n.Active() {
			out[n.ID] = true
			continue
		}
		if r.svc.topo == nil {
			continue
		}
		if h, _, _ := r.svc.topo.Node(n.ID); h == HealthFailed {
			since, ok := r.failedSince[n.ID]
			if !ok {
				r.failedSince[n.ID] = now
				continue
			}
			if now.Sub(since) >= r.cfg.DeadAfter {
				out[n.ID] = true
			}
		} else {
			delete(r.failedSince, n.ID)
		}
	}
	return out
}

// scan rebuilds every shard copy held by a dead node.
func (r *Repairer) scan(ctx context.Context) {
	dead := r.dead(ctx)
	if len(dead) == 0 {
		return
	}
	objs, err := r.svc.ledger.ListObjects(ctx)
	if err != nil {
		r.svc.log.Warn("repair scan: list objects", "err", err)
		return
	}
	for _, o := range objs {
		ms, err := r.svc.ledger.ManifestVersions(ctx, o.Name)
		if err != nil {
			continue
		}
		for _, m := range ms {
			if m.IsPurged() {
				continue
			}
			for i, sh := range m.Shards {
				var lost []string
				for _, id := range sh.Nodes {
					if dead[id] && !r.contracted(ctx, m, id) {
						lost = append(lost, id)
					}
				}
				if len(lost) > 0 && ctx.Err() == nil {
					r.repair(ctx, m.Name, m.Version, i, lost)
				}
			}
		}
	}
}

// contracted reports whether the shards node holds of m are left to the
// contract lifecycle: m was placed by auction, this gateway runs
// auctions, and the node is deactivated on the ledger, so that its
// contracts are re-auctioned and its shards move onto the winners
// (Lifecycle) rather than onto a node without a contract.
func (r *Repairer) contracted(ctx context.Context, m *records.Manifest, node string) bool {
	if m.Auction == "" || r.svc.auction == nil {
		return false
	}
	n, err := r.svc.nodeByID(ctx, node)
	return err == nil && !n.Active()
}
