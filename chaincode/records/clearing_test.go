package records

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// bidder is one bid of a clearing test: a node in zone at (lat, lon)
// offering storage+delivery prices, with an optional score.
type bidder struct {
	id       string
	zone     string
	lat, lon float64
	storage  int64
	delivery int64
	capacity int64
	bw       int64
	score    int64    // 0: unscored
	state    SLAState // with score; "" = ok
	inactive bool
	hidden   bool // not revealed
	// regStorage, when set, is the node's registered storage.
	regStorage int64
	org        string // the node's owner ("": none)
}

func clearInput(a AuctionInput, bs []bidder) ClearInput {
	if err := a.Validate(); err != nil {
		panic(err)
	}
	in := ClearInput{
		Auction: &Auction{ID: AuctionID("tx"), AuctionInput: a},
		Nodes:   map[string]*Node{}, Scores: map[string]SLAScore{},
	}
	for _, b := range bs {
		if b.capacity == 0 {
			b.capacity = 1 << 30
		}
		if b.bw == 0 {
			b.bw = 1e9
		}
		if b.zone == "" {
			b.zone = "z1"
		}
		st := NodeStatusActive
		if b.inactive {
			st = NodeStatusInactive
		}
		in.Nodes[b.id] = &Node{ID: b.id, Org: b.org, Zone: b.zone, Latitude: b.lat, Longitude: b.lon, Status: st, StorageBytes: 1 << 40, BandwidthBps: 1e12}
		if b.regStorage > 0 {
			in.Nodes[b.id].StorageBytes = b.regStorage
		}
		t := BidTerms{Node: b.id, StoragePerGBMonth: b.storage, DeliveryPerMiB: b.delivery, CapacityBytes: b.capacity, BandwidthBps: b.bw}
		in.Auction.Bids = append(in.Auction.Bids, SnapshotBid{Node: b.id})
		if !b.hidden {
			in.Reveals = append(in.Reveals, &Reveal{Terms: t})
		}
		if b.score > 0 {
			st := b.state
			if st == "" {
				st = SLAStateOK
			}
			in.Scores[b.id] = SLAScore{Node: b.id, Score: b.score, State: st}
		}
	}
	return in
}

func baseAuction() AuctionInput {
	return AuctionInput{Object: "o", Shards: 3, K: 2, ShardSize: 1000, TermSeconds: 3600, MaxStoragePerGBMonth: 100, MaxDeliveryPerMiB: 100}
}

// placementOf renders awards as "shard:node ..." in award order.
func placementOf(ws []Award) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = fmt.Sprintf("%d:%s", w.Shard, w.Node)
	}
	return strings.Join(s, " ")
}

