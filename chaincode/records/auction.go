package records

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Sealed bids, auctions and storage contracts (issue 11).
//
// A node's bid is a standing offer, sealed by commit–reveal: the public
// ledger holds only BidHash(terms, salt) under BidKey(node) (SealedBid);
// the terms and salt stay with the bidder (its agent, and optionally a
// copy encrypted under a key of the bidder's organisation in
// SealedBid.Opening, so that the organisation's gateways can reveal for an
// agent that does not). Opening an auction snapshots the sealed bids;
// each bidder reveals under its own key, RevealKey(auction, node);
// clearing (ClearAuction, deterministic) awards the shard slots and writes
// one Contract per slot under ContractKey(auction, shard, node).

// Composite key object types: [node] for bids, [auction] for auctions,
// [auction, node] for reveals and [auction, shard, node] for contracts.
const (
	BidKeyType      = "dct.auction.bid"
	AuctionKeyType  = "dct.auction"
	RevealKeyType   = "dct.auction.reveal"
	ContractKeyType = "dct.contract"
)

// AuctionEventName is the chaincode event auction:Open and auction:Clear
// set (payload AuctionEvent): agents reveal on "open", gateways learn the
// outcome on "cleared" or "failed".
const AuctionEventName = "dct.auction"

// Limits of bids and auctions.
const (
	// MaxBidPrice caps every price of a bid or an auction, in tokens.
	MaxBidPrice int64 = 1_000_000_000
	// MaxBidCapacity caps a bid's offered capacity (1 PiB).
	MaxBidCapacity int64 = 1 << 50
	// MaxBidBandwidth caps a bid's offered bandwidth (1 Tbit/s).
	MaxBidBandwidth int64 = 1_000_000_000_000
	// MaxOpeningBytes bounds the encrypted opening a bid may carry.
	MaxOpeningBytes = 2048
	// MaxAuctionZones bounds the allowed zones of an auction.
	MaxAuctionZones = 32
	// MaxAuctionExclude bounds the nodes an auction excludes.
	MaxAuctionExclude = 1024
	// MaxReplicas bounds the holders per shard an auction asks for.
	MaxReplicas = 8
	// MinRevealSeconds..MaxRevealSeconds bound the reveal window;
	// DefaultRevealSeconds is used when the input gives none.
	MinRevealSeconds     = 1
	MaxRevealSeconds     = 60
	DefaultRevealSeconds = 5
	// MaxTermSeconds bounds a contract's term (10 years).
	MaxTermSeconds int64 = 10 * 366 * 24 * 3600
	// BidSaltBytes is the salt length of a sealed bid.
	BidSaltBytes = 32
	// MaxAuctionBids bounds the sealed bids one auction snapshots; the
	// rest (by node id) are left out.
	MaxAuctionBids = 20_000
)

// BidTerms is a node's offer, revealed in clear only after an auction
// opened. Prices are in tokens: StoragePerGBMonth for 10^9 bytes stored
// for 30 days, DeliveryPerMiB for 1 MiB delivered (PriceUnitBytes, the
// consortium price's unit, so that payouts need no conversion). CapacityBytes is
// the storage offered, BandwidthBps the bandwidth (bits per second). The
// zone and location that count are the node's registered ones.
type BidTerms struct {
	Node              string `json:"node"`
	StoragePerGBMonth int64  `json:"storagePerGBMonth"`
	DeliveryPerMiB    int64  `json:"deliveryPerMiB"`
	CapacityBytes     int64  `json:"capacityBytes"`
	BandwidthBps      int64  `json:"bandwidthBps"`
}

