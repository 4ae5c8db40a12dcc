package content

import (
	"context"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/receipts"
)

// Receipts issues proof-of-delivery receipts (*receipts.Issuer): Issue is
// called once per shard a node delivered and the gateway verified, on the
// read path, so it must be cheap (it does not wait for the disk).
type Receipts interface {
	Issue(ctx context.Context, d receipts.Delivery) (*records.Receipt, error)
}

type requestIDKey struct{}

// WithRequestID names the end-user request a read serves: its receipts
// carry the id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id WithRequestID set ("" if none).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Ledger is what the service needs of the DCT chaincode (*ledger.Client).
type Ledger interface {
	MSPID() string
	Object(ctx context.Context, name string) (*records.Object, error)
	GetManifest(ctx context.Context, name, version string) (*records.Manifest, error)
	LatestManifest(ctx context.Context, name string) (*records.Manifest, error)
	ManifestVersions(ctx context.Context, name string) ([]*records.Manifest, error)
	RecordManifest(ctx context.Context, m *records.Manifest) (*records.Manifest, error)
	PurgeManifest(ctx context.Context, name, version, reason string) (*records.Manifest, error)
	// PurgeBy purges by surrogate key or soft-purges by name
	// (manifest:PurgeBy).
	PurgeBy(ctx context.Context, req records.PurgeRequest) (*records.PurgeRecord, error)
	// UpdateShardHolders replaces shard index's holders if they still are
	// expected (compare-and-set; a lost race is records.ErrConflict or
	// ledger.ErrConflict).
	UpdateShardHolders(ctx context.Context, name, version string, index int, expected, holders []string) (*records.Manifest, error)
	ListObjects(ctx context.Context) ([]*records.Object, error)
	ListNodes(ctx context.Context) ([]*records.Node, error)
}

// Agents resolves a registered node to a client of its edge agent (an
// error wraps ErrAgentUnavailable).
type Agents interface {
	Agent(node *records.Node) (Agent, error)
}

// Agent is one edge agent's shard service. Its errors wrap the agent
// errors of this package: ErrShardNotFound, ErrShardCorrupt (the agent
// found its copy rotten), ErrAgentFull, ErrAgentRefused and
// ErrAgentUnavailable.
type Agent interface {
	// PutShard opens an upload of a shard of the given size, for object,
	// whose hash is known only at the end. The agent lets this gateway
	// withdraw the shard for a while as long as no version of object
	// names it.
	PutShard(ctx context.Context, object string, size int64) (ShardWriter, error)
	// GetShard reads n > 0 bytes at off of the shard with the given hash.
	// It never returns more than n bytes: an agent that sends more fails
	// the call with ErrShardCorrupt.
	GetShard(ctx context.Context, hash string, off, n int64) ([]byte, error)
	// DeleteShard asks the agent to delete the shard ref names. The agent
	// deletes it only when the ledger lets it go from its node (the
	// version is purged, or the node is no longer a holder) or, for a
	// shard no manifest names, when this gateway uploaded it recently;
	// otherwise the error wraps ErrAgentRefused.
	DeleteShard(ctx context.Context, ref ShardRef) error
	// Free reports the agent's free capacity in bytes.
	Free(ctx context.Context) (int64, error)
}

// ShardReaderInto is an Agent that can read a shard range into a buffer
// the caller lends: GetShardInto is GetShard using dst's array when it
// holds n bytes. The service lends pooled buffers and reuses them once the
// bytes are decoded.
type ShardReaderInto interface {
	GetShardInto(ctx context.Context, hash string, off, n int64, dst []byte) ([]byte, error)
}

// ShardRef names a shard for DeleteShard: its hash and the manifest shard
// it is, object Name, Version and Index. Version is empty for the shards
// of a publish that failed before it tried to record a version.
type ShardRef struct {
	Hash    string
	Name    string
	Version string
	Index   int
}

// ShardWriter streams one shard to an agent.
type ShardWriter interface {
	Write(p []byte) error
	// Commit declares the shard's SHA-256 (hex); the agent stores the shard
	// only if the bytes match.
	Commit(hash string) error
	// Abort drops the upload; the agent keeps nothing.
	Abort()
}

// Auctioneer awards the shard contracts of a publish: it opens the
// ledger's auction for in, waits for the reveals and clears it
// (bids.RunAuction). A failed auction is returned with its Failure.
type Auctioneer interface {
	Award(ctx context.Context, in records.AuctionInput) (*records.Auction, error)
}

// AuctionTerms are what a gateway asks in the auction of every publish
// (records.AuctionInput's fields but the object's): contract term,
// allowed zones (none: any), minimum bandwidth, maximum prices, where the
// content is requested (HasLocation), reveal window (0: the chaincode's
// default).
type AuctionTerms struct {
	TermSeconds                             int64
	Zones                                   []string
	MinBandwidthBps                         int64
	MaxStoragePerGBMonth, MaxDeliveryPerMiB int64
	HasLocation                             bool
	Latitude, Longitude                     float64
	RevealSeconds                           int
	// SLAFloor is the contracts' floor (0: records.DefaultSLAFloor).
	SLAFloor int64
}

// Validate checks the terms as the chaincode would an auction of them.
func (t AuctionTerms) Validate() error {
	in := records.AuctionInput{Object: "x", Shards: 2, K: 2, ShardSize: 1, TermSeconds: t.TermSeconds, Zones: t.Zones,
		MinBandwidthBps: t.MinBandwidthBps, MaxStoragePerGBMonth: t.MaxStoragePerGBMonth, MaxDeliveryPerMiB: t.MaxDeliveryPerMiB,
		HasLocation: t.HasLocation, Latitude: t.Latitude, Longitude: t.Longitude, RevealSeconds: t.RevealSeconds, SLAFloor: t.SLAFloor}
	if !t.HasLocation {
		in.Latitude, in.Longitude = 0, 0
	}
	return in.Validate()
}

// String summarises the terms.
func (t AuctionTerms) String() string {
	return fmt.Sprintf("term %ds, zones %v, ≥ %d bps, ≤ %d/GB-month, ≤ %d/MiB", t.TermSeconds, t.Zones, t.MinBandwidthBps, t.MaxStoragePerGBMonth, t.MaxDeliveryPerMiB)
}
