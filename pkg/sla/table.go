package sla

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// Scores reads every stored score (*ledger.Client).
type Scores interface {
	SLAScores(ctx context.Context) ([]*records.SLAScore, error)
}

// Table is a gateway's cached copy of the ledger's scores, refreshed by
// Watch on every scored epoch and by Run periodically as the fallback. A node without a stored score is unscored. Its methods are safe for
// concurrent use.
type Table struct {
	mu     sync.RWMutex
	scores map[string]records.SLAScore
	at     time.Time
	// live: Watch follows the ledger's SLA events, so Run's periodic
	// reread is skipped (the fallback while they are not followed).
	live atomic.Bool
	// refreshes counts the rereads done (for tests and logs).
	refreshes atomic.Int64
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{scores: map[string]records.SLAScore{}} }

// Score is node's cached score; false when the ledger had none (the node
// is unscored).
func (t *Table) Score(node string) (records.SLAScore, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	s, ok := t.scores[node]
	return s, ok
}

// Penalized reports whether node's cached state is penalized.
func (t *Table) Penalized(node string) bool {
	s, ok := t.Score(node)
	return ok && s.State == records.SLAStatePenalized
}

// Set replaces the table's content with scores (invalid entries are left
// out).
func (t *Table) Set(scores []*records.SLAScore) {
	m := make(map[string]records.SLAScore, len(scores))
	for _, s := range scores {
		if s != nil && s.Validate() == nil {
			m[s.Node] = *s
		}
	}
	t.mu.Lock()
	t.scores, t.at = m, time.Now()
	t.mu.Unlock()
}

// Len is the number of scores held.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.scores)
}

// Refresh reads every score from src.
func (t *Table) Refresh(ctx context.Context, src Scores) error {
	s, err := src.SLAScores(ctx)
	if err != nil {
		return err
	}
	t.Set(s)
	t.refreshes.Add(1)
	return nil
}

// Refreshes is the number of successful rereads so far.
func (t *Table) Refreshes() int64 { return t.refreshes.Load() }

// Live reports whether Watch follows the ledger's SLA events now.
func (t *Table) Live() bool { return t.live.Load() }

// Run refreshes the table at once and then every interval until ctx ends,
// except while Watch follows the SLA events (the reread is their
// fallback); a failed refresh keeps the previous content.
func (t *Table) Run(ctx context.Context, src Scores, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for first := true; ; first = false {
		if first || !t.live.Load() {
			if err := t.Refresh(ctx, src); err != nil && ctx.Err() == nil {
				log.Warn("SLA scores not refreshed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Events is the ledger's stream of scored epochs (*ledger.Client): the
// channel closes when the stream breaks, and ledger.ResumeAfter continues
// after the last event handled.
type Events interface {
	SLAEvents(ctx context.Context, opts ...ledger.EventsOption) (<-chan ledger.SLAEvent, error)
}

// WatchConfig tunes Watch: the wait before resubscribing after the stream
// broke doubles from MinBackoff up to MaxBackoff, and is back at
// MinBackoff once a stream lasted StableAfter.
type WatchConfig struct {
	MinBackoff, MaxBackoff, StableAfter time.Duration
}

// DefaultWatchConfig returns the defaults.
func DefaultWatchConfig() WatchConfig {
	return WatchConfig{MinBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, StableAfter: 10 * time.Second}
}

// Watch keeps the table in step with the ledger until ctx ends: every
// committed sla:Score that changed a score (its event names the nodes)
// rereads the scores at once, so routing and placement see a new score
// within the event's delay rather than Run's interval. While the stream is
// live Run does not poll; when it breaks, Watch logs it, lets Run poll and
// resubscribes with backoff, resuming after the last event it handled. The
// first subscription rereads the table too (scores committed before it).
func (t *Table) Watch(ctx context.Context, events Events, src Scores, cfg WatchConfig, log *slog.Logger) {
	if cfg.MinBackoff <= 0 {
		cfg = DefaultWatchConfig()
	}
	var cp ledger.Checkpoint
	backoff := cfg.MinBackoff
	for ctx.Err() == nil {
		ch, err := events.SLAEvents(ctx, ledger.ResumeAfter(cp))
		if err == nil {
			t.live.Store(true)
			log.Info("following the ledger's SLA events", "from", cp.String())
			if cp.IsZero() {
				t.refresh(ctx, src, log)
			}
			start := time.Now()
			for ev := range ch {
				cp = ev.After()
				if len(ev.Nodes) > 0 {
					log.Debug("SLA epoch scored", "event", ev.String(), "tx", ev.TxID)
					t.refresh(ctx, src, log)
				}
			}
			t.live.Store(false)
			if ctx.Err() != nil {
				return
			}
			if time.Since(start) >= cfg.StableAfter {
				backoff = cfg.MinBackoff
			}
			log.Warn("SLA event stream ended; rereading the scores periodically until it is back", "retryIn", backoff, "resumeAt", cp.String())
		} else {
			log.Warn("SLA events unavailable; rereading the scores periodically until they are back", "retryIn", backoff, "err", err)
		}
		tm := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			tm.Stop()
			return
		case <-tm.C:
		}
		backoff = min(2*backoff, cfg.MaxBackoff)
	}
}

func (t *Table) refresh(ctx context.Context, src Scores, log *slog.Logger) {
	if err := t.Refresh(ctx, src); err != nil && ctx.Err() == nil {
		log.Warn("SLA scores not refreshed", "err", err)
	}
}
