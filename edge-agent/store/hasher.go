package store

import (
	"crypto/sha256"
	"hash"
)

// blockHasher computes a shard's whole hash and its block hashes in one
// pass over its bytes.
type blockHasher struct {
	blockSize int
	whole     hash.Hash
	block     hash.Hash
	inBlock   int
	size      int64
	blocks    []byte
}

func newBlockHasher(blockSize int, sizeHint int64) *blockHasher {
	h := &blockHasher{blockSize: blockSize, whole: sha256.New(), block: sha256.New()}
	if sizeHint > 0 && sizeHint <= MaxShardSize {
		h.blocks = make([]byte, 0, blockCount(sizeHint, blockSize)*sha256.Size)
	}
	return h
}

// Write never fails.
func (h *blockHasher) Write(p []byte) (int, error) {
	n := len(p)
	h.whole.Write(p)
	h.size += int64(n)
	for len(p) > 0 {
		k := min(len(p), h.blockSize-h.inBlock)
		h.block.Write(p[:k])
		h.inBlock += k
		p = p[k:]
		if h.inBlock == h.blockSize {
			h.endBlock()
		}
	}
	return n, nil
}

func (h *blockHasher) endBlock() {
	h.blocks = h.block.Sum(h.blocks)
	h.block.Reset()
	h.inBlock = 0
}

// sidecar closes the last partial block and returns the shard's sidecar.
// The hasher must not be written to afterwards.
func (h *blockHasher) sidecar() *Sidecar {
	if h.inBlock > 0 {
		h.endBlock()
	}
	sc := &Sidecar{BlockSize: h.blockSize, Size: h.size, blocks: h.blocks}
	h.whole.Sum(sc.Hash[:0])
	return sc
}
