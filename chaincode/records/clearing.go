package records

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Clearing (ClearAuction) is deterministic: the same auction, reveals,
// nodes and scores give the same outcome on every peer and in an offline
// recomputation. Its rules:
//
// Eligible bids: revealed (a reveal exists, its hash matched the
// snapshot), the node registered and active, not excluded by the
// publisher (unreachable from it), not penalized for its SLA score
// (SLAStatePenalized), its registered zone among
// the auction's zones (when given), bandwidth ≥ MinBandwidthBps, capacity
// ≥ one shard (a bid's capacity and bandwidth count up to its node's
// registered storageBytes and bandwidthBps), storage price ≤ MaxStoragePerGBMonth and delivery price ≤
// MaxDeliveryPerMiB.
//
// Ranking, best first, by the integer cost
//
//	cost = (storage + delivery price) × MaxSLAScore / max(score, 1)
//	       × (1000 + min(km, 20000)/20) / 1000
//
// (the price divided by the SLA score as a fraction, plus 5% per 1000 km
// between the node's registered location and the auction's, when it has
// one; km is the great-circle distance rounded down), then by higher
// score, shorter distance, lower price, and the hex SHA-256 of the auction
// id, NUL and the node id (a tie-breaker that changes with every auction,
// so equal bids share the contracts over time), then node id.
//
// Allocation, greedy and spread first (as the gateways' placement, so
// that losing nodes loses as few shards as the bids allow): for each
// shard in order and each replica, among the eligible nodes holding the
// fewest shards of the object, the best-ranked one that does not hold the
// shard yet, holds fewer
// than MaxPerNode shards of the object, has capacity left for one more
// shard, whose zone holds fewer than ⌈slots / zones⌉ awards (zones:
// the distinct zones of the eligible bids), so that the shards spread
// over the zones bidding, and whose organisation (the node's owner)
// holds fewer than the organisations' cap: the smallest c such that the
// sum over the bidding organisations of min(c, their room) is at least
// the slots, a node's room being min(MaxPerNode, capacity / ShardSize),
// when c ≤ (shards − K) × replicas, so that losing every node of one
// organisation (a bank's site cut off) keeps the object readable; with
// too few organisations bidding for that, no organisation rule. When the
// greedy fill misses the slots under c (possible only with replicas), it
// is run again without the organisation rule.
//
// A re-auction (Auction.Replaces) awards one slot per replaced holding,
// in order, with the root's other live holdings (Replaces.Held) counted as
// held shards from the start (a node holding MaxPerNode shards of the
// object wins none, a holder of a shard does not win it again), the zone
// cap over the replaced slots only, and the node that loses its contracts
// for its score or for leaving is not eligible (a renewal's incumbents
// are).
//
// Pricing, uniform per component: the price of every contract is the
// first losing bid's (the best-ranked eligible bid that won nothing),
// capped by the auction's maximum, and never below the highest winning
// bid; with no losing bid, the highest winning bid.

// ClearInput is what ClearAuction reads from the ledger.
type ClearInput struct {
	Auction *Auction
	// Reveals are the auction's reveals (only those whose hash matched
	// the snapshot are ever stored).
	Reveals []*Reveal
	// Nodes are the registered nodes by id; Scores the SLA scores by node
	// (absent: UnscoredSLA).
	Nodes  map[string]*Node
	Scores map[string]SLAScore
}

// Ranked is an eligible bid with its ranking figures.
type Ranked struct {
	Terms BidTerms `json:"terms"`
	Zone  string   `json:"zone"`
	Score int64    `json:"score"`
	KM    int64    `json:"km"`
	Cost  int64    `json:"cost"`
	// Tie is the per-auction tie-breaker (tieBreak).
	Tie string `json:"tie"`
}

// Outcome is the result of ClearAuction: the awards and uniform prices,
// or the reason why the auction cannot clear (Failure; no awards).
type Outcome struct {
	Ranked            []Ranked
	Awards            []Award
	StoragePerGBMonth int64
	DeliveryPerMiB    int64
	Failure           string
}

