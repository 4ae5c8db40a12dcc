package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/bids"
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/dct-network/dct/pkg/profiling"
	"github.com/dct-network/dct/pkg/serviceconfig"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/pflag"
)

// Config is every setting of a gateway.
type Config struct {
	// Listen is the public HTTP address: the CDN and read-only metadata.
	Listen string
	// PublicURL is the gateway's public base URL as browsers reach it
	// (scheme://host:port, no path), listed by GET /v1/gateways and
	// advertised to the mesh; default http://<Listen> when Listen names a
	// host and a port.
	PublicURL string
	// PeerGateways are the public base URLs of the consortium's other
	// gateways, listed by GET /v1/gateways for the frontend loader.
	PeerGateways []string

	// AdminListen is the admin listener's address (HTTPS): publish and
	// purge, for publishers of the gateway's organisation authenticated by
	// the enrollment certificate of their MSP identity (mutual TLS). Empty:
	// no admin listener, the gateway only serves.
	AdminListen string
	// AdminTLSCert/Key is the admin listener's server pair.
	AdminTLSCert string
	AdminTLSKey  string
	// MemberCAs are the members' MSP root CAs, MSPID=PATH each (a PEM
	// file or an MSP's cacerts directory): client certificates must chain
	// to one of them.
	MemberCAs []string
	// AdminRate and AdminBurst limit each identity's admin requests (a
	// token bucket per MSP id and certificate hash; rate <= 0: no limit).
	AdminRate  float64
	AdminBurst int
	// RoleTTL is how long a looked-up role is used; RoleCacheSize bounds
	// the identities whose roles are kept.
	RoleTTL       time.Duration
	RoleCacheSize int

	// Ledger is the peer and the identity the gateway acts as: explicit
	// settings, a connection profile and MSP directory, or a test
	// network's run directory (NetworkDir, Org).
	serviceconfig.Ledger

	// AgentCA verifies agents' TLS certificates (a bundle of the
	// consortium's TLS CAs); AgentClientCert/Key is this gateway's client
	// certificate towards the agents: by default its ledger identity (the
	// enrollment certificate and key it signs transactions with), which
	// agents accept when the identity registry grants it the gateway role.
	// AgentClientKey may be a keystore directory.
	AgentCA         string
	AgentClientCert string
	AgentClientKey  string

	// MasterKeyFiles hold the consortium master keys (each file one key
	// of >= 32 bytes): the first encrypts new objects, every one decrypts
	// the objects recorded under its key id (key rotation).
	MasterKeyFiles []string

	// Name identifies the gateway in the mesh (default gateway-<listen>).
	Name string
	// Mesh is the gossip mesh (no MeshListen: no mesh; reads are then
	// routed by observed latencies only); MeshJoin are agents' gossip
	// addresses.
	serviceconfig.Mesh
	// Repair enables the self-healing loop: every RepairInterval the
	// gateway rebuilds the shards of nodes failed for longer than
	// DeadAfter (or deactivated), and at once the copies found corrupt.
	Repair         bool
	RepairInterval time.Duration
	DeadAfter      time.Duration

	Content content.Config

	// ReceiptsDir is the write-ahead log of delivery receipts: set, the
	// gateway signs a receipt for every shard a node delivered to a
	// successful read and logs it there (empty: no receipts).
	// EpochLength is the batching period: the ledger's epoch length
	// (delivery:Epoch), which the gateway reads at start-up; zero (the
	// default) takes it, a set value must equal it (else the gateway
	// refuses to start). ReceiptsFlush is the
	// longest a receipt waits for its group commit (sealed, fsynced; a
	// group commit costs a few tenths of a millisecond of CPU, mostly
	// whatever its size, so a short interval costs a few percent of cold
	// serving); ReceiptsGrace
	// how long after an epoch ends its batch is built and submitted
	// (delivery:Commit, then delivery:Prove).
	ReceiptsDir   string
	EpochLength   time.Duration
	ReceiptsFlush time.Duration
	ReceiptsGrace time.Duration

	// SLA (issue 11): with SLAAttest the gateway aggregates what it
	// observes of other organisations' nodes (shard requests answered or
	// not, their latency, shards failing verification, verified
	// deliveries; the mesh's health every SLASampleInterval) and submits
	// one sla:Attest per epoch, SLAGrace after it ends; SLAScoreWait > 0
	// makes it call sla:Score of each epoch SLAScoreWait after that,
	// leaving the other attesters as long (0: never). SLARefresh is how often the score
	// table routing and placement use is reread (0: scores unused); with
	// SLAEvents it is reread on every dct.sla event instead, SLARefresh
	// being the fallback while the events are not followed; holders whose
	// cost falls in the same SLARouteBand are ranked by score.
	SLAAttest         bool
	SLAGrace          time.Duration
	SLAScoreWait      time.Duration
	SLASampleInterval time.Duration
	SLARefresh        time.Duration
	SLAEvents         bool
	SLARouteBand      time.Duration

	// ManifestEvents makes the gateway follow the ledger's manifest
	// events (new versions, purges, repairs) to drop its cached manifests
	// as soon as they change; Content.ManifestTTL is then only the
	// fallback used while the event stream is down.
	ManifestEvents bool
	// FeedPrefixes name the live feeds: objects whose name starts with one
	// of them are served at their unversioned URL with FeedMaxAge (0:
	// "no-cache", revalidate with the ETag every time) instead of
	// LatestMaxAge.
	FeedPrefixes []string
	FeedMaxAge   time.Duration

	AllowOrigin     string
	RequestTimeout  time.Duration
	PublishTimeout  time.Duration
	LatestMaxAge    time.Duration
	ShutdownTimeout time.Duration
	LogLevel        string
	// PprofListen serves Go's runtime profiles (net/http/pprof) on a
	// loopback address; empty (the default) = off.
	PprofListen string
	// OpsListen is the operations listener (like Fabric's): GET /metrics
	// (Prometheus), /healthz and /readyz (JSON); empty = off.
	OpsListen string
	// Dashboard serves the live operations page at /dashboard/ and its
	// data at /v1/dashboard on the public listener.
	Dashboard bool

	// Auction makes every publish place its shards as the contracts of a
	// ledger auction award them (AuctionTerms: what it asks; AuctionPoll:
	// how often it looks for the reveals); off, the gateway chooses the
	// holders itself (placement.Place).
	Auction      bool
	AuctionTerms content.AuctionTerms
	AuctionTerm  time.Duration
	AuctionPoll  time.Duration
	// LifecycleInterval is how often the contract lifecycle scans this
	// organisation's auctioned placements (renewals, re-auctions of
	// holders that left or are penalized below the floor, moves); 0 = off.
	// It runs with Auction only.
	LifecycleInterval time.Duration
	// BidKeyFile is the organisation's bid key: set, the gateway reveals,
	// RevealGrace after an auction opened, the bids of its organisation's
	// nodes whose agents did not.
	BidKeyFile  string
	RevealGrace time.Duration

	// The HTTP server's timeouts: reading a request's headers, reading a
	// whole request (a publish gets PublishTimeout instead), writing an
	// answer (each segment of a stream gets a fresh WriteTimeout, so long
	// streams to clients that keep reading go on), and keeping an idle
	// connection.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:8080",
		AdminRate:       10,
		AdminBurst:      50,
		RoleTTL:         memberauth.DefaultTTL,
		RoleCacheSize:   memberauth.DefaultCacheSize,
		Content:         content.DefaultConfig(),
		AllowOrigin:     "*",
		RequestTimeout:  60 * time.Second,
		PublishTimeout:  30 * time.Minute,
		LatestMaxAge:    60 * time.Second,
		ManifestEvents:  true,
		FeedPrefixes:    []string{"feeds/"},
		ShutdownTimeout: 15 * time.Second,
		LogLevel:        "info",
		Dashboard:       true,

		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		Repair:            true,
		RepairInterval:    2 * time.Second,
		DeadAfter:         10 * time.Second,
		EpochLength:       0, // the ledger's
		ReceiptsFlush:     50 * time.Millisecond,
		ReceiptsGrace:     5 * time.Second,
		AuctionTerms:      content.AuctionTerms{MaxStoragePerGBMonth: 1000, MaxDeliveryPerMiB: 100, RevealSeconds: 3},
		AuctionTerm:       30 * 24 * time.Hour,
		AuctionPoll:       20 * time.Millisecond,
		LifecycleInterval: 10 * time.Second,
		RevealGrace:       time.Second,
		SLAAttest:         true,
		SLAGrace:          5 * time.Second,
		SLAScoreWait:      time.Minute,
		SLASampleInterval: 5 * time.Second,
		SLARefresh:        30 * time.Second,
		SLAEvents:         true,
		SLARouteBand:      content.DefaultScoreBand,
	}
}

