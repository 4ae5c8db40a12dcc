package serviceconfig

import (
	"fmt"

	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/dct-network/dct/pkg/settings"
)

// Ledger is where a service finds its peer and the identity it acts as.
type Ledger struct {
	// Settings are the explicit ledger settings; Resolve fills the rest.
	ledger.Settings
	// ConnectionProfile is a standard Fabric connection profile (JSON or
	// YAML): the client organisation's MSP id and the address, TLS CA and
	// server name of Peer (empty: the organisation's first peer).
	ConnectionProfile string
	Peer              string
	// MSPDir is the identity's MSP directory: the certificate in
	// signcerts/, the private key in keystore/.
	MSPDir string
	// NetworkDir, when set, is a test-network run directory whose
	// network.json gives the settings of organisation Org (an MSP id;
	// empty: the first).
	NetworkDir string
	Org        string
	// NetworkIdentity picks, with NetworkDir, the organisation's identity
	// the service acts as (the gateway identity, an agent's node
	// identity); nil: the organisation's User1.
	NetworkIdentity func(netdesc.OrgInfo) (netdesc.Identity, error)
}

// ErrLedger marks ledger settings that cannot be resolved; it is
// ledger.ErrSettings.
var ErrLedger = ledger.ErrSettings

// Register binds the ledger settings to s; identity says whose identity
// the certificate is in help texts ("the gateway's", "the operator").
func (l *Ledger) Register(s *settings.Set, identity string) {
	s.String(&l.MSPDir, "msp-dir", "MSP directory of "+identity+" identity (certificate in signcerts/, key in keystore/)")
	s.String(&l.CertFile, "cert", identity+" identity certificate (PEM; default: from --msp-dir)")
	s.String(&l.KeyPath, "key", identity+" identity private key file or keystore directory (default: from --msp-dir)")
	l.RegisterPeer(s, identity)
}

// RegisterPeer binds the ledger settings other than the identity's files
// (--msp-dir, --cert, --key) to s: for a program that takes the identity
// from flags of its own, such as the operator CLI.
func (l *Ledger) RegisterPeer(s *settings.Set, identity string) {
	s.String(&l.ConnectionProfile, "connection-profile", "standard Fabric connection profile (JSON or YAML) of the client organisation: its MSP id and peers")
	s.String(&l.Peer, "peer", "peer name in --connection-profile (default: the client organisation's first peer)")
	s.String(&l.PeerAddress, "peer-address", "Fabric peer gateway endpoint host:port (default: from --connection-profile)")
	s.String(&l.PeerTLSCA, "peer-tls-ca", "PEM CA of the peer's TLS certificate (default: from --connection-profile)")
	s.String(&l.MSPID, "msp-id", "MSP id of "+identity+" identity (default: from --connection-profile)")
	s.String(&l.Channel, "channel", "channel (default "+ledger.DefaultChannel+", the profile's only channel, or the test network's)")
	s.String(&l.Chaincode, "chaincode", "chaincode name (default "+ledger.DefaultChaincode+", or the test network's)")
	s.String(&l.NetworkDir, "network-dir", "test-network run directory to take ledger and TLS settings from")
	s.String(&l.Org, "org", "organisation (MSP id) within --network-dir (default: the first)")
}

// Resolve fills the empty ledger settings: explicit settings win over the
// connection profile and MSP directory, which win over the network
// directory; channel and chaincode fall back to the ledger defaults. With
// NetworkDir it returns the network's description and the organisation
// (for the callers' TLS defaults), else nil.
func (l *Ledger) Resolve() (*netdesc.Description, netdesc.OrgInfo, error) {
	defer l.Settings.FillFrom(ledger.DefaultSettings())
	if err := l.fromProfile(); err != nil {
		return nil, netdesc.OrgInfo{}, err
	}
	if l.NetworkDir == "" {
		return nil, netdesc.OrgInfo{}, nil
	}
	desc, err := netdesc.Load(l.NetworkDir)
	if err != nil {
		return nil, netdesc.OrgInfo{}, fmt.Errorf("%w: --network-dir: %w", ErrLedger, err)
	}
	s, org, err := desc.ClientSettings(l.Org)
	if err != nil {
		return nil, netdesc.OrgInfo{}, fmt.Errorf("%w: --network-dir: %w", ErrLedger, err)
	}
	if l.NetworkIdentity != nil {
		id, err := l.NetworkIdentity(org)
		if err != nil {
			return nil, netdesc.OrgInfo{}, fmt.Errorf("%w: --network-dir: %w", ErrLedger, err)
		}
		s.CertFile, s.KeyPath = id.Cert, id.KeyDir
	}
	l.Settings.FillFrom(s)
	return desc, org, nil
}

// fromProfile fills the settings from ConnectionProfile and MSPDir.
func (l *Ledger) fromProfile() error {
	if l.MSPDir != "" {
		cert, key, err := ledger.MSPIdentity(l.MSPDir)
		if err != nil {
			return err // ledger.ErrSettings: MSP directory …
		}
		l.Settings.FillFrom(ledger.Settings{CertFile: cert, KeyPath: key})
	}
	if l.ConnectionProfile == "" {
		if l.Peer != "" {
			return fmt.Errorf("%w: --peer needs --connection-profile", ErrLedger)
		}
		return nil
	}
	p, err := ledger.LoadProfile(l.ConnectionProfile)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLedger, err)
	}
	s, err := p.Settings(l.Peer)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLedger, l.ConnectionProfile, err)
	}
	l.Settings.FillFrom(s)
	return nil
}
