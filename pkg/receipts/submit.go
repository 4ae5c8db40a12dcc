package receipts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Ledger is what the submitter needs of the chaincode: the commit–reveal
// pair delivery:Commit and delivery:Prove. Committing an identical batch
// again is a no-op that returns the same batch id.
type Ledger interface {
	// CommitBatch records the batch (without samples) and returns its id,
	// the commit transaction's id: the seed of the samples.
	CommitBatch(ctx context.Context, in *records.BatchInput) (batchID string, err error)
	// ProveBatch reveals the sampled leaves of the committed batch. A
	// batch proved already is an error wrapping ErrAlreadyProved.
	ProveBatch(ctx context.Context, batchID string, samples []records.SampledLeaf) error
}

// ErrAlreadyProved: the ledger has the batch's proof already (the gateway
// was stopped after Prove and before it marked the epoch proved).
var ErrAlreadyProved = errors.New("receipts: batch already proved")

// Stages of an epoch's batch, kept in epoch-<n>.state next to its segment.
const (
	StageCommitted = "committed" // delivery:Commit succeeded: BatchID is known
	StageProved    = "proved"    // delivery:Prove succeeded: done
	StageEmpty     = "empty"     // no receipts: nothing to submit
	// StageAbandoned: the ledger refused the batch for good (its epoch is
	// outside the submission window, another batch of this gateway holds
	// the epoch, or the chaincode found the batch malformed or forged); the
	// receipts stay in the log for auditors, and later epochs go on.
	StageAbandoned = "abandoned"
)

// refusedForGood reports a ledger answer that retrying cannot change.
func refusedForGood(err error) bool {
	return errors.Is(err, records.ErrFailedPrecondition) || errors.Is(err, records.ErrConflict) ||
		errors.Is(err, records.ErrInvalid) || errors.Is(err, records.ErrForbidden)
}

// State is an epoch's submission progress.
type State struct {
	Epoch   int64  `json:"epoch"`
	Stage   string `json:"stage"`
	Root    string `json:"root,omitempty"`
	Size    int64  `json:"size,omitempty"`
	BatchID string `json:"batchId,omitempty"`
	// Reason is why an abandoned batch was refused.
	Reason string `json:"reason,omitempty"`
}

func statePath(dir string, epoch int64) string {
	return filepath.Join(dir, fmt.Sprintf("epoch-%020d.state", epoch))
}

// ReadState reads epoch's state (nil: not submitted yet).
func (w *WAL) ReadState(epoch int64) (*State, error) {
	b, err := os.ReadFile(statePath(w.dir, epoch))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("receipts: state of epoch %d: %w", epoch, err)
	}
	return &s, nil
}

// writeState replaces epoch's state atomically and durably.
func (w *WAL) writeState(s State) error {
	b, _ := json.Marshal(s)
	path := statePath(w.dir, s.Epoch)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(w.dir)
	}
	return err
}

// Submitter submits each epoch's batch once the epoch has ended and its
// grace period passed: it closes the epoch to new receipts, builds the batch from the log,
// commits it, marks it committed, proves the samples the commit's id
// picks and marks it proved. A restart resumes from the marks: an epoch
// without one is built and committed again (identical, so a no-op on the
// ledger if the first commit went through), one committed is proved.
type Submitter struct {
	WAL         *WAL
	Ledger      Ledger
	EpochLength time.Duration
	Grace       time.Duration
	Now         Clock
	Log         *slog.Logger
}

// Step submits every epoch that is due; it returns the first error (the
// epochs after it wait for the next step: batches go in order).
func (s *Submitter) Step(ctx context.Context) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	// The last epoch whose end plus grace has passed.
	due := EpochAt(now().Add(-s.Grace), s.EpochLength) - 1
	if due < 0 {
		return nil
	}
	if err := s.WAL.CloseEpochs(due); err != nil {
		return err
	}
	epochs, err := s.WAL.Epochs()
	if err != nil {
		return err
	}
	for _, e := range epochs {
		if e > due {
			break
		}
		err := s.submit(ctx, e)
		if err != nil && refusedForGood(err) {
			err = s.abandon(e, err)
		}
		if err != nil {
			return fmt.Errorf("receipts: epoch %d: %w", e, err)
		}
	}
	return nil
}

// abandon records that the ledger refused epoch's batch for good, so that
// the epochs after it are submitted.
func (s *Submitter) abandon(epoch int64, refusal error) error {
	st, err := s.WAL.ReadState(epoch)
	if err != nil {
		return err
	}
	if st == nil {
		st = &State{Epoch: epoch}
	}
	st.Stage, st.Reason = StageAbandoned, refusal.Error()
	if err := s.WAL.writeState(*st); err != nil {
		return err
	}
	if s.Log != nil {
		s.Log.Error("receipt batch refused by the ledger; abandoned", "epoch", epoch, "batch", st.BatchID, "err", refusal)
	}
	return nil
}

func (s *Submitter) submit(ctx context.Context, epoch int64) error {
	st, err := s.WAL.ReadState(epoch)
	if err != nil || st != nil && (st.Stage == StageProved || st.Stage == StageEmpty || st.Stage == StageAbandoned) {
		return err
	}
	b, err := BuildBatch(s.WAL, epoch)
	if err != nil {
		return err
	}
	if b == nil {
		return s.WAL.writeState(State{Epoch: epoch, Stage: StageEmpty})
	}
	if st == nil {
		id, err := s.Ledger.CommitBatch(ctx, b.Input())
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		st = &State{Epoch: epoch, Stage: StageCommitted, Root: b.Root, Size: b.Size(), BatchID: id}
		if err := s.WAL.writeState(*st); err != nil {
			return err
		}
	} else if st.Root != b.Root || st.Size != b.Size() {
		return fmt.Errorf("the log's batch %s/%d differs from the committed %s/%d", b.Root, b.Size(), st.Root, st.Size)
	}
	samples, err := b.Samples(st.BatchID)
	if err != nil {
		return err
	}
	if err := s.Ledger.ProveBatch(ctx, st.BatchID, samples); err != nil && !errors.Is(err, ErrAlreadyProved) {
		return fmt.Errorf("prove: %w", err)
	}
	st.Stage = StageProved
	if err := s.WAL.writeState(*st); err != nil {
		return err
	}
	if s.Log != nil {
		s.Log.Info("receipt batch submitted", "epoch", epoch, "batch", st.BatchID, "receipts", st.Size, "root", st.Root)
	}
	return nil
}

// Run steps every interval until ctx ends; failures are logged and
// retried at the next step.
func (s *Submitter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Step(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Warn("receipt batches", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
