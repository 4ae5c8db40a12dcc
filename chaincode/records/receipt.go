package records

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
)

// Proof of delivery. A gateway that received shard bytes from an edge node
// and verified them issues a Receipt and logs it; receipts are signed in
// group commits, one Seal per group (seal.go), not one by one. Per epoch
// it commits the receipts as one Batch: the root of an RFC 6962 Merkle
// tree over the receipts (leaf data: Receipt.LeafData), the leaf count and
// per-node totals. The chaincode checks a sample of leaves, chosen from
// the transaction id (SampleIndices), with their inclusion proofs in the
// batch (VerifyInclusion) and their seals and inclusion proofs in their
// groups (SealedReceipt), before anything is paid.

// Limits of receipts and batches.
const (
	MaxBatchLeaves   = 1 << 32 // receipts in one batch
	MaxBatchNodes    = 4096    // nodes with totals in one batch
	MaxSampledLeaves = 64      // leaves the chaincode checks in one batch
	MaxProofLength   = 64      // hashes in one inclusion proof
	maxRequestID     = 64
)

var (
	serialRe    = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// Receipt is one verified delivery of shard bytes by a node, issued by a
// gateway for an end-user request. It carries no personal data: the
// request is the gateway's request id.
type Receipt struct {
	// Serial is unique among the gateway's receipts (the same serial is
	// never paid twice).
	Serial string `json:"serial"`
	// GatewayMSP and Gateway name the issuing gateway: its organisation
	// and its certificate hash (CertHash).
	GatewayMSP string `json:"gatewayMsp"`
	Gateway    string `json:"gateway"`
	// Epoch is the batching period the receipt belongs to.
	Epoch int64 `json:"epoch"`
	// Object, Version, Shard and ShardHash name the shard the bytes came
	// from; Node the node that delivered them.
	Object    string `json:"object"`
	Version   string `json:"version"`
	Shard     int    `json:"shard"`
	ShardHash string `json:"shardHash"`
	Node      string `json:"node"`
	// Offset and Bytes are the byte range of the shard delivered.
	Offset int64 `json:"offset"`
	Bytes  int64 `json:"bytes"`
	// Request is the id of the end-user request the bytes served.
	Request string `json:"request"`
}

// String names the receipt.
func (r *Receipt) String() string {
	return r.Serial + " (" + r.Node + ", " + r.Object + "@" + r.Version + ")"
}

// Validate checks every field.
func (r *Receipt) Validate() error {
	if r == nil {
		return invalidf("receipt is missing")
	}
	if !serialRe.MatchString(r.Serial) {
		return invalidf("receipt serial %s must match %s", quote(r.Serial), serialRe)
	}
	if err := ValidateMSPID("gatewayMsp", r.GatewayMSP); err != nil {
		return err
	}
	if err := validateSHA256Hex("gateway", r.Gateway); err != nil {
		return err
	}
	if r.Epoch < 0 {
		return invalidf("epoch must not be negative, got %d", r.Epoch)
	}
	if err := ValidateObjectName(r.Object); err != nil {
		return err
	}
	if err := ValidateVersion(r.Version); err != nil {
		return err
	}
	if r.Shard < 0 || r.Shard >= MaxShards {
		return invalidf("shard must be in 0..%d, got %d", MaxShards-1, r.Shard)
	}
	if err := validateSHA256Hex("shardHash", r.ShardHash); err != nil {
		return err
	}
	if err := ValidateNodeID(r.Node); err != nil {
		return err
	}
	if r.Offset < 0 || r.Bytes <= 0 || r.Offset+r.Bytes > MaxShardBytes {
		return invalidf("byte range %d+%d is outside a shard", r.Offset, r.Bytes)
	}
	if !requestIDRe.MatchString(r.Request) {
		return invalidf("request id %s must match %s", quote(r.Request), requestIDRe)
	}
	return nil
}

// LeafData is the receipt's Merkle leaf, in its group and in its batch:
// its canonical JSON, exactly as encoding/json writes it (fixed field
// order). Receipts whose strings are plain ASCII (all valid ones but
// unusual object names) are written without reflection.
func (r *Receipt) LeafData() []byte {
	if b, ok := r.appendLeafData(make([]byte, 0, 384+len(r.Object)+len(r.Node)+len(r.Request))); ok {
		return b
	}
	b, _ := json.Marshal(r) // cannot fail
	return b
}

// appendLeafData appends the receipt's JSON to b, unless a string needs
// escaping (false).
func (r *Receipt) appendLeafData(b []byte) ([]byte, bool) {
	plain := true
	str := func(field, v string) {
		b = append(b, field...)
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				plain = false
			}
		}
		b = append(append(b, v...), '"')
	}
	num := func(field string, v int64) {
		b = strconv.AppendInt(append(b, field...), v, 10)
	}
	str(`{"serial":"`, r.Serial)
	str(`,"gatewayMsp":"`, r.GatewayMSP)
	str(`,"gateway":"`, r.Gateway)
	num(`,"epoch":`, r.Epoch)
	str(`,"object":"`, r.Object)
	str(`,"version":"`, r.Version)
	num(`,"shard":`, int64(r.Shard))
	str(`,"shardHash":"`, r.ShardHash)
	str(`,"node":"`, r.Node)
	num(`,"offset":`, r.Offset)
	num(`,"bytes":`, r.Bytes)
	str(`,"request":"`, r.Request)
	return append(b, '}'), plain
}

