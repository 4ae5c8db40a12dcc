package placement

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"sort"
)

// ErrImpossible is returned when no placement satisfies the rules.
var ErrImpossible = errors.New("no placement satisfies the rules")

// Node is a candidate holder. Org is its owning organisation (its MSP
// id): the failure domain a bank's site or network partition takes out
// whole ("" for every node: no org rule).
type Node struct {
	ID        string
	Zone      string
	Org       string
	FreeBytes int64
}

// Request describes what to place.
type Request struct {
	// K and M are the data and parity shard counts.
	K, M int
	// R is the number of distinct holders per shard (>= 1).
	R int
	// ShardSize is the byte size of every shard.
	ShardSize int64
	// Seed varies tie-breaking per object (for example its name).
	Seed string
	// Orgs names the organisation of holders that are not among the
	// candidate nodes (Replace: a kept holder the gateway cannot reach).
	Orgs map[string]string
}

// Placement lists, per shard index, the ids of its holders.
type Placement [][]string

// String renders the placement as "0:[a b] 1:[c]".
func (p Placement) String() string {
	s := ""
	for i, h := range p {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d:%v", i, h)
	}
	return s
}

// MaxPerNode is the most shards of one object a node may hold: fewer than K,
// so that no node can rebuild the object, and, without replication, at most
// max(M, 1), so that losing any one node never loses more shards than the
// parity covers. With R >= 2 another holder keeps every shard of a lost node.
func (r Request) MaxPerNode() int {
	if r.R >= 2 {
		return r.K - 1
	}
	return min(r.K-1, max(r.M, 1))
}

// OrgCap is the most holder slots of one object the nodes of one
// organisation may take: the smallest cap c the organisations' nodes can
// fill the (K+M)×R slots under, each node taking at most MaxPerNode and
// as many as its free bytes allow, when c ≤ M×R, so that the loss of one
// organisation's nodes together (a site partition) keeps at least K
// shards with a holder. With too few organisations for that there is no
// organisation rule: the cap is all the slots.
func (r Request) OrgCap(nodes []Node) int {
	room := map[string]int{}
	seen := map[string]bool{}
	for _, n := range nodes {
		if seen[n.ID] || n.FreeBytes < r.ShardSize {
			continue
		}
		seen[n.ID] = true
		k := r.MaxPerNode()
		if r.ShardSize > 0 {
			k = int(min(int64(k), n.FreeBytes/r.ShardSize))
		}
		room[n.Org] += k
	}
	slots := (r.K + r.M) * r.R
	if c := orgCap(room, slots); c <= r.M*r.R {
		return c
	}
	return slots
}

// orgCap is the smallest c with sum over orgs of min(c, room) >= slots
// (slots when none is).
func orgCap(room map[string]int, slots int) int {
	for c := 1; c < slots; c++ {
		n := 0
		for _, k := range room {
			n += min(c, k)
		}
		if n >= slots {
			return c
		}
	}
	return slots
}

// Place returns a placement of r over nodes. Nodes without room for a shard
// are not used. No organisation takes more than OrgCap slots when the
// greedy fill manages it (always without replication); otherwise the
// placement is made again without the organisation rule, as the auction's
// clearing does (records.ClearAuction).
func Place(r Request, nodes []Node) (Placement, error) {
	if p, err := place(r, nodes, r.OrgCap(nodes)); err == nil {
		return p, nil
	}
	return place(r, nodes, (r.K+r.M)*r.R)
}

func place(r Request, nodes []Node, orgMax int) (Placement, error) {
	if r.K < 2 || r.M < 0 || r.R < 1 {
		return nil, fmt.Errorf("%w: k=%d m=%d r=%d (k must be at least 2 so that no node holds k shards)", ErrImpossible, r.K, r.M, r.R)
	}
	total := r.K + r.M
	type cand struct {
		Node
		held int
		tie  uint64
	}
	var cands []*cand
	seen := map[string]bool{}
	for _, n := range nodes {
		if seen[n.ID] || n.FreeBytes < r.ShardSize {
			continue
		}
		seen[n.ID] = true
		h := fnv.New64a()
		h.Write([]byte(r.Seed))
		h.Write([]byte{0})
		h.Write([]byte(n.ID))
		cands = append(cands, &cand{Node: n, tie: h.Sum64()})
	}
	maxPer := r.MaxPerNode()
	if len(cands) < r.R || len(cands)*maxPer < total*r.R {
		return nil, fmt.Errorf("%w: %d shards × %d holders need at least %d usable nodes holding at most %d each, have %d",
			ErrImpossible, total, r.R, (total*r.R+maxPer-1)/maxPer, maxPer, len(cands))
	}
	zoneLoad, orgLoad := map[string]int{}, map[string]int{}
	out := make(Placement, total)
	for i := 0; i < total; i++ {
		for rep := 0; rep < r.R; rep++ {
			var best *cand
			for _, c := range cands {
				if c.held >= maxPer || orgLoad[c.Org] >= orgMax || contains(out[i], c.ID) {
					continue
				}
				if best == nil || better(c.held, zoneLoad[c.Zone], c.FreeBytes, c.tie, best.held, zoneLoad[best.Zone], best.FreeBytes, best.tie) {
					best = c
				}
			}
			if best == nil {
				return nil, fmt.Errorf("%w: shard %d has no node left for holder %d", ErrImpossible, i, rep+1)
			}
			out[i] = append(out[i], best.ID)
			best.held++
			best.FreeBytes -= r.ShardSize
			zoneLoad[best.Zone]++
			orgLoad[best.Org]++
		}
		sort.Strings(out[i])
	}
	return out, nil
}