// ClearAuction computes the outcome of an auction from its reveals.
func ClearAuction(in ClearInput) Outcome {
	a := in.Auction
	var out Outcome
	allowed := map[string]bool{}
	for _, z := range a.Zones {
		allowed[z] = true
	}
	excluded := map[string]bool{}
	for _, n := range a.Exclude {
		excluded[n] = true
	}
	snap := map[string]bool{}
	for _, b := range a.Bids {
		snap[b.Node] = true
	}
	var unrevealed, inactive, unreachable, barred, penalized, zone, bandwidth, capacity, price int
	revealed := map[string]*Reveal{}
	for _, r := range in.Reveals {
		if snap[r.Terms.Node] {
			revealed[r.Terms.Node] = r
		}
	}
	zones := map[string]bool{}
	for _, b := range a.Bids {
		r, ok := revealed[b.Node]
		if !ok {
			unrevealed++
			continue
		}
		n := in.Nodes[b.Node]
		t := r.Terms
		if n != nil {
			// A bid offers at most what its node registered.
			t.CapacityBytes = min(t.CapacityBytes, n.StorageBytes)
			t.BandwidthBps = min(t.BandwidthBps, n.BandwidthBps)
		}
		switch {
		case !n.Active():
			inactive++
			continue
		case excluded[b.Node]:
			unreachable++
			continue
		case a.Replaces.Barred(b.Node):
			barred++
			continue
		case len(allowed) > 0 && !allowed[n.Zone]:
			zone++
			continue
		case t.BandwidthBps < a.MinBandwidthBps:
			bandwidth++
			continue
		case t.CapacityBytes < a.ShardSize:
			capacity++
			continue
		case t.StoragePerGBMonth > a.MaxStoragePerGBMonth || t.DeliveryPerMiB > a.MaxDeliveryPerMiB:
			price++
			continue
		}
		s, ok := in.Scores[b.Node]
		if !ok {
			s = UnscoredSLA(b.Node)
		}
		if s.State == SLAStatePenalized {
			penalized++
			continue
		}
		rk := Ranked{Terms: t, Zone: n.Zone, Score: max(min(s.Score, MaxSLAScore), 1), KM: -1}
		if a.HasLocation {
			rk.KM = distanceKM(a.Latitude, a.Longitude, n.Latitude, n.Longitude)
		}
		rk.Cost = rankCost(t.StoragePerGBMonth+t.DeliveryPerMiB, rk.Score, rk.KM)
		out.Ranked = append(out.Ranked, rk)
		zones[n.Zone] = true
	}
	for i := range out.Ranked {
		out.Ranked[i].Tie = tieBreak(a.ID, out.Ranked[i].Terms.Node)
	}
	slices.SortFunc(out.Ranked, func(x, y Ranked) int {
		return cmp.Or(cmp.Compare(x.Cost, y.Cost), cmp.Compare(y.Score, x.Score), cmp.Compare(x.KM, y.KM),
			cmp.Compare(x.Terms.StoragePerGBMonth+x.Terms.DeliveryPerMiB, y.Terms.StoragePerGBMonth+y.Terms.DeliveryPerMiB),
			strings.Compare(x.Tie, y.Tie), strings.Compare(x.Terms.Node, y.Terms.Node))
	})
	slots := a.Slots()
	zoneCap := slots
	if len(zones) > 0 {
		zoneCap = (slots + len(zones) - 1) / len(zones)
	}
	maxPer := a.MaxPerNode()
	// The organisations' cap (see the rules above): the smallest number
	// of awards per organisation its eligible nodes can fill the object's
	// slots under, counting for a re-auction the holdings that stay as
	// filled; dropped if the greedy fill misses the slots under it.
	orgOf := func(node string) string {
		if n := in.Nodes[node]; n != nil {
			return n.Org
		}
		return ""
	}
	orgs := make([]string, len(out.Ranked))
	room := map[string]int{}
	for i, r := range out.Ranked {
		orgs[i] = orgOf(r.Terms.Node)
		room[orgs[i]] += int(min(int64(maxPer), r.Terms.CapacityBytes/max(a.ShardSize, 1)))
	}
	heldOrg := map[string]int{}
	for _, w := range heldAwards(a) {
		heldOrg[orgOf(w.Node)]++
	}
	for o, n := range heldOrg {
		room[o] += n
	}
	total := slots + len(heldAwards(a))
	orgCap := orgAwardCap(room, total)
	if orgCap > (a.Shards-a.K)*a.Replicas {
		orgCap = total // too few organisations to survive the loss of one: no rule
	}
	awards, won, filled := allocate(a, out.Ranked, orgs, heldOrg, maxPer, zoneCap, orgCap)
	if filled < slots && orgCap < total {
		awards, won, filled = allocate(a, out.Ranked, orgs, heldOrg, maxPer, zoneCap, total)
	}
	if filled < slots {
		zl := make([]string, 0, len(zones))
		for z := range zones {
			zl = append(zl, z)
		}
		slices.Sort(zl)
		need := (slots + maxPer - 1) / maxPer
		out.Failure = fmt.Sprintf("%s can fill %d of %d shard contracts (%d shards × %d holders, at most %d per node, at most %d per zone): "+
			"%d eligible bids, at least %d needed, in zones [%s]; of %d sealed bids %d were not revealed, %d nodes inactive, %d unreachable by the publisher, %d losing the contracts re-auctioned, %d penalized for their SLA score, "+
			"%d outside the zones [%s], %d below %d bps, %d with less than %d bytes of capacity, %d above the price cap (%d/GB-month, %d/MiB)",
			a, filled, slots, a.Shards, a.Replicas, maxPer, zoneCap,
			len(out.Ranked), need, strings.Join(zl, " "), len(a.Bids), unrevealed, inactive, unreachable, barred, penalized,
			zone, strings.Join(a.Zones, " "), bandwidth, a.MinBandwidthBps, capacity, a.ShardSize, price, a.MaxStoragePerGBMonth, a.MaxDeliveryPerMiB)
		return out
	}
	var maxS, maxD int64
	loser := -1
	for i, r := range out.Ranked {
		if won[i] {
			maxS, maxD = max(maxS, r.Terms.StoragePerGBMonth), max(maxD, r.Terms.DeliveryPerMiB)
		} else if loser < 0 {
			loser = i
		}
	}
	out.StoragePerGBMonth, out.DeliveryPerMiB = maxS, maxD
	if loser >= 0 {
		l := out.Ranked[loser].Terms
		out.StoragePerGBMonth = max(maxS, min(l.StoragePerGBMonth, a.MaxStoragePerGBMonth))
		out.DeliveryPerMiB = max(maxD, min(l.DeliveryPerMiB, a.MaxDeliveryPerMiB))
	}
	out.Awards = awards
	return out
}

