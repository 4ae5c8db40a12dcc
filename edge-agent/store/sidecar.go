package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Sidecar format, version 1 (integers big-endian):
//
//	magic      8 bytes  "DCTBLK\x00\x01"
//	block size 4 bytes  MinBlockSize..MaxBlockSize, a power of two
//	shard size 8 bytes  0..MaxShardSize
//	shard hash 32 bytes SHA-256 of the whole shard
//	blocks     32 bytes per block: SHA-256 of each block, ceil(size/block size)
//	checksum   32 bytes SHA-256 of everything above
const (
	sidecarMagic  = "DCTBLK\x00\x01"
	sidecarHeader = 8 + 4 + 8 + sha256.Size
	sidecarMin    = sidecarHeader + sha256.Size

	// MinBlockSize and MaxBlockSize bound the verification block size.
	MinBlockSize = 512
	MaxBlockSize = 16 << 20
	// DefaultBlockSize is the verification block size of new shards.
	DefaultBlockSize = 64 << 10
	// MaxShardSize is the largest shard the store accepts (256 TiB).
	MaxShardSize = 1 << 48
)

// Sidecar holds the hashes a shard is verified against.
type Sidecar struct {
	BlockSize int
	Size      int64
	Hash      [sha256.Size]byte
	// blocks is the concatenated SHA-256 of every block.
	blocks []byte
}

// Blocks is the number of blocks of the shard.
func (sc *Sidecar) Blocks() int64 { return blockCount(sc.Size, sc.BlockSize) }

// BlockHash returns the SHA-256 of block i.
func (sc *Sidecar) BlockHash(i int64) []byte {
	return sc.blocks[i*sha256.Size : (i+1)*sha256.Size]
}

func blockCount(size int64, blockSize int) int64 {
	return (size + int64(blockSize) - 1) / int64(blockSize)
}

func validBlockSize(n int) bool {
	return n >= MinBlockSize && n <= MaxBlockSize && n&(n-1) == 0
}

// MarshalBinary encodes the sidecar.
func (sc *Sidecar) MarshalBinary() ([]byte, error) {
	if !validBlockSize(sc.BlockSize) || sc.Size < 0 || sc.Size > MaxShardSize ||
		int64(len(sc.blocks)) != sc.Blocks()*sha256.Size {
		return nil, fmt.Errorf("%w: inconsistent sidecar", ErrInvalid)
	}
	b := make([]byte, 0, sidecarMin+len(sc.blocks))
	b = append(b, sidecarMagic...)
	b = binary.BigEndian.AppendUint32(b, uint32(sc.BlockSize))
	b = binary.BigEndian.AppendUint64(b, uint64(sc.Size))
	b = append(b, sc.Hash[:]...)
	b = append(b, sc.blocks...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// ParseSidecar decodes and checks an encoded sidecar. It never trusts its
// input: every length is checked against the buffer before use, and the
// checksum must match. The returned sidecar shares b's memory.
func ParseSidecar(b []byte) (*Sidecar, error) {
	bad := func(format string, a ...any) (*Sidecar, error) {
		return nil, fmt.Errorf("%w: sidecar: %s", ErrCorrupt, fmt.Sprintf(format, a...))
	}
	if len(b) < sidecarMin {
		return bad("%d bytes, shorter than the minimum %d", len(b), sidecarMin)
	}
	if !bytes.Equal(b[:8], []byte(sidecarMagic)) {
		return bad("unknown format")
	}
	bs := binary.BigEndian.Uint32(b[8:12])
	if !validBlockSize(int(bs)) {
		return bad("block size %d", bs)
	}
	size := binary.BigEndian.Uint64(b[12:20])
	if size > MaxShardSize {
		return bad("shard size %d", size)
	}
	sc := &Sidecar{BlockSize: int(bs), Size: int64(size)}
	want := int64(sidecarMin) + sc.Blocks()*sha256.Size
	if int64(len(b)) != want {
		return bad("%d bytes, want %d for %d blocks", len(b), want, sc.Blocks())
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return bad("checksum mismatch")
	}
	copy(sc.Hash[:], b[20:sidecarHeader])
	sc.blocks = body[sidecarHeader:]
	return sc, nil
}