func TestClearAuction(t *testing.T) {
	tests := []struct {
		name    string
		auction func(*AuctionInput)
		bids    []bidder
		want    string // awards
		storage int64
		deliver int64
		failure []string // substrings; empty: must clear
	}{
		{
			name: "cheapest win, uniform price at the first losing bid",
			bids: []bidder{{id: "a", storage: 10, delivery: 1}, {id: "b", storage: 20, delivery: 2}, {id: "c", storage: 30, delivery: 3}, {id: "d", storage: 40, delivery: 4}},
			// k=2, m=1, r=1: at most 1 shard per node.
			want: "0:a 1:b 2:c", storage: 40, deliver: 4,
		},
		{
			name: "no losing bid: the highest winning bid",
			bids: []bidder{{id: "a", storage: 10, delivery: 5}, {id: "b", storage: 20, delivery: 2}, {id: "c", storage: 30, delivery: 3}},
			want: "0:a 1:b 2:c", storage: 30, deliver: 5,
		},
		{
			name: "the first losing bid is capped by the maximum price",
			auction: func(a *AuctionInput) {
				a.MaxStoragePerGBMonth, a.MaxDeliveryPerMiB = 35, 50
			},
			bids: []bidder{{id: "a", storage: 10}, {id: "b", storage: 20}, {id: "c", storage: 30}, {id: "d", storage: 35, delivery: 60}, {id: "e", storage: 34, delivery: 40}},
			// d is over the delivery cap; e is the first loser: 34 storage, 40 delivery.
			want: "0:a 1:b 2:c", storage: 34, deliver: 40,
		},
		{
			name: "a better score beats a slightly lower price",
			bids: []bidder{{id: "a", storage: 10, score: 5000}, {id: "b", storage: 12, score: 10000}, {id: "c", storage: 30}, {id: "d", storage: 40}},
			// cost a = 10·10000/5000 = 20, b = 12, c = 30·10000/8000 = 37 (unscored), d = 50.
			want: "0:b 1:a 2:c", storage: 40,
		},
		{
			name: "proximity: 5% per 1000 km",
			auction: func(a *AuctionInput) {
				a.HasLocation, a.Latitude, a.Longitude = true, 0, 0
			},
			bids: []bidder{{id: "far", storage: 10, lat: 0, lon: 90}, {id: "near", storage: 11}, {id: "c", storage: 30}, {id: "d", storage: 40}},
			// far: ~10007 km → ×1.5 = 15; near: 11.
			want: "0:near 1:far 2:c", storage: 40,
		},
		{
			name: "no node gets k or more shards",
			auction: func(a *AuctionInput) {
				a.Shards, a.K = 6, 4 // at most min(3, max(2,1)) = 2 per node
			},
			// Spread first: every bidder gets one before any gets two.
			bids: []bidder{{id: "a", storage: 1}, {id: "b", storage: 2}, {id: "c", storage: 3}, {id: "d", storage: 4}},
			want: "0:a 1:b 2:c 3:d 4:a 5:b", storage: 4,
		},
		{
			name: "spread first: the cheapest of more bidders than shards",
			auction: func(a *AuctionInput) {
				a.Shards, a.K = 6, 4
			},
			bids: []bidder{{id: "a", storage: 1}, {id: "b", storage: 2}, {id: "c", storage: 3}, {id: "d", storage: 4}, {id: "e", storage: 5}, {id: "f", storage: 6}, {id: "g", storage: 7}},
			want: "0:a 1:b 2:c 3:d 4:e 5:f", storage: 7,
		},
		{
			name: "equal bids share the contracts: fewest held first",
			auction: func(a *AuctionInput) {
				a.Shards, a.K = 6, 4 // at most 2 per node
			},
			bids: []bidder{{id: "a", storage: 5}, {id: "b", storage: 5}, {id: "c", storage: 5}, {id: "d", storage: 5}, {id: "e", storage: 5}, {id: "f", storage: 5}, {id: "x", storage: 9}},
			// Each of a..f gets one shard, in the auction's tie-break order.
			want: "", storage: 9,
		},
		{
			name: "replicas go to distinct nodes",
			auction: func(a *AuctionInput) {
				a.Shards, a.K, a.Replicas = 2, 2, 2 // 4 slots, at most 1 per node (k-1)
			},
			bids: []bidder{{id: "a", storage: 1}, {id: "b", storage: 2}, {id: "c", storage: 3}, {id: "d", storage: 4}, {id: "e", storage: 5}},
			want: "0:a 0:b 1:c 1:d", storage: 5,
		},
		{
			name: "zone spread: at most ceil(slots/zones) per zone",
			auction: func(a *AuctionInput) {
				a.Shards, a.K = 4, 2 // 4 slots, 1 per node, 2 zones → 2 per zone
			},
			bids: []bidder{{id: "a1", storage: 1, zone: "a"}, {id: "a2", storage: 2, zone: "a"}, {id: "a3", storage: 3, zone: "a"}, {id: "b1", storage: 9, zone: "b"}, {id: "b2", storage: 10, zone: "b"}},
			want: "0:a1 1:a2 2:b1 3:b2", storage: 10,
		},
		{
			name: "capacity: a node takes only as many shards as it offered room for",
			auction: func(a *AuctionInput) {
				a.Shards, a.K = 6, 4
			},
			bids: []bidder{{id: "a", storage: 1, capacity: 1500}, {id: "b", storage: 2}, {id: "c", storage: 3}, {id: "d", storage: 4}},
			want: "0:a 1:b 2:c 3:d 4:b 5:c", storage: 4,
		},
		{
			name: "too few bids: the error names what is missing",
			auction: func(a *AuctionInput) {
				a.Zones = []string{"z1", "z2"}
				a.MinBandwidthBps = 100
				a.Exclude = []string{"h"}
			},
			bids: []bidder{{id: "a", storage: 1}, {id: "b", storage: 500}, {id: "c", zone: "z9"}, {id: "d", bw: 10}, {id: "e", capacity: 10}, {id: "f", inactive: true}, {id: "g", hidden: true}, {id: "h"},
				{id: "p", storage: 1, score: 9000, state: SLAStatePenalized}},
			failure: []string{"can fill 1 of 3", "1 eligible bids, at least 3 needed", "1 were not revealed", "1 nodes inactive", "1 unreachable by the publisher",
				"1 penalized for their SLA score", "1 outside the zones [z1 z2]",
				"1 below 100 bps", "1 with less than 1000 bytes", "1 above the price cap"},
		},
		{
			name: "a bid over its node's registered storage counts only that",
			auction: func(a *AuctionInput) {
				a.Shards, a.K = 6, 4
			},
			bids: []bidder{{id: "a", storage: 1, capacity: 1 << 30, regStorage: 1500}, {id: "b", storage: 2}, {id: "c", storage: 3}, {id: "d", storage: 4}},
			want: "0:a 1:b 2:c 3:d 4:b 5:c", storage: 4,
		},
		{
			name:    "no reveal at all",
			bids:    []bidder{{id: "a", hidden: true}},
			failure: []string{"can fill 0 of 3", "1 were not revealed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := baseAuction()
			if tt.auction != nil {
				tt.auction(&a)
			}
			in := clearInput(a, tt.bids)
			out := ClearAuction(in)
			if len(tt.failure) > 0 {
				if out.Failure == "" || len(out.Awards) != 0 {
					t.Fatalf("cleared %s, want a failure", placementOf(out.Awards))
				}
				for _, s := range tt.failure {
					if !strings.Contains(out.Failure, s) {
						t.Errorf("failure %q lacks %q", out.Failure, s)
					}
				}
				return
			}
			if out.Failure != "" {
				t.Fatalf("failed: %s", out.Failure)
			}
			if got := placementOf(out.Awards); tt.want != "" && got != tt.want {
				t.Errorf("awards %s, want %s", got, tt.want)
			}
			if tt.want == "" {
				// Spread: no node has two shards while an equal bid has none.
				for _, w := range out.Awards {
					if held := strings.Count(placementOf(out.Awards)+" ", ":"+w.Node+" "); held != 1 {
						t.Errorf("%s holds %d shards of %s", w.Node, held, placementOf(out.Awards))
					}
				}
				tt.want = placementOf(out.Awards)
			}
			if out.StoragePerGBMonth != tt.storage || out.DeliveryPerMiB != tt.deliver {
				t.Errorf("prices %d/%d, want %d/%d", out.StoragePerGBMonth, out.DeliveryPerMiB, tt.storage, tt.deliver)
			}
			// Every winner is paid at least its bid; the K-rule holds.
			held := map[string]int{}
			for _, w := range out.Awards {
				held[w.Node]++
				if held[w.Node] >= a.K {
					t.Errorf("%s holds %d shards, k=%d", w.Node, held[w.Node], a.K)
				}
				for _, b := range tt.bids {
					if b.id == w.Node && (b.storage > out.StoragePerGBMonth || b.delivery > out.DeliveryPerMiB) {
						t.Errorf("winner %s bid %d/%d above the price %d/%d", b.id, b.storage, b.delivery, out.StoragePerGBMonth, out.DeliveryPerMiB)
					}
				}
			}
			// Deterministic: the same input in another order gives the same outcome.
			reversed := slices.Clone(tt.bids)
			slices.Reverse(reversed)
			rev := clearInput(a, reversed)
			if got := placementOf(ClearAuction(rev).Awards); got != tt.want {
				t.Errorf("reordered input gives %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBidHash(t *testing.T) {
	terms := BidTerms{Node: "n1-orga", StoragePerGBMonth: 5, DeliveryPerMiB: 1, CapacityBytes: 1 << 30, BandwidthBps: 1e9}
	salt := strings.Repeat("ab", BidSaltBytes)
	h1, err := BidHash(terms, salt)
	if err != nil {
		t.Fatal(err)
	}
	other := terms
	other.StoragePerGBMonth = 6
	h2, _ := BidHash(other, salt)
	h3, _ := BidHash(terms, strings.Repeat("cd", BidSaltBytes))
	if h1 == h2 || h1 == h3 || len(h1) != 64 {
		t.Fatalf("hashes %s %s %s: want distinct 64-hex", h1, h2, h3)
	}
	for _, bad := range []string{"", "ab", strings.Repeat("AB", BidSaltBytes), strings.Repeat("zz", BidSaltBytes), strings.Repeat("ab", BidSaltBytes+1)} {
		if _, err := BidHash(terms, bad); CodeOf(err) != CodeInvalid {
			t.Errorf("salt %q: %v, want INVALID_ARGUMENT", bad, err)
		}
	}
}

func TestAuctionInputValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*AuctionInput)
		want   string
	}{
		{"ok", func(*AuctionInput) {}, ""},
		{"k too small", func(a *AuctionInput) { a.K = 1 }, "k must be"},
		{"shards below k", func(a *AuctionInput) { a.Shards = 1 }, "shards must be"},
		{"too many shards", func(a *AuctionInput) { a.Shards = MaxShards + 1 }, "shards must be"},
		{"replicas", func(a *AuctionInput) { a.Replicas = MaxReplicas + 1 }, "replicas"},
		{"shard size", func(a *AuctionInput) { a.ShardSize = 0 }, "shardSize"},
		{"term", func(a *AuctionInput) { a.TermSeconds = MaxTermSeconds + 1 }, "termSeconds"},
		{"price", func(a *AuctionInput) { a.MaxStoragePerGBMonth = MaxBidPrice + 1 }, "maxStoragePerGBMonth"},
		{"negative price", func(a *AuctionInput) { a.MaxDeliveryPerMiB = -1 }, "maxDeliveryPerMiB"},
		{"reveal window", func(a *AuctionInput) { a.RevealSeconds = MaxRevealSeconds + 1 }, "revealSeconds"},
		{"bad zone", func(a *AuctionInput) { a.Zones = []string{"bad zone"} }, "zone"},
		{"duplicate zone", func(a *AuctionInput) { a.Zones = []string{"z", "z"} }, "twice"},
		{"location without flag", func(a *AuctionInput) { a.Latitude = 1 }, "hasLocation"},
		{"latitude", func(a *AuctionInput) { a.HasLocation, a.Latitude = true, 91 }, "latitude"},
		{"object", func(a *AuctionInput) { a.Object = "../x" }, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := baseAuction()
			tt.mutate(&a)
			err := a.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if CodeOf(err) != CodeInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want INVALID_ARGUMENT with %q", err, tt.want)
			}
		})
	}
}