// Validate checks the terms.
func (t *BidTerms) Validate() error {
	if t == nil {
		return invalidf("bid terms are missing")
	}
	if err := ValidateNodeID(t.Node); err != nil {
		return err
	}
	if t.StoragePerGBMonth < 0 || t.StoragePerGBMonth > MaxBidPrice {
		return invalidf("storagePerGBMonth must be in 0..%d, got %d", MaxBidPrice, t.StoragePerGBMonth)
	}
	if t.DeliveryPerMiB < 0 || t.DeliveryPerMiB > MaxBidPrice {
		return invalidf("deliveryPerMiB must be in 0..%d, got %d", MaxBidPrice, t.DeliveryPerMiB)
	}
	if t.CapacityBytes <= 0 || t.CapacityBytes > MaxBidCapacity {
		return invalidf("capacityBytes must be in 1..%d, got %d", MaxBidCapacity, t.CapacityBytes)
	}
	if t.BandwidthBps <= 0 || t.BandwidthBps > MaxBidBandwidth {
		return invalidf("bandwidthBps must be in 1..%d, got %d", MaxBidBandwidth, t.BandwidthBps)
	}
	return nil
}

// String is "node: s/GB-month, d/GB, capacity, bandwidth".
func (t BidTerms) String() string {
	return fmt.Sprintf("%s: %d/GB-month %d/MiB %dB %dbps", t.Node, t.StoragePerGBMonth, t.DeliveryPerMiB, t.CapacityBytes, t.BandwidthBps)
}

