package testnetwork

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/netdesc"
)

// TestConnectionProfileReadable checks that the profiles the launcher
// writes are what the gateway and agent read with --connection-profile.
func TestConnectionProfileReadable(t *testing.T) {
	run := t.TempDir()
	ca := filepath.Join(run, "tlsca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &Description{Description: netdesc.Description{RunDir: run, Channel: "chan1"}}
	for i, o := range []Org{{Name: "Org1", MSPID: "Org1MSP", Domain: "org1.dct.test"}, {Name: "Org2", MSPID: "Org2MSP", Domain: "org2.dct.test"}} {
		d.Orgs = append(d.Orgs, OrgInfo{Org: o, ConnectionProfile: filepath.Join(run, "connection-"+o.Domain[:4]+".json"),
			Peers: []PeerNode{{Name: "peer0." + o.Domain, Address: "127.0.0.1:" + []string{"7051", "7061"}[i], TLSCACert: ca}}})
	}
	d.Orderers = []OrdererNode{{Name: "orderer0.orderer.dct.test", Address: "127.0.0.1:7050", TLSCACert: ca}}
	n := &Network{cfg: Config{Channel: "chan1"}, desc: d}
	if err := n.writeConnectionProfiles(); err != nil {
		t.Fatal(err)
	}
	p, err := ledger.LoadProfile(d.Orgs[1].ConnectionProfile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Settings("")
	if err != nil {
		t.Fatal(err)
	}
	if s.MSPID != "Org2MSP" || s.PeerAddress != "127.0.0.1:7061" || s.PeerServerName != "peer0.org2.dct.test" ||
		s.Channel != "chan1" || len(s.PeerTLSCAPEM) == 0 {
		t.Fatalf("settings from the launcher's profile: %+v", s)
	}
}
