// Package bids is the bidder's side of DCT's storage auctions (issue 11):
// sealing a node's bid terms (records.BidHash with a fresh salt, and the
// opening encrypted under its organisation's bid key so that the
// organisation's gateways can reveal it), the operator's bidding Policy,
// the Bidder an edge agent runs for its node (bid, re-bid when the free
// capacity changes materially, reveal on every auction that snapshotted
// the bid, withdraw on leave), and the Revealer a gateway runs for its
// organisation's nodes whose agents did not reveal in time.
package bids
