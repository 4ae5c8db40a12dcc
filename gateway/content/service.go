package content

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"mime"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/placement"
	"github.com/dct-network/dct/pkg/codec"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
)

// Config tunes the service.
type Config struct {
	// K, M: data and parity shards per object; R: holders per shard.
	K, M, R int
	// ChunkSize and MaxUnit are the codec's chunk size and largest stripe
	// unit (see codec.PlanLayout).
	ChunkSize, MaxUnit int64
	// MasterKeys are the consortium's master keys (each >= 32 bytes) from
	// which the objects' keys derive; they never leave the gateways. The
	// first encrypts new objects; any of them decrypts the objects whose
	// manifest names its key id (codec.KeyID), so a key is rotated by
	// putting the new one first and keeping the old ones for reads.
	MasterKeys [][]byte
	// MaxObjectBytes bounds uploads.
	MaxObjectBytes int64
	// ManifestTTL is how long a looked-up manifest is reused while the
	// ledger's manifest events are not followed (Watch not running, or its
	// stream broken): the polling fallback, within which a new latest
	// version, a purge or new holders propagate.
	ManifestTTL time.Duration
	// ManifestLiveTTL is how long a looked-up manifest is reused while
	// Watch follows the manifest events, which drop it as soon as it
	// changes: a safety net for a lost event (at least ManifestTTL).
	ManifestLiveTTL time.Duration
	// NodesTTL is how long the node list and agents' free space are reused
	// when placing.
	NodesTTL time.Duration
	// CacheBytes is the decoded-object cache budget (0: off);
	// CacheMaxObject the largest object kept whole.
	CacheBytes, CacheMaxObject int64
	// SegmentBytes is the plaintext fetched and decoded at a time when
	// streaming large objects (whole or ranged): with MaxColdReads, it
	// bounds the memory of reads.
	SegmentBytes int64
	// StreamDepth is how many segments of one streamed read are in memory
	// at once: while one is written, the next StreamDepth-1 are fetched
	// and decoded (1: one after another). A read then holds about
	// 2 × StreamDepth × SegmentBytes (shards and plaintext).
	StreamDepth int
	// MaxColdReads bounds the reads that must fetch shards (cache misses)
	// in flight; one more waits up to ColdReadWait for a slot, then fails
	// with ErrOverloaded. Cached reads are not limited.
	MaxColdReads int
	ColdReadWait time.Duration
	// AgentTimeout bounds each agent call.
	AgentTimeout time.Duration
	// PublishRetries bounds version races with other gateways.
	PublishRetries int
	// Hedge enables hedged shard requests: a request unanswered after the
	// p95 of recent fetch latencies (within HedgeMin..HedgeMax; HedgeDefault
	// until there are enough samples) gets a second one elsewhere.
	Hedge                            bool
	HedgeMin, HedgeMax, HedgeDefault time.Duration
}

