package receipts

import (
	"crypto/sha256"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

var hasher = rfc6962.DefaultHasher

// Tree is an RFC 6962 Merkle tree kept whole in memory: every perfect
// subtree's hash, level by level (32 bytes each, flat), so that inclusion
// proofs are read off it.
type Tree struct {
	levels [][]byte // levels[l] holds the hashes of the perfect nodes of level l
	size   uint64
}

// NewTree builds the tree over leaf hashes (32 bytes each, flat).
func NewTree(leafHashes []byte) *Tree {
	t := &Tree{levels: [][]byte{leafHashes}, size: uint64(len(leafHashes) / sha256.Size)}
	buf := make([]byte, 1+2*sha256.Size)
	buf[0] = rfc6962.RFC6962NodeHashPrefix
	for lv := leafHashes; len(lv) >= 2*sha256.Size; {
		n := len(lv) / (2 * sha256.Size)
		up := make([]byte, n*sha256.Size)
		for i := range n {
			copy(buf[1:], lv[2*i*sha256.Size:(2*i+2)*sha256.Size])
			s := sha256.Sum256(buf)
			copy(up[i*sha256.Size:], s[:])
		}
		t.levels = append(t.levels, up)
		lv = up
	}
	return t
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 { return t.size }

func (t *Tree) node(id compact.NodeID) []byte {
	if int(id.Level) >= len(t.levels) {
		return nil
	}
	lv := t.levels[id.Level]
	if (id.Index+1)*sha256.Size > uint64(len(lv)) {
		return nil
	}
	return lv[id.Index*sha256.Size : (id.Index+1)*sha256.Size]
}

// Root is the tree's root hash (RFC 6962; the hash of the empty string for
// no leaves).
func (t *Tree) Root() ([]byte, error) {
	if t.size == 0 {
		return hasher.EmptyRoot(), nil
	}
	ids := compact.RangeNodes(0, t.size, nil)
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		if hashes[i] = t.node(id); hashes[i] == nil {
			return nil, fmt.Errorf("receipts: tree lacks node %v", id)
		}
	}
	f := compact.RangeFactory{Hash: hasher.HashChildren}
	r, err := f.NewRange(0, t.size, hashes)
	if err != nil {
		return nil, err
	}
	return r.GetRootHash(nil)
}

// Proof is the inclusion proof of leaf index.
func (t *Tree) Proof(index uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, t.size)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h := t.node(id)
		if h == nil {
			return nil, fmt.Errorf("receipts: tree lacks node %v", id)
		}
		hashes[i] = append([]byte(nil), h...)
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}
