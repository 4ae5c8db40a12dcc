package receipts

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
)

// Bundle is one receipt with everything an auditor needs to check it
// offline: the receipt as the gateway logged it with the seal of its group
// commit and its proof in the group, its inclusion proof in the batch, the
// batch's root and size as the ledger holds them (delivery:Batch) and the
// certificate of the gateway that signed it. It is what GET
// /v1/audit/batches/{id}/receipts/{index} serves and `dct audit receipt`
// saves; Verify checks it.
type Bundle struct {
	// BatchID, GatewayMSP, Epoch and Status are the ledger's batch.
	BatchID    string              `json:"batchId"`
	GatewayMSP string              `json:"gatewayMsp"`
	Epoch      int64               `json:"epoch"`
	Status     records.BatchStatus `json:"status"`
	// Root (hex) and Size are the ledger's: what the receipt is proved
	// against.
	Root string `json:"root"`
	Size int64  `json:"size"`
	// Index is the receipt's leaf index, Proof its inclusion proof
	// (RFC 6962 hashes, leaf to root). The embedded SealedReceipt is the
	// receipt, its group's seal and its proof in the group.
	Index int64    `json:"index"`
	Proof [][]byte `json:"proof"`
	records.SealedReceipt
	// GatewayCert is the signing gateway's certificate (PEM); its
	// records.CertHash is the batch's and the receipt's gateway.
	GatewayCert string `json:"gatewayCert"`
}

// ErrBundle marks a bundle that does not verify, or cannot be built.
var ErrBundle = errors.New("receipt bundle")

// Verify checks the bundle offline: the certificate is the receipt's
// gateway, the receipt is well formed and in a group whose seal it
// signed, and it is leaf
// Index of the batch of Root and Size. This is the one place the auditor's
// tools verify a receipt.
func (b *Bundle) Verify() error {
	block, _ := pem.Decode([]byte(b.GatewayCert))
	if block == nil || block.Type != "CERTIFICATE" {
		return fmt.Errorf("%w: the gateway certificate is not PEM", ErrBundle)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("%w: gateway certificate: %w", ErrBundle, err)
	}
	if err := VerifyReceipt(&b.SealedReceipt, b.Proof, b.Root, b.Size, b.Index, cert); err != nil {
		return fmt.Errorf("%w: %w", ErrBundle, err)
	}
	return nil
}

// FindBatch returns the epoch of the log whose batch the ledger knows as
// batchID (found false: this log submitted no such batch).
func (w *WAL) FindBatch(batchID string) (epoch int64, found bool, err error) {
	epochs, err := w.Epochs()
	if err != nil {
		return 0, false, err
	}
	for _, e := range epochs {
		s, err := w.ReadState(e)
		if err != nil {
			return 0, false, err
		}
		if s != nil && s.BatchID == batchID {
			return e, true, nil
		}
	}
	return 0, false, nil
}

// NewBundle builds the bundle of leaf index of the ledger's batch b from
// the log, with the gateway's certificate (PEM). The log's tree must have
// the ledger's root and size: a log that differs is an error, not a
// bundle that cannot verify.
func NewBundle(w *WAL, b *records.Batch, index int64, gatewayCertPEM string) (*Bundle, error) {
	epoch, found, err := w.FindBatch(b.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: batch %s is not in this gateway's receipt log", ErrNotInLog, b.ID)
	}
	if index < 0 || index >= b.Size {
		return nil, fmt.Errorf("%w: leaf %d is outside batch %s of %d receipts", ErrNotInLog, index, b.ID, b.Size)
	}
	built, err := BuildBatch(w, epoch)
	if err != nil {
		return nil, err
	}
	if built == nil || built.Root != b.Root || built.Size() != b.Size {
		return nil, fmt.Errorf("%w: the log's epoch %d does not rebuild batch %s (root %s, %d receipts)", ErrBundle, epoch, b.ID, b.Root, b.Size)
	}
	sr, err := built.Sealed(index)
	if err != nil {
		return nil, err
	}
	proof, err := built.Tree.Proof(uint64(index))
	if err != nil {
		return nil, err
	}
	return &Bundle{
		BatchID: b.ID, GatewayMSP: b.GatewayMSP, Epoch: b.Epoch, Status: b.Status, Root: b.Root, Size: b.Size,
		Index: index, SealedReceipt: *sr, Proof: proof, GatewayCert: gatewayCertPEM,
	}, nil
}

// ErrNotInLog: the batch or leaf asked for is not in this gateway's log
// (another gateway committed it, or the index is out of range).
var ErrNotInLog = errors.New("not in this receipt log")
