package testnetwork

import (
	"os"

	"github.com/dct-network/dct/pkg/netdesc"
)

// DescriptionFile is the name of the file Up writes in the run directory.
const DescriptionFile = netdesc.DescriptionFile

// Identity roles (netdesc).
const (
	RolePublisher = netdesc.RolePublisher
	RoleGateway   = netdesc.RoleGateway
	RoleAuditor   = netdesc.RoleAuditor
	RoleNode      = netdesc.RoleNode
)

// The parts of a network description (package netdesc, which production
// code reads without linking this launcher).
type (
	Org         = netdesc.Org
	OrgInfo     = netdesc.OrgInfo
	PeerNode    = netdesc.PeerNode
	OrdererNode = netdesc.OrdererNode
	AgentInfo   = netdesc.AgentInfo
	GatewayInfo = netdesc.GatewayInfo
	Identity    = netdesc.Identity
)

// Description says where everything of a running network is (see
// netdesc.Description); the launcher adds process control to it (PID,
// Signal, KillService, RestartService, StopNode, StartNode, LogFile). Up writes it to
// RunDir/network.json before it starts any process, so Down can always find
// what to stop.
type Description struct {
	netdesc.Description
}

// Load reads the description of the network whose run directory is runDir.
func Load(runDir string) (*Description, error) {
	d, err := netdesc.Load(runDir)
	if err != nil {
		return nil, err
	}
	return &Description{Description: *d}, nil
}

func (d *Description) save() error { return d.Description.Save() }

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
