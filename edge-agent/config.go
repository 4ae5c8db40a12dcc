package edgeagent

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/bids"
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/dct-network/dct/pkg/profiling"
	"github.com/dct-network/dct/pkg/serviceconfig"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/pflag"
)

// Config is every setting of an edge agent.
type Config struct {
	// Listen is the gRPC address; Endpoint is the host:port registered in
	// the ledger for gateways to dial (default: the bound listen address).
	Listen   string
	Endpoint string
	// DataDir holds the shard store and the node signing key.
	DataDir string
	// CapacityBytes is the storage offered for shards.
	CapacityBytes int64

	// NodeID is the agent's id in the node registry (default
	// <name>-<organisation>).
	NodeID string
	// Name is the agent's host name within its organisation's crypto
	// material (agent0, agent1, …).
	Name         string
	Zone         string
	Latitude     float64
	Longitude    float64
	BandwidthBps int64

	// TLSCert/TLSKey is the agent's server certificate.
	TLSCert string
	TLSKey  string
	// MemberCAs are the member organisations' MSP CAs, "MSPID=ca.pem"
	// (memberauth.LoadVerifier: a PEM file, which may bundle several, or
	// an MSP's cacerts directory; an MSP may be listed more than once, a
	// CA only for one MSP): clients authenticate with their enrollment
	// certificate, whose verifying CA names their MSP, and must have the
	// gateway role in the ledger's identity registry.
	MemberCAs []string
	// UploadIdleTimeout aborts an upload that sends nothing for that long.
	UploadIdleTimeout time.Duration
	// RoleCacheTTL is how long a gateway grant read from the ledger is
	// trusted (a refusal: server.DenyTTL, RoleCacheTTL/12 and at least 1s).
	RoleCacheTTL time.Duration

	// Ledger is the peer and the operator identity registration uses:
	// explicit settings, a connection profile and MSP directory, or a test
	// network's run directory (NetworkDir, Org), which also gives the TLS
	// material above.
	serviceconfig.Ledger

	// Mesh is the latency mesh shared with the gateways (no MeshListen:
	// no mesh).
	serviceconfig.Mesh

	// Register makes the agent register (or update) itself in the node
	// registry on start. The agent reads the ledger (identity registry,
	// manifests) with its identity either way.
	Register        bool
	RegisterTimeout time.Duration
	// SLAAttest makes the agent count, every SLASampleInterval, what the
	// mesh shows of other organisations' registered nodes (alive or not,
	// Vivaldi RTT) and submit one sla:Attest an epoch, SLAGrace after it
	// ends, with its node identity (needs the mesh).
	SLAAttest         bool
	SLAGrace          time.Duration
	SLASampleInterval time.Duration
	ShutdownTimeout   time.Duration
	LogLevel          string
	// PprofListen serves Go's runtime profiles (net/http/pprof) on a
	// loopback address; empty (the default) = off.
	PprofListen string
	// OpsListen is the operations listener (like Fabric's): GET /metrics
	// (Prometheus), /healthz and /readyz (JSON); empty = off.
	OpsListen string

	// Bid makes the agent keep a sealed standing bid for its node's
	// storage contracts under BidPolicy, re-bid every BidInterval when its
	// free space changed materially, reveal it in every auction, and
	// withdraw it when it leaves. BidKeyFile (>= 32 bytes, shared by the
	// organisation's agents and gateways) encrypts the bid's opening for
	// the organisation's gateways, which reveal when the agent does not.
	Bid         bool
	BidPolicy   bids.Policy
	BidInterval time.Duration
	BidKeyFile  string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Listen:            "127.0.0.1:9500",
		CapacityBytes:     1 << 30,
		Name:              "agent0",
		Zone:              "local",
		BandwidthBps:      100_000_000,
		Register:          true,
		SLAAttest:         true,
		SLAGrace:          5 * time.Second,
		SLASampleInterval: 5 * time.Second,
		RegisterTimeout:   2 * time.Minute,
		UploadIdleTimeout: 30 * time.Second,
		RoleCacheTTL:      time.Minute,
		ShutdownTimeout:   10 * time.Second,
		LogLevel:          "info",
		BidPolicy:         bids.Policy{StoragePerGBMonth: 10, DeliveryPerMiB: 1, RebidPercent: bids.DefaultRebidPercent},
		BidInterval:       5 * time.Second,
	}
}

