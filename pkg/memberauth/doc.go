// Package memberauth authenticates the members of a DCT consortium the way
// a Fabric client is authenticated: by the enrollment certificate of its
// MSP identity, presented as a TLS client certificate, which must chain to
// the root CA of a member's MSP. The root it chains to names the member
// (its MSP id); the certificate's hash (records.CertHash) names the
// identity in the ledger's registry, whose roles are looked up through a
// narrow RoleSource (pkg/ledger's *Client implements it) behind a bounded
// LRU cache with a time to live (RoleCache).
//
// Both DCT services use it: the gateway's admin listener (publish, purge)
// and the edge agents' gRPC server (which admits only the gateway role,
// requires the client certificate in the handshake and keeps refusals for
// a shorter time than grants: WithNegativeTTL). Typical use:
//
//	v, err := memberauth.LoadVerifier([]string{"Org1MSP=org1/msp/cacerts", "Org2MSP=org2-ca.pem"})
//	tlsCfg := memberauth.ServerTLSConfig(serverPair, v) // tls.VerifyClientCertIfGiven
//	auth := memberauth.New(v, memberauth.NewRoleCache(ledgerClient, memberauth.WithTTL(time.Minute),
//		memberauth.WithNegativeTTL(5*time.Second, records.RoleGateway)))
//	id, err := auth.Authenticate(ctx, r.TLS.PeerCertificates)
//	// errors.Is(err, memberauth.ErrUnauthenticated): no or no valid certificate (HTTP 401)
//	// errors.Is(err, memberauth.ErrRoleLookup): the registry could not be read (503)
//	// id.Has(records.RolePublisher), id.MSPID: the caller's authorisation (403)
//
// The package needs nothing of the gateway or the agent, and only the
// standard library, chaincode/records and hashicorp/golang-lru.
package memberauth
