package ledger

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// Settings locate a peer's Gateway service and the identity a client acts
// as. Gateways, agents and tools embed it in their configurations.
type Settings struct {
	// PeerAddress is the peer's Gateway endpoint host:port; PeerTLSCA the
	// PEM file of the CA of its TLS certificate, or PeerTLSCAPEM that CA
	// itself (as a connection profile carries it inline; it wins over the
	// file). PeerServerName overrides the TLS server name checked against
	// the peer's certificate (empty: the host of PeerAddress).
	PeerAddress    string
	PeerTLSCA      string
	PeerTLSCAPEM   []byte
	PeerServerName string
	// MSPID, CertFile and KeyPath are the client identity (KeyPath: a key
	// file or an MSP keystore directory).
	MSPID    string
	CertFile string
	KeyPath  string
	// Channel and Chaincode name the DCT chaincode.
	Channel   string
	Chaincode string
}

// DefaultSettings names the default channel and chaincode.
func DefaultSettings() Settings {
	return Settings{Channel: DefaultChannel, Chaincode: DefaultChaincode}
}

// ErrSettings marks incomplete or unusable Settings.
var ErrSettings = errors.New("ledger settings")

// FillFrom sets every empty field of s from o; set fields win. The peer
// address and its server name go together, and so do the two forms of the
// peer TLS CA: a set address keeps its (possibly empty) server name, a set
// CA file or PEM keeps s's CA.
func (s *Settings) FillFrom(o Settings) {
	if s.PeerAddress == "" {
		s.PeerAddress, s.PeerServerName = o.PeerAddress, o.PeerServerName
	}
	if s.PeerTLSCA == "" && len(s.PeerTLSCAPEM) == 0 {
		s.PeerTLSCA, s.PeerTLSCAPEM = o.PeerTLSCA, o.PeerTLSCAPEM
	}
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&s.MSPID, o.MSPID},
		{&s.CertFile, o.CertFile}, {&s.KeyPath, o.KeyPath}, {&s.Channel, o.Channel}, {&s.Chaincode, o.Chaincode},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
}

// Validate checks that every field is set and every file exists.
func (s Settings) Validate() error {
	if _, _, err := net.SplitHostPort(s.PeerAddress); err != nil {
		return fmt.Errorf("%w: peer address %q: %v", ErrSettings, s.PeerAddress, err)
	}
	if s.MSPID == "" || s.Channel == "" || s.Chaincode == "" {
		return fmt.Errorf("%w: MSP id, channel and chaincode must be set", ErrSettings)
	}
	files := map[string]string{"certificate": s.CertFile, "key": s.KeyPath}
	if len(s.PeerTLSCAPEM) == 0 {
		files["peer TLS CA"] = s.PeerTLSCA
	} else if !x509.NewCertPool().AppendCertsFromPEM(s.PeerTLSCAPEM) {
		return fmt.Errorf("%w: peer TLS CA: no PEM certificate found", ErrSettings)
	}
	for name, f := range files {
		if f == "" {
			return fmt.Errorf("%w: %s is not set", ErrSettings, name)
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrSettings, name, err)
		}
	}
	return nil
}

// PeerEndpoint is the peer Connect dials.
func (s Settings) PeerEndpoint() PeerEndpoint {
	return PeerEndpoint{Address: s.PeerAddress, TLSCACertFile: s.PeerTLSCA, TLSCACertPEM: s.PeerTLSCAPEM, ServerName: s.PeerServerName}
}

// Connect dials the peer and returns a Client acting as the identity. The
// Client owns the connection: Close closes both.
func Connect(ctx context.Context, s Settings, opts ...Option) (*Client, error) {
	signer, err := LoadSigner(s.MSPID, s.CertFile, s.KeyPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	conn, err := Dial(ctx, s.PeerEndpoint())
	if err != nil {
		return nil, err
	}
	opts = append([]Option{WithChannel(s.Channel), WithChaincode(s.Chaincode)}, opts...)
	c, err := New(conn, signer, opts...)
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.conn = conn
	return c, nil
}