// BidHash is the commitment of terms under salt (hex, BidSaltBytes bytes):
// hex SHA-256 of "dct-bid-v1", NUL, the salt bytes, NUL and the terms'
// JSON encoding (the field order of BidTerms).
func BidHash(t BidTerms, saltHex string) (string, error) {
	salt, err := hex.DecodeString(saltHex)
	if err != nil || len(salt) != BidSaltBytes || hex.EncodeToString(salt) != saltHex {
		return "", invalidf("salt must be %d bytes as lowercase hex", BidSaltBytes)
	}
	body, err := json.Marshal(t)
	if err != nil {
		return "", invalidf("bid terms: %v", err)
	}
	h := sha256.New()
	h.Write([]byte("dct-bid-v1\x00"))
	h.Write(salt)
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// BidInput is what auction:Bid takes: the node, the commitment and,
// optionally, the opening encrypted for the bidder's organisation.
type BidInput struct {
	Node    string `json:"node"`
	Hash    string `json:"hash"`
	Opening string `json:"opening,omitempty" metadata:",optional"`
}

// Validate checks the input.
func (in *BidInput) Validate() error {
	if in == nil {
		return invalidf("bid input is missing")
	}
	if err := ValidateNodeID(in.Node); err != nil {
		return err
	}
	if err := validateSHA256Hex("hash", in.Hash); err != nil {
		return err
	}
	if len(in.Opening) > MaxOpeningBytes {
		return invalidf("opening must be at most %d bytes, got %d", MaxOpeningBytes, len(in.Opening))
	}
	if in.Opening != "" && !base64Re.MatchString(in.Opening) {
		return invalidf("opening must be standard base64")
	}
	return nil
}

var base64Re = regexp.MustCompile(`^[A-Za-z0-9+/]+={0,2}$`)

// BidStatus says whether a standing bid takes part in new auctions.
type BidStatus string

// Bid states.
const (
	BidActive    BidStatus = "active"
	BidWithdrawn BidStatus = "withdrawn"
)

// String returns the status text.
func (s BidStatus) String() string { return string(s) }

// SealedBid is the public record of a node's standing bid, under
// BidKey(node). Seq counts its changes.
type SealedBid struct {
	Node      string    `json:"node"`
	Org       string    `json:"org"`
	Hash      string    `json:"hash"`
	Opening   string    `json:"opening,omitempty" metadata:",optional"`
	Seq       int64     `json:"seq"`
	Status    BidStatus `json:"status"`
	UpdatedAt string    `json:"updatedAt"`
	TxID      string    `json:"txId"`
}

// BidKey returns the ledger key of a node's bid.
func BidKey(node string) (string, error) {
	if err := ValidateNodeID(node); err != nil {
		return "", err
	}
	return CompositeKey(BidKeyType, node)
}

// AuctionInput is what auction:Open takes: what to place and the
// publisher's limits. Shards is the shard count (k+m) of one object, K the
// data shards (no node may get K or more), Replicas the holders per shard
// (0: 1). MaxStoragePerGBMonth and MaxDeliveryPerMiB cap the prices. Zones,
// when given, are the only zones allowed. Latitude/Longitude, when
// HasLocation, is where the content is requested (proximity). The auction
// may clear RevealSeconds (0: DefaultRevealSeconds) after it opened, or as
// soon as every snapshotted bid is revealed.
type AuctionInput struct {
	Object               string   `json:"object"`
	Shards               int      `json:"shards"`
	K                    int      `json:"k"`
	Replicas             int      `json:"replicas,omitempty" metadata:",optional"`
	ShardSize            int64    `json:"shardSize"`
	TermSeconds          int64    `json:"termSeconds"`
	Zones                []string `json:"zones,omitempty" metadata:",optional"`
	MinBandwidthBps      int64    `json:"minBandwidthBps,omitempty" metadata:",optional"`
	MaxStoragePerGBMonth int64    `json:"maxStoragePerGBMonth"`
	MaxDeliveryPerMiB    int64    `json:"maxDeliveryPerMiB"`
	HasLocation          bool     `json:"hasLocation,omitempty" metadata:",optional"`
	Latitude             float64  `json:"latitude,omitempty" metadata:",optional"`
	Longitude            float64  `json:"longitude,omitempty" metadata:",optional"`
	RevealSeconds        int      `json:"revealSeconds,omitempty" metadata:",optional"`
	// Exclude names nodes the publisher cannot reach (its agents do not
	// answer it): their bids win nothing.
	Exclude []string `json:"exclude,omitempty" metadata:",optional"`
	// SLAFloor is the contracts' SLA floor in basis points (0:
	// DefaultSLAFloor): a holder penalized below it loses them
	// (auction:Reopen, reason score).
	SLAFloor int64 `json:"slaFloor,omitempty" metadata:",optional"`
}

// Validate checks the input and fills the defaults (Replicas,
// RevealSeconds).
func (in *AuctionInput) Validate() error {
	if in == nil {
		return invalidf("auction input is missing")
	}
	if err := ValidateObjectName(in.Object); err != nil {
		return err
	}
	if in.Replicas == 0 {
		in.Replicas = 1
	}
	if in.RevealSeconds == 0 {
		in.RevealSeconds = DefaultRevealSeconds
	}
	if in.SLAFloor == 0 {
		in.SLAFloor = DefaultSLAFloor
	}
	switch {
	case in.SLAFloor < 1 || in.SLAFloor > DefaultSLAFloor:
		return invalidf("slaFloor must be in 1..%d (only a penalized node, below %d, loses its contracts), got %d", DefaultSLAFloor, DefaultSLAFloor, in.SLAFloor)
	case in.K < 2 || in.K > MaxK:
		return invalidf("k must be in 2..%d (no node may hold k shards), got %d", MaxK, in.K)
	case in.Shards < in.K || in.Shards > MaxShards:
		return invalidf("shards must be in k..%d, got %d", MaxShards, in.Shards)
	case in.Replicas < 1 || in.Replicas > MaxReplicas:
		return invalidf("replicas must be in 1..%d, got %d", MaxReplicas, in.Replicas)
	case in.ShardSize <= 0 || in.ShardSize > MaxShardBytes:
		return invalidf("shardSize must be in 1..%d, got %d", int64(MaxShardBytes), in.ShardSize)
	case in.TermSeconds <= 0 || in.TermSeconds > MaxTermSeconds:
		return invalidf("termSeconds must be in 1..%d, got %d", MaxTermSeconds, in.TermSeconds)
	case in.MinBandwidthBps < 0 || in.MinBandwidthBps > MaxBidBandwidth:
		return invalidf("minBandwidthBps must be in 0..%d, got %d", MaxBidBandwidth, in.MinBandwidthBps)
	case in.MaxStoragePerGBMonth < 0 || in.MaxStoragePerGBMonth > MaxBidPrice:
		return invalidf("maxStoragePerGBMonth must be in 0..%d, got %d", MaxBidPrice, in.MaxStoragePerGBMonth)
	case in.MaxDeliveryPerMiB < 0 || in.MaxDeliveryPerMiB > MaxBidPrice:
		return invalidf("maxDeliveryPerMiB must be in 0..%d, got %d", MaxBidPrice, in.MaxDeliveryPerMiB)
	case in.RevealSeconds < MinRevealSeconds || in.RevealSeconds > MaxRevealSeconds:
		return invalidf("revealSeconds must be in %d..%d, got %d", MinRevealSeconds, MaxRevealSeconds, in.RevealSeconds)
	case len(in.Zones) > MaxAuctionZones:
		return invalidf("at most %d zones, got %d", MaxAuctionZones, len(in.Zones))
	}
	if len(in.Exclude) > MaxAuctionExclude {
		return invalidf("at most %d excluded nodes, got %d", MaxAuctionExclude, len(in.Exclude))
	}
	for _, n := range in.Exclude {
		if err := ValidateNodeID(n); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, z := range in.Zones {
		if err := matchField("zone", z, zoneRe, ZonePattern); err != nil {
			return err
		}
		if seen[z] {
			return invalidf("zone %s is listed twice", quote(z))
		}
		seen[z] = true
	}
	if in.HasLocation {
		if in.Latitude != in.Latitude || in.Latitude < -90 || in.Latitude > 90 {
			return invalidf("latitude must be in -90..90, got %v", in.Latitude)
		}
		if in.Longitude != in.Longitude || in.Longitude < -180 || in.Longitude > 180 {
			return invalidf("longitude must be in -180..180, got %v", in.Longitude)
		}
	} else if in.Latitude != 0 || in.Longitude != 0 {
		return invalidf("latitude and longitude need hasLocation")
	}
	return nil
}

// MaxPerNode is the most shards of the object one node may win: fewer
// than K and, without replication, at most max(shards-K, 1), the rule of
// the gateways' placement.
func (in *AuctionInput) MaxPerNode() int {
	if in.Replicas >= 2 {
		return in.K - 1
	}
	return min(in.K-1, max(in.Shards-in.K, 1))
}

// Slots is the number of contracts the auction awards: shards × replicas.
func (in *AuctionInput) Slots() int { return in.Shards * in.Replicas }

// Slots is the number of contracts the auction awards: shards × replicas,
// or for a re-auction one per replaced holding.
func (a *Auction) Slots() int {
	if a.Replaces != nil {
		return len(a.Replaces.Replaced)
	}
	return a.AuctionInput.Slots()
}

// Root is the root of the placement the auction's contracts belong to:
// its own id, or for a re-auction the root it replaces holdings of.
func (a *Auction) Root() string {
	if a.Replaces != nil {
		return a.Replaces.Root
	}
	return a.ID
}

// AuctionStatus is where an auction stands.
type AuctionStatus string

// Auction states.
const (
	AuctionOpen    AuctionStatus = "open"
	AuctionCleared AuctionStatus = "cleared"
	AuctionFailed  AuctionStatus = "failed"
)

// String returns the status text.
func (s AuctionStatus) String() string { return string(s) }

// SnapshotBid is a sealed bid as an auction saw it when it opened.
type SnapshotBid struct {
	Node string `json:"node"`
	Org  string `json:"org"`
	Hash string `json:"hash"`
}

// Award is one contract an auction awarded: a holder of a shard.
type Award struct {
	Shard int    `json:"shard"`
	Node  string `json:"node"`
}

// Auction is the record of an auction, under AuctionKey(id); its id is
// AuctionID of the transaction id of auction:Open (OpenTxID).
type Auction struct {
	ID string `json:"id"`
	AuctionInput
	Publisher string        `json:"publisher"`
	OpenedBy  string        `json:"openedBy"`
	OpenedAt  string        `json:"openedAt"`
	OpenTxID  string        `json:"openTxId"`
	Deadline  string        `json:"deadline"`
	Status    AuctionStatus `json:"status"`
	Bids      []SnapshotBid `json:"bids"`
	// Set by auction:Clear.
	StoragePerGBMonth int64   `json:"storagePerGBMonth,omitempty" metadata:",optional"`
	DeliveryPerMiB    int64   `json:"deliveryPerMiB,omitempty" metadata:",optional"`
	Awards            []Award `json:"awards,omitempty" metadata:",optional"`
	Failure           string  `json:"failure,omitempty" metadata:",optional"`
	ClearedAt         string  `json:"clearedAt,omitempty" metadata:",optional"`
	ClearTxID         string  `json:"clearTxId,omitempty" metadata:",optional"`
	// Inputs are what auction:Clear read of each revealed bidder's node
	// and SLA score, by node: with the reveals, enough to recompute the
	// outcome exactly (ClearInputOf; dct audit verify-auction).
	Inputs []ClearingInput `json:"inputs,omitempty" metadata:",optional"`
	// Replaces, on a re-auction (auction:Reopen), is what it replaces.
	Replaces *Replacement `json:"replaces,omitempty" metadata:",optional"`
}

// ClearingInput is what auction:Clear read of a revealed bidder's node
// registration and SLA score (Scored false: none stored, UnscoredSLA).
type ClearingInput struct {
	Node         string     `json:"node"`
	Org          string     `json:"org"`
	Status       NodeStatus `json:"status"`
	Zone         string     `json:"zone"`
	Latitude     float64    `json:"latitude"`
	Longitude    float64    `json:"longitude"`
	StorageBytes int64      `json:"storageBytes"`
	BandwidthBps int64      `json:"bandwidthBps"`
	Scored       bool       `json:"scored"`
	ScoreEpoch   int64      `json:"scoreEpoch"`
	Score        int64      `json:"score"`
	State        SLAState   `json:"state"`
}

// NewClearingInput records node n and its score s (nil: unscored).
func NewClearingInput(n *Node, s *SLAScore) ClearingInput {
	in := ClearingInput{Node: n.ID, Org: n.Org, Status: n.Status, Zone: n.Zone, Latitude: n.Latitude, Longitude: n.Longitude,
		StorageBytes: n.StorageBytes, BandwidthBps: n.BandwidthBps}
	if s != nil {
		in.Scored, in.ScoreEpoch, in.Score, in.State = true, s.Epoch, s.Score, s.State
	}
	return in
}

// ClearInputOf rebuilds the input of auction:Clear from a cleared or
// failed auction's recorded Inputs and its reveals (those of the nodes it
// awaited, as auction:Clear reads them): ClearAuction of it is the stored
// outcome, unless the ledger was tampered with.
func ClearInputOf(a *Auction, reveals []*Reveal) ClearInput {
	awaited := map[string]bool{}
	for _, n := range a.Awaited() {
		awaited[n] = true
	}
	in := ClearInput{Auction: a, Reveals: []*Reveal{}, Nodes: map[string]*Node{}, Scores: map[string]SLAScore{}}
	for _, r := range reveals {
		if awaited[r.Terms.Node] {
			in.Reveals = append(in.Reveals, r)
		}
	}
	for _, x := range a.Inputs {
		in.Nodes[x.Node] = &Node{ID: x.Node, Org: x.Org, Status: x.Status, Zone: x.Zone, Latitude: x.Latitude, Longitude: x.Longitude,
			StorageBytes: x.StorageBytes, BandwidthBps: x.BandwidthBps}
		if x.Scored {
			in.Scores[x.Node] = SLAScore{Node: x.Node, Epoch: x.ScoreEpoch, Score: x.Score, State: x.State}
		}
	}
	return in
}

// String is "auction id for object".
func (a *Auction) String() string {
	if a == nil {
		return "<nil>"
	}
	return "auction " + a.ID + " for " + a.Object
}

// Awaited are the snapshotted bids the auction waits for: those of the
// nodes it does not exclude.
func (a *Auction) Awaited() []string {
	ex := map[string]bool{}
	for _, n := range a.Exclude {
		ex[n] = true
	}
	out := []string{}
	for _, b := range a.Bids {
		if !ex[b.Node] {
			out = append(out, b.Node)
		}
	}
	return out
}

// Placement returns the awards as holders per shard, each sorted.
func (a *Auction) Placement() [][]string {
	out := make([][]string, a.Shards)
	for _, w := range a.Awards {
		if w.Shard >= 0 && w.Shard < len(out) {
			out[w.Shard] = append(out[w.Shard], w.Node)
		}
	}
	for _, h := range out {
		slices.Sort(h)
	}
	return out
}

// AuctionKey returns the ledger key of an auction.
func AuctionKey(id string) (string, error) {
	if err := ValidateAuctionID(id); err != nil {
		return "", err
	}
	return CompositeKey(AuctionKeyType, id)
}

// AuctionID is the id of the auction opened by transaction txID: the hex
// SHA-256 of the transaction id.
func AuctionID(txID string) string {
	sum := sha256.Sum256([]byte("dct-auction\x00" + txID))
	return hex.EncodeToString(sum[:])
}

var auctionIDRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidateAuctionID checks an auction id: a Fabric transaction id (64
// lowercase hex characters).
func ValidateAuctionID(id string) error {
	if !auctionIDRe.MatchString(id) {
		return invalidf("auction id must be 64 lowercase hex characters (AuctionID), got %s", quote(id))
	}
	return nil
}

// RevealInput is what auction:Reveal takes.
type RevealInput struct {
	Auction string   `json:"auction"`
	Terms   BidTerms `json:"terms"`
	Salt    string   `json:"salt"`
}

// Validate checks the input.
func (in *RevealInput) Validate() error {
	if in == nil {
		return invalidf("reveal input is missing")
	}
	if err := ValidateAuctionID(in.Auction); err != nil {
		return err
	}
	if err := in.Terms.Validate(); err != nil {
		return err
	}
	_, err := BidHash(in.Terms, in.Salt)
	return err
}

// Reveal is a revealed bid, under RevealKey(auction, node).
type Reveal struct {
	Auction    string   `json:"auction"`
	Terms      BidTerms `json:"terms"`
	Salt       string   `json:"salt"`
	RevealedBy string   `json:"revealedBy"`
	RevealedAt string   `json:"revealedAt"`
	TxID       string   `json:"txId"`
}

// RevealKey returns the ledger key of a reveal.
func RevealKey(auction, node string) (string, error) {
	if err := ValidateAuctionID(auction); err != nil {
		return "", err
	}
	if err := ValidateNodeID(node); err != nil {
		return "", err
	}
	return CompositeKey(RevealKeyType, auction, node)
}

// Contract is a storage contract an auction awarded: node holds shard of
// object for the term, at the auction's uniform prices. Under
// ContractKey(auction, shard, node).
type Contract struct {
	Auction           string `json:"auction"`
	Object            string `json:"object"`
	Publisher         string `json:"publisher"`
	Shard             int    `json:"shard"`
	Node              string `json:"node"`
	Org               string `json:"org"`
	ShardSize         int64  `json:"shardSize"`
	StoragePerGBMonth int64  `json:"storagePerGBMonth"`
	DeliveryPerMiB    int64  `json:"deliveryPerMiB"`
	Start             string `json:"start"`
	End               string `json:"end"`
	TxID              string `json:"txId"`
	// Root is the placement the contract belongs to (Auction.Root), and
	// SLAFloor the auction's floor.
	Root     string `json:"root,omitempty" metadata:",optional"`
	SLAFloor int64  `json:"slaFloor,omitempty" metadata:",optional"`
	// EndedAt, EndReason, EndTxID and Successor are set when a
	// re-auction ended the contract before its term (see Holding).
	EndedAt   string    `json:"endedAt,omitempty" metadata:",optional"`
	EndReason EndReason `json:"endReason,omitempty" metadata:",optional"`
	EndTxID   string    `json:"endTxId,omitempty" metadata:",optional"`
	Successor string    `json:"successor,omitempty" metadata:",optional"`
}

// String is "node holds object#shard".
func (c *Contract) String() string {
	return c.Node + " holds " + c.Object + "#" + strconv.Itoa(c.Shard)
}

// ContractPriceKeyType keys a node's contracted delivery price for a
// publisher's content: [publisher, node].
const ContractPriceKeyType = "dct.contract.price"

// ContractPrice is the delivery price of the latest contract node won for
// publisher's content (auction:Clear writes it for every winner); the
// payouts of the node's deliveries of that publisher's content in an
// epoch that starts before End use it instead of the consortium price.
type ContractPrice struct {
	Publisher      string `json:"publisher"`
	Node           string `json:"node"`
	Auction        string `json:"auction"`
	Object         string `json:"object"`
	DeliveryPerMiB int64  `json:"deliveryPerMiB"`
	End            string `json:"end"`
	TxID           string `json:"txId"`
}

// ShardPad is the width of the shard attribute of ContractKey.
const ShardPad = 3

// ContractKey returns the ledger key of a contract.
func ContractKey(auction string, shard int, node string) (string, error) {
	if err := ValidateAuctionID(auction); err != nil {
		return "", err
	}
	if shard < 0 || shard >= MaxShards {
		return "", invalidf("shard must be in 0..%d, got %d", MaxShards-1, shard)
	}
	if err := ValidateNodeID(node); err != nil {
		return "", err
	}
	return CompositeKey(ContractKeyType, auction, fmt.Sprintf("%0*d", ShardPad, shard), node)
}

// AuctionEvent is the payload of an AuctionEventName event.
type AuctionEvent struct {
	Auction string        `json:"auction"`
	Object  string        `json:"object"`
	Status  AuctionStatus `json:"status"`
	// Nodes are, on "open", the nodes whose bids the auction snapshotted
	// and awaits (Auction.Awaited).
	Nodes []string `json:"nodes,omitempty"`
}

// DecodeAuctionEvent parses and checks an auction event payload.
func DecodeAuctionEvent(payload []byte) (AuctionEvent, error) {
	var e AuctionEvent
	if len(payload) > 4<<20 {
		return e, invalidf("auction event payload of %d bytes is too large", len(payload))
	}
	if err := json.Unmarshal(payload, &e); err != nil {
		return e, invalidf("auction event payload: %v", err)
	}
	if err := ValidateAuctionID(e.Auction); err != nil {
		return e, err
	}
	return e, nil
}

// DecodeBidInput, DecodeAuctionInput and DecodeRevealInput decode caller
// JSON, refusing unknown fields and trailing data, and validate it.
func DecodeBidInput(data []byte) (*BidInput, error) {
	var in BidInput
	if err := decodeStrict(data, &in, "bid"); err != nil {
		return nil, err
	}
	return &in, in.Validate()
}

// DecodeAuctionInput: see DecodeBidInput.
func DecodeAuctionInput(data []byte) (*AuctionInput, error) {
	var in AuctionInput
	if err := decodeStrict(data, &in, "auction"); err != nil {
		return nil, err
	}
	return &in, in.Validate()
}

// DecodeRevealInput: see DecodeBidInput.
func DecodeRevealInput(data []byte) (*RevealInput, error) {
	var in RevealInput
	if err := decodeStrict(data, &in, "reveal"); err != nil {
		return nil, err
	}
	return &in, in.Validate()
}