// DefaultConfig returns the defaults; MasterKeys must still be set.
func DefaultConfig() Config {
	return Config{
		K: 4, M: 2, R: 1,
		ChunkSize: codec.DefaultChunkSize, MaxUnit: codec.DefaultMaxUnit,
		MaxObjectBytes: 1 << 30,
		ManifestTTL:    time.Second, ManifestLiveTTL: time.Minute,
		NodesTTL:   2 * time.Second,
		CacheBytes: 64 << 20, CacheMaxObject: 4 << 20,
		SegmentBytes: 8 << 20, StreamDepth: 1,
		MaxColdReads: 16, ColdReadWait: 500 * time.Millisecond,
		AgentTimeout:   30 * time.Second,
		PublishRetries: 5,
		Hedge:          true,
		HedgeMin:       2 * time.Millisecond, HedgeMax: time.Second, HedgeDefault: 50 * time.Millisecond,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if err := (codec.Redundancy{K: c.K, M: c.M}).Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch {
	case c.K < 2:
		return fmt.Errorf("%w: k must be at least 2 so that no node holds a whole object", ErrInvalid)
	case c.R < 1:
		return fmt.Errorf("%w: r must be at least 1", ErrInvalid)
	case len(c.MasterKeys) == 0:
		return fmt.Errorf("%w: no master key", ErrInvalid)
	case c.ChunkSize <= 0 || c.MaxUnit < codec.MinUnit || c.SegmentBytes <= 0:
		return fmt.Errorf("%w: chunk size, max unit and segment size must be positive", ErrInvalid)
	case c.StreamDepth < 1:
		return fmt.Errorf("%w: stream depth must be at least 1", ErrInvalid)
	case c.MaxObjectBytes <= 0 || c.CacheBytes < 0 || c.CacheMaxObject < 0:
		return fmt.Errorf("%w: size limits must not be negative", ErrInvalid)
	case c.MaxColdReads < 1 || c.ColdReadWait < 0:
		return fmt.Errorf("%w: max cold reads must be positive and the cold-read wait not negative", ErrInvalid)
	case c.AgentTimeout <= 0 || c.PublishRetries < 1:
		return fmt.Errorf("%w: agent timeout and publish retries must be positive", ErrInvalid)
	case c.HedgeMin <= 0 || c.HedgeMax < c.HedgeMin || c.HedgeDefault <= 0:
		return fmt.Errorf("%w: hedge delays must be positive with min <= max", ErrInvalid)
	}
	seen := map[string]int{}
	for i, k := range c.MasterKeys {
		if len(k) < codec.MinMasterKey {
			return fmt.Errorf("%w: master key %d must be at least %d bytes, got %d", ErrInvalid, i+1, codec.MinMasterKey, len(k))
		}
		id := codec.KeyID(k)
		if j, dup := seen[id]; dup {
			return fmt.Errorf("%w: master key %d repeats key %d (key id %s)", ErrInvalid, i+1, j, id)
		}
		seen[id] = i + 1
	}
	return nil
}

// Service publishes and reads objects.
type Service struct {
	cfg       Config
	ledger    Ledger
	agents    Agents
	log       *slog.Logger
	keyID     string                     // the primary master key's id
	keys      map[string]*codec.KeyCache // the object keys of every master key, by its id
	objects   *objectCache
	manifests *manifestCache
	refreshMu sync.Mutex
	refreshes map[string]bool // names whose latest manifest is being refreshed
	nodesMu   sync.Mutex
	nodes     []*records.Node
	nodesAt   time.Time
	lastNodes atomic.Pointer[[]*records.Node] // the last list read, for CachedNode
	free      *ttlCache[int64]
	topo      Topology
	track     *tracker
	repairs   chan<- RepairRequest
	cold      chan struct{} // one token per cold read in flight
	receipts  Receipts
	auction   Auctioneer
	terms     AuctionTerms
	observer  Observer      // SLA observations (nil: none)
	scores    Scores        // SLA scores (nil: every node unscored)
	scoreBand time.Duration // routing band of the scores
	purges    purgeCounters
	metrics   Metrics
}

// Option configures a Service.
type Option func(*Service)

// WithTopology routes reads by the mesh's health and RTT estimates.
func WithTopology(t Topology) Option { return func(s *Service) { s.topo = t } }

// WithRepairQueue receives the shard copies found corrupt or missing while
// reading; sends never block (a full queue drops the report; the periodic
// scan finds the shard again).
func WithRepairQueue(q chan<- RepairRequest) Option { return func(s *Service) { s.repairs = q } }

// WithReceipts issues a receipt for every shard a node delivered to a
// successful read.
func WithReceipts(r Receipts) Option { return func(s *Service) { s.receipts = r } }

// WithAuction places every publish's shards exactly as the contracts an
// auction awards them (terms: what the gateway asks in each), instead of
// choosing holders itself; the placement rules still check the awards.
func WithAuction(a Auctioneer, terms AuctionTerms) Option {
	return func(s *Service) { s.auction, s.terms = a, terms }
}

// RepairRequest names a shard copy that must be rebuilt elsewhere.
type RepairRequest struct {
	Name, Version string
	Shard         int
	Node          string
}

func (s *Service) reportCorrupt(m *records.Manifest, shard int, node string) {
	s.log.Warn("corrupt or missing shard copy", "object", m.String(), "shard", shard, "node", node)
	if s.repairs == nil {
		return
	}
	select {
	case s.repairs <- RepairRequest{Name: m.Name, Version: m.Version, Shard: shard, Node: node}:
	default:
	}
}

// New returns a Service.
func New(cfg Config, l Ledger, agents Agents, log *slog.Logger, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		cfg: cfg, ledger: l, agents: agents, log: log,
		keyID:     codec.KeyID(cfg.MasterKeys[0]),
		keys:      map[string]*codec.KeyCache{},
		objects:   newObjectCache(cfg.CacheBytes),
		manifests: newManifestCache(cfg.ManifestTTL, cfg.ManifestLiveTTL),
		refreshes: map[string]bool{},
		free:      newTTLCache[int64](cfg.NodesTTL),
		track:     newTracker(),
		cold:      make(chan struct{}, cfg.MaxColdReads),
		scoreBand: DefaultScoreBand,
		metrics:   noMetrics{},
	}
	for _, k := range cfg.MasterKeys {
		kc, err := codec.NewKeyCache(k, objectKeysCached)
		if err != nil {
			return nil, err
		}
		s.keys[codec.KeyID(k)] = kc
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// CachedBytes is the size of the decoded-object cache.
func (s *Service) CachedBytes() int64 { return s.objects.size() }

// ledgerErr maps a ledger error to the service's errors: the one place
// where the chaincode's codes and pkg/ledger's errors are interpreted.
func ledgerErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, records.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, records.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case errors.Is(err, records.ErrForbidden):
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	case errors.Is(err, records.ErrConflict), errors.Is(err, records.ErrFailedPrecondition), errors.Is(err, ledger.ErrConflict):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	default:
		return fmt.Errorf("%w: %w", ErrLedger, err)
	}
}

// lostRace reports a ledger write refused because a concurrent write came
// first (a version or holders taken, an MVCC conflict): re-reading and
// retrying may succeed. Refusals for the record's state (already purged, an
// inactive node) are conflicts too for callers, but not races.
func lostRace(err error) bool {
	return errors.Is(err, records.ErrConflict) || errors.Is(err, ledger.ErrConflict)
}

