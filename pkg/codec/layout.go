package codec

import (
	"fmt"
)

const (
	// TagSize is the authentication tag added to every chunk.
	TagSize = 16
	// UnitAlign is the granularity of a stripe unit.
	UnitAlign = 64
	// MinUnit is the smallest allowed maximum unit.
	MinUnit = UnitAlign
	// DefaultChunkSize is the default plaintext size of one sealed chunk.
	DefaultChunkSize = 64 << 10
	// DefaultMaxUnit is the default largest stripe unit.
	DefaultMaxUnit = 256 << 10
	// MaxChunkSize bounds ChunkSize (a sealed chunk is decrypted in memory).
	MaxChunkSize = 16 << 20
	// MaxUnitLimit bounds Unit.
	MaxUnitLimit = 64 << 20
	// MaxShards is the most shards (k+m) of one object.
	MaxShards = 256
)

// Redundancy is a Reed-Solomon scheme: K data shards, M parity shards; any K
// of the K+M shards rebuild the object.
type Redundancy struct {
	K, M int
}

// Validate checks 1 <= K, 0 <= M and K+M <= MaxShards.
func (r Redundancy) Validate() error {
	switch {
	case r.K < 1:
		return fmt.Errorf("%w: k must be at least 1, got %d", ErrInvalid, r.K)
	case r.M < 0:
		return fmt.Errorf("%w: m must not be negative, got %d", ErrInvalid, r.M)
	case r.K+r.M > MaxShards:
		return fmt.Errorf("%w: k+m must be at most %d, got %d", ErrInvalid, MaxShards, r.K+r.M)
	}
	return nil
}

// Total is K+M.
func (r Redundancy) Total() int { return r.K + r.M }

// String renders "RS(k=4,m=2)".
func (r Redundancy) String() string { return fmt.Sprintf("RS(k=%d,m=%d)", r.K, r.M) }

// Layout fixes how an object's bytes map to chunks, stripes and shards.
type Layout struct {
	// Size is the plaintext size in bytes.
	Size int64
	// K and M are the data and parity shard counts.
	K, M int
	// ChunkSize is the plaintext size of one sealed chunk.
	ChunkSize int64
	// Unit is the stripe unit: the number of bytes each shard gets per
	// stripe (the manifest's StripeUnit). A whole shard is ShardSize bytes.
	Unit int64
}

// PlanLayout chooses the layout of an object of size bytes: the fewest
// stripes whose unit is at most maxUnit, with the unit rounded up to
// UnitAlign.
func PlanLayout(size int64, r Redundancy, chunkSize, maxUnit int64) (Layout, error) {
	if err := r.Validate(); err != nil {
		return Layout{}, err
	}
	if size < 0 {
		return Layout{}, fmt.Errorf("%w: size must not be negative, got %d", ErrInvalid, size)
	}
	if chunkSize < 1 || chunkSize > MaxChunkSize {
		return Layout{}, fmt.Errorf("%w: chunk size must be in 1..%d, got %d", ErrInvalid, MaxChunkSize, chunkSize)
	}
	if maxUnit < MinUnit || maxUnit > MaxUnitLimit {
		return Layout{}, fmt.Errorf("%w: max unit must be in %d..%d, got %d", ErrInvalid, MinUnit, MaxUnitLimit, maxUnit)
	}
	l := Layout{Size: size, K: r.K, M: r.M, ChunkSize: chunkSize}
	// As few stripes as maxUnit allows, then the smallest aligned unit
	// that fits the ciphertext in them: padding stays under K*stripes*
	// UnitAlign bytes.
	stripes := ceilDiv(l.CipherSize(), int64(r.K)*maxUnit)
	unit := ceilDiv(l.CipherSize(), int64(r.K)*stripes)
	unit = ceilDiv(unit, UnitAlign) * UnitAlign
	l.Unit = min(unit, maxUnit)
	return l, l.Validate()
}

