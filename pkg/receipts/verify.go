package receipts

import (
	"crypto/x509"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
)

// VerifySealed checks that the gateway whose certificate is gatewayCert
// issued the receipt of sr: the receipt and its seal are well formed and
// name the gateway, the receipt is leaf sr.GroupIndex of the group the
// seal covers (sr.GroupProof against sr.Seal.Root), and the seal's
// signature is the certificate's key's (records.SealedReceipt.Verify).
func VerifySealed(sr *records.SealedReceipt, gatewayCert *x509.Certificate) error {
	if sr == nil {
		return fmt.Errorf("receipts: no receipt")
	}
	if err := sr.Verify(gatewayCert); err != nil {
		return fmt.Errorf("receipts: receipt %s: %w", sr.Receipt.Serial, err)
	}
	return nil
}

// VerifyReceipt checks one receipt offline, as an auditor (nothing but
// the arguments is needed):
//
//   - sr is the receipt with the seal of the group commit that logged it,
//     its index in the group and its inclusion proof there (a
//     records.SampledLeaf of delivery:Prove carries them, and so does
//     every receipt ReadDir reads from a gateway's log);
//   - proof, root (hex), size and index place the receipt in its batch:
//     it is leaf index of the batch tree whose root and size the ledger
//     holds (delivery:Batch);
//   - gatewayCert is the certificate of the gateway that committed the
//     batch (its hash is the batch's and the seal's gateway).
//
// It checks VerifySealed (the gateway's key signed the seal, the receipt
// is in the sealed group) and that the receipt is leaf index of the batch
// (records.VerifyInclusion). The errors say which check failed.
func VerifyReceipt(sr *records.SealedReceipt, proof [][]byte, root string, size, index int64, gatewayCert *x509.Certificate) error {
	if err := VerifySealed(sr, gatewayCert); err != nil {
		return err
	}
	if err := records.VerifyInclusion(records.LeafHash(sr.Receipt.LeafData()), index, size, proof, root); err != nil {
		return fmt.Errorf("receipts: receipt %s in its batch: %w", sr.Receipt.Serial, err)
	}
	return nil
}