// ContentType picks the type served for an object: the publisher's, else
// one guessed from the name's extension.
func ContentType(name, given string) string {
	if given != "" && given != "application/octet-stream" {
		if _, _, err := mime.ParseMediaType(given); err == nil {
			return given
		}
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	if given != "" {
		return given
	}
	return "application/octet-stream"
}

// Published is the outcome of a publish.
type Published struct {
	Manifest *records.Manifest
	Layout   codec.Layout
}

// Publish encrypts, encodes and pushes body (exactly size bytes) to edge
// agents, then records the manifest as the object's next version.
func (s *Service) Publish(ctx context.Context, name, contentType string, size int64, body io.Reader) (pub *Published, err error) {
	start := time.Now()
	defer func() { s.metrics.Published(time.Since(start), err) }()
	if err := records.ValidateObjectName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: size must be known (send Content-Length)", ErrInvalid)
	}
	if size > s.cfg.MaxObjectBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, size, s.cfg.MaxObjectBytes)
	}
	if err := records.ValidateSurrogateKeys(SurrogateKeysFrom(ctx)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// Refuse early when the name belongs to another organisation.
	head, err := s.ledger.Object(ctx, name)
	switch {
	case errors.Is(err, records.ErrNotFound):
	case err != nil:
		return nil, ledgerErr(err)
	case head.Owner != s.ledger.MSPID():
		return nil, fmt.Errorf("%w: object %s belongs to %s", ErrForbidden, name, head.Owner)
	}
	layout, err := codec.PlanLayout(size, codec.Redundancy{K: s.cfg.K, M: s.cfg.M}, s.cfg.ChunkSize, s.cfg.MaxUnit)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	nodes, err := s.usableNodes(ctx, layout.ShardSize())
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	key, err := codec.DeriveKey(s.cfg.MasterKeys[0], salt)
	if err != nil {
		return nil, err
	}
	// An agent that cannot take an upload before any byte of the body is
	// read is left out and the shards placed again without it.
	var (
		res       *codec.Result
		pushed    []pushedShard
		place     placement.Placement
		refused   []string
		candidate = nodes.candidates
		auction   string // the auction whose contracts place the shards
	)
	req := placement.Request{K: s.cfg.K, M: s.cfg.M, R: s.cfg.R, ShardSize: layout.ShardSize(), Seed: name}
	if s.auction != nil {
		// The auction's contracts decide; an agent that refuses the upload
		// fails the publish (its contract cannot move elsewhere).
		if place, auction, err = s.contracted(ctx, name, req, candidate); err != nil {
			return nil, err
		}
		res, pushed, err = s.push(ctx, name, layout, key, place, nodes.byID, body)
	}
	for s.auction == nil {
		place, err = placement.Place(req, candidate)
		if err != nil {
			if len(refused) > 0 {
				return nil, fmt.Errorf("%w: %w (left out because they refused the upload: %s)", ErrNoPlacement, err, strings.Join(refused, "; "))
			}
			return nil, fmt.Errorf("%w: %w", ErrNoPlacement, err)
		}
		res, pushed, err = s.push(ctx, name, layout, key, place, nodes.byID, body)
		var oe *openError
		if errors.As(err, &oe) {
			s.log.Warn("agent refused an upload; placing without it", "node", oe.node, "err", oe.err)
			refused = append(refused, oe.Error())
			candidate = slices.DeleteFunc(slices.Clone(candidate), func(n placement.Node) bool { return n.ID == oe.node })
			continue
		}
		break
	}
	if err != nil {
		s.cleanup(name, "", pushed)
		return nil, err
	}
	m, tried, err := s.record(ctx, name, ContentType(name, contentType), layout, res, salt, place, auction)
	if err != nil {
		// The agents let go only of shards no manifest names live on them:
		// if the version tried did commit after all, they keep theirs.
		s.cleanup(name, tried, pushed)
		return nil, err
	}
	s.manifests.drop(name + "@")
	return &Published{Manifest: m, Layout: layout}, nil
}

// contracted runs the auction of a publish and returns its awards as the
// placement, checked against the placement rules over the usable nodes.
func (s *Service) contracted(ctx context.Context, name string, req placement.Request, usable []placement.Node) (placement.Placement, string, error) {
	t := s.terms
	in := records.AuctionInput{
		Object: name, Shards: req.K + req.M, K: req.K, Replicas: req.R, ShardSize: req.ShardSize,
		TermSeconds: t.TermSeconds, Zones: t.Zones, MinBandwidthBps: t.MinBandwidthBps,
		MaxStoragePerGBMonth: t.MaxStoragePerGBMonth, MaxDeliveryPerMiB: t.MaxDeliveryPerMiB,
		HasLocation: t.HasLocation, RevealSeconds: t.RevealSeconds, SLAFloor: t.SLAFloor,
	}
	if t.HasLocation {
		in.Latitude, in.Longitude = t.Latitude, t.Longitude
	}
	// The active nodes this gateway cannot reach win nothing.
	all, err := s.Nodes(ctx)
	if err != nil {
		return nil, "", err
	}
	reach := map[string]bool{}
	for _, n := range usable {
		reach[n.ID] = true
	}
	for _, n := range all {
		if n.Active() && !reach[n.ID] && len(in.Exclude) < records.MaxAuctionExclude {
			in.Exclude = append(in.Exclude, n.ID)
		}
	}
	start := time.Now()
	a, err := s.auction.Award(ctx, in)
	switch {
	case a != nil && a.Status == records.AuctionFailed:
		return nil, "", fmt.Errorf("%w: %s", ErrNoPlacement, a.Failure)
	case errors.Is(err, records.ErrFailedPrecondition):
		return nil, "", fmt.Errorf("%w: %w", ErrNoPlacement, err)
	case err != nil:
		return nil, "", ledgerErr(err)
	case a == nil || a.Status != records.AuctionCleared:
		return nil, "", fmt.Errorf("%w: the auction did not clear", ErrNoPlacement)
	}
	place := placement.Placement(a.Placement())
	if err := placement.Check(req, place, usable); err != nil {
		return nil, "", fmt.Errorf("%w: the contracts of auction %s break the placement rules or name an unusable node: %w", ErrNoPlacement, a.ID, err)
	}
	s.log.Info("shards contracted", "object", name, "auction", a.ID, "placement", place.String(),
		"storagePerGBMonth", a.StoragePerGBMonth, "deliveryPerMiB", a.DeliveryPerMiB, "took", time.Since(start))
	return place, a.ID, nil
}