// Validate checks the layout's fields and that the sizes it implies are
// representable.
func (l Layout) Validate() error {
	if err := l.Redundancy().Validate(); err != nil {
		return err
	}
	switch {
	case l.Size < 0 || l.Size > 1<<50:
		return fmt.Errorf("%w: size %d out of range", ErrInvalid, l.Size)
	case l.ChunkSize < 1 || l.ChunkSize > MaxChunkSize:
		return fmt.Errorf("%w: chunk size must be in 1..%d, got %d", ErrInvalid, MaxChunkSize, l.ChunkSize)
	case l.Unit < 1 || l.Unit > MaxUnitLimit:
		return fmt.Errorf("%w: unit must be in 1..%d, got %d", ErrInvalid, MaxUnitLimit, l.Unit)
	}
	return nil
}

// Redundancy returns the layout's K and M.
func (l Layout) Redundancy() Redundancy { return Redundancy{K: l.K, M: l.M} }

// Chunks is the number of sealed chunks (at least 1).
func (l Layout) Chunks() int64 { return max(1, ceilDiv(l.Size, l.ChunkSize)) }

// CipherSize is the size of the sealed object.
func (l Layout) CipherSize() int64 { return l.Size + l.Chunks()*TagSize }

// StripeSize is the ciphertext carried by one stripe (K units).
func (l Layout) StripeSize() int64 { return int64(l.K) * l.Unit }

// Stripes is the number of stripes.
func (l Layout) Stripes() int64 { return ceilDiv(l.CipherSize(), l.StripeSize()) }

// ShardSize is the size of every whole shard: Stripes stripe units.
func (l Layout) ShardSize() int64 { return l.Stripes() * l.Unit }

// StoredSize is the bytes stored for the object over all K+M shards.
func (l Layout) StoredSize() int64 { return l.ShardSize() * int64(l.K+l.M) }

// String renders the layout for logs.
func (l Layout) String() string {
	return fmt.Sprintf("%d bytes %s chunk=%d unit=%d stripes=%d", l.Size, l.Redundancy(), l.ChunkSize, l.Unit, l.Stripes())
}

// chunkPlain is the plaintext length of chunk c.
func (l Layout) chunkPlain(c int64) int64 {
	return min(l.ChunkSize, l.Size-c*l.ChunkSize)
}

// Plan says which shard bytes a plaintext range needs.
type Plan struct {
	// Off and N are the plaintext range.
	Off, N int64
	// FirstChunk and LastChunk are the sealed chunks covering it.
	FirstChunk, LastChunk int64
	// FirstStripe is the first stripe fetched.
	FirstStripe int64
	// ShardOff and ShardLen are the byte range to read from each shard.
	ShardOff, ShardLen int64
}

// PlanRange plans the read of plaintext [off, off+n). An empty range still
// covers one chunk, so that even an empty object is authenticated.
func (l Layout) PlanRange(off, n int64) (Plan, error) {
	if off < 0 || n < 0 || off > l.Size || n > l.Size-off {
		return Plan{}, fmt.Errorf("%w: range %d+%d outside %d bytes", ErrInvalid, off, n, l.Size)
	}
	p := Plan{Off: off, N: n}
	sealed := l.ChunkSize + TagSize
	p.FirstChunk = min(off/l.ChunkSize, l.Chunks()-1)
	p.LastChunk = p.FirstChunk
	if n > 0 {
		p.LastChunk = (off + n - 1) / l.ChunkSize
	}
	ct0 := p.FirstChunk * sealed
	ct1 := min(l.CipherSize(), (p.LastChunk+1)*sealed)
	stripe := l.StripeSize()
	p.FirstStripe = ct0 / stripe
	last := (ct1 - 1) / stripe
	p.ShardOff = p.FirstStripe * l.Unit
	p.ShardLen = (last - p.FirstStripe + 1) * l.Unit
	return p, nil
}

// Whole reports whether the plan reads every shard completely.
func (p Plan) Whole(l Layout) bool { return p.ShardOff == 0 && p.ShardLen == l.ShardSize() }

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
