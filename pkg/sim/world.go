package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/placement"
)

// node is one simulated edge node.
type node struct {
	id   string
	at   Point
	city int32
	zone string
	free int64
	// price is the node's standing bid (tokens per GB-month and per MiB).
	price int64
	down  bool
}

// World is a planet of cities, nodes and edge sites, with every object
// placed by DCT's own placement code.
type World struct {
	cfg    Config
	cities []City
	// cityKM is the distance between cities (cities only, never nodes).
	cityKM [][]float64
	// cityCDF draws a city by weight.
	cityCDF []float64
	nodes   []node
	byID    map[string]int32
	// order is the greedy k-median order of cities: the first K are the
	// K edge sites; order[0] (the 1-median) is the single origin.
	order []int32
	// nearest[K][city] is the position in order of city's nearest of the
	// first K sites.
	nearest map[int][]int32
	// holders[object][shard] are the nodes holding each shard.
	holders   [][][]int32
	shardSize int64
	zipfCDF   []float64
}

// Build makes the world of cfg over cities: nodes around cities, edge
// sites, and every object placed.
func Build(cfg Config, cities []City) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cities) == 0 {
		return nil, fmt.Errorf("%w: no cities", ErrConfig)
	}
	w := &World{cfg: cfg, cities: cities, byID: map[string]int32{}, nearest: map[int][]int32{}}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	w.cityKM = make([][]float64, len(cities))
	for i := range cities {
		w.cityKM[i] = make([]float64, len(cities))
		for j := range cities {
			w.cityKM[i][j] = DistanceKM(cities[i].Lat, cities[i].Lon, cities[j].Lat, cities[j].Lon)
		}
	}
	w.cityCDF = cdf(len(cities), func(i int) float64 { return cities[i].Weight })
	w.order = kMedianOrder(w.cityKM, cities)
	for _, k := range cfg.Edges {
		w.nearest[k] = w.nearestOf(min(k, len(w.order)))
	}
	for i := range cfg.Nodes {
		c := w.drawCity(rng.Float64())
		at := Point{cities[c].Lat, cities[c].Lon}.jitter(cfg.JitterKM, rng.Float64(), rng.Float64())
		n := node{id: fmt.Sprintf("n%06d", i), at: at, city: int32(c), free: cfg.NodeBytes, price: 10 + rng.Int64N(90)}
		switch cfg.Zone {
		case ZoneCountry:
			n.zone = cities[c].Country
		case ZoneArea:
			n.zone = cities[c].Area
		default:
			n.zone = fmt.Sprintf("c%d", c)
		}
		w.byID[n.id] = int32(i)
		w.nodes = append(w.nodes, n)
	}
	w.shardSize = (cfg.ObjectBytes + int64(cfg.K) - 1) / int64(cfg.K)
	w.zipfCDF = cdf(cfg.Objects, func(i int) float64 { return 1 / math.Pow(float64(i+1), cfg.Zipf) })
	if err := w.placeAll(rng); err != nil {
		return nil, err
	}
	return w, nil
}