// BenchmarkClearAuction clears an auction of 12 shards over n revealed
// bids in 8 zones (the clearing alone, without the ledger reads).
func BenchmarkClearAuction(b *testing.B) {
	for _, n := range []int{50, 500, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			bs := make([]bidder, n)
			for i := range bs {
				bs[i] = bidder{id: fmt.Sprintf("n%d", i), zone: fmt.Sprintf("z%d", i%8), storage: int64(i%97 + 1), delivery: int64(i % 7), score: int64(5000 + i%5000),
					lat: float64(i%180 - 90), lon: float64(i%360 - 180)}
			}
			a := baseAuction()
			a.Shards, a.K, a.HasLocation, a.Latitude, a.Longitude = 12, 8, true, 47, 8
			in := clearInput(a, bs)
			b.ResetTimer()
			for range b.N {
				if out := ClearAuction(in); out.Failure != "" {
					b.Fatal(out.Failure)
				}
			}
		})
	}
}

// TestClearAuctionOrgCap: no organisation wins more awards than the
// organisations' cap, M × replicas when enough organisations bid, so that
// an object stays readable when every node of one organisation is lost
// (a bank's site cut off); with too few organisations for that, there is
// no organisation rule.
func TestClearAuctionOrgCap(t *testing.T) {
	k4m2 := AuctionInput{Object: "o", Shards: 6, K: 4, ShardSize: 1000, TermSeconds: 3600, MaxStoragePerGBMonth: 100, MaxDeliveryPerMiB: 100}
	k4m2r2 := k4m2
	k4m2r2.Replicas = 2
	// bank lists bidders of org, one zone each, the cheapest first.
	bank := func(org string, price int64, n int) []bidder {
		var out []bidder
		for i := 0; i < n; i++ {
			out = append(out, bidder{id: fmt.Sprintf("%s-%d", org, i), org: org, zone: fmt.Sprintf("%s-z%d", org, i), storage: price + int64(i), delivery: 1})
		}
		return out
	}
	// small gives bidders room for one shard.
	small := func(bs []bidder) []bidder {
		for i := range bs {
			bs[i].capacity = k4m2.ShardSize
		}
		return bs
	}
	tests := []struct {
		name    string
		a       AuctionInput
		bids    []bidder
		wantMax int // most awards of one organisation
		orgs    int // organisations with awards
	}{
		// BankA is cheapest with three agents: spread by node and zone
		// alone gives it 3 of 6 (5 zones bid: 2 awards a zone).
		{"3 banks, cheap bank with 3 agents", k4m2, slices.Concat(bank("A", 1, 3), bank("B", 10, 1), bank("C", 20, 1)), 2, 3},
		{"3 banks of 2", k4m2, slices.Concat(bank("A", 1, 2), bank("B", 10, 2), bank("C", 20, 2)), 2, 3},
		{"6 banks", k4m2, slices.Concat(bank("A", 1, 2), bank("B", 2, 1), bank("C", 3, 1), bank("D", 4, 1), bank("E", 5, 1), bank("F", 6, 1)), 1, 6},
		{"2 banks: no org rule (zones spread them)", k4m2, slices.Concat(bank("A", 1, 3), bank("B", 10, 3)), 3, 2},
		{"3 banks, two with room for one shard: no org rule", k4m2, slices.Concat(bank("A", 1, 5), small(bank("B", 10, 1)), small(bank("C", 20, 1))), 5, 2},
		{"replicas over 3 banks", k4m2r2, slices.Concat(bank("A", 1, 4), bank("B", 10, 2), bank("C", 20, 2)), 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := clearInput(tt.a, tt.bids)
			out := ClearAuction(in)
			if out.Failure != "" {
				t.Fatal(out.Failure)
			}
			if len(out.Awards) != in.Auction.Slots() {
				t.Fatalf("%d awards, want %d", len(out.Awards), in.Auction.Slots())
			}
			load := map[string]int{}
			for _, w := range out.Awards {
				load[in.Nodes[w.Node].Org]++
			}
			most := 0
			for _, n := range load {
				most = max(most, n)
			}
			if most != tt.wantMax || len(load) != tt.orgs {
				t.Fatalf("awards per organisation %v: most %d over %d, want %d over %d (%s)", load, most, len(load), tt.wantMax, tt.orgs, placementOf(out.Awards))
			}
			if again := ClearAuction(clearInput(tt.a, tt.bids)); placementOf(again.Awards) != placementOf(out.Awards) {
				t.Fatalf("not deterministic: %s then %s", placementOf(out.Awards), placementOf(again.Awards))
			}
		})
	}
}
