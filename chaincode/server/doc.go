// Package server configures the DCT chaincode as an external service
// (chaincode as a service): it reads the configuration from the environment,
// checks it and builds the shim.ChaincodeServer the peer connects to.
//
// Environment:
//
//	CHAINCODE_ID                  package id the peer knows the chaincode by (required)
//	CHAINCODE_SERVER_ADDRESS      host:port to listen on (required)
//	CHAINCODE_TLS_CERT_FILE       PEM server certificate  } both or neither;
//	CHAINCODE_TLS_KEY_FILE        PEM server private key  } TLS is on when set
//	CHAINCODE_TLS_CLIENT_CA_FILE  PEM CA certificates; when set, the peer must
//	                              present a client certificate they signed
//	                              (requires TLS)
//
// Client mode: when CHAINCODE_SERVER_ADDRESS is not set and the peer's
// CORE_CHAINCODE_ID_NAME is ([ClientMode]), the chaincode dials the peer
// instead (shim.Start), as a peer's builder starts a standard Go package:
// the Fabric Go shim reads CORE_CHAINCODE_ID_NAME, CORE_PEER_TLS_ENABLED,
// CORE_TLS_CLIENT_CERT_FILE, CORE_TLS_CLIENT_KEY_FILE,
// CORE_PEER_TLS_ROOTCERT_FILE and the -peer.address flag.
package server
