package contract

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// AuctionContractName is the name clients use to call the auction
// contract.
const AuctionContractName = "auction"

// AuctionContract runs the sealed-bid auctions of shard storage contracts
// (issue 11): nodes' standing sealed bids (Bid, Withdraw), one auction per
// publish (Open), reveals by the bidders' organisations (Reveal), and a
// deterministic clearing that writes the contracts (Clear; the rules are
// records.ClearAuction's).
//
// Sealing is commit–reveal, not private data: the chaincode endorsement
// policy needs every organisation's peers, so a bid sent to them in the
// transient map would reach every competitor's peer, and a peer outside
// an implicit collection cannot read it to clear. The public ledger holds
// only the salted hash (and, optionally, the opening encrypted under a
// key of the bidder's organisation, so that its gateways can reveal for
// an agent that does not).
type AuctionContract struct {
	contractapi.Contract
}

// NewAuctionContract returns the auction contract.
func NewAuctionContract() *AuctionContract {
	return &AuctionContract{Contract: newContract(AuctionContractName, "DCT storage auctions", "Sealed bids, auctions and storage contracts for shards")}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *AuctionContract) GetEvaluateTransactions() []string {
	return []string{"GetBid", "Bids", "Get", "Reveals", "Contracts", "Holdings", "Reauction"}
}

// Bid places or replaces the sealed standing bid of a node of the
// caller's organisation (bidJSON: records.BidInput).
func (c *AuctionContract) Bid(ctx contractapi.TransactionContextInterface, bidJSON string) (*records.SealedBid, error) {
	b, err := placeBid(ctx, bidJSON)
	return b, asRecordsError(err)
}

// Withdraw withdraws a node's bid: later auctions leave it out.
func (c *AuctionContract) Withdraw(ctx contractapi.TransactionContextInterface, node string) (*records.SealedBid, error) {
	b, err := withdrawBid(ctx, node)
	return b, asRecordsError(err)
}

// Open opens an auction for the shard contracts of an object
// (auctionJSON: records.AuctionInput), snapshotting the active sealed
// bids of active nodes, and announces it (records.AuctionEventName).
func (c *AuctionContract) Open(ctx contractapi.TransactionContextInterface, auctionJSON string) (*records.Auction, error) {
	a, err := openAuction(ctx, auctionJSON)
	return a, asRecordsError(err)
}

// Reveal reveals a node's bid in an open auction (revealJSON:
// records.RevealInput); the hash must match the snapshot.
func (c *AuctionContract) Reveal(ctx contractapi.TransactionContextInterface, revealJSON string) (*records.Reveal, error) {
	r, err := revealBid(ctx, revealJSON)
	return r, asRecordsError(err)
}

// Clear clears an open auction once every snapshotted bid is revealed or
// its deadline passed: it writes the contracts and returns the auction,
// cleared, or failed with the reason (no contract written).
func (c *AuctionContract) Clear(ctx contractapi.TransactionContextInterface, id string) (*records.Auction, error) {
	a, err := clearAuction(ctx, id)
	return a, asRecordsError(err)
}

// GetBid reads a node's sealed bid.
func (c *AuctionContract) GetBid(ctx contractapi.TransactionContextInterface, node string) (*records.SealedBid, error) {
	key, err := records.BidKey(node)
	if err != nil {
		return nil, err
	}
	b, found, err := getRecord[records.SealedBid](ctx.GetStub(), key, describe("bid", node))
	if err != nil {
		return nil, asRecordsError(err)
	}
	if !found {
		return nil, notFoundf("%s has no bid", describe("node", node))
	}
	return b, nil
}

// Bids reads every sealed bid, by node.
func (c *AuctionContract) Bids(ctx contractapi.TransactionContextInterface) ([]*records.SealedBid, error) {
	b, err := listRecords[records.SealedBid](ctx.GetStub(), records.BidKeyType)
	return b, asRecordsError(err)
}

// Get reads an auction.
func (c *AuctionContract) Get(ctx contractapi.TransactionContextInterface, id string) (*records.Auction, error) {
	a, err := loadAuction(ctx.GetStub(), id)
	return a, asRecordsError(err)
}

