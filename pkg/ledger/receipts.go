package ledger

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/dct-network/dct/pkg/receipts"
)

// ReceiptIdentity reads a ledger identity (the certificate and the private
// key, a file or a keystore directory, as LoadSigner does) as the identity
// delivery receipts are issued under: the gateway signs its receipts with
// the key the chaincode knows it by.
func ReceiptIdentity(mspID, certPath, keyPath string) (receipts.Identity, error) {
	s, err := LoadSigner(mspID, certPath, keyPath)
	if err != nil {
		return receipts.Identity{}, err
	}
	block, _ := pem.Decode(s.ID.Credentials())
	if block == nil {
		return receipts.Identity{}, fmt.Errorf("ledger: certificate %s is not PEM", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return receipts.Identity{}, fmt.Errorf("ledger: certificate %s: %w", certPath, err)
	}
	return receipts.Identity{MSPID: mspID, Cert: cert, Sign: s.Sign}, nil
}
