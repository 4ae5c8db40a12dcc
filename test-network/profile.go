package testnetwork

import (
	"encoding/json"
	"os"
)

// Connection profiles follow the common Fabric connection profile format
// (JSON) read by the Fabric SDKs and tools.
type connectionProfile struct {
	Name          string                    `json:"name"`
	Version       string                    `json:"version"`
	Client        profileClient             `json:"client"`
	Organizations map[string]profileOrg     `json:"organizations"`
	Peers         map[string]profileNode    `json:"peers"`
	Orderers      map[string]profileNode    `json:"orderers"`
	Channels      map[string]profileChannel `json:"channels"`
}

type profileClient struct {
	Organization string `json:"organization"`
	Connection   struct {
		Timeout struct {
			Peer struct {
				Endorser string `json:"endorser"`
			} `json:"peer"`
		} `json:"timeout"`
	} `json:"connection"`
}

type profileOrg struct {
	MSPID                  string         `json:"mspid"`
	Peers                  []string       `json:"peers"`
	CertificateAuthorities []string       `json:"certificateAuthorities"`
	AdminPrivateKey        map[string]any `json:"adminPrivateKey,omitempty"`
	SignedCert             map[string]any `json:"signedCert,omitempty"`
}

type profileNode struct {
	URL         string            `json:"url"`
	TLSCACerts  map[string]string `json:"tlsCACerts"`
	GRPCOptions map[string]string `json:"grpcOptions"`
}

type profileChannel struct {
	Orderers []string                  `json:"orderers"`
	Peers    map[string]map[string]any `json:"peers"`
}

// writeConnectionProfiles writes one profile per organisation naming every
// peer and orderer of the channel, with the client organisation set to it.
func (n *Network) writeConnectionProfiles() error {
	node := func(name, addr, caFile string) (profileNode, error) {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return profileNode{}, err
		}
		return profileNode{
			URL:         "grpcs://" + addr,
			TLSCACerts:  map[string]string{"pem": string(pem), "path": caFile},
			GRPCOptions: map[string]string{"ssl-target-name-override": name, "hostnameOverride": name},
		}, nil
	}
	peers := map[string]profileNode{}
	orderers := map[string]profileNode{}
	orgs := map[string]profileOrg{}
	ch := profileChannel{Peers: map[string]map[string]any{}}
	for _, org := range n.desc.Orgs {
		po := profileOrg{MSPID: org.MSPID, CertificateAuthorities: []string{}}
		for _, p := range org.Peers {
			pn, err := node(p.Name, p.Address, p.TLSCACert)
			if err != nil {
				return err
			}
			peers[p.Name] = pn
			po.Peers = append(po.Peers, p.Name)
			ch.Peers[p.Name] = map[string]any{"endorsingPeer": true, "chaincodeQuery": true, "ledgerQuery": true, "eventSource": true}
		}
		orgs[org.Name] = po
	}
	for _, o := range n.desc.Orderers {
		on, err := node(o.Name, o.Address, o.TLSCACert)
		if err != nil {
			return err
		}
		orderers[o.Name] = on
		ch.Orderers = append(ch.Orderers, o.Name)
	}
	for _, org := range n.desc.Orgs {
		cp := connectionProfile{
			Name: "dct-" + org.Name, Version: "1.0.0",
			Organizations: orgs, Peers: peers, Orderers: orderers,
			Channels: map[string]profileChannel{n.cfg.Channel: ch},
		}
		cp.Client.Organization = org.Name
		cp.Client.Connection.Timeout.Peer.Endorser = "300"
		b, err := json.MarshalIndent(cp, "", "  ")
		if err != nil {
			return err
		}
		if err := writeFileAtomic(org.ConnectionProfile, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
