package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/receipts"
)

// submitInterval is how often the submitter looks for epochs that are due.
const submitInterval = time.Second

// batchLedger is the delivery chaincode as receipts.Submitter needs it:
// delivery:Commit and delivery:Prove through the gateway's ledger
// identity, logging each batch committed and proved.
type batchLedger struct {
	lc   *ledger.Client
	log  *slog.Logger
	gm   *metrics.Gateway // nil: no metrics
	dash *dashboard       // nil: no dashboard
}

var _ receipts.Ledger = batchLedger{}

// CommitBatch commits the batch (a resubmission returns the existing one).
func (l batchLedger) CommitBatch(ctx context.Context, in *records.BatchInput) (string, error) {
	b, err := l.lc.CommitBatch(ctx, *in)
	if err != nil {
		l.gm.Batch("error")
		return "", err
	}
	l.gm.Batch("committed")
	l.gm.ReceiptsCommitted(int(b.Size))
	l.dash.batchCommitted(b)
	l.log.Info("receipt batch committed", "batch", b.ID, "epoch", b.Epoch, "receipts", b.Size,
		"bytes", totalBytes(b.Totals), "totals", b.Totals, "status", b.Status)
	return b.ID, nil
}

// ProveBatch proves the batch. delivery:Prove of a batch accepted already
// returns it without an error; a Prove that fails (a concurrent Prove won
// the race, say) is checked against the ledger: a batch found accepted is
// ErrAlreadyProved.
func (l batchLedger) ProveBatch(ctx context.Context, batchID string, samples []records.SampledLeaf) error {
	b, err := l.lc.ProveBatch(ctx, batchID, samples)
	if err != nil {
		if got, gerr := l.lc.GetBatch(ctx, batchID); gerr == nil && got.Status == records.BatchAccepted {
			return fmt.Errorf("batch %s: %w (%w)", batchID, receipts.ErrAlreadyProved, err)
		}
		return err
	}
	if b.Status != records.BatchAccepted {
		return fmt.Errorf("batch %s is %s after its proof", b.ID, b.Status)
	}
	var paid, capped int64
	for _, p := range b.Payouts {
		paid += p.Amount
		l.gm.Payout(p.Payee, p.Amount)
	}
	l.dash.batchProved(b)
	for _, c := range b.Capped {
		capped += c.Bytes
	}
	l.log.Info("receipt batch proved", "batch", b.ID, "epoch", b.Epoch, "receipts", b.Size,
		"acceptedBytes", totalBytes(b.Accepted), "accepted", b.Accepted, "excluded", len(b.Excluded),
		"cappedBytes", capped, "capped", b.Capped, "payouts", len(b.Payouts), "amount", paid, "proveTx", b.ProveTxID)
	return nil
}

func totalBytes(ts []records.NodeTotal) int64 {
	var n int64
	for _, t := range ts {
		n += t.Bytes
	}
	return n
}

// startSubmitter runs the receipts' submitter in the background until ctx
// ends or the returned function is called (which waits for it: call it
// before closing the log). Nothing when receipts are off.
func startSubmitter(ctx context.Context, cfg Config, wal *receipts.WAL, lc *ledger.Client, gm *metrics.Gateway, dash *dashboard, log *slog.Logger) func() {
	if wal == nil {
		return func() {}
	}
	s := &receipts.Submitter{
		WAL: wal, Ledger: batchLedger{lc: lc, log: log, gm: gm, dash: dash}, EpochLength: cfg.EpochLength, Grace: cfg.ReceiptsGrace, Log: log,
	}
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Run(sctx, submitInterval)
	}()
	log.Info("receipt submitter on", "epoch", cfg.EpochLength, "grace", cfg.ReceiptsGrace)
	return func() {
		cancel()
		wg.Wait()
	}
}
