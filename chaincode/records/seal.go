package records

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strconv"
)

// Receipts are signed in groups, not one by one. A gateway writes its
// receipts to a log in group commits (at most MaxGroupReceipts each); for
// every group it signs one Seal over the RFC 6962 root of the group's
// receipts (leaf data: Receipt.LeafData, in log order), and a receipt
// counts only once its group's seal is durable. A receipt is the
// gateway's when it is in a group (its inclusion proof against the seal's
// root) whose seal the gateway's key signed: SealedReceipt.Verify.

// Limits of a group commit.
const (
	// MaxGroupReceipts bounds the receipts one seal covers.
	MaxGroupReceipts = 4096
	// MaxGroupProofLength is the longest inclusion proof in a group
	// (log2 MaxGroupReceipts).
	MaxGroupProofLength = 12
	// maxSealSignature bounds a seal's signature (an ECDSA P-521 ASN.1
	// signature is at most 139 bytes).
	maxSealSignature = 256
)

// sealDomain starts every seal's signed bytes, so that a seal signature
// can never be taken for the signature of anything else the gateway's
// key signs (Fabric proposals and transactions are protobuf).
const sealDomain = "dct/receipt-seal/v1\n"

// Seal is a gateway's signature over one group commit of its receipt log.
type Seal struct {
	// GatewayMSP and Gateway name the gateway (its organisation and
	// certificate hash); every receipt of the group names it too.
	GatewayMSP string `json:"gatewayMsp"`
	Gateway    string `json:"gateway"`
	// Epoch is the epoch of every receipt of the group.
	Epoch int64 `json:"epoch"`
	// Group is the group's sequence number in the gateway's log of the
	// epoch (0, 1, …).
	Group int64 `json:"group"`
	// Root is the RFC 6962 Merkle root (hex) over the group's receipts'
	// LeafData, in log order; Size the number of receipts.
	Root string `json:"root"`
	Size int64  `json:"size"`
	// Signature is the gateway's signature over SigningBytes: ECDSA
	// (ASN.1) over their SHA-256, or Ed25519 over the bytes.
	Signature []byte `json:"signature,omitempty"`
}

// String names the seal.
func (s *Seal) String() string {
	return "seal " + strconv.FormatInt(s.Epoch, 10) + "/" + strconv.FormatInt(s.Group, 10) + " of gateway " + s.GatewayMSP + "/" + s.Gateway
}

// Validate checks every field; the signature only for its length.
func (s *Seal) Validate() error {
	if s == nil {
		return invalidf("seal is missing")
	}
	if err := ValidateMSPID("gatewayMsp", s.GatewayMSP); err != nil {
		return err
	}
	if err := validateSHA256Hex("gateway", s.Gateway); err != nil {
		return err
	}
	if s.Epoch < 0 || s.Group < 0 {
		return invalidf("seal epoch and group must not be negative, got %d and %d", s.Epoch, s.Group)
	}
	if err := validateSHA256Hex("seal root", s.Root); err != nil {
		return err
	}
	if s.Size < 1 || s.Size > MaxGroupReceipts {
		return invalidf("a seal covers 1..%d receipts, got %d", MaxGroupReceipts, s.Size)
	}
	if len(s.Signature) > maxSealSignature {
		return invalidf("seal signature of %d bytes, at most %d", len(s.Signature), maxSealSignature)
	}
	return nil
}

// SigningBytes is what the gateway signs: a domain prefix, then the
// seal's canonical JSON without the signature.
func (s *Seal) SigningBytes() []byte {
	c := *s
	c.Signature = nil
	b, _ := json.Marshal(&c) // fixed field order; cannot fail
	return append([]byte(sealDomain), b...)
}

// SealDigest is the SHA-256 of the seal's SigningBytes: what an ECDSA key
// signs.
func (s *Seal) SealDigest() []byte {
	d := sha256.Sum256(s.SigningBytes())
	return d[:]
}

// VerifySealSignature checks s.Signature over s.SigningBytes() with the
// public key of cert: ECDSA (ASN.1, over SHA-256) or Ed25519.
func VerifySealSignature(cert *x509.Certificate, s *Seal) error {
	if cert == nil {
		return invalidf("no gateway certificate to check the seal with")
	}
	if len(s.Signature) == 0 {
		return invalidf("the seal is not signed")
	}
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(pub, s.SealDigest(), s.Signature) {
			return nil
		}
	case ed25519.PublicKey:
		if ed25519.Verify(pub, s.SigningBytes(), s.Signature) {
			return nil
		}
	default:
		return invalidf("the gateway's certificate has a %T key, not ECDSA or Ed25519", pub)
	}
	return invalidf("the seal's signature is not the committing gateway's")
}

// SealedReceipt is a receipt with what proves that its gateway issued it:
// the seal of the group commit that logged it, its index in the group and
// its inclusion proof against the seal's root.
type SealedReceipt struct {
	Receipt    Receipt  `json:"receipt"`
	Seal       Seal     `json:"seal"`
	GroupIndex int64    `json:"groupIndex"`
	GroupProof [][]byte `json:"groupProof"`
}

// CheckGroup checks everything but the seal's signature: the receipt and
// the seal are well formed, the seal names the receipt's gateway and
// epoch, and the receipt is leaf GroupIndex of the seal's group.
func (sr *SealedReceipt) CheckGroup() error {
	r, s := &sr.Receipt, &sr.Seal
	if err := r.Validate(); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.GatewayMSP != r.GatewayMSP || s.Gateway != r.Gateway || s.Epoch != r.Epoch {
		return invalidf("%s does not name the receipt's gateway %s/%s and epoch %d", s, r.GatewayMSP, r.Gateway, r.Epoch)
	}
	if len(sr.GroupProof) > MaxGroupProofLength {
		return invalidf("group proof of %d hashes, at most %d", len(sr.GroupProof), MaxGroupProofLength)
	}
	if err := VerifyInclusion(LeafHash(r.LeafData()), sr.GroupIndex, s.Size, sr.GroupProof, s.Root); err != nil {
		return invalidf("the receipt is not in the group of its %s: %s", s, messageOf(err))
	}
	return nil
}

func messageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// Verify checks that the gateway whose certificate is cert issued the
// receipt: CheckGroup, the certificate is the one the seal names, and the
// seal's signature is its key's.
func (sr *SealedReceipt) Verify(cert *x509.Certificate) error {
	if err := sr.CheckGroup(); err != nil {
		return err
	}
	if cert == nil {
		return invalidf("no gateway certificate to check the seal with")
	}
	if h := CertHash(cert); h != sr.Seal.Gateway {
		return invalidf("%s names certificate %s, not %s", &sr.Seal, sr.Seal.Gateway, h)
	}
	return VerifySealSignature(cert, &sr.Seal)
}