// Unreachable lists the active nodes this gateway cannot use for a shard
// of shardSize (their agents do not answer, the mesh reports them failed,
// or they are full), at most records.MaxAuctionExclude: an auction's
// Exclude, so that they win nothing.
func (s *Service) Unreachable(ctx context.Context, shardSize int64) ([]string, error) {
	u, err := s.usableNodes(ctx, shardSize)
	if err != nil {
		return nil, err
	}
	all, err := s.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range all {
		if n.Active() && u.byID[n.ID] == nil && len(out) < records.MaxAuctionExclude {
			out = append(out, n.ID)
		}
	}
	return out, nil
}

type usable struct {
	candidates []placement.Node
	byID       map[string]*records.Node
}

// usableNodes lists active nodes whose agents answer, with their free space,
// leaving out those the mesh reports failed.
func (s *Service) usableNodes(ctx context.Context, shardSize int64) (usable, error) {
	all, err := s.Nodes(ctx)
	if err != nil {
		return usable{}, err
	}
	u := usable{byID: map[string]*records.Node{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range all {
		if !n.Active() || s.penalized(n.ID) {
			continue // SLA: a penalized node gets no new shards
		}
		if s.topo != nil {
			// A node the mesh reports failed may hang: do not wait for it.
			if h, _, _ := s.topo.Node(n.ID); h == HealthFailed {
				continue
			}
		}
		wg.Add(1)
		go func(n *records.Node) {
			defer wg.Done()
			free, ok := s.free.get(n.ID)
			if !ok {
				a, err := s.agents.Agent(n)
				if err != nil {
					return
				}
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				free, err = a.Free(cctx)
				if err != nil {
					s.log.Debug("agent not usable for placement", "node", n.ID, "err", err)
					return
				}
				s.free.put(n.ID, free)
			}
			mu.Lock()
			defer mu.Unlock()
			u.byID[n.ID] = n
			u.candidates = append(u.candidates, placement.Node{ID: n.ID, Zone: n.Zone, Org: n.Org, FreeBytes: free})
		}(n)
	}
	wg.Wait()
	return u, nil
}

// Nodes is the ledger's node registry, reused for NodesTTL.
func (s *Service) Nodes(ctx context.Context) ([]*records.Node, error) {
	s.nodesMu.Lock()
	defer s.nodesMu.Unlock()
	if s.nodes != nil && time.Since(s.nodesAt) < s.cfg.NodesTTL {
		return s.nodes, nil
	}
	nodes, err := s.ledger.ListNodes(ctx)
	if err != nil {
		return nil, ledgerErr(err)
	}
	s.nodes, s.nodesAt = nodes, time.Now()
	s.lastNodes.Store(&nodes)
	return nodes, nil
}

// CachedNode is the ledger's record of node id from the last node list
// read, however old; it never calls the ledger (nor waits for a call in
// progress). False before the first list or when it has no such node.
func (s *Service) CachedNode(id string) (*records.Node, bool) {
	p := s.lastNodes.Load()
	if p == nil {
		return nil, false
	}
	for _, n := range *p {
		if n.ID == id {
			return n, true
		}
	}
	return nil, false
}

func (s *Service) nodeByID(ctx context.Context, id string) (*records.Node, error) {
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n.ID == id {
			return n, nil
		}
	}
	// A node registered after the list was read.
	s.nodesMu.Lock()
	s.nodes = nil
	s.nodesMu.Unlock()
	nodes, err = s.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n.ID == id {
			return n, nil
		}
	}
	return nil, fmt.Errorf("node %s: %w", id, errUnregistered)
}

// errUnregistered: the ledger has no such node.
var errUnregistered = errors.New("not registered")

// openError: an agent refused to start an upload, before any byte of the
// body was consumed, so the publish can place its shards elsewhere.
type openError struct {
	node string
	err  error
}

func (e *openError) Error() string { return fmt.Sprintf("node %s: %v", e.node, e.err) }
func (e *openError) Unwrap() error { return ErrUpload }

// pushedShard is a shard stored on an agent, to delete if the publish fails.
type pushedShard struct {
	agent Agent
	index int
	hash  string
}

