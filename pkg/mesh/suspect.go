package mesh

import (
	"sync"

	"github.com/hashicorp/serf/coordinate"
)

// probeWatch tells which members are suspect: those whose last direct
// probe from this member went unanswered.
//
// Neither serf nor memberlist exposes suspicion (memberlist keeps it in its
// private node table; the State of the Nodes its Members returns is never
// updated). Two public hooks give it instead:
//   - memberlist calls Config.DisableTcpPingsForNode(name) exactly when a
//     direct probe of name has timed out, before it tries indirect and TCP
//     probes and, should those fail too, suspects the member;
//   - serf caches a new *coordinate.Coordinate for a member on every
//     successful direct probe of it.
//
// A member is suspect from a failed probe until its cached coordinate
// changes (a later probe was answered) or serf reports a membership change
// for it. This is this member's own suspicion, SWIM's trigger for
// gossiping one; it shows within one probe round of a crash, while the
// cluster's suspicion timeout (several probe intervals) runs.
type probeWatch struct {
	mu  sync.Mutex
	src coordSource // nil until serf is created
	// unanswered maps a member to its cached coordinate when a probe of it
	// failed (nil if it had none).
	unanswered map[string]*coordinate.Coordinate
}

// coordSource is what probeWatch needs of serf.
type coordSource interface {
	GetCachedCoordinate(name string) (*coordinate.Coordinate, bool)
}

// setSource hands over serf once created (memberlist may probe before).
func (p *probeWatch) setSource(src coordSource) {
	p.mu.Lock()
	p.src = src
	p.mu.Unlock()
}

// cached returns name's cached coordinate; the caller holds p.mu.
func (p *probeWatch) cached(name string) *coordinate.Coordinate {
	if p.src == nil {
		return nil
	}
	c, _ := p.src.GetCachedCoordinate(name)
	return c
}

func newProbeWatch() *probeWatch {
	return &probeWatch{unanswered: map[string]*coordinate.Coordinate{}}
}

// probeFailed is memberlist's DisableTcpPingsForNode: it records the
// failure and keeps TCP fallback probes on.
func (p *probeWatch) probeFailed(name string) bool {
	p.mu.Lock()
	p.unanswered[name] = p.cached(name)
	p.mu.Unlock()
	return false
}

// forget drops a member's record (it joined, failed, left or was reaped).
func (p *probeWatch) forget(name string) {
	p.mu.Lock()
	delete(p.unanswered, name)
	p.mu.Unlock()
}

// suspects returns the members whose last probe failed.
func (p *probeWatch) suspects() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out map[string]bool
	for name, at := range p.unanswered {
		if p.cached(name) != at {
			delete(p.unanswered, name) // answered since
			continue
		}
		if out == nil {
			out = map[string]bool{}
		}
		out[name] = true
	}
	return out
}