// Reveals reads an auction's reveals, by node.
func (c *AuctionContract) Reveals(ctx contractapi.TransactionContextInterface, id string) ([]*records.Reveal, error) {
	if err := records.ValidateAuctionID(id); err != nil {
		return nil, err
	}
	r, err := listRecords[records.Reveal](ctx.GetStub(), records.RevealKeyType, id)
	return r, asRecordsError(err)
}

// Contracts reads an auction's contracts, by shard and node.
func (c *AuctionContract) Contracts(ctx contractapi.TransactionContextInterface, id string) ([]*records.Contract, error) {
	if err := records.ValidateAuctionID(id); err != nil {
		return nil, err
	}
	r, err := listRecords[records.Contract](ctx.GetStub(), records.ContractKeyType, id)
	return r, asRecordsError(err)
}

func placeBid(ctx txContext, bidJSON string) (*records.SealedBid, error) {
	who, err := authorize(ctx, "auction:Bid")
	if err != nil {
		return nil, err
	}
	in, err := records.DecodeBidInput([]byte(bidJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	n, err := ownNode(stub, who, in.Node, "bid for")
	if err != nil {
		return nil, err
	}
	if !n.Active() {
		return nil, preconditionf("%s is inactive: it cannot bid", describe("node", n.ID))
	}
	key, err := records.BidKey(n.ID)
	if err != nil {
		return nil, err
	}
	prev, found, err := getRecord[records.SealedBid](stub, key, describe("bid", n.ID))
	if err != nil {
		return nil, err
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	b := &records.SealedBid{Node: n.ID, Org: n.Org, Hash: in.Hash, Opening: in.Opening, Seq: 1, Status: records.BidActive, UpdatedAt: tx.time, TxID: tx.id}
	if found {
		b.Seq = prev.Seq + 1
	}
	if err := putRecord(stub, key, describe("bid", n.ID), b); err != nil {
		return nil, err
	}
	if !found {
		if err := setOwnerEndorsement(stub, key, n.Org); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func withdrawBid(ctx txContext, node string) (*records.SealedBid, error) {
	who, err := authorize(ctx, "auction:Withdraw")
	if err != nil {
		return nil, err
	}
	if err := records.ValidateNodeID(node); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	n, err := ownNode(stub, who, node, "withdraw the bid of")
	if err != nil {
		return nil, err
	}
	key, err := records.BidKey(n.ID)
	if err != nil {
		return nil, err
	}
	b, found, err := getRecord[records.SealedBid](stub, key, describe("bid", n.ID))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("%s has no bid", describe("node", n.ID))
	}
	if b.Status == records.BidWithdrawn {
		return nil, preconditionf("the bid of %s is already withdrawn", describe("node", n.ID))
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	b.Status, b.Seq, b.UpdatedAt, b.TxID = records.BidWithdrawn, b.Seq+1, tx.time, tx.id
	return b, putRecord(stub, key, describe("bid", n.ID), b)
}

// ownNode loads node id and checks that who may act for it: its
// organisation's admin, or its own node identity.
func ownNode(stub shim.ChaincodeStubInterface, who *records.Caller, id, verb string) (*records.Node, error) {
	n, err := loadNode(stub, id)
	if err != nil {
		return nil, err
	}
	if err := checkNodeOwner(n, who.MSPID, verb); err != nil {
		return nil, err
	}
	if err := mayActForNode(who, id); err != nil {
		return nil, err
	}
	return n, nil
}

func openAuction(ctx txContext, auctionJSON string) (*records.Auction, error) {
	who, err := authorize(ctx, "auction:Open")
	if err != nil {
		return nil, err
	}
	in, err := records.DecodeAuctionInput([]byte(auctionJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	a := &records.Auction{
		ID: records.AuctionID(tx.id), AuctionInput: *in, Publisher: who.MSPID, OpenedBy: who.CertHash,
		OpenedAt: tx.time, OpenTxID: tx.id, Deadline: records.FormatTimestamp(now.Add(time.Duration(in.RevealSeconds) * time.Second)),
		Status: records.AuctionOpen, Bids: []records.SnapshotBid{},
	}
	if err := storeNewAuction(stub, a, who); err != nil {
		return nil, err
	}
	return a, nil
}

// storeNewAuction snapshots the active sealed bids of active nodes into a,
// writes it and announces it (event "open").
func storeNewAuction(stub shim.ChaincodeStubInterface, a *records.Auction, who *records.Caller) error {
	bids, err := listRecords[records.SealedBid](stub, records.BidKeyType)
	if err != nil {
		return err
	}
	for _, b := range bids {
		if b.Status != records.BidActive {
			continue
		}
		if len(a.Bids) == records.MaxAuctionBids {
			break
		}
		n, err := loadNode(stub, b.Node)
		if err != nil {
			return err
		}
		if !n.Active() {
			continue
		}
		a.Bids = append(a.Bids, records.SnapshotBid{Node: b.Node, Org: b.Org, Hash: b.Hash})
	}
	if len(a.Bids) == 0 {
		return preconditionf("no active node has a standing bid: %s cannot open an auction for %s", who.MSPID, a.Object)
	}
	key, err := records.AuctionKey(a.ID)
	if err != nil {
		return err
	}
	if _, found, err := getRecord[records.Auction](stub, key, a.String()); err != nil {
		return err
	} else if found {
		return conflictf("%s exists", a)
	}
	if err := putRecord(stub, key, a.String(), a); err != nil {
		return err
	}
	return setAuctionEvent(stub, records.AuctionEvent{Auction: a.ID, Object: a.Object, Status: a.Status, Nodes: a.Awaited()})
}

func setAuctionEvent(stub shim.ChaincodeStubInterface, ev records.AuctionEvent) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return internalf("cannot encode the auction event: %v", err)
	}
	if err := stub.SetEvent(records.AuctionEventName, payload); err != nil {
		return internalf("cannot set the auction event: %v", err)
	}
	return nil
}

func loadAuction(stub shim.ChaincodeStubInterface, id string) (*records.Auction, error) {
	key, err := records.AuctionKey(id)
	if err != nil {
		return nil, err
	}
	a, found, err := getRecord[records.Auction](stub, key, "auction "+id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("auction %s does not exist", id)
	}
	return a, nil
}

func revealBid(ctx txContext, revealJSON string) (*records.Reveal, error) {
	who, err := authorize(ctx, "auction:Reveal")
	if err != nil {
		return nil, err
	}
	in, err := records.DecodeRevealInput([]byte(revealJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	a, err := loadAuction(stub, in.Auction)
	if err != nil {
		return nil, err
	}
	node := in.Terms.Node
	i := slices.IndexFunc(a.Bids, func(b records.SnapshotBid) bool { return b.Node == node })
	if i < 0 {
		return nil, notFoundf("%s has no bid of %s", a, describe("node", node))
	}
	snap := a.Bids[i]
	if snap.Org != who.MSPID {
		return nil, forbiddenf("the bid of %s belongs to %s; %s may not reveal it", describe("node", node), snap.Org, who.MSPID)
	}
	if who.Has(records.RoleNode) && !who.Has(records.RoleAdmin) && !who.Has(records.RoleGateway) && who.NodeID != node {
		return nil, forbiddenf("%s is the identity of node %q and may reveal only its own bid, not %q's", who, who.NodeID, node)
	}
	if a.Status != records.AuctionOpen {
		return nil, preconditionf("%s is %s: no more reveals", a, a.Status)
	}
	key, err := records.RevealKey(a.ID, node)
	if err != nil {
		return nil, err
	}
	if _, found, err := getRecord[records.Reveal](stub, key, "reveal of "+node); err != nil {
		return nil, err
	} else if found {
		return nil, conflictf("the bid of %s in %s is already revealed", describe("node", node), a)
	}
	h, err := records.BidHash(in.Terms, in.Salt)
	if err != nil {
		return nil, err
	}
	if h != snap.Hash {
		return nil, invalidf("the terms and salt do not match the sealed bid of %s in %s", describe("node", node), a)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	r := &records.Reveal{Auction: a.ID, Terms: in.Terms, Salt: in.Salt, RevealedBy: who.CertHash, RevealedAt: tx.time, TxID: tx.id}
	return r, putRecord(stub, key, "reveal of "+node, r)
}

func clearAuction(ctx txContext, id string) (*records.Auction, error) {
	who, err := authorize(ctx, "auction:Clear")
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	a, err := loadAuction(stub, id)
	if err != nil {
		return nil, err
	}
	if who.MSPID != a.Publisher {
		return nil, forbiddenf("%s was opened by %s; %s may not clear it", a, a.Publisher, who.MSPID)
	}
	if a.Status != records.AuctionOpen {
		return nil, preconditionf("%s is already %s", a, a.Status)
	}
	all, err := listRecords[records.Reveal](stub, records.RevealKeyType, a.ID)
	if err != nil {
		return nil, err
	}
	awaited := map[string]bool{}
	for _, n := range a.Awaited() {
		awaited[n] = true
	}
	reveals := make([]*records.Reveal, 0, len(all))
	for _, r := range all {
		if awaited[r.Terms.Node] {
			reveals = append(reveals, r)
		}
	}
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	deadline, err := time.Parse(records.TimestampLayout, a.Deadline)
	if err != nil {
		return nil, internalf("stored %s has a corrupt deadline: %v", a, err)
	}
	if want := len(a.Awaited()); len(reveals) < want && now.Before(deadline) {
		return nil, preconditionf("%s has %d of %d bids revealed: it clears when all are, or at %s", a, len(reveals), want, a.Deadline)
	}
	in := records.ClearInput{Auction: a, Reveals: reveals, Nodes: map[string]*records.Node{}, Scores: map[string]records.SLAScore{}}
	read, err := clearingReader(stub, len(reveals))
	if err != nil {
		return nil, err
	}
	for _, r := range reveals {
		n, s, err := read(r.Terms.Node)
		if err != nil {
			return nil, err
		}
		in.Nodes[n.ID] = n
		if s != nil {
			in.Scores[n.ID] = *s
		}
		a.Inputs = append(a.Inputs, records.NewClearingInput(n, s))
	}
	out := records.ClearAuction(in)
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	a.ClearedAt, a.ClearTxID = tx.time, tx.id
	if out.Failure != "" {
		a.Status, a.Failure = records.AuctionFailed, out.Failure
	} else {
		a.Status, a.Awards = records.AuctionCleared, out.Awards
		a.StoragePerGBMonth, a.DeliveryPerMiB = out.StoragePerGBMonth, out.DeliveryPerMiB
		end := records.FormatTimestamp(now.Add(time.Duration(a.TermSeconds) * time.Second))
		// A re-auction first ends the holdings it replaces.
		if err := endReplaced(stub, a, tx); err != nil {
			return nil, err
		}
		for _, w := range out.Awards {
			key, err := records.ContractKey(a.ID, w.Shard, w.Node)
			if err != nil {
				return nil, err
			}
			c := &records.Contract{
				Auction: a.ID, Object: a.Object, Publisher: a.Publisher, Shard: w.Shard, Node: w.Node, Org: in.Nodes[w.Node].Org,
				ShardSize: a.ShardSize, StoragePerGBMonth: a.StoragePerGBMonth, DeliveryPerMiB: a.DeliveryPerMiB,
				Start: tx.time, End: end, TxID: tx.id, Root: a.Root(), SLAFloor: a.SLAFloor,
			}
			if err := putRecord(stub, key, c.String(), c); err != nil {
				return nil, err
			}
			if err := putHolding(stub, &records.Holding{Root: a.Root(), Shard: w.Shard, Node: w.Node, Auction: a.ID, End: end, SLAFloor: a.SLAFloor, TxID: tx.id}); err != nil {
				return nil, err
			}
			pkey, err := compositeKey(stub, records.ContractPriceKeyType, a.Publisher, w.Node)
			if err != nil {
				return nil, err
			}
			cp := &records.ContractPrice{Publisher: a.Publisher, Node: w.Node, Auction: a.ID, Object: a.Object, DeliveryPerMiB: a.DeliveryPerMiB, End: end, TxID: tx.id}
			if err := putRecord(stub, pkey, describe("contract price", a.Publisher, w.Node), cp); err != nil {
				return nil, err
			}
		}
	}
	key, err := records.AuctionKey(a.ID)
	if err != nil {
		return nil, err
	}
	if err := putRecord(stub, key, a.String(), a); err != nil {
		return nil, err
	}
	return a, setAuctionEvent(stub, records.AuctionEvent{Auction: a.ID, Object: a.Object, Status: a.Status})
}

// bulkClearingReads is the number of revealed bids from which a clearing
// reads every node and every score with two range queries (a page of
// results per shim round trip) instead of two state reads per bidder (a
// round trip each). A node or score written between its simulation and
// its commit then invalidates the clearing (a phantom read), which the
// gateway retries like any lost race.
const bulkClearingReads = 256

// clearingReader returns how a clearing of bids revealed bids reads a
// bidder's node (NOT_FOUND when unregistered) and score (nil: none).
func clearingReader(stub shim.ChaincodeStubInterface, bids int) (func(id string) (*records.Node, *records.SLAScore, error), error) {
	if bids < bulkClearingReads {
		return func(id string) (*records.Node, *records.SLAScore, error) {
			n, err := loadNode(stub, id)
			if err != nil {
				return nil, nil, err
			}
			skey, err := records.SLAScoreKey(id)
			if err != nil {
				return nil, nil, err
			}
			s, found, err := getRecord[records.SLAScore](stub, skey, describe("score", id))
			if err != nil || !found {
				return n, nil, err
			}
			return n, s, nil
		}, nil
	}
	nodes, err := listRecords[records.Node](stub, records.NodeKeyType)
	if err != nil {
		return nil, err
	}
	scores, err := listRecords[records.SLAScore](stub, records.SLAScoreKeyType)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*records.Node, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
	}
	scoreOf := make(map[string]*records.SLAScore, len(scores))
	for _, s := range scores {
		scoreOf[s.Node] = s
	}
	return func(id string) (*records.Node, *records.SLAScore, error) {
		n, ok := byID[id]
		if !ok {
			return nil, nil, notFoundf("%s is not registered", describe("node", id))
		}
		return n, scoreOf[id], nil
	}, nil
}

// contractPrice is the contracted delivery price of node's deliveries of
// publisher's content in the epoch starting at epochStart, nil when no
// contract covers it.
func contractPrice(stub shim.ChaincodeStubInterface, publisher, node string, epochStart time.Time) (*records.ContractPrice, error) {
	key, err := compositeKey(stub, records.ContractPriceKeyType, publisher, node)
	if err != nil {
		return nil, err
	}
	cp, found, err := getRecord[records.ContractPrice](stub, key, describe("contract price", publisher, node))
	if err != nil || !found {
		return nil, err
	}
	end, err := time.Parse(records.TimestampLayout, cp.End)
	if err != nil {
		return nil, internalf("stored contract price of %s for %s has a corrupt end: %v", node, publisher, err)
	}
	if !epochStart.Before(end) {
		return nil, nil
	}
	return cp, nil
}

// checkContracted checks a manifest that names an auction: the auction,
// cleared, was opened by the recording organisation for this object and
// its shards, and every shard's holders are exactly its contracted nodes.
func checkContracted(stub shim.ChaincodeStubInterface, m *records.Manifest, caller string) error {
	a, err := loadAuction(stub, m.Auction)
	if err != nil {
		return err
	}
	switch {
	case a.Status != records.AuctionCleared:
		return preconditionf("%s is %s: it places no shard", a, a.Status)
	case a.Publisher != caller:
		return forbiddenf("%s was opened by %s, not %s", a, a.Publisher, caller)
	case a.Object != m.Name:
		return invalidf("%s is for %s, not %s", a, a.Object, m.Name)
	case a.Shards != len(m.Shards):
		return invalidf("%s placed %d shards, the manifest has %d", a, a.Shards, len(m.Shards))
	}
	want := a.Placement()
	for i, sh := range m.Shards {
		got := slices.Clone(sh.Nodes)
		slices.Sort(got)
		if !slices.Equal(got, want[i]) {
			return invalidf("shard %d is placed on %v, but %s contracted it to %v", i, got, a, want[i])
		}
	}
	return nil
}
