package codec

import (
	"encoding/base64"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
)

// BuildManifest returns the manifest of an encoded object. placement[i]
// lists the ids of the nodes holding shard i. The chaincode sets Publisher,
// CreatedAt and TxID.
func BuildManifest(name, version, contentType string, l Layout, res *Result, keyID string, salt []byte, placement [][]string) *records.Manifest {
	m := &records.Manifest{
		Name: name, Version: version, Size: l.Size, ContentType: contentType,
		SHA256: res.SHA256Hex(), Integrity: res.Integrity(),
		K: l.K, M: l.M, StripeUnit: l.Unit,
		Encryption: records.Encryption{
			Scheme: Scheme, ChunkSize: l.ChunkSize, KeyID: keyID,
			Salt: base64.StdEncoding.EncodeToString(salt),
		},
	}
	for i := 0; i < l.K+l.M; i++ {
		var nodes []string
		if i < len(placement) {
			nodes = append(nodes, placement[i]...)
		}
		m.Shards = append(m.Shards, records.Shard{Index: i, Hash: res.ShardHashHex(i), Size: l.ShardSize(), Nodes: nodes})
	}
	return m
}

// LayoutFromManifest recovers an object's layout from its manifest (whose
// StripeUnit is the layout's Unit) and checks that the manifest is
// consistent with it: the scheme is this codec's and every shard is
// ShardSize bytes.
func LayoutFromManifest(m *records.Manifest) (Layout, error) {
	if m == nil {
		return Layout{}, fmt.Errorf("%w: no manifest", ErrInvalid)
	}
	if m.Encryption.Scheme != Scheme {
		return Layout{}, fmt.Errorf("%w: encryption scheme %q, this codec reads %q", ErrInvalid, m.Encryption.Scheme, Scheme)
	}
	l := Layout{Size: m.Size, K: m.K, M: m.M, ChunkSize: m.Encryption.ChunkSize, Unit: m.StripeUnit}
	if err := l.Validate(); err != nil {
		return Layout{}, err
	}
	if len(m.Shards) != l.K+l.M {
		return Layout{}, fmt.Errorf("%w: %d shards listed, want %d", ErrInvalid, len(m.Shards), l.K+l.M)
	}
	for i, s := range m.Shards {
		if s.Index != i || s.Size != l.ShardSize() {
			return Layout{}, fmt.Errorf("%w: shard %d (index %d, %d bytes) does not fit %s", ErrInvalid, i, s.Index, s.Size, l)
		}
		if _, err := ParseHash(s.Hash); err != nil {
			return Layout{}, fmt.Errorf("shard %d: %w", i, err)
		}
	}
	return l, nil
}

// ManifestHashes returns the shard hashes a manifest lists.
func ManifestHashes(m *records.Manifest) ([]Hash, error) {
	out := make([]Hash, len(m.Shards))
	for i, s := range m.Shards {
		h, err := ParseHash(s.Hash)
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", i, err)
		}
		out[i] = h
	}
	return out, nil
}
