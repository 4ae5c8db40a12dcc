package edgeagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/edge-agent/internal/testpki"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/spf13/pflag"
)

// touch creates empty files and returns the path of the first.
func touch(t *testing.T, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths[0]
}

// validConfig is a complete configuration whose files exist.
func validConfig(t *testing.T) Config {
	dir := t.TempDir()
	f := func(name string) string { return touch(t, filepath.Join(dir, name)) }
	c := DefaultConfig()
	c.DataDir = filepath.Join(dir, "data")
	c.NodeID = "agent0-org1"
	c.TLSCert, c.TLSKey = f("server.crt"), f("server.key")
	ca, err := testpki.NewCA("Org1 CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "org1-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c.MemberCAs = []string{"Org1MSP=" + caFile}
	c.PeerAddress, c.PeerTLSCA, c.MSPID = "127.0.0.1:7051", f("peer-ca.pem"), "Org1MSP"
	c.CertFile, c.KeyPath = f("user.pem"), f("user.key")
	c.Settings.FillFrom(ledger.DefaultSettings())
	return c
}

func TestValidate(t *testing.T) {
	ring := filepath.Join(t.TempDir(), "mesh.keyring")
	if err := os.WriteFile(ring, mesh.Keyring{bytes.Repeat([]byte{1}, 32)}.Format(), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // part of the error; "" = valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"valid without registration", func(c *Config) { c.Register = false }, ""},
		{"no ledger without registration", func(c *Config) { c.Register = false; c.PeerAddress = "" }, "peer address"},
		{"valid port 0", func(c *Config) { c.Listen = "127.0.0.1:0" }, ""},
		{"valid explicit endpoint", func(c *Config) { c.Listen = "0.0.0.0:9500"; c.Endpoint = "agent0.example.org:9500" }, ""},
		{"listen malformed", func(c *Config) { c.Listen = "9500" }, "listen address"},
		{"listen on all addresses without endpoint", func(c *Config) { c.Listen = "0.0.0.0:9500" }, "--endpoint"},
		{"listen on all addresses, no registration", func(c *Config) { c.Listen = ":9500"; c.Register = false }, ""},
		{"endpoint without port", func(c *Config) { c.Endpoint = "agent0" }, "endpoint"},
		{"endpoint port 0", func(c *Config) { c.Endpoint = "127.0.0.1:0" }, "endpoint"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data directory"},
		{"zero capacity", func(c *Config) { c.CapacityBytes = 0 }, "storageBytes"},
		{"negative capacity", func(c *Config) { c.CapacityBytes = -1 }, "storageBytes"},
		{"no node id", func(c *Config) { c.NodeID = "" }, "id must not be empty"},
		{"upper-case node id", func(c *Config) { c.NodeID = "Agent0" }, `id "Agent0" must match`},
		{"bad zone", func(c *Config) { c.Zone = "eu west" }, "zone"},
		{"empty zone", func(c *Config) { c.Zone = "" }, "zone"},
		{"latitude", func(c *Config) { c.Latitude = 91 }, "latitude"},
		{"latitude NaN", func(c *Config) { c.Latitude = math.NaN() }, "latitude"},
		{"longitude", func(c *Config) { c.Longitude = -181 }, "longitude"},
		{"bandwidth", func(c *Config) { c.BandwidthBps = 0 }, "bandwidthBps"},
		{"no TLS cert", func(c *Config) { c.TLSCert = "" }, "TLS certificate is not set"},
		{"missing TLS key", func(c *Config) { c.TLSKey += ".gone" }, "TLS key"},
		{"no member CAs", func(c *Config) { c.MemberCAs = nil }, "member CAs"},
		{"member CA without MSP id", func(c *Config) { c.MemberCAs = []string{strings.TrimPrefix(c.MemberCAs[0], "Org1MSP=")} }, "MSPID=ca.pem"},
		{"member CA missing", func(c *Config) { c.MemberCAs[0] += ".gone" }, "member root CAs: Org1MSP: stat"},
		{"member CA not PEM", func(c *Config) { c.MemberCAs = []string{"Org1MSP=" + c.TLSKey} }, "Org1MSP: no PEM certificate"},
		{"valid bidding", func(c *Config) { c.Bid = true }, ""},
		{"bid price negative", func(c *Config) { c.Bid, c.BidPolicy.StoragePerGBMonth = true, -1 }, "storage price"},
		{"bid rebid percent", func(c *Config) { c.Bid, c.BidPolicy.RebidPercent = true, 0 }, "rebid percent"},
		{"bid interval", func(c *Config) { c.Bid, c.BidInterval = true, 0 }, "bid interval"},
		{"bid key missing", func(c *Config) { c.Bid, c.BidKeyFile = true, "/nonexistent/bid.key" }, "bid key"},
		{"bid key short", func(c *Config) { c.Bid, c.BidKeyFile = true, c.TLSKey }, "bid key"},
		{"upload idle timeout", func(c *Config) { c.UploadIdleTimeout = 0 }, "upload idle timeout"},
		{"role cache TTL", func(c *Config) { c.RoleCacheTTL = -time.Second }, "role cache TTL"},
		{"no peer", func(c *Config) { c.PeerAddress = "" }, "peer address"},
		{"missing peer CA", func(c *Config) { c.PeerTLSCA = "/nonexistent/ca.pem" }, "peer TLS CA"},
		{"no operator cert", func(c *Config) { c.CertFile = "" }, "certificate is not set"},
		{"no MSP id", func(c *Config) { c.MSPID = "" }, "MSP id"},
		{"no channel", func(c *Config) { c.Channel = "" }, "channel"},
		{"register timeout", func(c *Config) { c.RegisterTimeout = 0 }, "register timeout"},
		{"shutdown timeout", func(c *Config) { c.ShutdownTimeout = 0 }, "shutdown timeout"},
		{"SLA grace", func(c *Config) { c.SLAGrace = time.Hour }, "--sla-grace"},
		{"SLA grace negative", func(c *Config) { c.SLAGrace = -time.Second }, "--sla-grace"},
		{"SLA sample interval", func(c *Config) { c.SLASampleInterval = 0 }, "--sla-sample-interval"},
		{"SLA off", func(c *Config) { c.SLAAttest, c.SLASampleInterval = false, 0 }, ""},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log level"},
		{"valid mesh", func(c *Config) {
			c.MeshKeyring = ring
			c.MeshListen, c.MeshJoin = "127.0.0.1:7946", []string{"127.0.0.1:7947", "gw.example.org:7946"}
		}, ""},
		{"valid mesh on all addresses", func(c *Config) {
			c.MeshKeyring = ring
			c.MeshListen, c.MeshAdvertise = ":7946", "agent0.example.org:7946"
		}, ""},
		{"valid mesh port 0", func(c *Config) { c.MeshKeyring = ring; c.MeshListen = "127.0.0.1:0" }, ""},
		{"mesh listen malformed", func(c *Config) { c.MeshKeyring = ring; c.MeshListen = "7946" }, "mesh listen address"},
		{"mesh listen host name", func(c *Config) { c.MeshKeyring = ring; c.MeshListen = "localhost:7946" }, "IP address"},
		{"mesh on all addresses without advertise", func(c *Config) { c.MeshKeyring = ring; c.MeshListen = "0.0.0.0:7946" }, "--mesh-advertise"},
		{"mesh advertise without port", func(c *Config) { c.MeshKeyring = ring; c.MeshListen, c.MeshAdvertise = "127.0.0.1:7946", "agent0" }, "advertise"},
		{"mesh seed without port", func(c *Config) { c.MeshKeyring = ring; c.MeshListen, c.MeshJoin = "127.0.0.1:7946", []string{"gw"} }, "join address"},
		{"mesh join without listen", func(c *Config) { c.MeshJoin = []string{"127.0.0.1:7947"} }, "--mesh-listen"},
		{"mesh advertise without listen", func(c *Config) { c.MeshAdvertise = "127.0.0.1:7947" }, "--mesh-listen"},
		{"mesh keyring without listen", func(c *Config) { c.MeshKeyring = ring }, "--mesh-listen"},
		{"mesh without keyring", func(c *Config) { c.MeshListen = "127.0.0.1:7946" }, "--mesh-listen needs --mesh-keyring"},
		{"mesh with a malformed keyring", func(c *Config) { c.MeshListen, c.MeshKeyring = "127.0.0.1:7946", c.TLSCert }, "--mesh-keyring"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig(t)
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

// writeNetwork writes a network.json the way test-network lays out a run
// directory, for two organisations.
func writeNetwork(t *testing.T) string {
	t.Helper()
	run := t.TempDir()
	desc := netdesc.Description{RunDir: run, Channel: "chan1", Chaincode: "cc1", TLSRootBundle: filepath.Join(run, "tls-ca-bundle.pem")}
	for i, o := range []netdesc.Org{{Name: "Org1", MSPID: "Org1MSP", Domain: "org1.dct.test"}, {Name: "Org2", MSPID: "Org2MSP", Domain: "org2.dct.test"}} {
		base := filepath.Join(run, "crypto", "peerOrganizations", o.Domain)
		var ids []netdesc.Identity
		for i, host := range []string{"agent0", "agent1"} {
			name := fmt.Sprintf("User%d@%s", 4+i, o.Domain)
			dir := filepath.Join(base, "users", name, "msp")
			ids = append(ids, netdesc.Identity{Role: netdesc.RoleNode, Name: name, Host: host, MSPDir: dir,
				Cert: filepath.Join(dir, "signcerts", name+"-cert.pem"), KeyDir: filepath.Join(dir, "keystore")})
		}
		touch(t, filepath.Join(base, "msp", "cacerts", "ca."+o.Domain+"-cert.pem"))
		desc.Orgs = append(desc.Orgs, netdesc.OrgInfo{
			Org:        o,
			MSPDir:     filepath.Join(base, "msp"),
			Identities: ids,
			Peers: []netdesc.PeerNode{{
				Name: "peer0." + o.Domain, Address: "127.0.0.1:" + []string{"7051", "8051"}[i],
				TLSCACert: filepath.Join(base, "tlsca", "tlsca."+o.Domain+"-cert.pem"),
			}},
		})
	}
	b, err := json.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, netdesc.DescriptionFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return run
}

func TestResolveFromNetworkDir(t *testing.T) {
	run := writeNetwork(t)
	org2 := filepath.Join(run, "crypto", "peerOrganizations", "org2.dct.test")
	tests := []struct {
		name   string
		change func(c *Config)
		check  func(t *testing.T, c Config)
	}{
		{"org2 agent1", func(c *Config) { c.Org = "Org2MSP"; c.Name = "agent1" }, func(t *testing.T, c Config) {
			want := Config{
				MemberCAs: []string{
					"Org1MSP=" + filepath.Join(run, "crypto", "peerOrganizations", "org1.dct.test", "msp", "cacerts", "ca.org1.dct.test-cert.pem"),
					"Org2MSP=" + filepath.Join(org2, "msp", "cacerts", "ca.org2.dct.test-cert.pem"),
				},
				TLSCert: filepath.Join(org2, "peers", "agent1.org2.dct.test", "tls", "server.crt"),
				TLSKey:  filepath.Join(org2, "peers", "agent1.org2.dct.test", "tls", "server.key"),
				NodeID:  "agent1-org2", DataDir: filepath.Join(run, "agents", "agent1-org2"),
			}
			want.Settings = ledger.Settings{
				PeerAddress: "127.0.0.1:8051", PeerTLSCA: filepath.Join(org2, "tlsca", "tlsca.org2.dct.test-cert.pem"),
				MSPID: "Org2MSP", CertFile: filepath.Join(org2, "users", "User5@org2.dct.test", "msp", "signcerts", "User5@org2.dct.test-cert.pem"),
				KeyPath: filepath.Join(org2, "users", "User5@org2.dct.test", "msp", "keystore"),
				Channel: "chan1", Chaincode: "cc1",
			}
			got := Config{MemberCAs: c.MemberCAs, TLSCert: c.TLSCert, TLSKey: c.TLSKey, NodeID: c.NodeID, DataDir: c.DataDir}
			got.Settings = c.Settings
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("resolved\n%+v\nwant\n%+v", got, want)
			}
		}},
		{"first org by default", func(c *Config) {}, func(t *testing.T, c Config) {
			if c.MSPID != "Org1MSP" || c.NodeID != "agent0-org1" || c.PeerAddress != "127.0.0.1:7051" {
				t.Fatalf("resolved %+v", c)
			}
		}},
		{"explicit flags win", func(c *Config) {
			c.NodeID, c.DataDir, c.TLSCert, c.PeerAddress, c.Channel = "edge-7", "/srv/dct", "/etc/agent.crt", "127.0.0.9:7051", "other"
		}, func(t *testing.T, c Config) {
			if c.NodeID != "edge-7" || c.DataDir != "/srv/dct" || c.TLSCert != "/etc/agent.crt" ||
				c.PeerAddress != "127.0.0.9:7051" || c.Channel != "other" {
				t.Fatalf("resolved %+v", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.NetworkDir = run
			tc.change(&c)
			if err := c.Resolve(); err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
	for name, change := range map[string]func(c *Config){
		"unknown org":         func(c *Config) { c.Org = "Org9MSP" },
		"unknown agent host":  func(c *Config) { c.Name = "agent7" },
		"missing network dir": func(c *Config) { c.NetworkDir = filepath.Join(run, "nope") },
	} {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			c.NetworkDir = run
			change(&c)
			if err := c.Resolve(); !errors.Is(err, ErrConfig) {
				t.Fatalf("Resolve: %v, want ErrConfig", err)
			}
		})
	}
}

func TestResolveWithoutNetworkDir(t *testing.T) {
	tests := []struct{ name, msp, want string }{
		{"agent1", "", "agent1"},
		{"agent1", "Org_1.MSP", "agent1-org-1"},
		{"edge1", "BankAMSP", "edge1-banka"},
	}
	for _, tc := range tests {
		c := DefaultConfig()
		c.Name, c.MSPID = tc.name, tc.msp
		if err := c.Resolve(); err != nil || c.NodeID != tc.want || c.DataDir != "" {
			t.Errorf("Resolve(%q, %q): node %q data %q err %v, want %q", tc.name, tc.msp, c.NodeID, c.DataDir, err, tc.want)
		}
	}
}

func TestFlagsAndEnv(t *testing.T) {
	t.Setenv("DCT_AGENT_CAPACITY_BYTES", "12345")
	t.Setenv("DCT_AGENT_ZONE", "eu-west")
	t.Setenv("DCT_AGENT_REGISTER", "false")
	t.Setenv("DCT_AGENT_LATITUDE", "48.85")
	t.Setenv("DCT_AGENT_SHUTDOWN_TIMEOUT", "3s")
	t.Setenv("DCT_AGENT_LISTEN", "127.0.0.1:1")
	t.Setenv("DCT_AGENT_MESH_LISTEN", "127.0.0.1:7946")
	t.Setenv("DCT_AGENT_MESH_JOIN", " 127.0.0.1:7947, ,gw.example.org:7946")
	c := DefaultConfig()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	envErr := c.RegisterFlags(fs)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:9600", "--node-id", "n1", "--mesh-advertise", "10.0.0.1:7946"}); err != nil {
		t.Fatal(err)
	}
	if err := envErr(); err != nil {
		t.Fatal(err)
	}
	if c.CapacityBytes != 12345 || c.Zone != "eu-west" || c.Register || c.Latitude != 48.85 ||
		c.ShutdownTimeout != 3*time.Second || c.Listen != "127.0.0.1:9600" || c.NodeID != "n1" ||
		c.MeshListen != "127.0.0.1:7946" || c.MeshAdvertise != "10.0.0.1:7946" ||
		strings.Join(c.MeshJoin, "|") != "127.0.0.1:7947|gw.example.org:7946" {
		t.Fatalf("config %+v", c)
	}
	fs = pflag.NewFlagSet("t", pflag.ContinueOnError)
	c = DefaultConfig()
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"--mesh-join", "127.0.0.1:1,127.0.0.1:2", "--mesh-join", "127.0.0.1:3"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.MeshJoin, "|") != "127.0.0.1:1|127.0.0.1:2|127.0.0.1:3" {
		t.Fatalf("--mesh-join: %q", c.MeshJoin)
	}

	t.Setenv("DCT_AGENT_CAPACITY_BYTES", "lots")
	c = DefaultConfig()
	envErr = c.RegisterFlags(pflag.NewFlagSet("t", pflag.ContinueOnError))
	if err := envErr(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "DCT_AGENT_CAPACITY_BYTES") {
		t.Fatalf("malformed env: %v", err)
	}
}

func TestResolveFromProfile(t *testing.T) {
	dir := t.TempDir()
	msp := filepath.Join(dir, "users", "Admin@bank-a.example", "msp")
	cert := touch(t, filepath.Join(msp, "signcerts", "Admin@bank-a.example-cert.pem"))
	key := touch(t, filepath.Join(msp, "keystore", "priv_sk"))
	ca := touch(t, filepath.Join(dir, "tlsca", "ca.pem"))
	profile := filepath.Join(dir, "connection-banka.yaml")
	if err := os.WriteFile(profile, []byte("client: {organization: BankA}\n"+
		"organizations: {BankA: {mspid: BankAMSP, peers: [peer0.bank-a.example]}}\n"+
		"peers: {peer0.bank-a.example: {url: 'grpcs://10.1.0.5:7051', tlsCACerts: {path: tlsca/ca.pem}}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.ConnectionProfile, c.MSPDir, c.Name = profile, msp, "edge1"
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	want := ledger.Settings{PeerAddress: "10.1.0.5:7051", PeerTLSCA: ca, MSPID: "BankAMSP", CertFile: cert, KeyPath: key,
		Channel: ledger.DefaultChannel, Chaincode: ledger.DefaultChaincode}
	if !reflect.DeepEqual(c.Settings, want) || c.NodeID != "edge1-banka" || c.DataDir != "" || c.TLSCert != "" {
		t.Fatalf("resolved %+v", c)
	}

	c = DefaultConfig()
	c.ConnectionProfile, c.Peer = profile, "peer7.bank-a.example"
	if err := c.Resolve(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "peer7") {
		t.Fatalf("unknown peer: %v", err)
	}
}

func TestMalformedEnv(t *testing.T) {
	tests := []struct{ env, value, want string }{
		{"DCT_AGENT_CAPACITY_BYTES", "lots", `DCT_AGENT_CAPACITY_BYTES="lots": want an integer`},
		{"DCT_AGENT_LATITUDE", "north", `DCT_AGENT_LATITUDE="north": want a number`},
		{"DCT_AGENT_REGISTER", "maybe", `DCT_AGENT_REGISTER="maybe": want true or false`},
		{"DCT_AGENT_REGISTER_TIMEOUT", "2", `DCT_AGENT_REGISTER_TIMEOUT="2": want a duration such as 1.5s`},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			c := DefaultConfig()
			apply := c.RegisterFlags(pflag.NewFlagSet("t", pflag.ContinueOnError))
			if err := apply(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

// TestCheckEpochLength: the SLA grace must end within the ledger's epoch,
// learnt at start-up.
func TestCheckEpochLength(t *testing.T) {
	for _, c := range []struct {
		attest  bool
		grace   time.Duration
		seconds int64
		ok      bool
	}{
		{true, 5 * time.Second, 60, true},
		{true, 5 * time.Second, 5, false},
		{true, 4 * time.Second, 5, true},
		{false, 10 * time.Second, 5, true},
	} {
		cfg := Config{SLAAttest: c.attest, SLAGrace: c.grace}
		if err := cfg.checkEpochLength(c.seconds); (err == nil) != c.ok || err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("grace %v (attest %v) with %d s epochs: %v, want ok %v", c.grace, c.attest, c.seconds, err, c.ok)
		}
	}
}
