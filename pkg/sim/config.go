package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/dct-network/dct/gateway/content"
)

// ErrConfig is returned for an invalid configuration.
var ErrConfig = errors.New("sim: invalid configuration")

// ZoneLevel is what a node registers as its placement zone.
type ZoneLevel string

// Zone levels: the node's country (ISO 3166 code), its tz area
// (continent-like: Europe, America, Asia...) or its city.
const (
	ZoneCountry ZoneLevel = "country"
	ZoneArea    ZoneLevel = "area"
	ZoneCity    ZoneLevel = "city"
)

// Validate checks the level.
func (z ZoneLevel) Validate() error {
	switch z {
	case ZoneCountry, ZoneArea, ZoneCity:
		return nil
	}
	return fmt.Errorf("%w: zone level %q (want country, area or city)", ErrConfig, string(z))
}

func (z ZoneLevel) String() string { return string(z) }

// PlacementMode is how objects get their holders.
type PlacementMode string

// Placement modes: the gateways' placement (gateway/placement.Place) or
// a storage auction cleared by the chaincode's records.ClearAuction.
const (
	PlaceGateway PlacementMode = "place"
	PlaceAuction PlacementMode = "auction"
)

// Validate checks the mode.
func (p PlacementMode) Validate() error {
	switch p {
	case PlaceGateway, PlaceAuction:
		return nil
	}
	return fmt.Errorf("%w: placement %q (want place or auction)", ErrConfig, string(p))
}

func (p PlacementMode) String() string { return string(p) }

// Config is one simulated world and workload.
type Config struct {
	// Seed makes a run deterministic: the same seed and configuration
	// give the same figures.
	Seed uint64
	// Nodes is the number of edge nodes, each placed around a city
	// (chosen by weight) within JitterKM.
	Nodes    int
	JitterKM float64
	// Edges are the numbers of edge sites compared: for each K, K
	// centralized PoPs (anycast to the nearest, one origin) and DCT with K
	// gateways at the same cities.
	Edges []int
	// Objects, their size, and the Zipf exponent of their popularity.
	Objects     int
	ObjectBytes int64
	Zipf        float64
	// Requests is the number of requests; RequestRate their total rate
	// (the simulated clock, which the hedge delay's window follows).
	Requests    int
	RequestRate float64
	// CacheObjects is each edge's cache (PoP and gateway alike), in
	// objects, LRU; 0: none (dynamic content, every request goes to the
	// data).
	CacheObjects int
	// K, M, R: DCT's redundancy (data, parity shards, holders per shard).
	K, M, R int
	// Zone is what nodes register as their zone; Placement how objects
	// get holders; AuctionBidders how many nodes (drawn at random) bid in
	// each auction.
	Zone           ZoneLevel
	Placement      PlacementMode
	AuctionBidders int
	// NodeBytes is each node's storage.
	NodeBytes int64
	// EstimateError is the relative error of a gateway's RTT estimate
	// (the mesh's Vivaldi coordinates): uniform in ±EstimateError, fixed
	// per gateway and node.
	EstimateError float64
	// Hedging and the SLA routing band, as the gateway's (content.Config).
	Hedge                            bool
	HedgeMin, HedgeMax, HedgeDefault time.Duration
	ScoreBand                        time.Duration
	Latency                          Latency
}

// DefaultConfig is the full run's world: 10,000 nodes, 1,000,000
// requests, K = 25, 100, 300, the gateway's own redundancy and hedging
// defaults.
func DefaultConfig() Config {
	g := content.DefaultConfig()
	return Config{
		Seed: 1, Nodes: 10_000, JitterKM: 50,
		Edges:   []int{25, 100, 300},
		Objects: 2_000, ObjectBytes: 100 << 10, Zipf: 0.8,
		Requests: 1_000_000, RequestRate: 10_000,
		CacheObjects: 0,
		K:            g.K, M: g.M, R: g.R,
		Zone: ZoneCountry, Placement: PlaceGateway, AuctionBidders: 200,
		NodeBytes:     1 << 40,
		EstimateError: 0.2,
		Hedge:         g.Hedge, HedgeMin: g.HedgeMin, HedgeMax: g.HedgeMax, HedgeDefault: g.HedgeDefault,
		ScoreBand: content.DefaultScoreBand,
		Latency:   DefaultLatency(),
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if err := c.Zone.Validate(); err != nil {
		return err
	}
	if err := c.Placement.Validate(); err != nil {
		return err
	}
	if err := c.Latency.Validate(); err != nil {
		return err
	}
	switch {
	case c.Nodes < 1 || c.Nodes > 1_000_000:
		return fmt.Errorf("%w: nodes must be in 1..1000000, got %d", ErrConfig, c.Nodes)
	case len(c.Edges) == 0:
		return fmt.Errorf("%w: no edge count", ErrConfig)
	case c.Objects < 1 || c.ObjectBytes < int64(c.K):
		return fmt.Errorf("%w: objects and object size must be positive", ErrConfig)
	case !(c.Zipf >= 0):
		return fmt.Errorf("%w: zipf exponent must not be negative", ErrConfig)
	case c.Requests < 1 || !(c.RequestRate > 0):
		return fmt.Errorf("%w: requests and request rate must be positive", ErrConfig)
	case c.CacheObjects < 0:
		return fmt.Errorf("%w: cache must not be negative", ErrConfig)
	case c.K < 2 || c.M < 0 || c.R < 1:
		return fmt.Errorf("%w: k must be at least 2, m at least 0, r at least 1", ErrConfig)
	case c.AuctionBidders < 1:
		return fmt.Errorf("%w: auction bidders must be positive", ErrConfig)
	case c.NodeBytes < 1 || c.JitterKM < 0:
		return fmt.Errorf("%w: node storage must be positive, jitter not negative", ErrConfig)
	case c.EstimateError < 0 || c.EstimateError >= 1:
		return fmt.Errorf("%w: estimate error must be in [0, 1)", ErrConfig)
	case c.HedgeMin <= 0 || c.HedgeMax < c.HedgeMin || c.HedgeDefault <= 0 || c.ScoreBand <= 0:
		return fmt.Errorf("%w: hedge delays and score band must be positive with min <= max", ErrConfig)
	}
	for _, k := range c.Edges {
		if k < 1 {
			return fmt.Errorf("%w: edge count %d", ErrConfig, k)
		}
	}
	return nil
}

// String summarises the configuration.
func (c Config) String() string {
	return fmt.Sprintf("seed %d, %d nodes (zone %s, placement %s), edges %v, %d objects of %d B (zipf %.2f), %d requests, cache %d objects/edge, k=%d m=%d r=%d, %s",
		c.Seed, c.Nodes, c.Zone, c.Placement, c.Edges, c.Objects, c.ObjectBytes, c.Zipf, c.Requests, c.CacheObjects, c.K, c.M, c.R, c.Latency)
}
