package gateway

import (
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/mesh"
)

// meshTopology is the content service's view of the gossip mesh: an agent's
// health from SWIM failure detection, its RTT from Vivaldi coordinates.
type meshTopology struct{ m *mesh.Mesh }

func (t meshTopology) Node(id string) (content.Health, time.Duration, bool) {
	mem, ok := t.m.ByNodeID(id)
	if !ok {
		return content.HealthUnknown, 0, false
	}
	h := content.HealthUnknown
	switch mem.Status {
	case mesh.StatusAlive:
		h = content.HealthAlive
	case mesh.StatusSuspect:
		h = content.HealthSuspect
	case mesh.StatusFailed, mesh.StatusLeft:
		h = content.HealthFailed
	}
	return h, mem.RTT, mem.HasRTT
}
