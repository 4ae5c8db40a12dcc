package edgeagent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
)

func TestNodeKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFile)
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("key changed on reload")
	}
	pub, err := PublicKeyPEM(k1)
	if err != nil {
		t.Fatal(err)
	}
	if err := records.ValidatePublicKey(pub); err != nil {
		t.Fatalf("registry refuses the public key: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left %d files, want only the key", len(entries))
	}
	for name, content := range map[string]string{
		"garbage":     "not a key",
		"wrong block": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		"bad der":     "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := LoadOrCreateKey(p); !errors.Is(err, ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
	}
}
