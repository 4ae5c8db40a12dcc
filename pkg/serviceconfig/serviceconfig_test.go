package serviceconfig

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/pflag"
)

func write(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixture writes a YAML connection profile (peer CA as a path), an MSP
// directory and a test-network run directory.
type fixture struct {
	profile, mspDir, cert, key, peerCA string
	run, runCert, runKeyDir, runCA     string
}

func newFixture(t *testing.T) fixture {
	dir := t.TempDir()
	f := fixture{mspDir: filepath.Join(dir, "users", "User1@bank-a.example", "msp"), run: filepath.Join(dir, "run")}
	f.cert = write(t, filepath.Join(f.mspDir, "signcerts", "cert.pem"), "cert")
	f.key = write(t, filepath.Join(f.mspDir, "keystore", "abc_sk"), "key")
	f.peerCA = write(t, filepath.Join(dir, "tlsca.pem"), "ca")
	f.profile = write(t, filepath.Join(dir, "connection-banka.yaml"), `
client: {organization: BankA}
organizations:
  BankA: {mspid: BankAMSP, peers: [peer0.bank-a.example, peer1.bank-a.example]}
peers:
  peer0.bank-a.example: {url: "grpcs://peer0.bank-a.example:7051", tlsCACerts: {path: tlsca.pem}}
  peer1.bank-a.example:
    url: grpcs://10.0.0.2:7051
    tlsCACerts: {path: tlsca.pem}
    grpcOptions: {ssl-target-name-override: peer1.bank-a.example}
`)
	f.runCert = write(t, filepath.Join(f.run, "user", "msp", "signcerts", "u.pem"), "c")
	f.runKeyDir = filepath.Join(f.run, "user", "msp", "keystore")
	f.runCA = write(t, filepath.Join(f.run, "tlsca.pem"), "ca")
	desc := netdesc.Description{RunDir: f.run, Channel: "net-channel", Chaincode: "net-cc", Orgs: []netdesc.OrgInfo{{
		Org: netdesc.Org{Name: "Org1", MSPID: "Org1MSP", Domain: "org1.dct.test"}, UserCert: f.runCert, UserKeyDir: f.runKeyDir,
		Peers: []netdesc.PeerNode{{Name: "peer0.org1.dct.test", Address: "127.0.0.1:7051", TLSCACert: f.runCA}},
	}}}
	b, err := json.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(f.run, netdesc.DescriptionFile), string(b))
	return f
}

func TestLedgerResolve(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		given Ledger
		want  ledger.Settings
	}{
		{"profile and MSP dir", Ledger{ConnectionProfile: f.profile, MSPDir: f.mspDir}, ledger.Settings{
			PeerAddress: "peer0.bank-a.example:7051", PeerTLSCA: f.peerCA, MSPID: "BankAMSP",
			CertFile: f.cert, KeyPath: f.key, Channel: "dct", Chaincode: "dct",
		}},
		{"named peer with server name override", Ledger{ConnectionProfile: f.profile, MSPDir: f.mspDir, Peer: "peer1.bank-a.example"}, ledger.Settings{
			PeerAddress: "10.0.0.2:7051", PeerServerName: "peer1.bank-a.example", PeerTLSCA: f.peerCA, MSPID: "BankAMSP",
			CertFile: f.cert, KeyPath: f.key, Channel: "dct", Chaincode: "dct",
		}},
		{"explicit flags win over profile and MSP dir", Ledger{ConnectionProfile: f.profile, MSPDir: f.mspDir, Settings: ledger.Settings{
			PeerAddress: "127.0.0.9:9", MSPID: "OtherMSP", CertFile: "/etc/cert.pem", Channel: "c", Chaincode: "cc",
		}}, ledger.Settings{
			PeerAddress: "127.0.0.9:9", PeerTLSCA: f.peerCA, MSPID: "OtherMSP", CertFile: "/etc/cert.pem", KeyPath: f.key,
			Channel: "c", Chaincode: "cc",
		}},
		{"network dir", Ledger{NetworkDir: f.run}, ledger.Settings{
			PeerAddress: "127.0.0.1:7051", PeerTLSCA: f.runCA, MSPID: "Org1MSP", CertFile: f.runCert, KeyPath: f.runKeyDir,
			Channel: "net-channel", Chaincode: "net-cc",
		}},
		{"profile and MSP dir win over network dir", Ledger{ConnectionProfile: f.profile, MSPDir: f.mspDir, NetworkDir: f.run}, ledger.Settings{
			PeerAddress: "peer0.bank-a.example:7051", PeerTLSCA: f.peerCA, MSPID: "BankAMSP",
			CertFile: f.cert, KeyPath: f.key, Channel: "net-channel", Chaincode: "net-cc",
		}},
		{"MSP dir alone", Ledger{MSPDir: f.mspDir}, ledger.Settings{CertFile: f.cert, KeyPath: f.key, Channel: "dct", Chaincode: "dct"}},
		{"nothing: defaults only", Ledger{}, ledger.DefaultSettings()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.given
			desc, org, err := l.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Settings, tc.want) {
				t.Fatalf("resolved\n%+v\nwant\n%+v", l.Settings, tc.want)
			}
			if (desc != nil) != (l.NetworkDir != "") || desc != nil && org.MSPID != "Org1MSP" {
				t.Fatalf("description %v, org %+v", desc, org)
			}
		})
	}
}

func TestLedgerResolveErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		given Ledger
		want  string
	}{
		{"missing profile", Ledger{ConnectionProfile: f.profile + ".gone"}, "no such file"},
		{"unknown peer", Ledger{ConnectionProfile: f.profile, Peer: "peer9"}, `no peer "peer9"`},
		{"peer without profile", Ledger{Peer: "peer0"}, "--peer needs --connection-profile"},
		{"MSP dir without keystore", Ledger{MSPDir: filepath.Dir(f.profile)}, "MSP directory"},
		{"unknown org", Ledger{NetworkDir: f.run, Org: "Org9MSP"}, `no organisation "Org9MSP"`},
		{"missing network dir", Ledger{NetworkDir: f.run + "x"}, "--network-dir"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.given
			if _, _, err := l.Resolve(); !errors.Is(err, ErrLedger) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Resolve: %v, want ErrLedger mentioning %q", err, tc.want)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	env := map[string]string{"DCT_X_CONNECTION_PROFILE": "/p.json", "DCT_X_MSP_DIR": "/msp", "DCT_X_MESH_JOIN": "a:1, b:2",
		"DCT_X_PEER_ADDRESS": "env:1", "DCT_X_MESH_KEYRING": "/mesh.keyring"}
	var l Ledger
	var m Mesh
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	s := settings.New(fs, "DCT_X_", settings.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	l.Register(s, "the test's")
	m.Register(s)
	if err := fs.Parse([]string{"--peer-address", "flag:1", "--mesh-listen", "127.0.0.1:7946", "--org", "Org2MSP"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(); err != nil {
		t.Fatal(err)
	}
	if l.ConnectionProfile != "/p.json" || l.MSPDir != "/msp" || l.PeerAddress != "flag:1" || l.Org != "Org2MSP" ||
		m.MeshListen != "127.0.0.1:7946" || !reflect.DeepEqual(m.MeshJoin, []string{"a:1", "b:2"}) || m.MeshKeyring != "/mesh.keyring" {
		t.Fatalf("ledger %+v mesh %+v", l, m)
	}
	for _, flag := range []string{"peer-address", "peer-tls-ca", "msp-id", "cert", "key", "channel", "chaincode",
		"connection-profile", "msp-dir", "peer", "network-dir", "org", "mesh-listen", "mesh-advertise", "mesh-join", "mesh-keyring"} {
		if fs.Lookup(flag) == nil {
			t.Errorf("--%s is not registered", flag)
		}
	}
}

func TestMeshValidate(t *testing.T) {
	dir := t.TempDir()
	key, err := mesh.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring := write(t, filepath.Join(dir, "mesh.keyring"), string(mesh.Keyring{key}.Format()))
	bad := write(t, filepath.Join(dir, "bad.keyring"), "not base64!\n")
	listen := "127.0.0.1:7946"
	tests := []struct {
		name string
		m    Mesh
		want string
	}{
		{"no mesh", Mesh{}, ""},
		{"mesh with keyring", Mesh{MeshListen: listen, MeshJoin: []string{"a:1"}, MeshKeyring: ring}, ""},
		{"join without listen", Mesh{MeshJoin: []string{"a:1"}}, "need --mesh-listen"},
		{"advertise without listen", Mesh{MeshAdvertise: "a:1"}, "need --mesh-listen"},
		{"keyring without listen", Mesh{MeshKeyring: ring}, "need --mesh-listen"},
		{"malformed listen", Mesh{MeshListen: "7946", MeshKeyring: ring}, "mesh listen address"},
		{"listen without keyring", Mesh{MeshListen: listen}, "--mesh-listen needs --mesh-keyring"},
		{"missing keyring", Mesh{MeshListen: listen, MeshKeyring: ring + ".gone"}, "no such file"},
		{"malformed keyring", Mesh{MeshListen: listen, MeshKeyring: bad}, "not a base64 key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (!errors.Is(err, ErrMesh) || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate(%+v) = %v, want %q", tc.m, err, tc.want)
			}
		})
	}
}

