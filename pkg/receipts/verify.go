package receipts

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
)

// VerifySignature checks that r was signed by the gateway whose
// certificate is gatewayCert (and names it).
func VerifySignature(r *records.Receipt, gatewayCert *x509.Certificate) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if gatewayCert == nil {
		return fmt.Errorf("receipts: no gateway certificate")
	}
	if h := records.CertHash(gatewayCert); h != r.Gateway {
		return fmt.Errorf("receipts: receipt %s names gateway %s, the certificate is %s", r.Serial, r.Gateway, h)
	}
	pub, ok := gatewayCert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("receipts: gateway key is %T, not ECDSA", gatewayCert.PublicKey)
	}
	digest := sha256.Sum256(r.SigningBytes())
	if !ecdsa.VerifyASN1(pub, digest[:], r.Signature) {
		return fmt.Errorf("receipts: receipt %s: bad signature", r.Serial)
	}
	return nil
}

// VerifyReceipt checks a receipt offline, as an auditor: its fields, the
// gateway's signature, and that it is leaf index of the batch with root
// (hex) and size (records.VerifyInclusion).
func VerifyReceipt(r *records.Receipt, proof [][]byte, root string, size, index int64, gatewayCert *x509.Certificate) error {
	if err := VerifySignature(r, gatewayCert); err != nil {
		return err
	}
	return records.VerifyInclusion(records.LeafHash(r.LeafData()), index, size, proof, root)
}
