package mesh

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/hashicorp/serf/coordinate"
)

// Map is the latency map as one member sees it, ready for JSON.
type Map struct {
	Self    MapMember   `json:"self"`
	Members []MapMember `json:"members"`
	At      time.Time   `json:"at"`
}

// MapMember is one member of a Map. RTTEstimateMs is absent until an
// estimate exists (and for Self).
type MapMember struct {
	Name          string            `json:"name"`
	Role          Role              `json:"role"`
	NodeID        string            `json:"nodeId,omitempty"`
	Addr          string            `json:"addr"`
	Status        Status            `json:"status"`
	RTTEstimateMs *float64          `json:"rttEstimateMs,omitempty"`
	Coordinate    *Coordinate       `json:"coordinate,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

// Coordinate is a Vivaldi network coordinate (serf's), in seconds.
type Coordinate struct {
	Vec        []float64 `json:"vec"`
	Error      float64   `json:"error"`
	Adjustment float64   `json:"adjustment"`
	Height     float64   `json:"height"`
}

func fromSerf(c *coordinate.Coordinate) *Coordinate {
	if c == nil {
		return nil
	}
	return &Coordinate{Vec: slices.Clone(c.Vec), Error: c.Error, Adjustment: c.Adjustment, Height: c.Height}
}

func (c Coordinate) toSerf() *coordinate.Coordinate {
	return &coordinate.Coordinate{Vec: slices.Clone(c.Vec), Error: c.Error, Adjustment: c.Adjustment, Height: c.Height}
}

// DistanceTo estimates the RTT between two coordinates of one map (e.g.
// between two agents); false when they are incompatible or invalid.
func (c Coordinate) DistanceTo(o Coordinate) (time.Duration, bool) {
	return distance(c.toSerf(), o.toSerf())
}

// Snapshot returns the current map.
func (m *Mesh) Snapshot() Map {
	self, _ := m.cur.Load().serf.GetCoordinate()
	local := m.cur.Load().serf.LocalMember()
	me := m.toMember(local, nil, nil)
	out := Map{
		Self: MapMember{Name: me.Name, Role: me.Role, NodeID: me.NodeID, Addr: me.Addr, Status: me.Status,
			Coordinate: fromSerf(self), Tags: me.Tags},
		Members: []MapMember{},
		At:      time.Now().UTC().Round(0),
	}
	for _, mb := range m.Members() {
		mm := MapMember{Name: mb.Name, Role: mb.Role, NodeID: mb.NodeID, Addr: mb.Addr, Status: mb.Status, Tags: mb.Tags}
		if mb.HasRTT {
			ms := float64(mb.RTT) / float64(time.Millisecond)
			mm.RTTEstimateMs = &ms
		}
		if c, ok := m.cur.Load().serf.GetCachedCoordinate(mb.Name); ok {
			mm.Coordinate = fromSerf(c)
		}
		out.Members = append(out.Members, mm)
	}
	return out
}

// Handler serves the Snapshot as JSON on GET and HEAD.
func (m *Mesh) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		b, err := json.Marshal(m.Snapshot())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(append(b, '\n'))
	})
}
