package bids

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// ErrNoContracts: the auction could not award every shard contract; the
// error names what was missing (records.Auction.Failure).
var ErrNoContracts = errors.New("auction could not award the shard contracts")

// maxConflictRetries bounds the retries of a transaction that lost an
// optimistic-concurrency race.
const maxConflictRetries = 5

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
	return run(ctx, l, func() (*records.Auction, error) { return l.OpenAuction(ctx, in) }, poll)
}

// ReauctionLedger is what RunReauction needs of the ledger
// (*ledger.Client).
type ReauctionLedger interface {
	AuctionLedger
	ReopenAuction(ctx context.Context, in records.ReauctionInput) (*records.Auction, error)
}

// RunReauction opens a re-auction of a placement's holdings
// (auction:Reopen) and clears it as RunAuction does.
func RunReauction(ctx context.Context, l ReauctionLedger, in records.ReauctionInput, poll time.Duration) (*records.Auction, error) {
	return run(ctx, l, func() (*records.Auction, error) { return l.ReopenAuction(ctx, in) }, poll)
}

// Settle waits for the reveals of an open auction a and clears it, as
// RunAuction does once it opened one: any gateway of the publisher's
// organisation may finish an auction another one opened.
func Settle(ctx context.Context, l AuctionLedger, a *records.Auction, poll time.Duration) (*records.Auction, error) {
	return run(ctx, l, func() (*records.Auction, error) { return a, nil }, poll)
}

func run(ctx context.Context, l AuctionLedger, open func() (*records.Auction, error), poll time.Duration) (*records.Auction, error) {
	// Open reads every bid: a bid placed in the same block invalidates it
	// (a phantom read); so does a reveal for Clear. Both are retried.
	var a *records.Auction
	var err error
	for try := 0; ; try++ {
		a, err = open()
		if err == nil || !errors.Is(err, ledger.ErrConflict) || try == maxConflictRetries {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	deadline, err := time.Parse(records.TimestampLayout, a.Deadline)
	if err != nil {
		return nil, fmt.Errorf("auction %s: deadline %q: %w", a.ID, a.Deadline, err)
	}
	conflicts := 0
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
			case errors.Is(err, ledger.ErrConflict) && conflicts < maxConflictRetries:
				conflicts++
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