// EnvPrefix starts the environment variable of every setting.
const EnvPrefix = "DCT_AGENT_"

// RegisterFlags binds every setting to a flag and to the
// DCT_AGENT_<FLAG> environment variable (upper case, '-' as '_'); an
// explicit flag wins over the variable. Call the returned function after
// parsing: it applies the environment and reports malformed variables
// (wrapping ErrConfig).
func (c *Config) RegisterFlags(fs *pflag.FlagSet, opts ...settings.Option) (applyEnv func() error) {
	s := settings.New(fs, EnvPrefix, opts...)
	s.String(&c.Listen, "listen", "gRPC listen address host:port")
	s.String(&c.Endpoint, "endpoint", "host:port registered for gateways to dial (default: the bound listen address)")
	s.String(&c.DataDir, "data-dir", "directory of the shard store and node key (default with --network-dir: <network-dir>/agents/<node-id>)")
	s.Int64(&c.CapacityBytes, "capacity-bytes", "storage offered for shards, in bytes")
	s.String(&c.NodeID, "node-id", "node id in the ledger's registry (default <name>-<organisation>)")
	s.String(&c.Name, "name", "agent host name within the organisation's crypto material (agent0, agent1, …)")
	s.String(&c.Zone, "zone", "placement zone")
	s.Float64(&c.Latitude, "latitude", "latitude in degrees")
	s.Float64(&c.Longitude, "longitude", "longitude in degrees")
	s.Int64(&c.BandwidthBps, "bandwidth-bps", "bandwidth offered, in bits per second")
	s.String(&c.TLSCert, "tls-cert", "agent TLS server certificate (PEM)")
	s.String(&c.TLSKey, "tls-key", "agent TLS server key (PEM)")
	s.StringList(&c.MemberCAs, "member-cas", "member MSP CAs as MSPID=ca.pem (a PEM file or an MSP cacerts directory): clients authenticate with an enrollment certificate of a member and must be a gateway in the ledger's identity registry (default with --network-dir: every organisation's msp/cacerts)")
	s.Duration(&c.UploadIdleTimeout, "upload-idle-timeout", "abort an upload that sends nothing for this long, releasing its reserved capacity")
	s.Duration(&c.RoleCacheTTL, "role-cache-ttl", "how long a gateway role read from the ledger is trusted before asking again")
	c.Ledger.Register(s, "the operator")
	c.Mesh.Register(s)
	s.Bool(&c.Register, "register", "register or update the node in the ledger on start")
	s.Duration(&c.RegisterTimeout, "register-timeout", "how long to retry the registration")
	s.Bool(&c.SLAAttest, "sla-attest", "submit one SLA attestation (sla:Attest) per epoch of what the mesh shows of other organisations' nodes")
	s.Duration(&c.SLAGrace, "sla-grace", "wait after an epoch ends before its SLA attestation is submitted")
	s.Duration(&c.SLASampleInterval, "sla-sample-interval", "how often the mesh's view of each node is counted as an SLA probe")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", "graceful shutdown deadline")
	s.String(&c.LogLevel, "log-level", "debug, info, warn or error")
	s.String(&c.PprofListen, "pprof-listen", "loopback address serving Go runtime profiles (/debug/pprof/; empty = off)")
	s.String(&c.OpsListen, "ops-listen", "operations listener address serving /metrics (Prometheus), /healthz and /readyz (empty = off)")
	s.Bool(&c.Bid, "bid", "keep a sealed bid for storage contracts, reveal it in every auction, withdraw it on leave")
	s.Int64(&c.BidPolicy.StoragePerGBMonth, "bid-storage-price", "tokens asked per GB stored for 30 days")
	s.Int64(&c.BidPolicy.DeliveryPerMiB, "bid-delivery-price", "tokens asked per MiB delivered (the consortium price's unit)")
	s.Int64(&c.BidPolicy.BandwidthBps, "bid-bandwidth-bps", "bandwidth offered in bids (0 = --bandwidth-bps)")
	s.Int64(&c.BidPolicy.MaxCapacityBytes, "bid-max-capacity-bytes", "most storage offered in bids (0 = all free space)")
	s.Int(&c.BidPolicy.RebidPercent, "bid-rebid-percent", "change of free space, in percent, that replaces the bid")
	s.Duration(&c.BidInterval, "bid-interval", "how often the free space is compared with the bid's")
	s.String(&c.BidKeyFile, "bid-key-file", "the organisation's bid key (>= 32 bytes), encrypting the bid's opening for its gateways (default with --network-dir: the organisation's)")
	return func() error {
		if err := s.Apply(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return nil
	}
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("invalid agent config")

// Resolve fills the ledger settings (from the connection profile, MSP
// directory and NetworkDir), with NetworkDir the TLS material of the
// organisation's agent Name, and the node id and data directory defaults;
// explicit settings win.
func (c *Config) Resolve() error {
	c.Ledger.NetworkIdentity = func(org netdesc.OrgInfo) (netdesc.Identity, error) {
		return org.NodeIdentity(c.Name)
	}
	desc, org, err := c.Ledger.Resolve()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if desc != nil {
		set := func(p *string, v string) {
			if *p == "" {
				*p = v
			}
		}
		cert, key := org.AgentTLS(c.Name)
		set(&c.TLSCert, cert)
		set(&c.TLSKey, key)
		if c.MeshListen != "" {
			set(&c.MeshKeyring, desc.MeshKeyringFile)
		}
		if len(c.MemberCAs) == 0 {
			cas, err := desc.MemberCAs()
			if err != nil {
				return fmt.Errorf("%w: --network-dir: %w", ErrConfig, err)
			}
			c.MemberCAs = cas
		}
		set(&c.BidKeyFile, org.BidKeyFile)
	}
	// Node ids live in the operator organisation's namespace.
	if c.NodeID == "" && c.Name != "" {
		c.NodeID = c.Name
		if c.MSPID != "" {
			c.NodeID += "-" + records.OrgSlug(c.MSPID)
		}
	}
	if c.DataDir == "" && c.NetworkDir != "" && c.NodeID != "" {
		c.DataDir = filepath.Join(c.NetworkDir, "agents", c.NodeID)
	}
	return nil
}

// Validate checks the configuration (after Resolve).
func (c Config) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return bad("listen address %q: %v", c.Listen, err)
	}
	if err := profiling.CheckAddr(c.PprofListen); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := metrics.CheckAddr(c.OpsListen); err != nil {
		return fmt.Errorf("%w: --ops-listen: %w", ErrConfig, err)
	}
	if c.Endpoint != "" {
		if err := records.ValidateEndpoint(c.Endpoint); err != nil {
			return bad("endpoint: %v", err)
		}
	} else if c.Register {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			return bad("listen address %q is not dialable: set --endpoint to the address gateways reach", c.Listen)
		}
	}
	if c.DataDir == "" {
		return bad("data directory is not set (--data-dir, or --network-dir for a default)")
	}
	// The node's own fields are checked by the rules the chaincode
	// applies (endpoint and key are checked when the agent registers).
	in := c.nodeInput("", "")
	if err := in.ValidateSettings(); err != nil {
		return fmt.Errorf("%w: node settings: %w", ErrConfig, err)
	}
	files := []struct{ name, path, hint string }{
		{"TLS certificate", c.TLSCert, "--tls-cert"},
		{"TLS key", c.TLSKey, "--tls-key"},
	}
	// The agent authorises every call on the ledger, registering or not.
	if err := c.Settings.Validate(); err != nil {
		return bad("%v (set --connection-profile and --msp-dir, the ledger flags or --network-dir)", err)
	}
	if c.Register && c.RegisterTimeout <= 0 {
		return bad("register timeout must be positive")
	}
	if _, err := memberauth.LoadVerifier(c.MemberCAs); err != nil {
		return bad("member CAs (--member-cas MSPID=ca.pem,… or --network-dir): %v", err)
	}
	if c.UploadIdleTimeout <= 0 {
		return bad("upload idle timeout must be positive")
	}
	if c.RoleCacheTTL <= 0 {
		return bad("role cache TTL must be positive")
	}
	for _, f := range files {
		if f.path == "" {
			return bad("%s is not set (%s or --network-dir)", f.name, f.hint)
		}
		if _, err := os.Stat(f.path); err != nil {
			return bad("%s: %v", f.name, err)
		}
	}
	if c.ShutdownTimeout <= 0 {
		return bad("shutdown timeout must be positive")
	}
	// The grace is checked against the ledger's epoch length at start-up
	// (checkEpochLength); here against the longest a ledger allows.
	if c.SLAAttest && (c.SLAGrace < 0 || c.SLAGrace >= time.Duration(records.MaxEpochSeconds)*time.Second || c.SLASampleInterval <= 0) {
		return bad("--sla-grace must be in [0, %ds) and --sla-sample-interval positive", records.MaxEpochSeconds)
	}
	if err := c.validateMesh(); err != nil {
		return err
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if c.Bid {
		if err := c.BidPolicy.Validate(); err != nil {
			return bad("%v", err)
		}
		if c.BidInterval <= 0 {
			return bad("bid interval must be positive")
		}
		if _, err := c.bidKey(); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

// bidKey reads BidKeyFile (none: nil).
func (c Config) bidKey() (bids.Key, error) {
	if c.BidKeyFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(c.BidKeyFile)
	if err != nil {
		return nil, fmt.Errorf("bid key: %w", err)
	}
	k := bids.Key(b)
	return k, k.Validate()
}

// validateMesh checks the mesh settings.
func (c Config) validateMesh() error {
	if err := c.Mesh.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.MeshListen == "" {
		return nil
	}
	if err := c.meshConfig(c.Listen, nil).Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if host, _, _ := net.SplitHostPort(c.MeshListen); c.MeshAdvertise == "" {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			return fmt.Errorf("%w: mesh address %q is not reachable: set --mesh-advertise to the address mesh members reach",
				ErrConfig, c.MeshListen)
		}
	}
	return nil
}

// nodeInput is the agent's entry in the node registry.
func (c Config) nodeInput(endpoint, publicKey string) records.NodeInput {
	return records.NodeInput{
		ID: c.NodeID, Endpoint: endpoint, Zone: c.Zone, Latitude: c.Latitude, Longitude: c.Longitude,
		StorageBytes: c.CapacityBytes, BandwidthBps: c.BandwidthBps, PublicKey: publicKey,
	}
}

// meshConfig is the agent's mesh membership: named by its node id, with its
// gRPC endpoint and zone as tags.
func (c Config) meshConfig(endpoint string, log *slog.Logger) mesh.Config {
	return mesh.Config{
		Name: c.NodeID, Role: mesh.RoleAgent, NodeID: c.NodeID,
		Bind: c.MeshListen, Advertise: c.MeshAdvertise, Join: c.MeshJoin,
		Tags:   map[string]string{mesh.TagGRPC: endpoint, mesh.TagZone: c.Zone},
		Logger: log,
	}
}

func (c Config) level() (slog.Level, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("%w: log level %q (debug, info, warn or error)", ErrConfig, c.LogLevel)
	}
	return lvl, nil
}

// checkEpochLength checks the settings that depend on the ledger's epoch
// length (delivery:Epoch), learnt at start-up: the SLA grace must end
// within the next epoch.
func (c Config) checkEpochLength(seconds int64) error {
	if c.SLAAttest && c.SLAGrace >= time.Duration(seconds)*time.Second {
		return fmt.Errorf("%w: --sla-grace %v is not shorter than the ledger's epoch (%d s)", ErrConfig, c.SLAGrace, seconds)
	}
	return nil
}
