package testnetwork

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dct-network/dct/pkg/ledger"
)

// DescriptionFile is the name of the file Up writes in the run directory.
const DescriptionFile = "network.json"

// Description says where everything of a running network is. Up writes it to
// RunDir/network.json before it starts any process, so Down can always find
// what to stop.
type Description struct {
	RunDir             string        `json:"runDir"`
	Host               string        `json:"host"`
	Channel            string        `json:"channel"`
	Chaincode          string        `json:"chaincode"`
	ChaincodeVersion   string        `json:"chaincodeVersion"`
	ChaincodePackageID string        `json:"chaincodePackageId,omitempty"`
	ChaincodeAddress   string        `json:"chaincodeAddress"`
	EndorsementPolicy  string        `json:"endorsementPolicy"`
	TLSRootBundle      string        `json:"tlsRootBundle"`
	MasterKeyFile      string        `json:"masterKeyFile"`
	OrdererOrg         OrgInfo       `json:"ordererOrg"`
	Orderers           []OrdererNode `json:"orderers"`
	Orgs               []OrgInfo     `json:"orgs"`
	// AgentsPerOrg is how many agent TLS identities each organisation has.
	AgentsPerOrg int `json:"agentsPerOrg,omitempty"`
	// Agents and Gateways are the DCT services started by StartServices.
	Agents   []AgentInfo   `json:"agents,omitempty"`
	Gateways []GatewayInfo `json:"gateways,omitempty"`
}

// OrgInfo locates an organisation's crypto material and nodes.
type OrgInfo struct {
	Org
	// MSPDir is the organisation's MSP (CA and admin certificates).
	MSPDir string `json:"mspDir"`
	// TLSCACert is the CA that issued the TLS certificates of its nodes.
	TLSCACert string `json:"tlsCACert"`
	// AdminCert/AdminKeyDir and UserCert/UserKeyDir are enrolled identities.
	AdminCert   string `json:"adminCert"`
	AdminKeyDir string `json:"adminKeyDir"`
	AdminMSPDir string `json:"adminMspDir"`
	// AdminTLSCert/Key: the admin's TLS client certificate (osnadmin).
	AdminTLSCert string `json:"adminTlsCert"`
	AdminTLSKey  string `json:"adminTlsKey"`
	UserCert     string `json:"userCert,omitempty"`
	UserKeyDir   string `json:"userKeyDir,omitempty"`
	// ConnectionProfile is the standard Fabric connection profile (JSON).
	ConnectionProfile string     `json:"connectionProfile,omitempty"`
	Peers             []PeerNode `json:"peers,omitempty"`
}

// PeerNode is one peer.
type PeerNode struct {
	Name              string `json:"name"`
	Address           string `json:"address"`
	ChaincodeAddress  string `json:"chaincodeAddress"`
	OperationsAddress string `json:"operationsAddress"`
	Dir               string `json:"dir"`
	TLSCACert         string `json:"tlsCACert"`
}

// OrdererNode is one orderer.
type OrdererNode struct {
	Name              string `json:"name"`
	Address           string `json:"address"`
	AdminAddress      string `json:"adminAddress"`
	OperationsAddress string `json:"operationsAddress"`
	Dir               string `json:"dir"`
	TLSCACert         string `json:"tlsCACert"`
}

// Load reads the description of the network whose run directory is runDir.
func Load(runDir string) (*Description, error) {
	b, err := os.ReadFile(filepath.Join(runDir, DescriptionFile))
	if err != nil {
		return nil, fmt.Errorf("load network description: %w", err)
	}
	var d Description
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parse %s: %w", DescriptionFile, err)
	}
	return &d, nil
}

func (d *Description) save() error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(d.RunDir, DescriptionFile), b, 0o644)
}

// Org returns the organisation with the given MSP id.
func (d *Description) Org(mspID string) (OrgInfo, error) {
	for _, o := range d.Orgs {
		if o.MSPID == mspID {
			return o, nil
		}
	}
	return OrgInfo{}, fmt.Errorf("no organisation %q in the network", mspID)
}

// ClientSettings returns the ledger settings of an organisation's client
// identity (User1) on this network ("" = the first organisation), with the
// organisation.
func (d *Description) ClientSettings(mspID string) (ledger.Settings, OrgInfo, error) {
	if len(d.Orgs) == 0 {
		return ledger.Settings{}, OrgInfo{}, fmt.Errorf("the network in %s has no organisation", d.RunDir)
	}
	if mspID == "" {
		mspID = d.Orgs[0].MSPID
	}
	o, err := d.Org(mspID)
	if err != nil {
		return ledger.Settings{}, OrgInfo{}, err
	}
	s := ledger.Settings{MSPID: o.MSPID, CertFile: o.UserCert, KeyPath: o.UserKeyDir, Channel: d.Channel, Chaincode: d.Chaincode}
	if len(o.Peers) > 0 {
		s.PeerAddress, s.PeerTLSCA = o.Peers[0].Address, o.Peers[0].TLSCACert
	}
	return s, o, nil
}

// PeerEndpoint is the Gateway endpoint of the organisation's first peer.
func (o OrgInfo) PeerEndpoint() ledger.PeerEndpoint {
	p := o.Peers[0]
	return ledger.PeerEndpoint{Address: p.Address, TLSCACertFile: p.TLSCACert}
}

// AdminSigner loads the organisation's admin identity.
func (o OrgInfo) AdminSigner() (ledger.Signer, error) {
	return ledger.LoadSigner(o.MSPID, o.AdminCert, o.AdminKeyDir)
}

// UserSigner loads the organisation's client (User1) identity.
func (o OrgInfo) UserSigner() (ledger.Signer, error) {
	return ledger.LoadSigner(o.MSPID, o.UserCert, o.UserKeyDir)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
