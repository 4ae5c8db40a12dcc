package sla

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Scores reads every stored score (*ledger.Client).
type Scores interface {
	SLAScores(ctx context.Context) ([]*records.SLAScore, error)
}

// Table is a gateway's cached copy of the ledger's scores, refreshed by
// Run. A node without a stored score is unscored. Its methods are safe for
// concurrent use.
type Table struct {
	mu     sync.RWMutex
	scores map[string]records.SLAScore
	at     time.Time
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
	return nil
}

// Run refreshes the table at once and then every interval until ctx ends;
// a failed refresh keeps the previous content.
func (t *Table) Run(ctx context.Context, src Scores, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := t.Refresh(ctx, src); err != nil && ctx.Err() == nil {
			log.Warn("SLA scores not refreshed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
