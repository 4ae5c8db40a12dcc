package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

func TestReadPublicKey(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkix1, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "n"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edPKCS8, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	want := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix1}))
	block := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }

	tests := []struct {
		name    string
		file    []byte
		want    string
		wantErr string
	}{
		{"public key", block("PUBLIC KEY", pkix1), want, ""},
		{"certificate", block("CERTIFICATE", cert), want, ""},
		{"agent node key", block("PRIVATE KEY", pkcs8), want, ""},
		{"ed25519 node key", block("PRIVATE KEY", edPKCS8), "", ""},
		{"not PEM", []byte("hello"), "", "holds no PEM block"},
		{"other PEM type", block("EC PARAMETERS", []byte{1}), "", "is not a public key"},
		{"corrupt public key", block("PUBLIC KEY", []byte{1, 2, 3}), "", "node public key"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i)))
			if err := os.WriteFile(path, tt.file, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readPublicKey(path)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrPublicKey) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want ErrPublicKey containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if err := records.ValidatePublicKey(got); err != nil {
				t.Fatalf("the chaincode would refuse it: %v", err)
			}
		})
	}
	if _, err := readPublicKey(filepath.Join(dir, "missing")); !errors.Is(err, ErrPublicKey) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestNodesRegisterRefusesBeforeDialling: malformed input and missing
// ledger settings are refused locally with clear errors; nothing is sent.
func TestNodesRegisterRefusesBeforeDialling(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	key := filepath.Join(t.TempDir(), "node-key.pem")
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"nodes", "register", "--id", "n1-org1", "--endpoint", "127.0.0.1:9", "--zone", "z1",
		"--storage-bytes", "1", "--bandwidth-bps", "1", "--public-key", key}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing flag", []string{"nodes", "register", "--id", "n1-org1"}, "required flag"},
		{"bad latitude", append(append([]string{}, base...), "--latitude", "91"), "latitude must be in -90..90"},
		{"bad zone", append(append([]string{}, base...), "--zone", "bad zone!"), "zone"},
		{"no ledger settings", base, "set --connection-profile"},
		{"bad reason", []string{"nodes", "deactivate", "n1-org1", "--reason", strings.Repeat("x", 10000)}, "deactivationReason must be at most"},
		{"bad node id", []string{"nodes", "reactivate", "bad id!"}, "must match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DCT_CONNECTION_PROFILE", "")
			var stdout, stderr bytes.Buffer
			cmd := NewCommand(&stdout, &stderr)
			cmd.SetArgs(tt.args)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one containing %q", err, tt.want)
			}
		})
	}
}