// EnvPrefix starts the environment variable of every setting.
const EnvPrefix = "DCT_"

// RegisterFlags binds every setting to a flag and to the DCT_<FLAG>
// environment variable (upper case, '-' as '_'); an explicit flag wins over
// the variable. Call the returned function after parsing: it applies the
// environment and reports malformed variables (wrapping ErrConfig).
func (c *Config) RegisterFlags(fs *pflag.FlagSet, opts ...settings.Option) (applyEnv func() error) {
	s := settings.New(fs, EnvPrefix, opts...)
	s.String(&c.Listen, "listen", "public HTTP listen address (CDN, read-only metadata)")
	s.String(&c.PublicURL, "public-url", "this gateway's public base URL as browsers reach it, scheme://host:port (default http://<listen> when it names a host)")
	s.StringList(&c.PeerGateways, "peer-gateways", "public base URLs of the consortium's other gateways, listed by GET /v1/gateways for the frontend loader")
	s.String(&c.AdminListen, "admin-listen", "admin HTTPS listen address for publish and purge (empty = none)")
	s.String(&c.AdminTLSCert, "admin-tls-cert", "admin listener TLS server certificate (PEM)")
	s.String(&c.AdminTLSKey, "admin-tls-key", "admin listener TLS server key (PEM)")
	s.StringList(&c.MemberCAs, "member-cas", "members' MSP root CAs, MSPID=ca.pem (a PEM file or an MSP cacerts directory)")
	s.Float64(&c.AdminRate, "admin-rate", "admin requests a second per identity (0 = no limit)")
	s.Int(&c.AdminBurst, "admin-burst", "admin requests an identity may make at once")
	s.Duration(&c.RoleTTL, "role-ttl", "how long an identity's looked-up ledger roles are used")
	s.Int(&c.RoleCacheSize, "role-cache-size", "identities whose roles are cached")
	c.Ledger.Register(s, "the gateway's")
	s.String(&c.AgentCA, "agent-ca", "PEM bundle verifying edge agents' TLS certificates")
	s.String(&c.AgentClientCert, "agent-client-cert", "TLS client certificate presented to edge agents (default: the gateway's identity certificate, --cert/--msp-dir)")
	s.String(&c.AgentClientKey, "agent-client-key", "TLS client key (file or keystore directory) presented to edge agents (default: the gateway's identity key)")
	s.StringList(&c.MasterKeyFiles, "master-key-file", "files holding the consortium master keys (>= 32 bytes each): the first encrypts new objects, all decrypt")
	s.String(&c.Name, "name", "gateway name in the mesh (default gateway-<listen address>)")
	c.Mesh.Register(s)
	s.Bool(&c.Repair, "repair", "rebuild lost and corrupt shard copies")
	s.Duration(&c.RepairInterval, "repair-interval", "interval between repair scans")
	s.Duration(&c.DeadAfter, "dead-after", "how long a node must be failed before its shards are rebuilt elsewhere")
	c.registerContent(s)
	s.String(&c.ReceiptsDir, "receipts-dir", "directory of the delivery receipts' write-ahead log (empty = no receipts)")
	s.Duration(&c.EpochLength, "epoch-length", "receipt and SLA epoch length (epoch = floor(unix time / length)); 0 = the ledger's (delivery:Epoch), which a set value must equal")
	s.Duration(&c.ReceiptsFlush, "receipts-flush", "longest a receipt waits for its group commit (fsync)")
	s.Duration(&c.ReceiptsGrace, "receipts-grace", "wait after an epoch ends before its receipts are batched and submitted to the ledger")
	s.Bool(&c.SLAAttest, "sla-attest", "submit one SLA attestation (sla:Attest) per epoch of what this gateway observed of other organisations' nodes")
	s.Duration(&c.SLAGrace, "sla-grace", "wait after an epoch ends before its SLA attestation is submitted")
	s.Duration(&c.SLAScoreWait, "sla-score-wait", "call sla:Score of each epoch this long after its attestations are due (its end + --sla-grace; 0 = never)")
	s.Duration(&c.SLASampleInterval, "sla-sample-interval", "how often the mesh's view of each node is counted as an SLA probe")
	s.Duration(&c.SLARefresh, "sla-refresh", "how often the SLA score table used by routing and placement is reread (0 = scores unused); with --sla-events only while the events are not followed")
	s.Bool(&c.SLAEvents, "sla-events", "follow the ledger's SLA events (dct.sla) to reread the score table as soon as an epoch is scored")
	s.Duration(&c.SLARouteBand, "sla-route-band", "holders whose routing cost falls in the same band of this width are ranked by SLA score")
	s.String(&c.AllowOrigin, "allow-origin", "CORS Access-Control-Allow-Origin of served assets (empty = no CORS)")
	s.Duration(&c.RequestTimeout, "request-timeout", "deadline of serve and metadata requests")
	s.Duration(&c.PublishTimeout, "publish-timeout", "deadline of a publish")
	s.Duration(&c.LatestMaxAge, "latest-max-age", "Cache-Control max-age of unversioned URLs")
	s.Bool(&c.ManifestEvents, "manifest-events", "follow the ledger's manifest events to drop changed manifests at once (--manifest-ttl is then only the fallback)")
	s.StringList(&c.FeedPrefixes, "feed-prefix", "object name prefixes of live feeds, served at their unversioned URL with --feed-max-age (empty = no feeds)")
	s.Duration(&c.FeedMaxAge, "feed-max-age", "Cache-Control max-age of feeds' unversioned URLs (0 = no-cache: revalidate with the ETag)")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", "graceful shutdown deadline")
	s.Duration(&c.ReadHeaderTimeout, "read-header-timeout", "deadline of reading a request's headers")
	s.Duration(&c.ReadTimeout, "read-timeout", "deadline of reading a whole request (a publish gets --publish-timeout)")
	s.Duration(&c.WriteTimeout, "write-timeout", "deadline of each write of an answer (renewed for every segment of a stream)")
	s.Duration(&c.IdleTimeout, "idle-timeout", "how long an idle keep-alive connection is kept")
	s.Bool(&c.Auction, "auction", "place every publish's shards as the contracts of a ledger auction award them")
	s.Duration(&c.AuctionTerm, "auction-term", "term of the storage contracts")
	s.StringList(&c.AuctionTerms.Zones, "auction-zones", "zones allowed in auctions (empty = any)")
	s.Int64(&c.AuctionTerms.MinBandwidthBps, "auction-min-bandwidth-bps", "least bandwidth a bid must offer")
	s.Int64(&c.AuctionTerms.MaxStoragePerGBMonth, "auction-max-storage-price", "most tokens paid per GB stored for 30 days")
	s.Int64(&c.AuctionTerms.MaxDeliveryPerMiB, "auction-max-delivery-price", "most tokens paid per MiB delivered (the consortium price's unit)")
	s.Bool(&c.AuctionTerms.HasLocation, "auction-near", "rank bids by their distance to --auction-latitude/--auction-longitude")
	s.Float64(&c.AuctionTerms.Latitude, "auction-latitude", "where the content is requested (with --auction-near)")
	s.Float64(&c.AuctionTerms.Longitude, "auction-longitude", "where the content is requested (with --auction-near)")
	s.Int(&c.AuctionTerms.RevealSeconds, "auction-reveal-seconds", "reveal window of an auction: it clears when every bid is revealed or this passed")
	s.Duration(&c.AuctionPoll, "auction-poll", "how often a publish looks for its auction's reveals")
	s.Int64(&c.AuctionTerms.SLAFloor, "auction-sla-floor", "SLA score (basis points, 1..7500; 0 = 7500) below which a penalized holder loses its contracts")
	s.Duration(&c.LifecycleInterval, "contract-lifecycle-interval", "interval between the contract lifecycle's scans (renewals, re-auctions, moves; 0 = off)")
	s.String(&c.BidKeyFile, "bid-key-file", "the organisation's bid key: reveal its nodes' bids their agents did not (default with --network-dir: the organisation's; empty = no backup reveals)")
	s.Duration(&c.RevealGrace, "reveal-grace", "wait after an auction opened before revealing for the organisation's agents")
	s.String(&c.LogLevel, "log-level", "debug, info, warn or error")
	s.String(&c.PprofListen, "pprof-listen", "loopback address serving Go runtime profiles (/debug/pprof/; empty = off)")
	s.String(&c.OpsListen, "ops-listen", "operations listener address serving /metrics (Prometheus), /healthz and /readyz (empty = off)")
	s.Bool(&c.Dashboard, "dashboard", "serve the live operations dashboard at /dashboard/ (data: /v1/dashboard) on the public listener")
	return func() error {
		if err := s.Apply(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return nil
	}
}

// registerContent binds the content service's settings.
func (c *Config) registerContent(s *settings.Set) {
	s.Bool(&c.Content.Hedge, "hedge", "hedge slow shard requests")
	s.Duration(&c.Content.HedgeMin, "hedge-min", "smallest hedge delay")
	s.Duration(&c.Content.HedgeMax, "hedge-max", "largest hedge delay")
	s.Duration(&c.Content.HedgeDefault, "hedge-default", "hedge delay until enough latencies were seen")
	s.Int(&c.Content.K, "k", "data shards per object")
	s.Int(&c.Content.M, "m", "parity shards per object")
	s.Int(&c.Content.R, "r", "holders per shard")
	s.Int64(&c.Content.ChunkSize, "chunk-size", "plaintext bytes per encrypted chunk")
	s.Int64(&c.Content.MaxUnit, "max-unit", "largest shard unit per stripe in bytes")
	s.Int64(&c.Content.MaxObjectBytes, "max-object-bytes", "largest object accepted")
	s.Int64(&c.Content.CacheBytes, "cache-bytes", "decoded-object cache budget in bytes (0 = off)")
	s.Int64(&c.Content.CacheMaxObject, "cache-max-object", "largest object decoded whole and cached")
	s.Int64(&c.Content.SegmentBytes, "segment-bytes", "plaintext decoded at a time when streaming large objects")
	s.Int(&c.Content.StreamDepth, "stream-depth", "segments of one streamed read in memory at once: the next ones are fetched and decoded while one is written (1 = one after another)")
	s.Int(&c.Content.MaxColdReads, "max-cold-reads", "reads fetching shards (cache misses) in flight; more are answered 503 OVERLOADED")
	s.Duration(&c.Content.ColdReadWait, "cold-read-wait", "how long a cold read may wait for a slot before OVERLOADED")
	s.Duration(&c.Content.ManifestTTL, "manifest-ttl", "how long a looked-up manifest is reused while manifest events are not followed (the polling fallback)")
	s.Duration(&c.Content.ManifestLiveTTL, "manifest-live-ttl", "how long a looked-up manifest is reused while manifest events are followed (a safety net for a lost event)")
	s.Duration(&c.Content.NodesTTL, "nodes-ttl", "how long the node list and agent free space are reused")
	s.Duration(&c.Content.AgentTimeout, "agent-timeout", "deadline of one edge-agent call")
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("invalid gateway config")

// Resolve fills the ledger settings (from the connection profile, MSP
// directory and NetworkDir) and, with NetworkDir, the agent TLS material
// and master key of its organisation; explicit settings win.
func (c *Config) Resolve() error {
	c.Ledger.NetworkIdentity = func(org netdesc.OrgInfo) (netdesc.Identity, error) {
		return org.Identity(netdesc.RoleGateway)
	}
	desc, org, err := c.Ledger.Resolve()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	// Agents serve the identity the gateway acts as on the ledger.
	if c.AgentClientCert == "" && c.AgentClientKey == "" {
		c.AgentClientCert, c.AgentClientKey = c.CertFile, c.KeyPath
	}
	if desc == nil {
		return nil
	}
	set(&c.AgentCA, desc.TLSRootBundle)
	set(&c.BidKeyFile, org.BidKeyFile)
	if len(c.MasterKeyFiles) == 0 && desc.MasterKeyFile != "" {
		c.MasterKeyFiles = []string{desc.MasterKeyFile}
	}
	if c.MeshListen != "" {
		set(&c.MeshKeyring, desc.MeshKeyringFile)
	}
	if c.AdminListen != "" {
		set(&c.AdminTLSCert, org.GatewayTLSCert)
		set(&c.AdminTLSKey, org.GatewayTLSKey)
		if len(c.MemberCAs) == 0 {
			cas, err := desc.MemberCAs()
			if err != nil {
				return fmt.Errorf("%w: --network-dir: %w", ErrConfig, err)
			}
			c.MemberCAs = cas
		}
	}
	return nil
}

// Validate checks the configuration (after Resolve).
func (c Config) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen address %q: %v", c.Listen, err)
	}
	if err := profiling.CheckAddr(c.PprofListen); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := metrics.CheckAddr(c.OpsListen); err != nil {
		return fmt.Errorf("%w: --ops-listen: %w", ErrConfig, err)
	}
	if err := c.validateAdmin(); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if _, err := GatewayURL(c.PublicURL); err != nil {
			return fmt.Errorf("%w: --public-url: %w", ErrConfig, err)
		}
	}
	if len(c.PeerGateways) > maxGateways {
		return bad("--peer-gateways lists %d gateways, at most %d", len(c.PeerGateways), maxGateways)
	}
	for _, u := range c.PeerGateways {
		if _, err := GatewayURL(u); err != nil {
			return fmt.Errorf("%w: --peer-gateways: %w", ErrConfig, err)
		}
	}
	if err := c.Settings.Validate(); err != nil {
		return bad("%v (set --connection-profile and --msp-dir, the ledger flags, or --network-dir)", err)
	}
	if len(c.MasterKeyFiles) == 0 {
		return bad("master key file is not set")
	}
	files := []struct{ name, path string }{
		{"agent CA", c.AgentCA}, {"agent client certificate", c.AgentClientCert}, {"agent client key", c.AgentClientKey},
	}
	for _, f := range c.MasterKeyFiles {
		files = append(files, struct{ name, path string }{"master key file", f})
	}
	for _, f := range files {
		if f.path == "" {
			return bad("%s is not set", f.name)
		}
		if _, err := os.Stat(f.path); err != nil {
			return bad("%s: %v", f.name, err)
		}
	}
	if err := c.Mesh.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.Repair && (c.RepairInterval <= 0 || c.DeadAfter <= 0) {
		return bad("repair interval and dead-after must be positive")
	}
	if err := c.validateEpochLength(); err != nil {
		return err
	}
	if err := c.validateReceipts(); err != nil {
		return err
	}
	if err := c.validateSLA(); err != nil {
		return err
	}
	if c.RequestTimeout <= 0 || c.PublishTimeout <= 0 || c.ShutdownTimeout <= 0 || c.LatestMaxAge < 0 {
		return bad("timeouts must be positive")
	}
	if c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.WriteTimeout <= 0 || c.IdleTimeout <= 0 {
		return bad("read-header, read, write and idle timeouts must be positive")
	}
	if _, err := c.level(); err != nil {
		return err
	}
	return c.validateAuction()
}

