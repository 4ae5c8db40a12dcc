package ledger

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// PeerEndpoint says how to reach one peer's Gateway service.
type PeerEndpoint struct {
	// Address is host:port of the peer.
	Address string `json:"address"`
	// TLSCACertFile is the PEM file of the CA that issued the peer's TLS
	// certificate.
	TLSCACertFile string `json:"tlsCACertFile"`
	// TLSCACertPEM is that CA itself; when set it wins over the file.
	TLSCACertPEM []byte `json:"tlsCACertPem,omitempty"`
	// ServerName overrides the TLS server name; empty means the host of
	// Address.
	ServerName string `json:"serverName,omitempty"`
}

// MaxResponseBytes is the largest peer response a client accepts: Fabric's
// default for what a peer sends (100 MiB), not gRPC's 4 MiB, which a
// node:List of the 10,000 nodes an auction may hold already exceeds
// (about 4.9 MB).
const MaxResponseBytes = 100 << 20

// Dial opens a gRPC client connection to a peer. The connection is lazy and
// long-lived: share it between clients and close it when done.
func Dial(ctx context.Context, ep PeerEndpoint) (*grpc.ClientConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pemBytes, source := ep.TLSCACertPEM, "(inline PEM)"
	if len(pemBytes) == 0 {
		b, err := os.ReadFile(ep.TLSCACertFile)
		if err != nil {
			return nil, fmt.Errorf("read peer TLS CA: %w", err)
		}
		pemBytes, source = b, ep.TLSCACertFile
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("peer TLS CA %s: no certificate found", source)
	}
	tlsCfg := &tls.Config{RootCAs: pool, ServerName: ep.ServerName, MinVersion: tls.VersionTLS12}
	conn, err := grpc.NewClient(ep.Address,
		grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxResponseBytes)),
	)
	if err != nil {
		return nil, fmt.Errorf("dial peer %s: %w", ep.Address, err)
	}
	return conn, nil
}

// Signer is an enrolled Fabric identity able to sign transactions.
type Signer struct {
	ID   identity.Identity
	Sign identity.Sign
}

// KeyFile returns keyPath, or the one key file in it when it is a keystore
// directory (as cryptogen and the Fabric CA client write it).
func KeyFile(keyPath string) (string, error) {
	st, err := os.Stat(keyPath)
	if err != nil || !st.IsDir() {
		return keyPath, nil // reading it reports the error
	}
	entries, err := os.ReadDir(keyPath)
	if err != nil {
		return "", err
	}
	if len(entries) != 1 {
		return "", fmt.Errorf("keystore %s: want exactly one key file, found %d", keyPath, len(entries))
	}
	return filepath.Join(keyPath, entries[0].Name()), nil
}

// LoadSigner reads an X.509 certificate and its private key (PEM files) for
// the given MSP ID. keyPath may name the key file or a keystore directory
// holding exactly one key, as cryptogen and the Fabric CA client write it.
func LoadSigner(mspID, certPath, keyPath string) (Signer, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return Signer{}, fmt.Errorf("read certificate: %w", err)
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return Signer{}, fmt.Errorf("parse certificate %s: %w", certPath, err)
	}
	id, err := identity.NewX509Identity(mspID, cert)
	if err != nil {
		return Signer{}, err
	}
	if keyPath, err = KeyFile(keyPath); err != nil {
		return Signer{}, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return Signer{}, fmt.Errorf("read private key: %w", err)
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return Signer{}, fmt.Errorf("parse private key %s: %w", keyPath, err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return Signer{}, err
	}
	return Signer{ID: id, Sign: sign}, nil
}
