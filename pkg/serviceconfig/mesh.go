package serviceconfig

import (
	"errors"
	"fmt"
	"net"

	"github.com/dct-network/dct/pkg/settings"
)

// Mesh are the gossip mesh settings of a service.
type Mesh struct {
	// MeshListen is the gossip address host:port (UDP and TCP); empty
	// leaves the mesh off. MeshAdvertise is what other members dial
	// (default: the bound address); MeshJoin are seed members' gossip
	// addresses.
	MeshListen    string
	MeshAdvertise string
	MeshJoin      []string
}

// ErrMesh marks inconsistent mesh settings.
var ErrMesh = errors.New("mesh settings")

// Register binds the mesh settings to s.
func (m *Mesh) Register(s *settings.Set) {
	s.String(&m.MeshListen, "mesh-listen", "gossip address host:port (UDP and TCP) of the latency mesh; empty: no mesh")
	s.String(&m.MeshAdvertise, "mesh-advertise", "gossip address host:port other mesh members reach (default: the bound --mesh-listen address)")
	s.StringList(&m.MeshJoin, "mesh-join", "gossip addresses host:port of mesh members to join (retried until one answers)")
}

// Validate checks that the addresses are host:port and that advertise and
// join come with listen.
func (m Mesh) Validate() error {
	if m.MeshListen == "" {
		if m.MeshAdvertise != "" || len(m.MeshJoin) > 0 {
			return fmt.Errorf("%w: --mesh-advertise and --mesh-join need --mesh-listen", ErrMesh)
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(m.MeshListen); err != nil {
		return fmt.Errorf("%w: mesh listen address %q: %v", ErrMesh, m.MeshListen, err)
	}
	return nil
}
