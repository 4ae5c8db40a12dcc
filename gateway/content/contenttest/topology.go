package contenttest

import (
	"sync"
	"time"

	"github.com/dct-network/dct/gateway/content"
)

var _ content.Topology = (*Topology)(nil)

// Topology is a mesh view set by the test: nodes are alive, without an
// RTT estimate, until told otherwise.
type Topology struct {
	mu     sync.Mutex
	health map[string]content.Health
	rtt    map[string]time.Duration
}

// NewTopology returns a view where every node is alive.
func NewTopology() *Topology {
	return &Topology{health: map[string]content.Health{}, rtt: map[string]time.Duration{}}
}

// SetHealth sets a node's health.
func (t *Topology) SetHealth(id string, h content.Health) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.health[id] = h
}

// SetRTT sets a node's estimated round-trip time.
func (t *Topology) SetRTT(id string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rtt[id] = d
}

// Node reports the node's health and RTT estimate.
func (t *Topology) Node(id string) (content.Health, time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.health[id]
	if !ok {
		h = content.HealthAlive
	}
	d, has := t.rtt[id]
	return h, d, has
}
