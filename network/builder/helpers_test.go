package builder_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/network/builder"
)

// testPKI holds a CA and a client certificate signed by it, all PEM encoded.
type testPKI struct {
	RootCert   string
	ClientCert string
	ClientKey  string
	OtherKey   string // a key that does not match ClientCert
}

var (
	pkiOnce sync.Once
	pki     testPKI
	pkiErr  error
)

func getPKI(t *testing.T) testPKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = makePKI() })
	if pkiErr != nil {
		t.Fatalf("generate test PKI: %v", pkiErr)
	}
	return pki
}

func makePKI() (testPKI, error) {
	newKey := func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	caKey, err := newKey()
	if err != nil {
		return testPKI{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return testPKI{}, err
	}
	clientKey, err := newKey()
	if err != nil {
		return testPKI{}, err
	}
	clientTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "peer0"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	clientDER, err := x509.CreateCertificate(rand.Reader, clientTmpl, caTmpl, &clientKey.PublicKey, caKey)
	if err != nil {
		return testPKI{}, err
	}
	keyPEM := func(k *ecdsa.PrivateKey) (string, error) {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return "", err
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
	}
	clientKeyPEM, err := keyPEM(clientKey)
	if err != nil {
		return testPKI{}, err
	}
	otherKeyPEM, err := keyPEM(caKey)
	if err != nil {
		return testPKI{}, err
	}
	return testPKI{
		RootCert:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		ClientCert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: clientDER})),
		ClientKey:  clientKeyPEM,
		OtherKey:   otherKeyPEM,
	}, nil
}

// mtlsConnection returns a valid connection that uses mutual TLS.
func mtlsConnection(t *testing.T) builder.Connection {
	p := getPKI(t)
	return builder.Connection{
		Address:            "asset-cc.example.com:9999",
		DialTimeout:        "10s",
		TLSRequired:        true,
		ClientAuthRequired: true,
		RootCert:           p.RootCert,
		ClientKey:          p.ClientKey,
		ClientCert:         p.ClientCert,
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeMetadata(t *testing.T, dir, typ string) {
	t.Helper()
	data, err := json.Marshal(map[string]string{"type": typ, "label": "mycc", "path": ""})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, builder.MetadataFile), data)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type tarEntry struct {
	Header *tar.Header
	Data   []byte
}

// readTarGz returns the entries of a gzipped tar in archive order.
func readTarGz(t *testing.T, data []byte) []tarEntry {
	t.Helper()
	gr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	tr := tar.NewReader(gr)
	var entries []tarEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("tar read %s: %v", hdr.Name, err)
		}
		entries = append(entries, tarEntry{Header: hdr, Data: body})
	}
	return entries
}

// installLikePeer does what the peer does before calling an external builder.
// It writes metadata.json into metadataDir and extracts code.tar.gz into
// sourceDir.
func installLikePeer(t *testing.T, pkg []byte, sourceDir, metadataDir string) {
	t.Helper()
	var md, code []byte
	for _, e := range readTarGz(t, pkg) {
		switch e.Header.Name {
		case builder.MetadataFile:
			md = e.Data
		case builder.CodePackageFile:
			code = e.Data
		default:
			t.Fatalf("unexpected top-level entry %q", e.Header.Name)
		}
	}
	if md == nil || code == nil {
		t.Fatalf("package lacks metadata.json or code.tar.gz")
	}
	writeFile(t, filepath.Join(metadataDir, builder.MetadataFile), md)
	for _, e := range readTarGz(t, code) {
		if e.Header.Typeflag != tar.TypeReg {
			t.Fatalf("code.tar.gz entry %q is not a regular file", e.Header.Name)
		}
		writeFile(t, filepath.Join(sourceDir, filepath.FromSlash(e.Header.Name)), e.Data)
	}
}
