package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a self-signed certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte
}

// NewCA returns a fresh CA named name.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{name}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pair is a certificate and its key in PEM.
type Pair struct {
	CertPEM, KeyPEM []byte
}

// TLS returns the pair as a tls.Certificate.
func (p Pair) TLS() (tls.Certificate, error) { return tls.X509KeyPair(p.CertPEM, p.KeyPEM) }

// Server issues a server certificate for localhost and 127.0.0.1.
func (ca *CA) Server(name string) (Pair, error) {
	return ca.issue(name, x509.ExtKeyUsageServerAuth)
}

// Client issues a client certificate.
func (ca *CA) Client(name string) (Pair, error) {
	return ca.issue(name, x509.ExtKeyUsageClientAuth)
}

// Member issues an enrollment certificate the way Fabric's cryptogen
// signs members' identities: digital signature, no extended key usage.
func (ca *CA) Member(name string) (Pair, error) {
	return ca.issue(name, -1)
}

func (ca *CA) issue(name string, usage x509.ExtKeyUsage) (Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		DNSNames:     []string{"localhost", name},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if usage >= 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return Pair{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Pair{}, err
	}
	return Pair{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// Files are the paths written by WriteAgent.
type Files struct {
	// CA is the TLS CA of the agent's server certificate.
	CA, ServerCert, ServerKey string
	// MemberCA is a member organisation's MSP CA (MemberMSPID), ClientCert
	// and ClientKey an enrollment certificate it issued.
	MemberCA, ClientCert, ClientKey string
}

// MemberMSPID is the MSP id of the member CA WriteAgent writes.
const MemberMSPID = "Org1MSP"

// WriteAgent writes, under dir, a TLS CA (ca.pem) and an agent server
// certificate it issued (server.crt, server.key), and a member's MSP CA
// (member-ca.pem) with an enrollment certificate it issued (client.crt,
// client.key). It returns the TLS CA and the member CA.
func WriteAgent(dir string) (Files, *CA, *CA, error) {
	ca, err := NewCA("Test TLS CA")
	if err != nil {
		return Files{}, nil, nil, err
	}
	srv, err := ca.Server("agent0")
	if err != nil {
		return Files{}, nil, nil, err
	}
	member, err := NewCA("Test Org1 CA")
	if err != nil {
		return Files{}, nil, nil, err
	}
	cli, err := member.Member("gateway")
	if err != nil {
		return Files{}, nil, nil, err
	}
	f := Files{
		CA:         filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "server.crt"), ServerKey: filepath.Join(dir, "server.key"),
		MemberCA:   filepath.Join(dir, "member-ca.pem"),
		ClientCert: filepath.Join(dir, "client.crt"), ClientKey: filepath.Join(dir, "client.key"),
	}
	for path, b := range map[string][]byte{f.CA: ca.PEM, f.ServerCert: srv.CertPEM, f.ServerKey: srv.KeyPEM,
		f.MemberCA: member.PEM, f.ClientCert: cli.CertPEM, f.ClientKey: cli.KeyPEM} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return Files{}, nil, nil, err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return Files{}, nil, nil, err
		}
	}
	return f, ca, member, nil
}