// better orders candidates: fewest shards of this object, then least-loaded
// zone, then most free space, then the per-object tie-breaker.
func better(held, zone int, free int64, tie uint64, bHeld, bZone int, bFree int64, bTie uint64) bool {
	if held != bHeld {
		return held < bHeld
	}
	if zone != bZone {
		return zone < bZone
	}
	if free != bFree {
		return free > bFree
	}
	return tie < bTie
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Replace chooses a new holder for shard of an existing placement p, from
// which the lost holders were already removed: a node that does not hold
// the shard yet and holds fewer than MaxPerNode shards of the object,
// preferring nodes of the organisation holding the fewest slots of it (so
// that repair keeps the object readable after the loss of any one
// organisation's nodes, as Place does), then nodes with the fewest shards
// of it, then the least-loaded zone, then the most free space. Nodes
// without room are skipped.
func Replace(r Request, p Placement, shard int, nodes []Node) (string, error) {
	if shard < 0 || shard >= len(p) {
		return "", fmt.Errorf("%w: no shard %d in a placement of %d", ErrImpossible, shard, len(p))
	}
	held := map[string]int{}
	zoneOf, orgOf := map[string]string{}, maps.Clone(r.Orgs)
	if orgOf == nil {
		orgOf = map[string]string{}
	}
	for _, n := range nodes {
		zoneOf[n.ID], orgOf[n.ID] = n.Zone, n.Org
	}
	zoneLoad, orgLoad := map[string]int{}, map[string]int{}
	for _, holders := range p {
		for _, id := range holders {
			held[id]++
			zoneLoad[zoneOf[id]]++
			if o, ok := orgOf[id]; ok {
				orgLoad[o]++
			}
		}
	}
	maxPer := r.MaxPerNode()
	var best *Node
	var bestTie uint64
	for i := range nodes {
		n := &nodes[i]
		if n.FreeBytes < r.ShardSize || held[n.ID] >= maxPer || contains(p[shard], n.ID) {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(r.Seed))
		h.Write([]byte{0})
		h.Write([]byte(n.ID))
		tie := h.Sum64()
		if best == nil || orgLoad[n.Org] < orgLoad[best.Org] || orgLoad[n.Org] == orgLoad[best.Org] &&
			better(held[n.ID], zoneLoad[n.Zone], n.FreeBytes, tie, held[best.ID], zoneLoad[best.Zone], best.FreeBytes, bestTie) {
			best, bestTie = n, tie
		}
	}
	if best == nil {
		return "", fmt.Errorf("%w: no node can take shard %d (each holds %d shards of the object already, holds the shard, or lacks room)", ErrImpossible, shard, maxPer)
	}
	return best.ID, nil
}

// Check verifies a placement chosen elsewhere (an auction's contracts)
// against the rules Place follows: K+M shards, each with R distinct
// holders, every holder among nodes with room for its shards, and no node
// holding more than MaxPerNode shards.
func Check(r Request, p Placement, nodes []Node) error {
	if r.K < 2 || r.M < 0 || r.R < 1 {
		return fmt.Errorf("%w: k=%d m=%d r=%d", ErrImpossible, r.K, r.M, r.R)
	}
	if len(p) != r.K+r.M {
		return fmt.Errorf("%w: %d shards placed, want %d", ErrImpossible, len(p), r.K+r.M)
	}
	free := map[string]int64{}
	for _, n := range nodes {
		free[n.ID] = n.FreeBytes
	}
	held := map[string]int{}
	for i, holders := range p {
		if len(holders) != r.R {
			return fmt.Errorf("%w: shard %d has %d holders, want %d", ErrImpossible, i, len(holders), r.R)
		}
		for j, id := range holders {
			if contains(holders[:j], id) {
				return fmt.Errorf("%w: shard %d names %s twice", ErrImpossible, i, id)
			}
			f, ok := free[id]
			if !ok {
				return fmt.Errorf("%w: shard %d: node %s is not usable", ErrImpossible, i, id)
			}
			if f < r.ShardSize {
				return fmt.Errorf("%w: shard %d: node %s lacks room", ErrImpossible, i, id)
			}
			free[id] = f - r.ShardSize
			held[id]++
			if held[id] > r.MaxPerNode() {
				return fmt.Errorf("%w: node %s holds %d shards, at most %d", ErrImpossible, id, held[id], r.MaxPerNode())
			}
		}
	}
	return nil
}
