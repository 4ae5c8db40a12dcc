package netdesc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/dct-network/dct/pkg/ledger"
)

// DescriptionFile is the name of the description in a run directory.
const DescriptionFile = "network.json"

// Org is a peer (or orderer) organisation.
type Org struct {
	// Name is the organisation's configtx name (letters and digits).
	Name string `json:"name"`
	// MSPID is its membership service provider id.
	MSPID string `json:"mspId"`
	// Domain is the DNS-style domain cryptogen names its nodes under.
	Domain string `json:"domain"`
}

// Description says where everything of a running network is. The launcher
// writes it to RunDir/network.json before it starts any process, so it can
// always find what to stop.
type Description struct {
	RunDir             string `json:"runDir"`
	Host               string `json:"host"`
	Channel            string `json:"channel"`
	Chaincode          string `json:"chaincode"`
	ChaincodeVersion   string `json:"chaincodeVersion"`
	ChaincodePackageID string `json:"chaincodePackageId,omitempty"`
	ChaincodeAddress   string `json:"chaincodeAddress"`
	// ChaincodeOpsAddress is the chaincode server's operations listener
	// (/metrics, /healthz, /readyz; empty: none).
	ChaincodeOpsAddress string `json:"chaincodeOpsAddress,omitempty"`
	EndorsementPolicy   string `json:"endorsementPolicy"`
	TLSRootBundle       string `json:"tlsRootBundle"`
	// GatewaySecretsDir (mode 0700) holds what only gateways are given:
	// MasterKeyFile, the consortium master key object keys derive from. No
	// agent is pointed at that directory.
	GatewaySecretsDir string `json:"gatewaySecretsDir,omitempty"`
	MasterKeyFile     string `json:"masterKeyFile"`
	// MeshKeyringFile is the consortium's gossip keyring (mode 0600),
	// given to every agent and gateway (--mesh-keyring).
	MeshKeyringFile string        `json:"meshKeyringFile,omitempty"`
	OrdererOrg      OrgInfo       `json:"ordererOrg"`
	Orderers        []OrdererNode `json:"orderers"`
	Orgs            []OrgInfo     `json:"orgs"`
	// AgentsPerOrg is how many agent TLS identities each organisation has.
	AgentsPerOrg int `json:"agentsPerOrg,omitempty"`
	// Agents and Gateways are the DCT services started on the network.
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
	// Identities are the organisation's enrolled identities with the DCT
	// role its admin granted each (see Identity).
	Identities []Identity `json:"identities,omitempty"`
	// GatewayTLSCert/Key is the TLS server pair of the organisation's DCT
	// gateways' admin listener, from its TLS CA (TLSCACert).
	GatewayTLSCert string `json:"gatewayTlsCert,omitempty"`
	GatewayTLSKey  string `json:"gatewayTlsKey,omitempty"`
	// BidKeyFile (mode 0600) is the organisation's bid key, shared by its
	// agents and gateways only: it encrypts the openings of its nodes'
	// sealed bids so that its gateways can reveal them.
	BidKeyFile string `json:"bidKeyFile,omitempty"`
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

// AgentInfo is one running edge agent.
type AgentInfo struct {
	// Name is the agent's process name and node id, e.g. agent0-org1.
	Name    string `json:"name"`
	NodeID  string `json:"nodeId"`
	Org     string `json:"org"`
	Zone    string `json:"zone"`
	Address string `json:"address"`
	// MeshAddress is the agent's gossip address ("" without mesh).
	MeshAddress string `json:"meshAddress,omitempty"`
	DataDir     string `json:"dataDir"`
	Bin         string `json:"bin"`
	// Args and Env restart the agent as it was started.
	Args []string `json:"args"`
	Env  []string `json:"env,omitempty"`
}

// GatewayInfo is one running gateway.
type GatewayInfo struct {
	Name    string `json:"name"`
	Org     string `json:"org"`
	Address string `json:"address"`
	URL     string `json:"url"`
	// AdminAddress and AdminURL are the admin listener (HTTPS, publish and
	// purge with a publisher's client certificate); "" without one.
	AdminAddress string `json:"adminAddress,omitempty"`
	AdminURL     string `json:"adminUrl,omitempty"`
	MeshAddress  string `json:"meshAddress,omitempty"`
	// ReceiptsDir is the gateway's delivery-receipt log.
	ReceiptsDir string   `json:"receiptsDir,omitempty"`
	Bin         string   `json:"bin"`
	Args        []string `json:"args"`
	Env         []string `json:"env,omitempty"`
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

// Save writes the description to RunDir/network.json, atomically.
func (d *Description) Save() error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(d.RunDir, DescriptionFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
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

// Identity roles of the test network (the chaincode's records.Role names).
const (
	RolePublisher = "publisher"
	RoleGateway   = "gateway"
	RoleAuditor   = "auditor"
	RoleNode      = "node"
)

// Identity is one enrolled identity of an organisation: its MSP directory
// and TLS pair as cryptogen wrote them, and the role the organisation's
// admin granted it on the ledger (NodeID binds a node identity to its
// node).
type Identity struct {
	Role string `json:"role"`
	// Name is the cryptogen name, e.g. User2@org1.dct.test.
	Name string `json:"name"`
	// Host is a node identity's agent host (agent0, agent1, …).
	Host   string `json:"host,omitempty"`
	MSPDir string `json:"mspDir"`
	// Cert is the signing certificate (in MSPDir/signcerts), KeyDir the
	// keystore holding its key.
	Cert   string `json:"cert"`
	KeyDir string `json:"keyDir"`
	// TLSCert and TLSKey are the identity's TLS pair (a client pair for
	// users, the server pair for agents).
	TLSCert string `json:"tlsCert"`
	TLSKey  string `json:"tlsKey"`
	NodeID  string `json:"nodeId,omitempty"`
}

// Signer loads the identity as a signer of organisation mspID.
func (i Identity) Signer(mspID string) (ledger.Signer, error) {
	return ledger.LoadSigner(mspID, i.Cert, i.KeyDir)
}

// Identity returns the organisation's first identity with role.
func (o OrgInfo) Identity(role string) (Identity, error) {
	for _, id := range o.Identities {
		if id.Role == role {
			return id, nil
		}
	}
	return Identity{}, fmt.Errorf("organisation %s has no %s identity", o.MSPID, role)
}

// NodeIdentity returns the identity of the organisation's agent host
// (agent0, agent1, …).
func (o OrgInfo) NodeIdentity(host string) (Identity, error) {
	for _, id := range o.Identities {
		if id.Role == RoleNode && id.Host == host {
			return id, nil
		}
	}
	return Identity{}, fmt.Errorf("organisation %s has no node identity for %s", o.MSPID, host)
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

// UserTLS is the TLS client certificate and key of the organisation's
// client identity: cryptogen puts them in <user>/tls next to <user>/msp,
// whose signcerts/ holds UserCert.
func (o OrgInfo) UserTLS() (cert, key string) {
	dir := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(o.UserCert))), "tls")
	return filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
}

// AgentTLS is the TLS server certificate and key of the organisation's
// agent host (agent0, agent1, …): cryptogen puts them in
// <org>/peers/<host>.<domain>/tls next to <org>/msp.
func (o OrgInfo) AgentTLS(host string) (cert, key string) {
	dir := filepath.Join(filepath.Dir(o.MSPDir), "peers", host+"."+o.Domain, "tls")
	return filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
}

// CACerts are the organisation's MSP CA certificates (msp/cacerts/*.pem
// and msp/intermediatecerts/*.pem), sorted.
func (o OrgInfo) CACerts() ([]string, error) {
	var out []string
	for _, sub := range []string{"cacerts", "intermediatecerts"} {
		files, err := filepath.Glob(filepath.Join(o.MSPDir, sub, "*.pem"))
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("organisation %s: no CA certificate in %s/cacerts", o.MSPID, o.MSPDir)
	}
	sort.Strings(out)
	return out, nil
}

// MemberCAs are every organisation's MSP CAs as "MSPID=ca.pem" items, what
// gateways and edge agents verify clients' enrollment certificates with
// (--member-cas of dct-gateway and dct-agent, memberauth.LoadVerifier).
func (d *Description) MemberCAs() ([]string, error) {
	var out []string
	for _, o := range d.Orgs {
		files, err := o.CACerts()
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			out = append(out, o.MSPID+"="+f)
		}
	}
	return out, nil
}