// lineHandler sends the message of every log record on c.
type lineHandler struct{ c chan<- string }

func (h lineHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h lineHandler) Handle(_ context.Context, r slog.Record) error {
	h.c <- r.Message
	return nil
}
func (h lineHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h lineHandler) WithGroup(string) slog.Handler      { return h }

// keySink records the keyrings installed on it.
type keySink struct{ got chan mesh.Keyring }

func (k keySink) SetKeys(r mesh.Keyring) error { k.got <- r; return nil }

func TestReloadKeys(t *testing.T) {
	dir := t.TempDir()
	a, _ := mesh.GenerateKey()
	b, _ := mesh.GenerateKey()
	path := write(t, filepath.Join(dir, "mesh.keyring"), string(mesh.Keyring{a}.Format()))
	m := Mesh{MeshListen: "127.0.0.1:7946", MeshKeyring: path}
	sink := keySink{got: make(chan mesh.Keyring, 1)}
	trigger := make(chan os.Signal)
	// Every reload ends with one log line, reloaded or not: the test waits
	// for it before touching the file again.
	attempts := make(chan string, 1)
	log := slog.New(lineHandler{attempts})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.reloadKeys(ctx, sink, trigger, log) }()
	defer func() { cancel(); <-done }()

	// The three rotation steps, each picked up on the next trigger.
	for _, step := range []mesh.Keyring{{a, b}, {b, a}, {b}} {
		write(t, path, string(step.Format()))
		trigger <- syscall.SIGHUP
		if got := <-sink.got; !reflect.DeepEqual(got, step) {
			t.Fatalf("installed %v, want %v", got, step)
		}
		if msg := <-attempts; msg != "mesh keyring reloaded" {
			t.Fatalf("log %q after a good file", msg)
		}
	}
	// A broken file is not installed: the running keyring stays.
	write(t, path, "garbage\n")
	trigger <- syscall.SIGHUP
	if msg := <-attempts; msg != "mesh keyring not reloaded; keeping the running one" {
		t.Fatalf("log %q after a broken file", msg)
	}
	select {
	case got := <-sink.got:
		t.Fatalf("a broken file installed %v", got)
	default:
	}
	write(t, path, string(mesh.Keyring{a}.Format()))
	trigger <- syscall.SIGHUP
	if got := <-sink.got; !reflect.DeepEqual(got, mesh.Keyring{a}) {
		t.Fatalf("installed %v after a broken file, want the next good one", got)
	}
	<-attempts
	if err := m.ReloadKeys(sink); err != nil {
		t.Fatal(err)
	}
	<-sink.got
}