// NodeTotal is what one node delivered in a batch of one publisher
// organisation's content (the organisation whose escrow pays for it).
type NodeTotal struct {
	Node      string `json:"node"`
	Publisher string `json:"publisher"`
	Receipts  int64  `json:"receipts"`
	Bytes     int64  `json:"bytes"`
}

// SampledLeaf is leaf Index of a batch: the receipt with its seal and
// group proof (SealedReceipt, whose fields it has in its JSON) and its
// inclusion proof in the batch. The chaincode checks the leaves
// SampleIndices picks.
type SampledLeaf struct {
	Index int64 `json:"index"`
	SealedReceipt
	Proof [][]byte `json:"proof"`
}

// BatchInput is what a gateway submits for one epoch.
type BatchInput struct {
	Epoch int64 `json:"epoch"`
	// Root is the RFC 6962 Merkle root (hex) over the receipts' LeafData,
	// in the order the gateway logged them; Size the number of receipts.
	Root string `json:"root"`
	Size int64  `json:"size"`
	// Totals are the sums of the receipts per node and publisher
	// organisation, sorted by node, then publisher.
	Totals []NodeTotal `json:"totals"`
	// Samples are the leaves SampleIndices(txID, Size) picks, in that
	// order, with their inclusion proofs.
	Samples []SampledLeaf `json:"samples"`
}

// Validate checks the batch's shape (not its proofs).
func (b *BatchInput) Validate() error {
	if b == nil {
		return invalidf("batch is missing")
	}
	if b.Epoch < 0 {
		return invalidf("epoch must not be negative, got %d", b.Epoch)
	}
	if err := validateSHA256Hex("root", b.Root); err != nil {
		return err
	}
	if b.Size < 1 || b.Size > MaxBatchLeaves {
		return invalidf("size must be in 1..%d, got %d", int64(MaxBatchLeaves), b.Size)
	}
	if len(b.Totals) == 0 || len(b.Totals) > MaxBatchNodes {
		return invalidf("totals must list 1..%d nodes, got %d", MaxBatchNodes, len(b.Totals))
	}
	var receipts int64
	for i, t := range b.Totals {
		if err := ValidateNodeID(t.Node); err != nil {
			return err
		}
		if err := ValidateMSPID("publisher", t.Publisher); err != nil {
			return err
		}
		if i > 0 {
			p := b.Totals[i-1]
			if p.Node > t.Node || p.Node == t.Node && p.Publisher >= t.Publisher {
				return invalidf("totals must be sorted by node and publisher without repeats (%s/%s after %s/%s)", t.Node, t.Publisher, p.Node, p.Publisher)
			}
		}
		if t.Receipts < 1 || t.Bytes < 1 {
			return invalidf("totals of %s must count at least one receipt and one byte", t.Node)
		}
		receipts += t.Receipts
	}
	if receipts != b.Size {
		return invalidf("totals count %d receipts, the batch has %d", receipts, b.Size)
	}
	if len(b.Samples) > MaxSampledLeaves {
		return invalidf("at most %d samples, got %d", MaxSampledLeaves, len(b.Samples))
	}
	for _, s := range b.Samples {
		if err := s.checkLengths(); err != nil {
			return err
		}
	}
	return nil
}

