package sla

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// Ledger is the SLA chaincode as the submitter needs it (*ledger.Client).
type Ledger interface {
	Attest(ctx context.Context, in records.SLAAttestationInput) (*records.SLAAttestation, error)
	ScoreEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error)
	SLAEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error)
}

// Submitter submits the aggregator's attestation of each ended epoch,
// once, Grace after its end, and, with ScoreWait > 0, scores each epoch
// ScoreWait after that (unless someone did already), leaving the other
// attesters that much time.
type Submitter struct {
	Agg    *Aggregator
	Ledger Ledger
	// Keep selects the nodes attested (nil: all): registered nodes of
	// other organisations (the chaincode ignores an organisation's view
	// of its own nodes).
	Keep  func(node string) bool
	Grace time.Duration
	// ScoreWait: 0 = never call sla:Score.
	ScoreWait time.Duration
	Log       *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	scored int64 // the last epoch this submitter saw scored
}

// Run calls Tick every interval until ctx ends.
func (s *Submitter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Tick(ctx)
		}
	}
}

func (s *Submitter) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Submitter) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// final reports a refusal that retrying cannot change: the attestation
// exists (ALREADY_EXISTS), the epoch is scored or closed, the caller may
// not attest, or the input is refused.
func final(err error) bool {
	return errors.Is(err, records.ErrConflict) || errors.Is(err, records.ErrFailedPrecondition) ||
		errors.Is(err, records.ErrForbidden) || errors.Is(err, records.ErrInvalid) || errors.Is(err, records.ErrNotFound)
}

// Tick submits what is due; a submission that fails for a reason that may
// pass (the ledger unreachable, an MVCC conflict) is retried on a later
// tick while the chaincode still takes the epoch.
func (s *Submitter) Tick(ctx context.Context) {
	now := s.now()
	cur := s.Agg.EpochOf(now)
	for _, e := range s.Agg.Epochs() {
		if e >= cur || now.Before(s.Agg.EpochEnd(e).Add(s.Grace)) {
			continue
		}
		in, ok := s.Agg.Attestation(e, s.Keep)
		if !ok {
			s.Agg.Forget(e)
			continue
		}
		a, err := s.Ledger.Attest(ctx, in)
		switch {
		case err == nil:
			s.log().Info("SLA attestation submitted", "epoch", e, "nodes", len(in.Observations), "tx", a.TxID)
			s.Agg.Forget(e)
		case final(err):
			s.log().Warn("SLA attestation refused", "epoch", e, "nodes", len(in.Observations), "err", err)
			s.Agg.Forget(e)
		case e < cur-records.SLAAttestEpochs:
			s.log().Warn("SLA attestation given up: the epoch is closed", "epoch", e, "err", err)
			s.Agg.Forget(e)
		default:
			s.log().Debug("SLA attestation not submitted yet", "epoch", e, "err", err)
		}
	}
	if s.ScoreWait <= 0 {
		return
	}
	// The last epoch whose end + Grace + ScoreWait has passed.
	target := s.Agg.EpochOf(now.Add(-s.Grace-s.ScoreWait)) - 1
	if target <= s.scored || target < 0 {
		return
	}
	if done, err := s.Ledger.SLAEpoch(ctx, target); err == nil {
		s.scored = done.Epoch
		return
	}
	res, err := s.Ledger.ScoreEpoch(ctx, target)
	switch {
	case err == nil:
		s.scored = target
		s.log().Info("SLA epoch scored", "epoch", target, "nodes", len(res.Nodes), "skipped", len(res.Skipped), "attestations", res.Attestations, "tx", res.TxID)
	case final(err) || errors.Is(err, ledger.ErrConflict):
		// Refused, or another gateway scored it at the same time.
		s.scored = target
		s.log().Debug("SLA epoch not scored by this gateway", "epoch", target, "err", err)
	default:
		s.log().Debug("SLA epoch not scored yet", "epoch", target, "err", err)
	}
}
