package testnetwork

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerLayout: with Containers every node is addressed by its own
// host name on Fabric's usual ports, listens on every interface and keeps
// its ledger in NodeDataDir; without, nothing changes.
func TestContainerLayout(t *testing.T) {
	cfg := DefaultConfig(filepath.Join(t.TempDir(), "run"), fakeCache(t))
	cfg.Orderers, cfg.Orgs = 3, OrgsFromNames([]string{"BankA", "BankB"})
	native := (&Network{cfg: cfg}).describe()
	cfg.Containers, cfg.NodeDataDir = true, "/var/dct/data"
	d := (&Network{cfg: cfg}).describe()
	tests := []struct{ name, got, want string }{
		{"orderer", d.Orderers[2].Address, "orderer2.orderer.dct.test:7050"},
		{"orderer admin", d.Orderers[2].AdminAddress, "orderer2.orderer.dct.test:7053"},
		{"orderer operations", d.Orderers[0].OperationsAddress, "orderer0.orderer.dct.test:9443"},
		{"peer", d.Orgs[1].Peers[0].Address, "peer0.bankb.dct.test:7051"},
		{"peer chaincode", d.Orgs[1].Peers[0].ChaincodeAddress, "peer0.bankb.dct.test:7052"},
		{"peer operations", d.Orgs[0].Peers[0].OperationsAddress, "peer0.banka.dct.test:9443"},
		{"chaincode server", d.ChaincodeAddress, "chaincode.banka.dct.test:9999"},
		{"listen", cfg.listenAddr(d.Orgs[0].Peers[0].Address), "0.0.0.0:7051"},
		{"data", cfg.nodeDataDir("peer0.banka.dct.test"), "/var/dct/data"},
		{"native orderer", native.Orderers[1].Address, "127.0.0.1:7060"},
		{"native chaincode", native.ChaincodeAddress, "127.0.0.1:7250"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	cfg.Containers = false
	if got := cfg.listenAddr("127.0.0.1:7051"); got != "127.0.0.1:7051" {
		t.Errorf("native listen address %q", got)
	}
	if got := cfg.nodeDataDir("peer0.org1.dct.test"); got != filepath.Join(cfg.RunDir, "nodes", "peer0.org1.dct.test", "data") {
		t.Errorf("native data dir %q", got)
	}
}

// TestGenerateRefusals: Generate validates its configuration (the
// container layout needs no orderer binary, builder or chaincode
// binary, but the tools it runs) and Deploy needs a generated run
// directory.
func TestGenerateRefusals(t *testing.T) {
	cache := fakeCache(t)
	for _, f := range []string{"fabric/bin/orderer", "builder/bin/detect", "bin/dct-chaincode"} {
		if err := os.Remove(filepath.Join(cache, f)); err != nil {
			t.Fatal(err)
		}
	}
	ok := DefaultConfig(filepath.Join(t.TempDir(), "run"), cache)
	if err := (func() Config { c := ok; c.Containers = true; return c }()).Validate(); err != nil {
		t.Fatalf("container layout without orderer, builder and chaincode binaries: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"no cryptogen", func(c *Config) { c.FabricBinDir = t.TempDir() }},
		{"one orderer too many", func(c *Config) { c.Orderers = 2 }},
		{"bad org name", func(c *Config) { c.Orgs = OrgsFromNames([]string{"Bank A"}) }},
		{"no run dir", func(c *Config) { c.RunDir = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			if _, _, err := Generate(context.Background(), c); !errors.Is(err, ErrConfig) {
				t.Fatalf("Generate: %v, want ErrConfig", err)
			}
		})
	}
	_, err := Deploy(context.Background(), ok)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "run generate first") {
		t.Fatalf("Deploy on an empty run directory: %v, want ErrConfig", err)
	}
}

// TestEmptyDir: emptyDir creates a missing directory and empties an
// existing one, keeping the directory itself (a mount point).
func TestEmptyDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := emptyDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "crypto", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := emptyDir(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("after emptyDir: %v entries, %v", len(entries), err)
	}
}
