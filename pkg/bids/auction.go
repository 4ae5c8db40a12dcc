package bids

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// ErrNoContracts: the auction could not award every shard contract; the
// error names what was missing (records.Auction.Failure).
var ErrNoContracts = errors.New("auction could not award the shard contracts")

// AuctionLedger is what RunAuction needs of the ledger (*ledger.Client).
type AuctionLedger interface {
	OpenAuction(ctx context.Context, in records.AuctionInput) (*records.Auction, error)
	AuctionReveals(ctx context.Context, id string) ([]*records.Reveal, error)
	ClearAuction(ctx context.Context, id string) (*records.Auction, error)
}

// RunAuction opens an auction for in, waits until every snapshotted bid
// is revealed (polling the reveals every poll) or the reveal deadline
// passed, and clears it. It returns the cleared auction, whose Awards
// are the contracts, or an error wrapping ErrNoContracts with the
// auction's failure.
func RunAuction(ctx context.Context, l AuctionLedger, in records.AuctionInput, poll time.Duration) (*records.Auction, error) {
	a, err := l.OpenAuction(ctx, in)
	if err != nil {
		return nil, err
	}
	deadline, err := time.Parse(records.TimestampLayout, a.Deadline)
	if err != nil {
		return nil, fmt.Errorf("auction %s: deadline %q: %w", a.ID, a.Deadline, err)
	}
	for {
		rs, err := l.AuctionReveals(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if len(rs) >= len(a.Awaited()) || !time.Now().Before(deadline) {
			cleared, err := l.ClearAuction(ctx, a.ID)
			switch {
			case err == nil:
				if cleared.Status != records.AuctionCleared {
					return cleared, fmt.Errorf("%w: %s", ErrNoContracts, cleared.Failure)
				}
				return cleared, nil
			case errors.Is(err, records.ErrFailedPrecondition) && time.Now().Before(deadline.Add(10*time.Second)):
				// A reveal our peer has not committed yet, or clocks
				// apart: try again.
			default:
				return nil, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("auction %s: %w", a.ID, ctx.Err())
		case <-time.After(poll):
		}
	}
}
