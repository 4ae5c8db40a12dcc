package server

import (
	"crypto/tls"
	"fmt"
)

// TLSConfig is the agent's server TLS configuration: it presents
// certFile/keyFile and requires a client certificate that chains to a
// member organisation's MSP CA (the enrollment certificate the client signs
// ledger transactions with); the Authorizer then tells which member and
// checks the role. TLS 1.2 or newer.
func TLSConfig(certFile, keyFile string, members *MemberCAs) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("agent TLS certificate: %w", err)
	}
	if members == nil {
		return nil, fmt.Errorf("agent TLS: no member CAs")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    members.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}, nil
}
