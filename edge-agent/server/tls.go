package server

import (
	"crypto/tls"
	"fmt"

	"github.com/dct-network/dct/pkg/memberauth"
)

// TLSConfig is the agent's server TLS configuration: it presents
// certFile/keyFile and, unlike memberauth.ServerTLSConfig, requires a
// client certificate that chains to a member organisation's MSP CA (the
// enrollment certificate the client signs ledger transactions with): a
// client without one fails the handshake. The Authorizer then tells which
// member and checks the role. TLS 1.2 or newer.
func TLSConfig(certFile, keyFile string, members *memberauth.Verifier) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("agent TLS certificate: %w", err)
	}
	if members == nil {
		return nil, fmt.Errorf("agent TLS: no member CAs")
	}
	cfg := memberauth.ServerTLSConfig(cert, members)
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	return cfg, nil
}
