package testnetwork

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// fakeCache lays out executables where DefaultConfig expects the tools.
func fakeCache(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	files := []string{"fabric/bin/peer", "fabric/bin/orderer", "fabric/bin/configtxgen", "fabric/bin/cryptogen",
		"fabric/bin/osnadmin", "builder/bin/detect", "builder/bin/build", "builder/bin/release", "bin/dct-chaincode"}
	for _, f := range files {
		p := filepath.Join(cache, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/true\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(cache, "fabric", "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"core.yaml", "orderer.yaml"} {
		if err := os.WriteFile(filepath.Join(cache, "fabric", "config", f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return cache
}

func TestConfigValidate(t *testing.T) {
	cache := fakeCache(t)
	tests := []struct {
		name   string
		mutate func(c *Config)
		ok     bool
	}{
		{"defaults", func(c *Config) {}, true},
		{"three orderers", func(c *Config) { c.Orderers = 3 }, true},
		{"two orderers", func(c *Config) { c.Orderers = 2 }, false},
		{"no run dir", func(c *Config) { c.RunDir = "" }, false},
		{"host name instead of IP", func(c *Config) { c.Host = "localhost" }, false},
		{"base port too high", func(c *Config) { c.BasePort = 65400 }, false},
		{"privileged base port", func(c *Config) { c.BasePort = 80 }, false},
		{"no orgs", func(c *Config) { c.Orgs = nil }, false},
		{"eleven orgs", func(c *Config) {
			var names []string
			for i := 0; i < 11; i++ {
				names = append(names, "Bank"+string(rune('A'+i)))
			}
			c.Orgs = OrgsFromNames(names)
		}, false},
		{"custom bank names", func(c *Config) { c.Orgs = OrgsFromNames([]string{"BankA", "BankB", "BankC"}) }, true},
		{"duplicate MSP id", func(c *Config) {
			c.Orgs = []Org{c.Orgs[0], {Name: "Other", MSPID: c.Orgs[0].MSPID, Domain: "other.dct.test"}}
		}, false},
		{"bad domain", func(c *Config) { c.Orgs[0].Domain = "Org1" }, false},
		{"bad channel", func(c *Config) { c.Channel = "DCT" }, false},
		{"zero batch timeout", func(c *Config) { c.BatchTimeout = 0 }, false},
		{"missing peer binary", func(c *Config) { c.FabricBinDir = t.TempDir() }, false},
		{"missing builder", func(c *Config) { c.BuilderDir = t.TempDir() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig(t.TempDir(), cache)
			c.Orgs = append([]Org(nil), c.Orgs...)
			tt.mutate(&c)
			err := c.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate() = %v, want ErrConfig", err)
			}
		})
	}
}

func TestPortLayoutDisjoint(t *testing.T) {
	c := DefaultConfig("/run", "/cache")
	c.Orderers = 3
	c.Orgs = OrgsFromNames([]string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J"})
	n := &Network{cfg: c}
	seen := map[string]bool{}
	for _, a := range n.describe().addresses() {
		if seen[a] {
			t.Fatalf("address %s used twice", a)
		}
		seen[a] = true
	}
	if len(seen) != 3*3+10*3+2 { // + the chaincode server and its operations listener
		t.Fatalf("got %d addresses", len(seen))
	}
}

func TestUpRefusesTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	c := DefaultConfig(t.TempDir(), fakeCache(t))
	c.BasePort = port // the first orderer's port is taken
	if _, _, err := Up(t.Context(), c); !errors.Is(err, ErrPortInUse) {
		t.Fatalf("Up() = %v, want ErrPortInUse", err)
	}
}

func TestPrepareRunDirRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := prepareRunDir(dir); !errors.Is(err, ErrConfig) {
		t.Fatalf("prepareRunDir() = %v, want ErrConfig", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Fatal("foreign file removed")
	}
}