// validateAuction checks the auction and bid settings.
func (c Config) validateAuction() error {
	if c.BidKeyFile != "" {
		if _, err := c.bidKey(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if c.RevealGrace < 0 {
			return fmt.Errorf("%w: reveal grace must not be negative", ErrConfig)
		}
	}
	if !c.Auction {
		return nil
	}
	if c.AuctionPoll <= 0 {
		return fmt.Errorf("%w: auction poll must be positive", ErrConfig)
	}
	if c.LifecycleInterval < 0 {
		return fmt.Errorf("%w: contract lifecycle interval must not be negative", ErrConfig)
	}
	if err := c.auctionTerms().Validate(); err != nil {
		return fmt.Errorf("%w: auction: %w", ErrConfig, err)
	}
	return nil
}

// auctionTerms are the terms with the contract term in seconds.
func (c Config) auctionTerms() content.AuctionTerms {
	t := c.AuctionTerms
	t.TermSeconds = int64(c.AuctionTerm / time.Second)
	return t
}

// bidKey reads BidKeyFile.
func (c Config) bidKey() (bids.Key, error) {
	b, err := os.ReadFile(c.BidKeyFile)
	if err != nil {
		return nil, fmt.Errorf("bid key: %w", err)
	}
	k := bids.Key(b)
	return k, k.Validate()
}

// LoadMasterKeys reads the master key files, in order (one key per file,
// the whole file); the keys are checked by content.Config.Validate.
func LoadMasterKeys(paths []string) ([][]byte, error) {
	keys := make([][]byte, 0, len(paths))
	for _, p := range paths {
		k, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: master key: %w", ErrConfig, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// validateEpochLength checks --epoch-length: 0 (the ledger's) or a whole
// number of seconds a ledger allows.
func (c Config) validateEpochLength() error {
	if c.EpochLength == 0 {
		return nil
	}
	if c.EpochLength%time.Second != 0 || records.ValidateEpochSeconds(int64(c.EpochLength/time.Second)) != nil {
		return fmt.Errorf("%w: epoch length must be 0 (the ledger's) or a whole number of seconds in [%ds, %ds], got %v",
			ErrConfig, records.MinEpochSeconds, records.MaxEpochSeconds, c.EpochLength)
	}
	return nil
}

// epochBound is the epoch length the graces must stay under: the set one,
// or (0: the ledger's, not known yet) the longest a ledger allows; the
// ledger's is checked at start-up (withLedgerEpoch).
func (c Config) epochBound() time.Duration {
	if c.EpochLength > 0 {
		return c.EpochLength
	}
	return time.Duration(records.MaxEpochSeconds) * time.Second
}

// epochReader reads the ledger's epoch (*ledger.Client: delivery:Epoch).
type epochReader interface {
	Epoch(ctx context.Context) (*records.EpochInfo, error)
}

// withLedgerEpoch returns c with the ledger's epoch length, read from l:
// an --epoch-length that differs from it is an error (batches and
// attestations would name the wrong epochs), and so is a grace that does
// not end within the next epoch.
func (c Config) withLedgerEpoch(ctx context.Context, l epochReader) (Config, error) {
	info, err := l.Epoch(ctx)
	if err != nil {
		return c, fmt.Errorf("read the ledger's epoch length (delivery:Epoch): %w", err)
	}
	if err := records.ValidateEpochSeconds(info.Seconds); err != nil {
		return c, fmt.Errorf("the ledger's epoch length: %w", err)
	}
	ledgerLen := time.Duration(info.Seconds) * time.Second
	if c.EpochLength != 0 && c.EpochLength != ledgerLen {
		return c, fmt.Errorf("%w: --epoch-length %v is not the ledger's epoch length (%v): batches and SLA attestations would name the wrong epochs", ErrConfig, c.EpochLength, ledgerLen)
	}
	c.EpochLength = ledgerLen
	if c.ReceiptsDir != "" && c.ReceiptsGrace >= ledgerLen {
		return c, fmt.Errorf("%w: --receipts-grace %v is not shorter than the ledger's epoch (%v)", ErrConfig, c.ReceiptsGrace, ledgerLen)
	}
	if c.SLAAttest && c.SLAGrace >= ledgerLen {
		return c, fmt.Errorf("%w: --sla-grace %v is not shorter than the ledger's epoch (%v)", ErrConfig, c.SLAGrace, ledgerLen)
	}
	return c, nil
}

// validateReceipts checks the receipt settings (when receipts are on).
func (c Config) validateReceipts() error {
	if c.ReceiptsDir == "" {
		return nil
	}
	if c.ReceiptsGrace < 0 || c.ReceiptsGrace >= c.epochBound() {
		return fmt.Errorf("%w: receipts grace must be in [0, epoch length), got %v", ErrConfig, c.ReceiptsGrace)
	}
	if c.ReceiptsFlush <= 0 || c.ReceiptsFlush > time.Second {
		return fmt.Errorf("%w: receipts flush interval must be in (0, 1s], got %v", ErrConfig, c.ReceiptsFlush)
	}
	if st, err := os.Stat(c.ReceiptsDir); err == nil && !st.IsDir() {
		return fmt.Errorf("%w: --receipts-dir %s is not a directory", ErrConfig, c.ReceiptsDir)
	}
	return nil
}

// validateSLA checks the SLA settings.
func (c Config) validateSLA() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	if c.SLARefresh < 0 || c.SLARouteBand <= 0 {
		return bad("--sla-refresh must be >= 0 and --sla-route-band positive")
	}
	if !c.SLAAttest {
		return nil
	}
	if c.SLAGrace < 0 || c.SLAGrace >= c.epochBound() {
		return bad("--sla-grace must be in [0, epoch length), got %v", c.SLAGrace)
	}
	if c.SLAScoreWait < 0 || c.SLASampleInterval <= 0 {
		return bad("--sla-score-wait must be >= 0 and --sla-sample-interval positive")
	}
	return nil
}

// validateAdmin checks the admin listener's settings (when it is on).
func (c Config) validateAdmin() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	if c.AdminListen == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(c.AdminListen)
	if err != nil {
		return bad("admin listen address %q: %v", c.AdminListen, err)
	}
	if c.AdminListen == c.Listen && port != "0" {
		return bad("the admin listener needs its own address, not the public one (%s)", c.Listen)
	}
	for _, f := range []struct{ name, path string }{
		{"admin TLS certificate (--admin-tls-cert)", c.AdminTLSCert}, {"admin TLS key (--admin-tls-key)", c.AdminTLSKey},
	} {
		if f.path == "" {
			return bad("%s is not set; the admin listener serves HTTPS only", f.name)
		}
		if _, err := os.Stat(f.path); err != nil {
			return bad("%s: %v", f.name, err)
		}
	}
	if len(c.MemberCAs) == 0 {
		return bad("--member-cas is not set: the admin listener authenticates members by their MSP root CAs (MSPID=ca.pem, …)")
	}
	for _, spec := range c.MemberCAs {
		if _, _, err := memberauth.ParseSpec(spec); err != nil {
			return fmt.Errorf("%w: --member-cas: %w", ErrConfig, err)
		}
	}
	if c.AdminRate < 0 || c.AdminBurst < 1 {
		return bad("admin rate must be >= 0 (0 = no limit) and admin burst >= 1")
	}
	if c.RoleTTL < 0 || c.RoleCacheSize < 1 {
		return bad("role TTL must be >= 0 and role cache size >= 1")
	}
	return nil
}

// level is the parsed LogLevel.
func (c Config) level() (slog.Level, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("%w: log level %q (debug, info, warn or error)", ErrConfig, c.LogLevel)
	}
	return lvl, nil
}