// checkLengths bounds the proofs of a sampled leaf.
func (l *SampledLeaf) checkLengths() error {
	if len(l.Proof) > MaxProofLength {
		return invalidf("proof of leaf %d has %d hashes, at most %d", l.Index, len(l.Proof), MaxProofLength)
	}
	if len(l.GroupProof) > MaxGroupProofLength {
		return invalidf("group proof of leaf %d has %d hashes, at most %d", l.Index, len(l.GroupProof), MaxGroupProofLength)
	}
	return nil
}

// Samples returns how many leaves of a batch of size the chaincode checks:
// 16 + log2(size), at most every leaf and at most MaxSampledLeaves.
func Samples(size int64) int {
	if size <= 16 {
		return int(size)
	}
	n := int64(16)
	for s := size; s > 1; s >>= 1 {
		n++
	}
	return int(min(n, size, MaxSampledLeaves))
}

// SampleIndices picks the leaves of a batch of size the chaincode checks,
// from the transaction id: SHA-256(txID || i) mod size for i = 0, 1, …,
// Samples(size) distinct indices. The submitter learns the transaction id
// only when it builds the proposal; but a Fabric transaction id is
// SHA-256(nonce || creator) with a nonce the client picks, so a dishonest
// submitter can try nonces offline (a hash each) until the sample suits
// it. Sampling deters; the bounds that hold regardless are the node
// capacity and publisher budget caps (see the README's threat model).
func SampleIndices(txID string, size int64) []int64 {
	n := Samples(size)
	out := make([]int64, 0, n)
	seen := make(map[int64]bool, n)
	var ctr [8]byte
	for i := uint64(0); len(out) < n; i++ {
		binary.BigEndian.PutUint64(ctr[:], i)
		h := sha256.Sum256(append([]byte(txID), ctr[:]...))
		idx := int64(binary.BigEndian.Uint64(h[:8]) % uint64(size))
		if !seen[idx] {
			seen[idx] = true
			out = append(out, idx)
		}
	}
	return out
}

// RFC 6962 Merkle tree hashing (as github.com/transparency-dev/merkle's
// rfc6962 hasher): leaves are SHA-256(0x00 || data), interior nodes
// SHA-256(0x01 || left || right).

// LeafHash is the Merkle hash of a leaf's data.
func LeafHash(data []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

func nodeHash(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// VerifyInclusion checks the inclusion proof of the leaf with hash
// leafHash at index in a tree of size leaves whose root is rootHex (RFC
// 9162 section 2.1.3.2).
func VerifyInclusion(leafHash []byte, index, size int64, proof [][]byte, rootHex string) error {
	if index < 0 || index >= size {
		return invalidf("leaf index %d is outside a tree of %d", index, size)
	}
	root, err := hex.DecodeString(rootHex)
	if err != nil || len(root) != sha256.Size {
		return invalidf("root %s is not a SHA-256 hash", quote(rootHex))
	}
	fn, sn := uint64(index), uint64(size-1)
	r := leafHash
	for _, p := range proof {
		if len(p) != sha256.Size {
			return invalidf("proof of leaf %d has a hash of %d bytes", index, len(p))
		}
		if sn == 0 {
			return invalidf("proof of leaf %d is too long for a tree of %d", index, size)
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || !bytes.Equal(r, root) {
		return invalidf("leaf %d is not in the tree with root %s", index, rootHex)
	}
	return nil
}
