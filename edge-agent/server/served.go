package server

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Served counts the shard bytes the agent sent, per delivery epoch
// (records.EpochOf of the agent's clock, with the ledger's epoch length)
// and per calling gateway identity,
// so that the node's operator can compare them with the totals the
// gateways' batches claim for the node on the ledger (delivery:Batches,
// delivery:NodeEpoch). Nodes do not countersign receipts (see the README's
// threat model); these counters are their own record.
//
// Memory is bounded: the last Keep epochs are kept, and within an epoch at
// most MaxCallers identities are counted apart (the bytes of further
// identities are counted under their organisation with CertHash
// OtherCallers; the organisations are the member CAs the agent trusts).
type Served struct {
	keep, maxCallers int
	now              func() time.Time
	seconds          atomic.Int64 // the epoch length; 0: records.DefaultEpochSeconds

	mu       sync.Mutex
	epochs   map[int64]*servedEpoch
	reported int64 // the last epoch Closed returned
}

type servedEpoch struct {
	callers map[Caller]*GatewayServed
}

// GatewayServed is what the agent sent one gateway identity in an epoch.
type GatewayServed struct {
	MSPID    string `json:"mspId"`
	CertHash string `json:"certHash"`
	// Bytes of shard data sent and Reads, the GetShard calls that sent
	// them.
	Bytes int64 `json:"bytes"`
	Reads int64 `json:"reads"`
}

// EpochServed is one epoch's counters, by MSP ID and certificate hash.
type EpochServed struct {
	Epoch    int64           `json:"epoch"`
	Gateways []GatewayServed `json:"gateways"`
}

// Defaults of NewServed.
const (
	// DefaultServedEpochs is two hours of 60 s epochs.
	DefaultServedEpochs = 120
	// DefaultServedCallers bounds the identities counted apart per epoch.
	DefaultServedCallers = 1024
	// OtherCallers stands for the identities beyond MaxCallers in an
	// epoch.
	OtherCallers = "other"
)

// NewServed keeps the counters of the last keep epochs (<= 0:
// DefaultServedEpochs) of at most maxCallers identities each (<= 0:
// DefaultServedCallers), dated by now (nil: time.Now).
func NewServed(keep, maxCallers int, now func() time.Time) *Served {
	if keep <= 0 {
		keep = DefaultServedEpochs
	}
	if maxCallers <= 0 {
		maxCallers = DefaultServedCallers
	}
	if now == nil {
		now = time.Now
	}
	return &Served{keep: keep, maxCallers: maxCallers, now: now, epochs: map[int64]*servedEpoch{}, reported: records.EpochOf(now(), 0) - 1}
}

// SetEpochSeconds sets the epoch length (the ledger's, delivery:Epoch;
// until set). Set it before counting.
func (s *Served) SetEpochSeconds(seconds int64) {
	s.seconds.Store(seconds)
	s.mu.Lock()
	s.reported = records.EpochOf(s.now(), seconds) - 1
	s.mu.Unlock()
}

func (s *Served) epochOf(t time.Time) int64 { return records.EpochOf(t, s.seconds.Load()) }

// Add counts n bytes sent to c by one read, in the current epoch.
func (s *Served) Add(c Caller, n int64) {
	epoch := s.epochOf(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.epochs[epoch]
	if e == nil {
		e = &servedEpoch{callers: map[Caller]*GatewayServed{}}
		s.epochs[epoch] = e
		s.trim()
	}
	g := e.callers[c]
	if g == nil {
		if len(e.callers) >= s.maxCallers {
			c = Caller{MSPID: c.MSPID, CertHash: OtherCallers}
			g = e.callers[c]
		}
		if g == nil {
			g = &GatewayServed{MSPID: c.MSPID, CertHash: c.CertHash}
			e.callers[c] = g
		}
	}
	g.Bytes += n
	g.Reads++
}

// trim drops the oldest epochs beyond keep.
func (s *Served) trim() {
	for len(s.epochs) > s.keep {
		oldest := int64(0)
		first := true
		for e := range s.epochs {
			if first || e < oldest {
				oldest, first = e, false
			}
		}
		delete(s.epochs, oldest)
	}
}

// Epochs returns the kept epochs' counters, oldest first.
func (s *Served) Epochs() []EpochServed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot(func(int64) bool { return true })
}

// Closed returns the counters of the epochs that ended since the last
// call (oldest first), each once.
func (s *Served) Closed() []EpochServed {
	cur := s.epochOf(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	after := s.reported
	out := s.snapshot(func(e int64) bool { return e > after && e < cur })
	s.reported = max(s.reported, cur-1)
	return out
}

func (s *Served) snapshot(keep func(int64) bool) []EpochServed {
	var out []EpochServed
	for epoch, e := range s.epochs {
		if !keep(epoch) {
			continue
		}
		es := EpochServed{Epoch: epoch}
		for _, g := range e.callers {
			es.Gateways = append(es.Gateways, *g)
		}
		slices.SortFunc(es.Gateways, func(a, b GatewayServed) int {
			return cmp.Or(cmp.Compare(a.MSPID, b.MSPID), cmp.Compare(a.CertHash, b.CertHash))
		})
		out = append(out, es)
	}
	slices.SortFunc(out, func(a, b EpochServed) int { return cmp.Compare(a.Epoch, b.Epoch) })
	return out
}

// Report logs every ended epoch's counters (one "served epoch" line per
// gateway identity), checking every interval, until ctx ends.
func (s *Served) Report(ctx context.Context, log *slog.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		LogServed(log, s.Closed())
	}
}

// LogServed logs epochs' counters, one line per gateway identity.
func LogServed(log *slog.Logger, epochs []EpochServed) {
	for _, e := range epochs {
		for _, g := range e.Gateways {
			log.Info("served epoch", "epoch", e.Epoch, "gatewayMsp", g.MSPID, "gatewayCert", g.CertHash, "bytes", g.Bytes, "reads", g.Reads)
		}
	}
}
