package contract

import (
	"cmp"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// The contract lifecycle (issue 11, item 4; records/lifecycle.go): the
// holdings of a placement, re-auctions on renewal, on a score below the
// floor or on a holder's leaving, and the end of the replaced contracts.

// Reopen opens a re-auction of holdings of a placement (reauctionJSON:
// records.ReauctionInput) after checking its reason against the ledger:
// renewal (the holdings' terms end within their renewal window), score
// (the node is penalized below the contracts' floor) or inactive (the node
// is deactivated or unregistered). Only the placement's publisher
// organisation may, and only one re-auction per placement is open at a
// time. It is cleared with Clear like any auction.
func (c *AuctionContract) Reopen(ctx contractapi.TransactionContextInterface, reauctionJSON string) (*records.Auction, error) {
	a, err := reopenAuction(ctx, reauctionJSON)
	return a, asRecordsError(err)
}

// Holdings reads every holding of a placement (live and ended), by shard
// and node.
func (c *AuctionContract) Holdings(ctx contractapi.TransactionContextInterface, root string) ([]*records.Holding, error) {
	if err := records.ValidateAuctionID(root); err != nil {
		return nil, err
	}
	h, err := listRecords[records.Holding](ctx.GetStub(), records.HoldingKeyType, root)
	return h, asRecordsError(err)
}

// Reauction reads the last re-auction opened for a placement (NOT_FOUND
// when none was).
func (c *AuctionContract) Reauction(ctx contractapi.TransactionContextInterface, root string) (*records.ReauctionMarker, error) {
	key, err := records.ReauctionKey(root)
	if err != nil {
		return nil, err
	}
	m, found, err := getRecord[records.ReauctionMarker](ctx.GetStub(), key, "re-auction of "+root)
	if err != nil {
		return nil, asRecordsError(err)
	}
	if !found {
		return nil, notFoundf("placement %s was never re-auctioned", root)
	}
	return m, nil
}

func reopenAuction(ctx txContext, reauctionJSON string) (*records.Auction, error) {
	who, err := authorize(ctx, "auction:Reopen")
	if err != nil {
		return nil, err
	}
	in, err := records.DecodeReauctionInput([]byte(reauctionJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	root, err := loadAuction(stub, in.Root)
	if err != nil {
		return nil, err
	}
	switch {
	case root.Replaces != nil:
		return nil, invalidf("%s is a re-auction: name its root %s", root, root.Replaces.Root)
	case root.Publisher != who.MSPID:
		return nil, forbiddenf("the contracts of %s are %s's; %s may not re-auction them", root, root.Publisher, who.MSPID)
	case root.Status != records.AuctionCleared:
		return nil, preconditionf("%s is %s: it placed nothing to re-auction", root, root.Status)
	}
	mkey, err := records.ReauctionKey(root.ID)
	if err != nil {
		return nil, err
	}
	marker, found, err := getRecord[records.ReauctionMarker](stub, mkey, "re-auction of "+root.ID)
	if err != nil {
		return nil, err
	}
	if found {
		prev, err := loadAuction(stub, marker.Auction)
		if err != nil {
			return nil, err
		}
		if prev.Status == records.AuctionOpen {
			return nil, conflictf("re-auction %s of %s is open: it clears first", prev.ID, root)
		}
	}
	holdings, err := listRecords[records.Holding](stub, records.HoldingKeyType, root.ID)
	if err != nil {
		return nil, err
	}
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	rep := &records.Replacement{Root: root.ID, Reason: in.Reason, Node: in.Node, Replaced: []records.Award{}, Held: []records.Award{}}
	if in.Reason != records.EndRenewed {
		if err := nodeLosesContracts(stub, in.Node, in.Reason, holdings); err != nil {
			return nil, err
		}
	}
	for _, h := range holdings {
		if !h.Live() {
			continue
		}
		w := records.Award{Shard: h.Shard, Node: h.Node}
		replace := false
		switch in.Reason {
		case records.EndRenewed:
			end, err := time.Parse(records.TimestampLayout, h.End)
			if err != nil {
				return nil, internalf("stored %s has a corrupt end: %v", h, err)
			}
			replace = !now.Before(end.Add(-records.RenewalWindow(root.TermSeconds)))
		default:
			replace = h.Node == in.Node
		}
		if replace {
			rep.Replaced = append(rep.Replaced, w)
		} else {
			rep.Held = append(rep.Held, w)
		}
	}
	if len(rep.Replaced) == 0 {
		if in.Reason == records.EndRenewed {
			return nil, preconditionf("no live contract of %s ends within its renewal window (the last %s of the term): nothing to renew", root, records.RenewalWindow(root.TermSeconds))
		}
		return nil, preconditionf("%s has no live contract of %s: it ended already, or never began", describe("node", in.Node), root)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	input := root.AuctionInput
	input.RevealSeconds, input.Exclude = in.RevealSeconds, in.Exclude
	a := &records.Auction{
		ID: records.AuctionID(tx.id), AuctionInput: input, Publisher: who.MSPID, OpenedBy: who.CertHash,
		OpenedAt: tx.time, OpenTxID: tx.id, Deadline: records.FormatTimestamp(now.Add(time.Duration(in.RevealSeconds) * time.Second)),
		Status: records.AuctionOpen, Bids: []records.SnapshotBid{}, Replaces: rep,
	}
	if err := storeNewAuction(stub, a, who); err != nil {
		return nil, err
	}
	if err := putRecord(stub, mkey, "re-auction of "+root.ID, &records.ReauctionMarker{Root: root.ID, Auction: a.ID, TxID: tx.id}); err != nil {
		return nil, err
	}
	return a, nil
}

// nodeLosesContracts checks, from the ledger, that node loses its
// holdings for reason: it is deactivated or unregistered (inactive), or
// penalized with a score below the floor of its live holdings (score).
func nodeLosesContracts(stub shim.ChaincodeStubInterface, node string, reason records.EndReason, holdings []*records.Holding) error {
	n, err := loadNode(stub, node)
	if err != nil && records.CodeOf(err) != records.CodeNotFound {
		return err
	}
	switch reason {
	case records.EndInactive:
		if n.Active() {
			return preconditionf("%s is active: its contracts are not re-auctioned for leaving", describe("node", node))
		}
		return nil
	case records.EndScore:
		if n == nil {
			return notFoundf("%s is not registered: re-auction its contracts for reason %s", describe("node", node), records.EndInactive)
		}
		skey, err := records.SLAScoreKey(node)
		if err != nil {
			return err
		}
		s, found, err := getRecord[records.SLAScore](stub, skey, describe("score", node))
		if err != nil {
			return err
		}
		if !found {
			us := records.UnscoredSLA(node)
			s = &us
		}
		floor := records.DefaultSLAFloor
		for _, h := range holdings {
			if h.Live() && h.Node == node {
				floor = cmp.Or(h.SLAFloor, records.DefaultSLAFloor)
				break
			}
		}
		if !records.ScoreBelowFloor(*s, floor) {
			return preconditionf("%s scores %d (%s): its contracts are re-auctioned only when it is penalized below their floor %d", describe("node", node), s.Score, s.State, floor)
		}
		return nil
	}
	return invalidf("reason %s names no node's fault", reason)
}

func putHolding(stub shim.ChaincodeStubInterface, h *records.Holding) error {
	key, err := records.HoldingKey(h.Root, h.Shard, h.Node)
	if err != nil {
		return err
	}
	return putRecord(stub, key, h.String(), h)
}

// endReplaced ends, at the clearing of re-auction a, the holdings it
// replaces: the holding, its contract and, when it is the node's latest
// for the publisher, the contracted price (payouts stop at the end).
func endReplaced(stub shim.ChaincodeStubInterface, a *records.Auction, tx txInfo) error {
	if a.Replaces == nil {
		return nil
	}
	for _, w := range a.Replaces.Replaced {
		key, err := records.HoldingKey(a.Replaces.Root, w.Shard, w.Node)
		if err != nil {
			return err
		}
		h, found, err := getRecord[records.Holding](stub, key, "holding")
		if err != nil {
			return err
		}
		if !found || !h.Live() {
			return conflictf("the contract of %s for shard %d of placement %s ended already", describe("node", w.Node), w.Shard, a.Replaces.Root)
		}
		h.EndedAt, h.EndReason, h.Successor, h.TxID = tx.time, a.Replaces.Reason, a.ID, tx.id
		if err := putRecord(stub, key, h.String(), h); err != nil {
			return err
		}
		ckey, err := records.ContractKey(h.Auction, w.Shard, w.Node)
		if err != nil {
			return err
		}
		c, found, err := getRecord[records.Contract](stub, ckey, "contract")
		if err != nil {
			return err
		}
		if found {
			c.EndedAt, c.EndReason, c.EndTxID, c.Successor = tx.time, a.Replaces.Reason, tx.id, a.ID
			if err := putRecord(stub, ckey, c.String(), c); err != nil {
				return err
			}
		}
		pkey, err := compositeKey(stub, records.ContractPriceKeyType, a.Publisher, w.Node)
		if err != nil {
			return err
		}
		cp, found, err := getRecord[records.ContractPrice](stub, pkey, describe("contract price", a.Publisher, w.Node))
		if err != nil {
			return err
		}
		if found && cp.Auction == h.Auction && laterThan(cp.End, tx.time) {
			cp.End, cp.TxID = tx.time, tx.id
			if err := putRecord(stub, pkey, describe("contract price", a.Publisher, w.Node), cp); err != nil {
				return err
			}
		}
	}
	return nil
}

// contractEnded reports whether node's holding of shard in placement root
// ended at or before start (a re-auction replaced it).
func contractEnded(stub shim.ChaincodeStubInterface, root string, shard int, node string, start time.Time) (bool, string, error) {
	key, err := records.HoldingKey(root, shard, node)
	if err != nil {
		return false, "", err
	}
	h, found, err := getRecord[records.Holding](stub, key, "holding")
	if err != nil || !found || h.Live() {
		return false, "", err
	}
	ended, err := time.Parse(records.TimestampLayout, h.EndedAt)
	if err != nil {
		return false, "", internalf("stored %s has a corrupt end: %v", h, err)
	}
	if ended.After(start) {
		return false, "", nil
	}
	return true, h.EndedAt + " (" + h.EndReason.String() + ", re-auction " + h.Successor + ")", nil
}

// laterThan reports whether timestamp a is after b (a corrupt a counts as
// later, so that it is replaced).
func laterThan(a, b string) bool {
	ta, err := time.Parse(records.TimestampLayout, a)
	if err != nil {
		return true
	}
	tb, err := time.Parse(records.TimestampLayout, b)
	return err == nil && ta.After(tb)
}
