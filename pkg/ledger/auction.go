package ledger

import (
	"context"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-gateway/pkg/client"
)

// PlaceBid places or replaces the sealed standing bid of a node of the
// caller's organisation (auction:Bid).
func (c *Client) PlaceBid(ctx context.Context, in records.BidInput) (*records.SealedBid, error) {
	arg, err := marshalArg("auction:Bid", in)
	if err != nil {
		return nil, err
	}
	b, _, err := invoke[*records.SealedBid](ctx, c, "auction:Bid", arg)
	return b, err
}

// WithdrawBid withdraws a node's bid (auction:Withdraw).
func (c *Client) WithdrawBid(ctx context.Context, node string) (*records.SealedBid, error) {
	b, _, err := invoke[*records.SealedBid](ctx, c, "auction:Withdraw", node)
	return b, err
}

// GetBid reads a node's sealed bid.
func (c *Client) GetBid(ctx context.Context, node string) (*records.SealedBid, error) {
	return query[*records.SealedBid](ctx, c, "auction:GetBid", node)
}

// OpenAuction opens an auction for an object's shard contracts
// (auction:Open); the caller's organisation is its publisher.
func (c *Client) OpenAuction(ctx context.Context, in records.AuctionInput) (*records.Auction, error) {
	arg, err := marshalArg("auction:Open", in)
	if err != nil {
		return nil, err
	}
	a, _, err := invoke[*records.Auction](ctx, c, "auction:Open", arg)
	return a, err
}

// RevealBid reveals a node's bid in an open auction (auction:Reveal).
func (c *Client) RevealBid(ctx context.Context, in records.RevealInput) (*records.Reveal, error) {
	arg, err := marshalArg("auction:Reveal", in)
	if err != nil {
		return nil, err
	}
	r, _, err := invoke[*records.Reveal](ctx, c, "auction:Reveal", arg)
	return r, err
}

// ClearAuction clears an auction (auction:Clear): it returns the auction
// cleared (its Awards are the contracts) or failed (Failure says why).
func (c *Client) ClearAuction(ctx context.Context, id string) (*records.Auction, error) {
	a, _, err := invoke[*records.Auction](ctx, c, "auction:Clear", id)
	return a, err
}

// GetAuction reads an auction.
func (c *Client) GetAuction(ctx context.Context, id string) (*records.Auction, error) {
	return query[*records.Auction](ctx, c, "auction:Get", id)
}

// AuctionReveals reads an auction's reveals.
func (c *Client) AuctionReveals(ctx context.Context, id string) ([]*records.Reveal, error) {
	return query[[]*records.Reveal](ctx, c, "auction:Reveals", id)
}

// AuctionContracts reads the contracts an auction awarded.
func (c *Client) AuctionContracts(ctx context.Context, id string) ([]*records.Contract, error) {
	return query[[]*records.Contract](ctx, c, "auction:Contracts", id)
}

// AuctionEvent is one committed auction event with its block.
type AuctionEvent struct {
	records.AuctionEvent
	TxID  string
	Block uint64
}

// AuctionEvents subscribes to the auction events (records.AuctionEventName)
// from the next block committed, in commit order. The channel is closed
// when ctx ends or the stream breaks; resubscribe then.
func (c *Client) AuctionEvents(ctx context.Context) (<-chan AuctionEvent, error) {
	return chaincodeEvents(ctx, c, records.AuctionEventName, decodeAuctionEvent)
}

// decodeAuctionEvent reads an auction event; false for a payload that
// does not decode.
func decodeAuctionEvent(ev *client.ChaincodeEvent) (AuctionEvent, bool) {
	ae, err := records.DecodeAuctionEvent(ev.Payload)
	if err != nil {
		return AuctionEvent{}, false
	}
	return AuctionEvent{AuctionEvent: ae, TxID: ev.TransactionID, Block: ev.BlockNumber}, true
}

// ReopenAuction opens a re-auction of a placement's holdings
// (auction:Reopen): renewal, a holder penalized below the floor, or a
// holder that left; the chaincode checks the reason.
func (c *Client) ReopenAuction(ctx context.Context, in records.ReauctionInput) (*records.Auction, error) {
	arg, err := marshalArg("auction:Reopen", in)
	if err != nil {
		return nil, err
	}
	a, _, err := invoke[*records.Auction](ctx, c, "auction:Reopen", arg)
	return a, err
}

// Holdings reads every holding of a placement, live and ended.
func (c *Client) Holdings(ctx context.Context, root string) ([]*records.Holding, error) {
	return query[[]*records.Holding](ctx, c, "auction:Holdings", root)
}

// Reauction reads the last re-auction opened for a placement (an error
// wrapping records.ErrNotFound when none was).
func (c *Client) Reauction(ctx context.Context, root string) (*records.ReauctionMarker, error) {
	return query[*records.ReauctionMarker](ctx, c, "auction:Reauction", root)
}

// EvaluateClear simulates auction:Clear on the client's peer and returns
// what the clearing would write, committing nothing: a dry run to compare
// peers' outcomes or to time the chaincode's clearing.
func (c *Client) EvaluateClear(ctx context.Context, id string) (*records.Auction, error) {
	return query[*records.Auction](ctx, c, "auction:Clear", id)
}
