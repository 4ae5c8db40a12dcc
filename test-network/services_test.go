package testnetwork

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dct-network/dct/pkg/mesh"
)

// TestConsortiumKeys: the master key lives in a directory only gateways
// are given (0700), the gossip keyring is one random key (0600), and the
// command lines point every mesh member at the keyring and only gateways
// at the master key.
func TestConsortiumKeys(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	n := &Network{cfg: DefaultConfig(run, fakeCache(t))}
	n.desc = n.describe()
	if err := n.writeConsortiumKeys(); err != nil {
		t.Fatal(err)
	}
	d := n.desc
	mode := func(path string) os.FileMode {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	secrets := d.GatewaySecretsDir
	if filepath.Dir(d.MasterKeyFile) != secrets || mode(secrets) != 0o700 || mode(d.MasterKeyFile) != 0o600 {
		t.Fatalf("master key %s (%v) in %s (%v): want it in the gateways' 0700 directory, mode 0600",
			d.MasterKeyFile, mode(d.MasterKeyFile), secrets, mode(secrets))
	}
	if key, _ := os.ReadFile(d.MasterKeyFile); len(key) != 32 {
		t.Fatalf("master key of %d bytes", len(key))
	}
	ring, err := mesh.LoadKeyring(d.MeshKeyringFile)
	if err != nil || len(ring) != 1 || len(ring.Primary()) != mesh.KeySize || mode(d.MeshKeyringFile) != 0o600 {
		t.Fatalf("mesh keyring %v (%v, mode %v)", ring, err, mode(d.MeshKeyringFile))
	}

	s := Services{BinDir: "/bin", AgentsPerOrg: 2, Gateways: 2, AgentPort: 9000, GatewayPort: 9100, Mesh: true, MeshPort: 9200}
	inSecrets := func(arg string) bool {
		rel, err := filepath.Rel(secrets, arg)
		return err == nil && !strings.HasPrefix(rel, "..")
	}
	for j, org := range d.Orgs {
		for a := 0; a < s.AgentsPerOrg; a++ {
			ag := s.agent(d, j, a, org)
			if i := slices.Index(ag.Args, "--mesh-keyring"); i < 0 || ag.Args[i+1] != d.MeshKeyringFile {
				t.Errorf("%s: no --mesh-keyring %s in %q", ag.Name, d.MeshKeyringFile, ag.Args)
			}
			for _, arg := range append(slices.Clone(ag.Args), ag.DataDir) {
				if inSecrets(arg) || strings.Contains(arg, "master") {
					t.Errorf("%s is pointed at the gateways' secrets: %q", ag.Name, arg)
				}
			}
			if inSecrets(ag.DataDir) || strings.HasPrefix(secrets, ag.DataDir) {
				t.Errorf("%s's data directory %s overlaps %s", ag.Name, ag.DataDir, secrets)
			}
		}
	}
	for g := 0; g < s.Gateways; g++ {
		gw := s.gateway(d, g)
		if i := slices.Index(gw.Args, "--mesh-keyring"); i < 0 || gw.Args[i+1] != d.MeshKeyringFile {
			t.Errorf("%s: no --mesh-keyring in %q", gw.Name, gw.Args)
		}
		if i := slices.Index(gw.Args, "--master-key-file"); i < 0 || gw.Args[i+1] != d.MasterKeyFile {
			t.Errorf("%s: no --master-key-file %s in %q", gw.Name, d.MasterKeyFile, gw.Args)
		}
	}
}