// slotShards lists the shard of every slot the auction awards, in order:
// each shard Replicas times, or for a re-auction the shard of each
// replaced holding.
func slotShards(a *Auction) []int {
	var out []int
	if a.Replaces != nil {
		for _, w := range a.Replaces.Replaced {
			out = append(out, w.Shard)
		}
		return out
	}
	for shard := 0; shard < a.Shards; shard++ {
		for rep := 0; rep < a.Replicas; rep++ {
			out = append(out, shard)
		}
	}
	return out
}

// heldAwards are the holdings a re-auction leaves in place.
func heldAwards(a *Auction) []Award {
	if a.Replaces == nil {
		return nil
	}
	return a.Replaces.Held
}

// allocate awards the slots of a greedily, spread first (see ClearAuction),
// over the ranked bids, at most maxPer per node, zoneCap per zone (over the
// slots awarded) and orgCap per organisation (orgs[i]: the organisation of
// ranked[i]; heldOrg: the holdings a re-auction leaves, by organisation).
// For a re-auction the holdings that stay count as held shards from the
// start: a node holding maxPer shards of the object wins none, a holder of
// a shard does not win it again.
func allocate(a *Auction, ranked []Ranked, orgs []string, heldOrg map[string]int, maxPer, zoneCap, orgCap int) ([]Award, []bool, int) {
	rank := make(map[string]int, len(ranked))
	for i, r := range ranked {
		rank[r.Terms.Node] = i
	}
	held := make([]int, len(ranked))
	holders := map[int]map[int]bool{}
	for _, w := range heldAwards(a) {
		i, ok := rank[w.Node]
		if !ok {
			continue // not bidding: it cannot win anyway
		}
		held[i]++
		if holders[w.Shard] == nil {
			holders[w.Shard] = map[int]bool{}
		}
		holders[w.Shard][i] = true
	}
	left := make([]int64, len(ranked))
	for i, r := range ranked {
		left[i] = r.Terms.CapacityBytes
	}
	zoneLoad, orgLoad := map[string]int{}, map[string]int{}
	for o, n := range heldOrg {
		orgLoad[o] = n
	}
	var awards []Award
	won := make([]bool, len(ranked))
	filled := 0
	for _, shard := range slotShards(a) {
		hs := holders[shard]
		if hs == nil {
			hs = map[int]bool{}
			holders[shard] = hs
		}
		// Spread first: the best-ranked node among those holding the
		// fewest shards of the object.
		pick := -1
		for i, r := range ranked {
			if hs[i] || held[i] >= maxPer || left[i] < a.ShardSize || zoneLoad[r.Zone] >= zoneCap || orgLoad[orgs[i]] >= orgCap {
				continue
			}
			if pick < 0 || held[i] < held[pick] {
				pick = i
			}
		}
		if pick < 0 {
			continue
		}
		hs[pick] = true
		held[pick]++
		left[pick] -= a.ShardSize
		zoneLoad[ranked[pick].Zone]++
		orgLoad[orgs[pick]]++
		won[pick] = true
		awards = append(awards, Award{Shard: shard, Node: ranked[pick].Terms.Node})
		filled++
	}
	return awards, won, filled
}

// orgAwardCap is the smallest c with the sum over organisations of
// min(c, room) at least slots (slots when none is).
func orgAwardCap(room map[string]int, slots int) int {
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

// rankCost is the ranking cost of price at score and km (-1: no
// location): see ClearAuction. It cannot overflow: price ≤ 2·MaxBidPrice,
// × MaxSLAScore × 2000 < 2^63.
func rankCost(price, score, km int64) int64 {
	prox := int64(1000)
	if km > 0 {
		prox += min(km, 20000) / 20
	}
	return price * MaxSLAScore * prox / (score * 1000)
}

// distanceKM is the great-circle distance in km, rounded down (haversine,
// Earth radius 6371 km).
func distanceKM(lat1, lon1, lat2, lon2 float64) int64 {
	const rad = math.Pi / 180
	p1, p2 := lat1*rad, lat2*rad
	dp, dl := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	h = min(max(h, 0), 1)
	return int64(2 * 6371 * math.Asin(math.Sqrt(h)))
}

// tieBreak is the ranking's tie-breaker of node in auction.
func tieBreak(auction, node string) string {
	sum := sha256.Sum256([]byte(auction + "\x00" + node))
	return hex.EncodeToString(sum[:])
}
