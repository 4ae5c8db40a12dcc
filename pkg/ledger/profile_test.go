package ledger

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCAPEM returns a self-signed CA certificate in PEM.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsca.org1.dct.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// testNetworkProfile is a profile laid out the way test-network's
// writeConnectionProfiles writes it (JSON, both pem and path, every
// organisation and orderer, one channel).
func testNetworkProfile(t *testing.T, caPEM, caPath string) []byte {
	t.Helper()
	node := func(name, addr string) map[string]any {
		return map[string]any{
			"url":         "grpcs://" + addr,
			"tlsCACerts":  map[string]string{"pem": caPEM, "path": caPath},
			"grpcOptions": map[string]string{"ssl-target-name-override": name, "hostnameOverride": name},
		}
	}
	cp := map[string]any{
		"name": "dct-Org2", "version": "1.0.0",
		"client": map[string]any{"organization": "Org2", "connection": map[string]any{"timeout": map[string]any{"peer": map[string]string{"endorser": "300"}}}},
		"organizations": map[string]any{
			"Org1": map[string]any{"mspid": "Org1MSP", "peers": []string{"peer0.org1.dct.test"}, "certificateAuthorities": []string{}},
			"Org2": map[string]any{"mspid": "Org2MSP", "peers": []string{"peer0.org2.dct.test"}, "certificateAuthorities": []string{}},
		},
		"peers": map[string]any{
			"peer0.org1.dct.test": node("peer0.org1.dct.test", "127.0.0.1:7051"),
			"peer0.org2.dct.test": node("peer0.org2.dct.test", "127.0.0.1:7061"),
		},
		"orderers": map[string]any{"orderer0.orderer.dct.test": node("orderer0.orderer.dct.test", "127.0.0.1:7050")},
		"channels": map[string]any{"dct": map[string]any{"orderers": []string{"orderer0.orderer.dct.test"},
			"peers": map[string]any{"peer0.org1.dct.test": map[string]bool{"endorsingPeer": true}}}},
	}
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// samplesYAML is a profile as fabric-samples' ccp-generate.sh writes it
// (YAML, inline pem block, no channels).
func samplesYAML(caPEM string) string {
	indented := "          " + strings.ReplaceAll(strings.TrimSpace(caPEM), "\n", "\n          ")
	return `---
name: test-network-org1
version: 1.0.0
client:
  organization: Org1
  connection:
    timeout:
      peer:
        endorser: '300'
organizations:
  Org1:
    mspid: Org1MSP
    peers:
    - peer0.org1.example.com
    - peer1.org1.example.com
    certificateAuthorities:
    - ca.org1.example.com
peers:
  peer0.org1.example.com:
    url: grpcs://localhost:7051
    tlsCACerts:
      pem: |
` + indented + `
    grpcOptions:
      ssl-target-name-override: peer0.org1.example.com
      hostnameOverride: peer0.org1.example.com
  peer1.org1.example.com:
    url: grpcs://localhost:9051
    tlsCACerts:
      path: tls/ca.pem
    grpcOptions:
      hostnameOverride: peer1.org1.example.com
      request-timeout: 120001
certificateAuthorities:
  ca.org1.example.com:
    url: https://localhost:7054
    caName: ca-org1
`
}

func TestProfileSettings(t *testing.T) {
	caPEM := testCAPEM(t)
	dir := t.TempDir()
	absCA := filepath.Join(dir, "abs-ca.pem")
	tests := []struct {
		name, data, peer string
		want             Settings
	}{
		{"test-network JSON: inline pem wins over path", string(testNetworkProfile(t, caPEM, absCA)), "", Settings{
			PeerAddress: "127.0.0.1:7061", PeerServerName: "peer0.org2.dct.test", PeerTLSCAPEM: []byte(caPEM),
			MSPID: "Org2MSP", Channel: "dct",
		}},
		{"test-network JSON: another organisation's peer by name", string(testNetworkProfile(t, caPEM, absCA)), "peer0.org1.dct.test", Settings{
			PeerAddress: "127.0.0.1:7051", PeerServerName: "peer0.org1.dct.test", PeerTLSCAPEM: []byte(caPEM),
			MSPID: "Org2MSP", Channel: "dct",
		}},
		{"fabric-samples YAML: first peer, inline pem", samplesYAML(caPEM), "", Settings{
			PeerAddress: "localhost:7051", PeerServerName: "peer0.org1.example.com",
			PeerTLSCAPEM: []byte(strings.TrimSpace(caPEM) + "\n"), MSPID: "Org1MSP",
		}},
		{"fabric-samples YAML: relative path, hostnameOverride", samplesYAML(caPEM), "peer1.org1.example.com", Settings{
			PeerAddress: "localhost:9051", PeerServerName: "peer1.org1.example.com",
			PeerTLSCA: filepath.Join(dir, "tls", "ca.pem"), MSPID: "Org1MSP",
		}},
		{"absolute path, bare address, pem list", `{"client": {"organization": "A"},
			"organizations": {"A": {"mspid": "AMSP", "peers": ["p"]}},
			"peers": {"p": {"url": "peer.a.example:443", "tlsCACerts": {"path": "` + absCA + `"}}},
			"channels": {"c1": {}, "c2": {}}}`, "", Settings{
			PeerAddress: "peer.a.example:443", PeerTLSCA: absCA, MSPID: "AMSP",
		}},
		{"pem as a list", "client: {organization: A}\norganizations: {A: {mspid: AMSP, peers: [p]}}\n" +
			"peers: {p: {url: 'grpcs://h:1', tlsCACerts: {pem: [a, b]}}}\n", "", Settings{
			PeerAddress: "h:1", PeerTLSCAPEM: []byte("a\nb"), MSPID: "AMSP",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tc.data), dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Settings(tc.peer)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := settingsString(got), settingsString(tc.want); g != w {
				t.Fatalf("settings\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func settingsString(s Settings) string {
	b, _ := json.MarshalIndent(struct {
		Settings
		PEM string
	}{s, string(s.PeerTLSCAPEM)}, "", " ")
	return string(b)
}

func TestProfileErrors(t *testing.T) {
	const peers = `"peers": {"p": {"url": "grpcs://h:1", "tlsCACerts": {"pem": "x"}}}`
	tests := []struct{ name, data, peer, want string }{
		{"not a profile", "{", "", "connection profile"},
		{"no client organisation", `{"organizations": {"A": {"mspid": "AMSP", "peers": ["p"]}}, ` + peers + `}`, "", "client.organization"},
		{"client organisation missing", `{"client": {"organization": "B"}, "organizations": {"A": {"mspid": "AMSP"}}, ` + peers + `}`, "", `"B" is not under organizations (A)`},
		{"no mspid", `{"client": {"organization": "A"}, "organizations": {"A": {"peers": ["p"]}}, ` + peers + `}`, "", "no mspid"},
		{"no peers", `{"client": {"organization": "A"}, "organizations": {"A": {"mspid": "AMSP"}}, ` + peers + `}`, "", "lists no peers"},
		{"unknown peer", `{"client": {"organization": "A"}, "organizations": {"A": {"mspid": "AMSP", "peers": ["q"]}}, ` + peers + `}`, "", `no peer "q" under peers (p)`},
		{"unknown peer asked for", `{"client": {"organization": "A"}, "organizations": {"A": {"mspid": "AMSP", "peers": ["p"]}}, ` + peers + `}`, "z", `no peer "z"`},
		{"plaintext peer", "client: {organization: A}\norganizations: {A: {mspid: AMSP, peers: [p]}}\npeers: {p: {url: 'grpc://h:1', tlsCACerts: {pem: x}}}", "", "plaintext"},
		{"url without port", "client: {organization: A}\norganizations: {A: {mspid: AMSP, peers: [p]}}\npeers: {p: {url: 'grpcs://h', tlsCACerts: {pem: x}}}", "", "want grpcs://host:port"},
		{"no TLS CA", "client: {organization: A}\norganizations: {A: {mspid: AMSP, peers: [p]}}\npeers: {p: {url: 'grpcs://h:1'}}", "", "neither tlsCACerts.pem nor tlsCACerts.path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tc.data), "")
			if err == nil {
				_, err = p.Settings(tc.peer)
			}
			if !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrProfile mentioning %q", err, tc.want)
			}
		})
	}
}

func TestLoadProfile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "connection-org1.yaml")
	if err := os.WriteFile(path, []byte(samplesYAML(testCAPEM(t))), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Settings("peer1.org1.example.com")
	if err != nil || s.PeerTLSCA != filepath.Join(dir, "tls", "ca.pem") {
		t.Fatalf("relative path resolved to %q (%v), want it next to the profile", s.PeerTLSCA, err)
	}
	if _, err := LoadProfile(filepath.Join(dir, "missing.json")); !errors.Is(err, ErrProfile) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing profile: %v", err)
	}
}

func TestMSPIdentity(t *testing.T) {
	write := func(t *testing.T, dir string, files ...string) {
		for _, f := range files {
			p := filepath.Join(dir, f)
			if strings.HasSuffix(f, "/") {
				if err := os.MkdirAll(p, 0o700); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name      string
		files     []string
		cert, key string // "" with want: an error
		want      string
	}{
		{"cryptogen", []string{"signcerts/User1@org1.dct.test-cert.pem", "keystore/priv_sk", "cacerts/ca.pem", "config.yaml"},
			"signcerts/User1@org1.dct.test-cert.pem", "keystore/priv_sk", ""},
		{"fabric-ca client, subdirectory ignored", []string{"signcerts/cert.pem", "keystore/abc_sk", "keystore/old/"}, "signcerts/cert.pem", "keystore/abc_sk", ""},
		{"no signcerts", []string{"keystore/priv_sk"}, "", "", "signcerts"},
		{"empty keystore", []string{"signcerts/cert.pem", "keystore/"}, "", "", "found 0"},
		{"two keys", []string{"signcerts/cert.pem", "keystore/a_sk", "keystore/b_sk"}, "", "", "found 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tc.files...)
			cert, key, err := MSPIdentity(dir)
			if tc.want != "" {
				if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("MSPIdentity: %v, want ErrSettings mentioning %q", err, tc.want)
				}
				return
			}
			if err != nil || cert != filepath.Join(dir, tc.cert) || key != filepath.Join(dir, tc.key) {
				t.Fatalf("MSPIdentity: %q %q %v", cert, key, err)
			}
		})
	}
}

func TestFillFromKeepsPairs(t *testing.T) {
	profile := Settings{PeerAddress: "h:1", PeerServerName: "peer0", PeerTLSCAPEM: []byte("pem"), MSPID: "AMSP", Channel: "c"}
	tests := []struct {
		name       string
		explicit   Settings
		want       Settings
		wantPEM    string
		wantCAPath string
	}{
		{"nothing explicit", Settings{}, Settings{PeerAddress: "h:1", PeerServerName: "peer0", MSPID: "AMSP", Channel: "c"}, "pem", ""},
		{"explicit address drops the profile's server name", Settings{PeerAddress: "10.0.0.1:7051"},
			Settings{PeerAddress: "10.0.0.1:7051", MSPID: "AMSP", Channel: "c"}, "pem", ""},
		{"explicit CA file wins over inline pem", Settings{PeerTLSCA: "/ca.pem"},
			Settings{PeerAddress: "h:1", PeerServerName: "peer0", MSPID: "AMSP", Channel: "c"}, "", "/ca.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.explicit
			s.FillFrom(profile)
			if string(s.PeerTLSCAPEM) != tc.wantPEM || s.PeerTLSCA != tc.wantCAPath {
				t.Fatalf("CA: pem %q path %q", s.PeerTLSCAPEM, s.PeerTLSCA)
			}
			s.PeerTLSCAPEM, s.PeerTLSCA = nil, ""
			if settingsString(s) != settingsString(tc.want) {
				t.Fatalf("got %s", settingsString(s))
			}
		})
	}
}

func TestInlineCA(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := Settings{PeerAddress: "127.0.0.1:7051", PeerTLSCAPEM: []byte(testCAPEM(t)), MSPID: "Org1MSP",
		CertFile: filepath.Join(dir, "cert.pem"), KeyPath: filepath.Join(dir, "key.pem"), Channel: "dct", Chaincode: "dct"}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate with inline CA: %v", err)
	}
	conn, err := Dial(context.Background(), s.PeerEndpoint())
	if err != nil {
		t.Fatalf("Dial with inline CA: %v", err)
	}
	conn.Close()
	s.PeerTLSCAPEM = []byte("not pem")
	if err := s.Validate(); !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), "peer TLS CA") {
		t.Fatalf("Validate with bad inline CA: %v", err)
	}
	if _, err := Dial(context.Background(), s.PeerEndpoint()); err == nil || !strings.Contains(err.Error(), "inline PEM") {
		t.Fatalf("Dial with bad inline CA: %v", err)
	}
}
