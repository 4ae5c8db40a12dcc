package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/pflag"
)

func touch(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseFlags registers the settings, parses args with env as the
// environment and applies it.
func parseFlags(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	c := DefaultConfig()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	apply := c.RegisterFlags(fs, settings.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c, apply()
}

// TestFlagsAndEnv starts from what test-network's StartServices passes.
func TestFlagsAndEnv(t *testing.T) {
	c, err := parseFlags(t, map[string]string{
		"DCT_CACHE_BYTES": "0", "DCT_AGENT_TIMEOUT": "5s", "DCT_HEDGE": "false", "DCT_DEAD_AFTER": "4s",
		"DCT_LISTEN": "127.0.0.1:1", "DCT_K": "6", "DCT_CONNECTION_PROFILE": "/etc/dct/connection-org1.json",
		"DCT_SLA_ATTEST": "false", "DCT_SLA_REFRESH": "1m",
	}, "--network-dir", "/run/net", "--org", "Org2MSP", "--listen", "127.0.0.1:8081", "--log-level", "debug", "--sla-score-wait", "20s",
		"--mesh-listen", "127.0.0.1:7946", "--mesh-join", "127.0.0.1:7947,127.0.0.1:7948", "--msp-dir", "/etc/dct/msp")
	if err != nil {
		t.Fatal(err)
	}
	if c.Content.CacheBytes != 0 || c.Content.AgentTimeout != 5*time.Second || c.Content.Hedge || c.DeadAfter != 4*time.Second ||
		c.Listen != "127.0.0.1:8081" || c.Content.K != 6 || c.NetworkDir != "/run/net" || c.Org != "Org2MSP" ||
		c.LogLevel != "debug" || c.MeshListen != "127.0.0.1:7946" ||
		!reflect.DeepEqual(c.MeshJoin, []string{"127.0.0.1:7947", "127.0.0.1:7948"}) ||
		c.ConnectionProfile != "/etc/dct/connection-org1.json" || c.MSPDir != "/etc/dct/msp" ||
		c.SLAAttest || c.SLARefresh != time.Minute || c.SLAScoreWait != 20*time.Second {
		t.Fatalf("config %+v", c)
	}
}

func TestMalformedEnv(t *testing.T) {
	tests := []struct{ env, value, want string }{
		{"DCT_REPAIR_INTERVAL", "5x", `DCT_REPAIR_INTERVAL="5x": want a duration such as 1.5s`},
		{"DCT_HEDGE", "nope", `DCT_HEDGE="nope": want true or false`},
		{"DCT_SLA_ATTEST", "maybe", `DCT_SLA_ATTEST="maybe": want true or false`},
		{"DCT_K", "four", `DCT_K="four": want an integer`},
		{"DCT_CACHE_BYTES", "1GB", `DCT_CACHE_BYTES="1GB": want an integer`},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			_, err := parseFlags(t, map[string]string{tc.env: tc.value})
			if !errors.Is(err, ErrConfig) || !errors.Is(err, settings.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

// writeNetwork writes a run directory's network.json for one organisation,
// whose gateway identity is User2 (userDir).
func writeNetwork(t *testing.T) (run, userDir string) {
	t.Helper()
	run = t.TempDir()
	base := filepath.Join(run, "crypto", "peerOrganizations", "org1.dct.test")
	userDir = filepath.Join(base, "users", "User2@org1.dct.test")
	desc := netdesc.Description{RunDir: run, Channel: "dct", Chaincode: "dct", TLSRootBundle: filepath.Join(run, "tls-ca-bundle.pem"),
		MasterKeyFile: filepath.Join(run, "gateway-secrets", "master.key"), MeshKeyringFile: filepath.Join(run, "mesh.keyring"),
		Orgs: []netdesc.OrgInfo{{
			Org: netdesc.Org{Name: "Org1", MSPID: "Org1MSP", Domain: "org1.dct.test"}, MSPDir: filepath.Join(base, "msp"),
			Identities: []netdesc.Identity{{
				Role: netdesc.RoleGateway, Name: "User2@org1.dct.test", MSPDir: filepath.Join(userDir, "msp"),
				Cert:   filepath.Join(userDir, "msp", "signcerts", "User2@org1.dct.test-cert.pem"),
				KeyDir: filepath.Join(userDir, "msp", "keystore"), TLSCert: filepath.Join(userDir, "tls", "client.crt"),
				TLSKey: filepath.Join(userDir, "tls", "client.key"),
			}},
			Peers: []netdesc.PeerNode{{Name: "peer0.org1.dct.test", Address: "127.0.0.1:7051", TLSCACert: filepath.Join(base, "tlsca", "ca.pem")}},
		}},
	}
	b, err := json.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(run, netdesc.DescriptionFile))
	if err := os.WriteFile(filepath.Join(run, netdesc.DescriptionFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return run, userDir
}

func TestMasterKeysAndKeyringFlags(t *testing.T) {
	c, err := parseFlags(t, map[string]string{"DCT_MESH_KEYRING": "/etc/dct/mesh.keyring"},
		"--master-key-file", "/etc/dct/b.key", "--master-key-file", "/etc/dct/a.key")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.MasterKeyFiles, []string{"/etc/dct/b.key", "/etc/dct/a.key"}) || c.MeshKeyring != "/etc/dct/mesh.keyring" {
		t.Fatalf("master keys %q, keyring %q", c.MasterKeyFiles, c.MeshKeyring)
	}
	c, err = parseFlags(t, map[string]string{"DCT_MASTER_KEY_FILE": "/k/new.key,/k/old.key"})
	if err != nil || !slices.Equal(c.MasterKeyFiles, []string{"/k/new.key", "/k/old.key"}) {
		t.Fatalf("DCT_MASTER_KEY_FILE: %q, %v", c.MasterKeyFiles, err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	for p, k := range map[string]string{a: strings.Repeat("a", 32), b: strings.Repeat("b", 40)} {
		if err := os.WriteFile(p, []byte(k), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := LoadMasterKeys([]string{b, a})
	if err != nil || len(keys) != 2 || string(keys[0]) != strings.Repeat("b", 40) || string(keys[1]) != strings.Repeat("a", 32) {
		t.Fatalf("LoadMasterKeys: %q, %v", keys, err)
	}
	if _, err := LoadMasterKeys([]string{a, a + ".gone"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("LoadMasterKeys of a missing file: %v", err)
	}
}

func TestResolve(t *testing.T) {
	run, user := writeNetwork(t)
	msp := filepath.Join(t.TempDir(), "msp")
	cert, key := touch(t, filepath.Join(msp, "signcerts", "cert.pem")), touch(t, filepath.Join(msp, "keystore", "priv_sk"))
	profile := filepath.Join(t.TempDir(), "connection-banka.json")
	if err := os.WriteFile(profile, []byte(`{"client": {"organization": "BankA"},
		"organizations": {"BankA": {"mspid": "BankAMSP", "peers": ["peer0.bank-a.example"]}},
		"peers": {"peer0.bank-a.example": {"url": "grpcs://10.1.0.5:7051",
			"tlsCACerts": {"pem": "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"},
			"grpcOptions": {"ssl-target-name-override": "peer0.bank-a.example"}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		check  func(c Config) bool
	}{
		{"network dir: the gateway identity, also towards agents, master key of the run", func(c *Config) { c.NetworkDir = run }, func(c Config) bool {
			return c.AgentCA == filepath.Join(run, "tls-ca-bundle.pem") &&
				c.AgentClientCert == filepath.Join(user, "msp", "signcerts", "User2@org1.dct.test-cert.pem") &&
				c.AgentClientKey == filepath.Join(user, "msp", "keystore") && slices.Equal(c.MasterKeyFiles, []string{filepath.Join(run, "gateway-secrets", "master.key")}) &&
				c.MeshKeyring == "" &&
				c.MSPID == "Org1MSP" && c.PeerAddress == "127.0.0.1:7051" &&
				c.CertFile == filepath.Join(user, "msp", "signcerts", "User2@org1.dct.test-cert.pem")
		}},
		{"network dir with mesh: the network's keyring", func(c *Config) { c.NetworkDir, c.MeshListen = run, "127.0.0.1:7946" }, func(c Config) bool {
			return c.MeshKeyring == filepath.Join(run, "mesh.keyring")
		}},
		{"explicit master keys win over network dir", func(c *Config) { c.NetworkDir, c.MasterKeyFiles = run, []string{"/b.key", "/a.key"} }, func(c Config) bool {
			return slices.Equal(c.MasterKeyFiles, []string{"/b.key", "/a.key"})
		}},
		{"profile and MSP dir", func(c *Config) { c.ConnectionProfile, c.MSPDir = profile, msp }, func(c Config) bool {
			return c.MSPID == "BankAMSP" && c.PeerAddress == "10.1.0.5:7051" && c.PeerServerName == "peer0.bank-a.example" &&
				len(c.PeerTLSCAPEM) > 0 && c.CertFile == cert && c.KeyPath == key && c.Channel == "dct" && c.AgentCA == "" &&
				c.AgentClientCert == cert && c.AgentClientKey == key
		}},
		{"explicit agent TLS wins over network dir", func(c *Config) {
			c.NetworkDir, c.AgentCA, c.AgentClientCert, c.AgentClientKey = run, "/etc/ca.pem", "/etc/gw.crt", "/etc/gw.key"
		}, func(c Config) bool {
			return c.AgentCA == "/etc/ca.pem" && c.AgentClientCert == "/etc/gw.crt" && c.AgentClientKey == "/etc/gw.key"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			if err := c.Resolve(); err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("resolved %+v", c)
			}
		})
	}
	c := DefaultConfig()
	c.ConnectionProfile = profile + ".gone"
	if err := c.Resolve(); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing profile: %v", err)
	}
}

// TestServerTimeouts: the HTTP server's timeouts and the cold-read limit
// come from flags and DCT_ variables like every setting, and reach the
// server.
func TestServerTimeouts(t *testing.T) {
	c, err := parseFlags(t, map[string]string{"DCT_WRITE_TIMEOUT": "7s", "DCT_MAX_COLD_READS": "3"},
		"--read-header-timeout", "2s", "--read-timeout", "30s", "--idle-timeout", "9s", "--cold-read-wait", "250ms")
	if err != nil {
		t.Fatal(err)
	}
	if c.Content.MaxColdReads != 3 || c.Content.ColdReadWait != 250*time.Millisecond {
		t.Fatalf("cold reads %d, wait %s", c.Content.MaxColdReads, c.Content.ColdReadWait)
	}
	srv := newServer(c, nil)
	if srv.ReadHeaderTimeout != 2*time.Second || srv.ReadTimeout != 30*time.Second || srv.WriteTimeout != 7*time.Second || srv.IdleTimeout != 9*time.Second {
		t.Fatalf("server timeouts %s %s %s %s", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	d := DefaultConfig()
	if d.ReadHeaderTimeout <= 0 || d.ReadTimeout <= 0 || d.WriteTimeout <= 0 || d.IdleTimeout <= 0 {
		t.Fatalf("default timeouts %+v", d)
	}
	if _, err := parseFlags(t, map[string]string{"DCT_WRITE_TIMEOUT": "soon"}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "DCT_WRITE_TIMEOUT") {
		t.Fatalf("malformed DCT_WRITE_TIMEOUT: %v", err)
	}
}

func TestValidate(t *testing.T) {
	valid := func(t *testing.T) Config {
		dir := t.TempDir()
		f := func(name string) string { return touch(t, filepath.Join(dir, name)) }
		c := DefaultConfig()
		c.PeerAddress, c.PeerTLSCA, c.MSPID, c.CertFile, c.KeyPath = "127.0.0.1:7051", f("peer-ca.pem"), "Org1MSP", f("cert.pem"), f("key.pem")
		c.Channel, c.Chaincode = "dct", "dct"
		c.AgentCA, c.AgentClientCert, c.AgentClientKey = f("ca.pem"), f("client.crt"), f("client.key")
		c.MasterKeyFiles = []string{f("master.key")}
		if err := os.WriteFile(filepath.Join(dir, "mesh.keyring"), mesh.Keyring{bytes.Repeat([]byte{1}, 32)}.Format(), 0o600); err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // "" = valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"valid with mesh", func(c *Config) {
			c.MeshListen, c.MeshJoin, c.MeshKeyring = "127.0.0.1:7946", []string{"127.0.0.1:7947"}, filepath.Join(filepath.Dir(c.AgentCA), "mesh.keyring")
		}, ""},
		{"valid without repair", func(c *Config) { c.Repair, c.RepairInterval = false, 0 }, ""},
		{"valid with receipts", func(c *Config) { c.ReceiptsDir = filepath.Join(filepath.Dir(c.AgentCA), "receipts") }, ""},
		{"valid with the ledger's epoch (unset)", func(c *Config) { c.ReceiptsDir, c.EpochLength = "/tmp/r", 0 }, ""},
		{"valid with a set epoch", func(c *Config) { c.ReceiptsDir, c.EpochLength = "/tmp/r", 30*time.Second }, ""},
		{"a fractional epoch", func(c *Config) { c.ReceiptsDir, c.EpochLength = "/tmp/r", 1500*time.Millisecond }, "epoch length"},
		{"a negative epoch", func(c *Config) { c.EpochLength = -time.Second }, "epoch length"},
		{"an epoch over an hour", func(c *Config) { c.EpochLength = 2 * time.Hour }, "epoch length"},
		{"receipts grace", func(c *Config) { c.ReceiptsDir, c.ReceiptsGrace = "/tmp/r", -time.Second }, "grace"},
		{"receipts grace of an epoch", func(c *Config) { c.ReceiptsDir, c.ReceiptsGrace, c.EpochLength = "/tmp/r", time.Minute, time.Minute }, "grace"},
		{"receipts grace of the longest epoch", func(c *Config) { c.ReceiptsDir, c.ReceiptsGrace = "/tmp/r", time.Hour }, "grace"},
		{"receipts flush", func(c *Config) { c.ReceiptsDir, c.ReceiptsFlush = "/tmp/r", 0 }, "flush interval"},
		{"receipts dir is a file", func(c *Config) { c.ReceiptsDir = c.AgentCA }, "not a directory"},
		{"valid with the auction", func(c *Config) { c.Auction = true }, ""},
		{"auction without a term", func(c *Config) { c.Auction, c.AuctionTerm = true, 0 }, "termSeconds"},
		{"auction price over the limit", func(c *Config) { c.Auction, c.AuctionTerms.MaxDeliveryPerMiB = true, 1<<40 }, "maxDeliveryPerMiB"},
		{"auction zone malformed", func(c *Config) { c.Auction, c.AuctionTerms.Zones = true, []string{"eu west"} }, "zone"},
		{"auction reveal window", func(c *Config) { c.Auction, c.AuctionTerms.RevealSeconds = true, 600 }, "revealSeconds"},
		{"auction poll", func(c *Config) { c.Auction, c.AuctionPoll = true, 0 }, "auction poll"},
		{"bid key missing", func(c *Config) { c.BidKeyFile = "/nonexistent/bid.key" }, "bid key"},
		{"bid key short", func(c *Config) { c.BidKeyFile = c.AgentCA }, "bid key"},
		{"valid without SLA", func(c *Config) { c.SLAAttest, c.SLARefresh, c.EpochLength = false, 0, 30*time.Second }, ""},
		{"SLA grace of an epoch", func(c *Config) { c.SLAGrace, c.EpochLength = time.Minute, time.Minute }, "--sla-grace"},
		{"SLA grace of the longest epoch", func(c *Config) { c.SLAGrace = time.Hour }, "--sla-grace"},
		{"SLA score wait", func(c *Config) { c.SLAScoreWait = -time.Second }, "--sla-score-wait"},
		{"SLA sample interval", func(c *Config) { c.SLASampleInterval = 0 }, "--sla-sample-interval"},
		{"SLA refresh", func(c *Config) { c.SLARefresh = -time.Second }, "--sla-refresh"},
		{"SLA route band", func(c *Config) { c.SLARouteBand = 0 }, "--sla-route-band"},
		{"listen", func(c *Config) { c.Listen = "8080" }, "listen address"},
		{"no peer", func(c *Config) { c.PeerAddress = "" }, "--connection-profile"},
		{"no MSP id", func(c *Config) { c.MSPID = "" }, "MSP id"},
		{"no agent CA", func(c *Config) { c.AgentCA = "" }, "agent CA is not set"},
		{"missing master key", func(c *Config) { c.MasterKeyFiles[0] += ".gone" }, "master key file"},
		{"missing second master key", func(c *Config) { c.MasterKeyFiles = append(c.MasterKeyFiles, c.MasterKeyFiles[0]+".gone") }, "master key file"},
		{"no master key", func(c *Config) { c.MasterKeyFiles = nil }, "master key file is not set"},
		{"mesh without keyring", func(c *Config) { c.MeshListen = "127.0.0.1:7946" }, "--mesh-listen needs --mesh-keyring"},
		{"mesh join without listen", func(c *Config) { c.MeshJoin = []string{"127.0.0.1:7947"} }, "--mesh-listen"},
		{"mesh listen malformed", func(c *Config) { c.MeshListen, c.MeshKeyring = "7946", "/k" }, "mesh listen address"},
		{"repair interval", func(c *Config) { c.RepairInterval = 0 }, "repair interval"},
		{"timeouts", func(c *Config) { c.RequestTimeout = 0 }, "timeouts"},
		{"write timeout", func(c *Config) { c.WriteTimeout = 0 }, "write and idle timeouts"},
		{"read-header timeout", func(c *Config) { c.ReadHeaderTimeout = -time.Second }, "read-header"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log level"},
		{"valid with admin", func(c *Config) { withAdmin(t, c) }, ""},
		{"admin listen malformed", func(c *Config) { withAdmin(t, c); c.AdminListen = "8443" }, "admin listen address"},
		{"admin on the public address", func(c *Config) { withAdmin(t, c); c.AdminListen = c.Listen }, "its own address"},
		{"admin without TLS", func(c *Config) { withAdmin(t, c); c.AdminTLSKey = "" }, "--admin-tls-key"},
		{"admin TLS missing", func(c *Config) { withAdmin(t, c); c.AdminTLSCert += ".gone" }, "admin TLS certificate"},
		{"admin without member CAs", func(c *Config) { withAdmin(t, c); c.MemberCAs = nil }, "--member-cas is not set"},
		{"member CA malformed", func(c *Config) { withAdmin(t, c); c.MemberCAs = []string{"ca.pem"} }, "MSPID=ca.pem"},
		{"admin burst", func(c *Config) { withAdmin(t, c); c.AdminBurst = 0 }, "admin burst"},
		{"admin rate", func(c *Config) { withAdmin(t, c); c.AdminRate = -1 }, "admin rate"},
		{"no rate limit", func(c *Config) { withAdmin(t, c); c.AdminRate = 0 }, ""},
		{"role cache", func(c *Config) { withAdmin(t, c); c.RoleCacheSize = 0 }, "role cache size"},
		{"valid with gateways", func(c *Config) {
			c.PublicURL, c.PeerGateways = "https://gw1.bank.example:8443", []string{"http://10.0.0.2:8080", "https://gw3.example/"}
		}, ""},
		{"public URL with a path", func(c *Config) { c.PublicURL = "https://gw1.example/cdn" }, "--public-url"},
		{"peer gateway without scheme", func(c *Config) { c.PeerGateways = []string{"10.0.0.2:8080"} }, "--peer-gateways"},
		{"peer gateway ftp", func(c *Config) { c.PeerGateways = []string{"ftp://gw2.example"} }, "--peer-gateways"},
		{"too many peer gateways", func(c *Config) {
			for i := range maxGateways + 1 {
				c.PeerGateways = append(c.PeerGateways, fmt.Sprintf("http://10.0.0.%d:8080", i))
			}
		}, "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid(t)
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

// withAdmin turns the admin listener on with files that exist.
func withAdmin(t *testing.T, c *Config) {
	dir := t.TempDir()
	c.AdminListen = "127.0.0.1:8443"
	c.AdminTLSCert, c.AdminTLSKey = touch(t, filepath.Join(dir, "gw.crt")), touch(t, filepath.Join(dir, "gw.key"))
	c.MemberCAs = []string{"Org1MSP=" + touch(t, filepath.Join(dir, "org1-ca.pem"))}
}

func TestAdminFlags(t *testing.T) {
	c, err := parseFlags(t, map[string]string{"DCT_ADMIN_RATE": "2.5", "DCT_MEMBER_CAS": "Org1MSP=a.pem,Org2MSP=b.pem"},
		"--admin-listen", "127.0.0.1:8130", "--admin-tls-cert", "gw.crt", "--admin-tls-key", "gw.key", "--admin-burst", "3")
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminListen != "127.0.0.1:8130" || c.AdminTLSCert != "gw.crt" || c.AdminTLSKey != "gw.key" || c.AdminRate != 2.5 ||
		c.AdminBurst != 3 || !reflect.DeepEqual(c.MemberCAs, []string{"Org1MSP=a.pem", "Org2MSP=b.pem"}) {
		t.Fatalf("config %+v", c)
	}
}

func TestCommandRejectsMalformedEnv(t *testing.T) {
	t.Setenv("DCT_REPAIR_INTERVAL", "5x")
	cmd := NewCommand()
	cmd.SetArgs(nil)
	err := cmd.Execute()
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "DCT_REPAIR_INTERVAL") {
		t.Fatalf("Execute: %v", err)
	}
}
