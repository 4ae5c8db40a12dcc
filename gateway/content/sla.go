package content

import (
	"context"
	"errors"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Observer learns what the service sees of the nodes, for their SLA
// attestations (the gateway's sla.Aggregator through an adapter). Its
// methods are called on the read path and must not block.
type Observer interface {
	// Probe: a shard request to node needed an answer; answered says
	// whether the node answered (a refusal or "not found" is an answer, a
	// timeout or a connection failure is not).
	Probe(node string, answered bool)
	// Latency: a shard request to node answered in d.
	Latency(node string, d time.Duration)
	// Failed: a shard from node failed verification, or node did not
	// have a shard the ledger lists it for.
	Failed(node string)
	// Delivered: node delivered bytes of a shard that verified.
	Delivered(node string, bytes int64)
}

// Scores are the nodes' SLA scores as the gateway last read them
// (*sla.Table).
type Scores interface {
	Score(node string) (records.SLAScore, bool)
}

// WithObserver reports every shard request's outcome, verification
// failure and verified delivery to o.
func WithObserver(o Observer) Option { return func(s *Service) { s.observer = o } }

// WithScores ranks holders by SLA score among similarly near ones (holders
// whose cost falls in the same band of width band, see rankHolders) and
// leaves penalized nodes out of new shard placements.
func WithScores(sc Scores, band time.Duration) Option {
	return func(s *Service) {
		s.scores = sc
		if band > 0 {
			s.scoreBand = band
		}
	}
}

// DefaultScoreBand is the routing band of WithScores without one.
const DefaultScoreBand = 10 * time.Millisecond

// scoreOf is node's SLA score (UnscoredSLAScore without a table or a
// stored score).
func (s *Service) scoreOf(node string) int64 {
	if s.scores == nil {
		return records.UnscoredSLAScore
	}
	if sc, ok := s.scores.Score(node); ok {
		return sc.Score
	}
	return records.UnscoredSLAScore
}

// penalized reports whether node's SLA state is penalized: it gets no new
// shards (publish and repair placement).
func (s *Service) penalized(node string) bool {
	if s.scores == nil {
		return false
	}
	sc, ok := s.scores.Score(node)
	return ok && sc.State == records.SLAStatePenalized
}

// observeFetch reports one shard request's outcome (not for requests
// cancelled because another holder answered first).
func (s *Service) observeFetch(node string, d time.Duration, err error) {
	if s.observer == nil {
		return
	}
	answered := err == nil || errors.Is(err, ErrShardCorrupt) || errors.Is(err, ErrShardNotFound) ||
		errors.Is(err, ErrAgentRefused) || errors.Is(err, ErrAgentFull)
	if errors.Is(err, context.Canceled) && !errors.Is(err, ErrAgentUnavailable) {
		return // the read was abandoned: the node's answer says nothing
	}
	s.observer.Probe(node, answered)
	if err == nil {
		s.observer.Latency(node, d)
	}
}

func (s *Service) observeFailed(node string) {
	if s.observer != nil {
		s.observer.Failed(node)
	}
}

func (s *Service) observeDelivered(node string, bytes int64) {
	if s.observer != nil {
		s.observer.Delivered(node, bytes)
	}
}