// cdf is the cumulative distribution of n weights, normalised.
func cdf(n int, weight func(int) float64) []float64 {
	out := make([]float64, n)
	sum := 0.0
	for i := range n {
		sum += weight(i)
		out[i] = sum
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func draw(cdf []float64, u float64) int {
	return min(sort.SearchFloat64s(cdf, u), len(cdf)-1)
}

func (w *World) drawCity(u float64) int { return draw(w.cityCDF, u) }

// kMedianOrder orders cities greedily: first the one minimising the
// weighted distance of all users to it, then each time the one that
// lowers the users' distance to their nearest chosen city most.
func kMedianOrder(km [][]float64, cities []City) []int32 {
	n := len(cities)
	best := make([]float64, n) // each city's distance to its nearest chosen one
	for i := range best {
		best[i] = math.Inf(1)
	}
	chosen := make([]bool, n)
	var order []int32
	for len(order) < n {
		pick, pickCost := -1, math.Inf(1)
		for c := range n {
			if chosen[c] {
				continue
			}
			cost := 0.0
			for u := range n {
				cost += cities[u].Weight * min(best[u], km[u][c])
			}
			if cost < pickCost {
				pick, pickCost = c, cost
			}
		}
		chosen[pick] = true
		order = append(order, int32(pick))
		for u := range n {
			best[u] = min(best[u], km[u][pick])
		}
	}
	return order
}

// nearestOf maps each city to the position of its nearest of the first k
// sites.
func (w *World) nearestOf(k int) []int32 {
	out := make([]int32, len(w.cities))
	for c := range w.cities {
		b := 0
		for i := 1; i < k; i++ {
			if w.cityKM[c][w.order[i]] < w.cityKM[c][w.order[b]] {
				b = i
			}
		}
		out[c] = int32(b)
	}
	return out
}

// Site is the location of the i-th edge site (order[i]).
func (w *World) Site(i int) Point {
	c := w.cities[w.order[i]]
	return Point{c.Lat, c.Lon}
}

// SiteCity is the city of the i-th edge site.
func (w *World) SiteCity(i int) City { return w.cities[w.order[i]] }

// placeAll places every object: with the gateways' placement
// (placement.Place over every node with room, as a gateway's publish
// does) or by an auction cleared by records.ClearAuction.
func (w *World) placeAll(rng *rand.Rand) error {
	req := placement.Request{K: w.cfg.K, M: w.cfg.M, R: w.cfg.R, ShardSize: w.shardSize}
	cands := make([]placement.Node, len(w.nodes))
	w.holders = make([][][]int32, w.cfg.Objects)
	for o := range w.cfg.Objects {
		name := objectName(o)
		var p placement.Placement
		var err error
		if w.cfg.Placement == PlaceAuction {
			p, err = w.auction(rng, o)
		} else {
			for i, n := range w.nodes {
				cands[i] = placement.Node{ID: n.id, Zone: n.zone, FreeBytes: n.free}
			}
			req.Seed = name
			p, err = placement.Place(req, cands)
		}
		if err != nil {
			return fmt.Errorf("sim: placing %s: %w", name, err)
		}
		w.holders[o] = make([][]int32, len(p))
		for s, ids := range p {
			for _, id := range ids {
				i := w.byID[id]
				w.nodes[i].free -= w.shardSize
				w.holders[o][s] = append(w.holders[o][s], i)
			}
		}
	}
	return nil
}

func objectName(o int) string { return fmt.Sprintf("obj/%06d", o) }

// auction opens an auction for object o at a publisher's city (drawn by
// weight) with AuctionBidders nodes' standing bids (drawn at random), all
// revealed, and clears it with the chaincode's records.ClearAuction.
func (w *World) auction(rng *rand.Rand, o int) (placement.Placement, error) {
	c := w.cities[w.drawCity(rng.Float64())]
	a := &records.Auction{
		ID: fmt.Sprintf("%064x", o),
		AuctionInput: records.AuctionInput{
			Object: objectName(o), Shards: w.cfg.K + w.cfg.M, K: w.cfg.K, Replicas: w.cfg.R,
			ShardSize: w.shardSize, TermSeconds: 30 * 86400,
			MaxStoragePerGBMonth: 1000, MaxDeliveryPerMiB: 1000,
			HasLocation: true, Latitude: c.Lat, Longitude: c.Lon,
		},
	}
	in := records.ClearInput{Auction: a, Nodes: map[string]*records.Node{}, Scores: map[string]records.SLAScore{}}
	bidders := min(w.cfg.AuctionBidders, len(w.nodes))
	seen := map[int]bool{}
	for len(seen) < bidders {
		i := rng.IntN(len(w.nodes))
		if seen[i] {
			continue
		}
		seen[i] = true
	}
	ids := make([]int, 0, bidders)
	for i := range seen {
		ids = append(ids, i)
	}
	slices.Sort(ids)
	for _, i := range ids {
		n := w.nodes[i]
		a.Bids = append(a.Bids, records.SnapshotBid{Node: n.id})
		in.Reveals = append(in.Reveals, &records.Reveal{Auction: a.ID, Terms: records.BidTerms{
			Node: n.id, StoragePerGBMonth: n.price, DeliveryPerMiB: n.price, CapacityBytes: n.free, BandwidthBps: 1e9}})
		in.Nodes[n.id] = &records.Node{ID: n.id, Status: records.NodeStatusActive, Zone: n.zone, Latitude: n.at.Lat, Longitude: n.at.Lon,
			StorageBytes: n.free, BandwidthBps: 1e9}
	}
	out := records.ClearAuction(in)
	if out.Failure != "" {
		return nil, fmt.Errorf("%w: auction: %s", placement.ErrImpossible, out.Failure)
	}
	p := make(placement.Placement, a.Shards)
	for _, aw := range out.Awards {
		p[aw.Shard] = append(p[aw.Shard], aw.Node)
	}
	return p, nil
}