// push streams the encoded shards of object name to their holders.
func (s *Service) push(ctx context.Context, name string, l codec.Layout, key codec.Key, place placement.Placement, nodes map[string]*records.Node, body io.Reader) (*codec.Result, []pushedShard, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type target struct {
		node string
		a    Agent
		w    ShardWriter
	}
	targets := make([][]*target, len(place))
	abortAll := func() {
		for _, ts := range targets {
			for _, t := range ts {
				if t.w != nil {
					t.w.Abort()
				}
			}
		}
	}
	for i, holders := range place {
		for _, id := range holders {
			a, err := s.agents.Agent(nodes[id])
			if err != nil {
				abortAll()
				return nil, nil, &openError{node: id, err: err}
			}
			w, err := a.PutShard(ctx, name, l.ShardSize())
			if err != nil {
				abortAll()
				s.free.drop(id)
				return nil, nil, &openError{node: id, err: err}
			}
			targets[i] = append(targets[i], &target{node: id, a: a, w: w})
		}
	}
	sink := func(_ int64, blocks [][]byte) error {
		var wg sync.WaitGroup
		errs := make([]error, len(blocks))
		for i, b := range blocks {
			wg.Add(1)
			go func(i int, b []byte) {
				defer wg.Done()
				for _, t := range targets[i] {
					if err := t.w.Write(b); err != nil {
						errs[i] = fmt.Errorf("%w: shard %d to node %s: %w", ErrUpload, i, t.node, err)
						return
					}
				}
			}(i, b)
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	enc, err := codec.NewEncoder(l, key, sink)
	if err != nil {
		abortAll()
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	n, err := io.Copy(enc, io.LimitReader(body, l.Size+1))
	if err == nil && n != l.Size {
		err = fmt.Errorf("%w: body has %d bytes, Content-Length said %d", ErrInvalid, n, l.Size)
	}
	if err != nil {
		abortAll()
		if !errors.Is(err, ErrUpload) && !errors.Is(err, ErrInvalid) {
			err = fmt.Errorf("%w: reading the upload: %w", ErrInvalid, err)
		}
		return nil, nil, err
	}
	res, err := enc.Close()
	if err != nil {
		abortAll()
		return nil, nil, fmt.Errorf("%w: %w", ErrUpload, err)
	}
	var pushed []pushedShard
	var mu sync.Mutex
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, ts := range targets {
		for _, t := range ts {
			wg.Add(1)
			go func(i int, t *target) {
				defer wg.Done()
				h := res.ShardHashHex(i)
				if err := t.w.Commit(h); err != nil {
					errs[i] = fmt.Errorf("%w: shard %d to node %s: %w", ErrUpload, i, t.node, err)
					return
				}
				mu.Lock()
				pushed = append(pushed, pushedShard{agent: t.a, index: i, hash: h})
				mu.Unlock()
			}(i, t)
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, pushed, err
	}
	return res, pushed, nil
}

// cleanup deletes shards of a failed publish of name, with its own
// deadline; version is the last version it tried to record ("" if none).
func (s *Service) cleanup(name, version string, pushed []pushedShard) {
	if len(pushed) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.AgentTimeout)
	defer cancel()
	for _, p := range pushed {
		ref := ShardRef{Hash: p.hash, Name: name, Version: version, Index: p.index}
		if err := p.agent.DeleteShard(ctx, ref); err != nil {
			s.log.Warn("could not delete shard of a failed publish", "shard", p.hash, "err", err)
		}
	}
}

// record writes the manifest as the next version of name, retrying when
// another gateway takes the same version first. It returns the last
// version it tried, also on failure.
func (s *Service) record(ctx context.Context, name, contentType string, l codec.Layout, res *codec.Result, salt []byte, place placement.Placement, auction string) (*records.Manifest, string, error) {
	var lastErr error
	tried := ""
	for attempt := 0; attempt < s.cfg.PublishRetries; attempt++ {
		version := "1"
		head, err := s.ledger.Object(ctx, name)
		switch {
		case errors.Is(err, records.ErrNotFound):
		case err != nil:
			return nil, tried, ledgerErr(err)
		default:
			version = strconv.Itoa(len(head.Versions) + 1)
		}
		tried = version
		m := codec.BuildManifest(name, version, contentType, l, res, s.keyID, salt, place)
		m.PublishedBy = PublisherFrom(ctx)
		m.Keys = SurrogateKeysFrom(ctx)
		m.Auction = auction
		rec, err := s.ledger.RecordManifest(ctx, m)
		if err == nil {
			return rec, version, nil
		}
		err = ledgerErr(err)
		lastErr = err
		switch {
		case lostRace(err):
			s.log.Debug("version taken by a concurrent publish; retrying", "object", name, "version", version)
			continue
		case errors.Is(err, ledger.ErrUnavailable):
			// The outcome is unknown: the transaction may have committed.
			if got, gerr := s.ledger.GetManifest(ctx, name, version); gerr == nil && got.SHA256 == m.SHA256 && got.Encryption.Salt == m.Encryption.Salt {
				return got, version, nil
			}
			return nil, version, err
		default:
			return nil, version, err
		}
	}
	return nil, tried, lastErr
}

// Manifest returns the manifest of name at version ("" = latest), reused for
// ManifestTTL. A purged version is returned with ErrPurged.
func (s *Service) Manifest(ctx context.Context, name, version string) (*records.Manifest, error) {
	if err := records.ValidateObjectName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	key := name + "@" + version
	m, ok, miss := s.manifests.get(key)
	if !ok {
		var err error
		if version == "" {
			m, err = s.ledger.LatestManifest(ctx, name)
		} else {
			if verr := records.ValidateVersion(version); verr != nil {
				return nil, fmt.Errorf("%w: %w", ErrNotFound, verr)
			}
			m, err = s.ledger.GetManifest(ctx, name, version)
		}
		if err != nil {
			return nil, ledgerErr(err)
		}
		if miss.stale != nil && !m.IsPurged() && m.Version == miss.stale.Version && m.SHA256 == miss.stale.SHA256 {
			s.purges.revalidations.Add(1)
		}
		s.manifests.put(key, m, miss)
	}
	if m.IsPurged() {
		return m, fmt.Errorf("%w: %s was purged: %s", ErrPurged, m, m.Purged.Reason)
	}
	return m, nil
}

// Warm returns, without any I/O, the manifest and the decoded bytes of an
// object version when both are cached and current: key is "name@version",
// or "name@" for the latest version, as Manifest caches them. A purged
// version, a stale or missing manifest and an object not in the decoded-
// object cache give ok false (the caller then takes the full path). The
// bytes were checked against the manifest's SHA-256 when they were cached;
// they must not be modified.
func (s *Service) Warm(key string) (m *records.Manifest, b []byte, ok bool) {
	m, ok, _ = s.manifests.get(key)
	if !ok || m.IsPurged() {
		return nil, nil, false
	}
	objKey := key
	if strings.HasSuffix(key, "@") {
		objKey = m.Name + "@" + m.Version
	}
	if b, ok = s.objects.get(objKey); !ok || int64(len(b)) != m.Size {
		return nil, nil, false
	}
	return m, b, true
}

// Read returns plaintext [off, off+n) of the object, buffered whole in
// memory: for small objects and tests. Serving uses WriteRange, whose
// memory is bounded whatever n is.
func (s *Service) Read(ctx context.Context, m *records.Manifest, off, n int64) ([]byte, error) {
	var buf bytes.Buffer
	if n > 0 && n <= s.cfg.MaxObjectBytes {
		buf.Grow(int(n))
	}
	if err := s.WriteRange(ctx, m, off, n, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Stream writes the whole object to w; see WriteRange.
func (s *Service) Stream(ctx context.Context, m *records.Manifest, w io.Writer) error {
	return s.WriteRange(ctx, m, 0, m.Size, w)
}

// WriteRange writes plaintext [off, off+n) of the object to w.
//
// Objects up to CacheMaxObject are decoded whole, checked against the
// manifest's SHA-256 and cached. Larger ones are fetched and decoded
// segment by segment (SegmentBytes at a time, so memory is bounded
// whatever the object's or the range's size): every chunk is
// authenticated (AES-GCM) as it is decoded, and a whole read also checks
// the SHA-256 at the end. A failure after bytes were written is returned
// all the same (ErrCorrupt for a hash mismatch, found before the last byte
// is written): the caller must then abort its response.
//
// A read that must fetch shards holds one of MaxColdReads slots while it
// runs; without a slot within ColdReadWait it fails with ErrOverloaded
// before anything is written.
func (s *Service) WriteRange(ctx context.Context, m *records.Manifest, off, n int64, w io.Writer) error {
	l, err := codec.LayoutFromManifest(m)
	if err != nil {
		return fmt.Errorf("%w: manifest %s: %w", ErrCorrupt, m, err)
	}
	if off < 0 || n < 0 || off > l.Size || n > l.Size-off {
		return fmt.Errorf("%w: range %d+%d outside %d bytes", ErrInvalid, off, n, l.Size)
	}
	cacheKey := m.Name + "@" + m.Version
	if b, ok := s.objects.get(cacheKey); ok {
		s.metrics.CacheHit()
		_, err := w.Write(b[off : off+n])
		return err
	}
	s.metrics.CacheMiss()
	release, err := s.acquireCold(ctx)
	if err != nil {
		return err
	}
	defer release()
	if l.Size <= s.cfg.CacheMaxObject {
		var dst []byte
		if !s.objects.keeps(l.Size) {
			// Not kept: decoded into a pooled buffer, given back once written.
			bp := getPlain(l.Size)
			defer plainPool.Put(bp)
			dst = *bp
		}
		whole, err := s.readWhole(ctx, m, l, dst)
		if err != nil {
			return err
		}
		s.objects.put(cacheKey, whole)
		_, err = w.Write(whole[off : off+n])
		return err
	}
	return s.stream(ctx, m, l, off, n, w)
}

// segment is one segment of a streamed read: plaintext [pos, next),
// fetched and decoded by its own goroutine, delivered on done.
type segment struct {
	pos, next int64
	done      chan segmentResult
}

type segmentResult struct {
	b   []byte  // the plaintext, in bp
	bp  *[]byte // plainPool's
	err error
}

// stream writes plaintext [off, off+n) of a large object to w segment by
// segment, in order. Up to StreamDepth segments are in memory at once:
// while one is hashed and written, the next ones are fetched and decoded
// (on other cores), each with every check readRange makes. When w fails
// or ctx ends, the segments in flight are cancelled and their buffers
// given back before stream returns.
func (s *Service) stream(ctx context.Context, m *records.Manifest, l codec.Layout, off, n int64, w io.Writer) error {
	if n == 0 {
		return nil // (a whole object this large is never empty)
	}
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg      sync.WaitGroup
		pending []*segment // launched, not yet written, in order
	)
	defer func() {
		cancel()
		wg.Wait()
		for _, sg := range pending {
			if r := <-sg.done; r.bp != nil {
				plainPool.Put(r.bp)
			}
		}
	}()
	pos, end := off, off+n
	launch := func() {
		if pos >= end {
			return
		}
		sg := &segment{pos: pos, next: s.segmentEnd(l, pos, end), done: make(chan segmentResult, 1)}
		pos = sg.next
		pending = append(pending, sg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			bp := getPlain(s.cfg.SegmentBytes + 2*l.ChunkSize)
			b, err := s.readRange(ctx, m, l, sg.pos, sg.next-sg.pos, *bp)
			sg.done <- segmentResult{b: b, bp: bp, err: err}
		}()
	}
	for range s.cfg.StreamDepth {
		launch()
	}
	var (
		sum  hash.Hash
		held []byte
	)
	if off == 0 && n == l.Size {
		sum = sha256.New()
	}
	for len(pending) > 0 {
		sg := pending[0]
		r := <-sg.done
		pending = pending[1:]
		err := r.err
		if err == nil {
			b := r.b
			last := sg.next >= end
			if sum != nil {
				sum.Write(b)
				if last && len(b) > 0 {
					// The last byte waits for the check: a mismatch then
					// leaves the answer short of its length, which a client
					// cannot take for the whole object.
					held = append(held, b[len(b)-1])
					b = b[:len(b)-1]
				}
			}
			_, err = w.Write(b)
		}
		plainPool.Put(r.bp)
		if err != nil {
			return err
		}
		launch()
	}
	if sum != nil {
		if hex.EncodeToString(sum.Sum(nil)) != m.SHA256 {
			return fmt.Errorf("%w: %s streamed content whose SHA-256 differs from the manifest", ErrCorrupt, m)
		}
		if _, err := w.Write(held); err != nil {
			return err
		}
	}
	return nil
}

// segmentEnd is where the segment starting at pos ends: SegmentBytes on,
// cut back to a chunk boundary so that no chunk is decrypted twice, and
// never past end.
func (s *Service) segmentEnd(l codec.Layout, pos, end int64) int64 {
	next := min(end, pos+s.cfg.SegmentBytes)
	if next < end {
		if aligned := next / l.ChunkSize * l.ChunkSize; aligned > pos {
			next = aligned
		}
	}
	return next
}

// plainPool holds the buffers reads decode into when their plaintext is
// not kept (the object cache off or the object too large for it).
var plainPool sync.Pool

// getPlain returns a buffer of plainPool with room for n bytes.
func getPlain(n int64) *[]byte { return getPooled(&plainPool, n) }

// getPooled returns an empty buffer of pool with room for n bytes (a new
// one when the pooled one is too small).
func getPooled(pool *sync.Pool, n int64) *[]byte {
	if p, ok := pool.Get().(*[]byte); ok && int64(cap(*p)) >= n {
		*p = (*p)[:0]
		return p
	}
	b := make([]byte, 0, n)
	return &b
}

// acquireCold takes a cold-read slot, waiting up to ColdReadWait; release
// gives it back.
func (s *Service) acquireCold(ctx context.Context) (release func(), err error) {
	release = func() { <-s.cold }
	select {
	case s.cold <- struct{}{}:
		return release, nil
	default:
	}
	if s.cfg.ColdReadWait > 0 {
		t := time.NewTimer(s.cfg.ColdReadWait)
		defer t.Stop()
		select {
		case s.cold <- struct{}{}:
			return release, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return nil, fmt.Errorf("%w: %d reads are fetching shards", ErrOverloaded, cap(s.cold))
}

// ColdReads is the number of reads fetching shards now.
func (s *Service) ColdReads() int { return len(s.cold) }

// readWhole decodes the whole object and checks its SHA-256.
func (s *Service) readWhole(ctx context.Context, m *records.Manifest, l codec.Layout, dst []byte) ([]byte, error) {
	b, err := s.readRange(ctx, m, l, 0, l.Size, dst)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != m.SHA256 {
		return nil, fmt.Errorf("%w: %s decodes to content whose SHA-256 differs from the manifest", ErrCorrupt, m)
	}
	return b, nil
}

// readRange fetches what plaintext [off, off+n) needs and decodes it, into
// dst's array when it has room (see codec.Decoder.DecodeRangeTo).
func (s *Service) readRange(ctx context.Context, m *records.Manifest, l codec.Layout, off, n int64, dst []byte) ([]byte, error) {
	plan, err := l.PlanRange(off, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	key, err := s.objectKey(m)
	if err != nil {
		return nil, err
	}
	dec, err := codec.NewDecoder(l, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	// The shards are not hashed here: AES-GCM authenticates every chunk
	// decoded, so a bad shard fails the decode, and only then are whole
	// shards fetched and checked against their hashes, to exclude it.
	shards, from, release, err := s.fetch(ctx, m, l, plan.ShardOff, plan.ShardLen, false)
	if err != nil {
		return nil, err
	}
	out, err := dec.DecodeRangeTo(dst, plan, shards)
	release() // the shards' bytes are decoded (or rejected)
	if err == nil {
		// Authentic plaintext (AES-GCM) proves every shard used correct.
		s.issueReceipts(ctx, m, from, plan.ShardOff, plan.ShardLen)
		return out, nil
	}
	if !errors.Is(err, codec.ErrCorrupt) {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, m, err)
	}
	// Which shard is bad is unknown: fetch the whole shards, let their
	// hashes exclude (and report) the bad one, and decode again.
	s.log.Warn("decode failed; refetching whole shards", "object", m.String(), "err", err)
	full, fullFrom, release, err := s.fetch(ctx, m, l, 0, l.ShardSize(), true)
	if err != nil {
		return nil, err
	}
	defer release()
	for i, b := range full {
		if b != nil {
			full[i] = b[plan.ShardOff : plan.ShardOff+plan.ShardLen]
		}
	}
	out, err = dec.DecodeRangeTo(dst, plan, full)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, m, err)
	}
	// The whole shards were checked against their hashes; the first,
	// partial fetch gets no receipts (which shard was bad is unknown).
	s.issueReceipts(ctx, m, fullFrom, 0, l.ShardSize())
	return out, nil
}

// unnamedRequest stands for the request id of reads without one.
const unnamedRequest = "internal"

// issueReceipts issues a receipt for each shard from names a node for
// (the node that delivered its bytes [off, off+n)).
func (s *Service) issueReceipts(ctx context.Context, m *records.Manifest, from []string, off, n int64) {
	for _, node := range from {
		if node != "" {
			s.observeDelivered(node, n) // a verified delivery, for the SLA
		}
	}
	if s.receipts == nil {
		return
	}
	req := RequestID(ctx)
	if req == "" {
		req = unnamedRequest
	}
	for i, node := range from {
		if node == "" {
			continue
		}
		_, err := s.receipts.Issue(ctx, receipts.Delivery{
			Publisher: m.Publisher, Object: m.Name, Version: m.Version,
			Shard: i, ShardHash: m.Shards[i].Hash, Node: node, Offset: off, Bytes: n, Request: req,
		})
		if err != nil {
			s.log.Warn("receipt not issued", "object", m.String(), "shard", i, "node", node, "err", err)
		}
	}
}

// objectKey derives m's object key from the master key its manifest names
// (a manifest without a key id predates key ids: the primary key); a key
// id this gateway does not hold is ErrUnknownKey.
func (s *Service) objectKey(m *records.Manifest) (codec.Key, error) {
	id := m.Encryption.KeyID
	if id == "" {
		id = s.keyID
	}
	kc, ok := s.keys[id]
	if !ok {
		return codec.Key{}, fmt.Errorf("%w: %s is encrypted under master key %s, this gateway holds %s", ErrUnknownKey, m, id, strings.Join(s.KeyIDs(), ", "))
	}
	salt, err := decodeSalt(m.Encryption.Salt)
	if err != nil {
		return codec.Key{}, fmt.Errorf("%w: %s: %w", ErrCorrupt, m, err)
	}
	return kc.Derive(salt)
}

// objectKeysCached is how many derived object keys a gateway keeps per
// master key (~100 bytes each).
const objectKeysCached = 4096

// KeyIDs are the ids of the gateway's master keys, the primary one first.
func (s *Service) KeyIDs() []string {
	out := make([]string, len(s.cfg.MasterKeys))
	for i, k := range s.cfg.MasterKeys {
		out[i] = codec.KeyID(k)
	}
	return out
}

// Purged is the outcome of a purge.
type Purged struct {
	Manifest      *records.Manifest
	ShardsDeleted int
	DeleteErrors  []string
}

// Purge tombstones a version on the ledger, then deletes its shards.
func (s *Service) Purge(ctx context.Context, name, version, reason string) (*Purged, error) {
	if version == "" {
		m, err := s.ledger.LatestManifest(ctx, name)
		if err != nil {
			return nil, ledgerErr(err)
		}
		version = m.Version
	}
	m, err := s.ledger.PurgeManifest(ctx, name, version, reason)
	if err != nil {
		return nil, ledgerErr(err)
	}
	s.manifests.drop(name + "@")
	s.manifests.drop(name + "@" + version)
	s.objects.remove(name + "@" + version)
	out := &Purged{Manifest: m}
	out.ShardsDeleted, out.DeleteErrors = s.deleteShards(ctx, m)
	return out, nil
}

// deleteShards asks every holder of m's shards to delete its copy: the
// copies deleted and the failures.
func (s *Service) deleteShards(ctx context.Context, m *records.Manifest) (deleted int, failures []string) {
	for _, sh := range m.Shards {
		for _, id := range sh.Nodes {
			err := func() error {
				node, err := s.nodeByID(ctx, id)
				if err != nil {
					return err
				}
				a, err := s.agents.Agent(node)
				if err != nil {
					return err
				}
				cctx, cancel := context.WithTimeout(ctx, s.cfg.AgentTimeout)
				defer cancel()
				return a.DeleteShard(cctx, ShardRef{Hash: sh.Hash, Name: m.Name, Version: m.Version, Index: sh.Index})
			}()
			if err != nil {
				failures = append(failures, fmt.Sprintf("%s shard %d on %s: %v", m, sh.Index, id, err))
				continue
			}
			deleted++
		}
	}
	return deleted, failures
}

// Object returns an object's head record.
func (s *Service) Object(ctx context.Context, name string) (*records.Object, error) {
	o, err := s.ledger.Object(ctx, name)
	return o, ledgerErr(err)
}

// Versions returns every version's manifest of an object.
func (s *Service) Versions(ctx context.Context, name string) ([]*records.Manifest, error) {
	ms, err := s.ledger.ManifestVersions(ctx, name)
	return ms, ledgerErr(err)
}

// List returns every object head.
func (s *Service) List(ctx context.Context) ([]*records.Object, error) {
	objs, err := s.ledger.ListObjects(ctx)
	return objs, ledgerErr(err)
}
