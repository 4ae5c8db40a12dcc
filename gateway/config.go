package gateway

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/ledger"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/spf13/pflag"
)

// Config is every setting of a gateway.
type Config struct {
	// Listen is the HTTP address.
	Listen string
	// NetworkDir, when set, is a test-network run directory: the ledger
	// and agent TLS settings of Org are read from its network.json.
	NetworkDir string
	Org        string

	// Settings are the peer and the identity the gateway acts as.
	ledger.Settings

	// AgentCA verifies agents' TLS certificates (a bundle of the
	// consortium's TLS CAs); AgentClientCert/Key is this gateway's client
	// certificate towards the agents.
	AgentCA         string
	AgentClientCert string
	AgentClientKey  string

	// MasterKeyFile holds the consortium master key (>= 32 bytes).
	MasterKeyFile string

	// Name identifies the gateway in the mesh (default gateway-<listen>).
	Name string
	// MeshListen is the gossip address (empty: no mesh; reads are then
	// routed by observed latencies only); MeshAdvertise what others dial;
	// MeshJoin the comma-separated seeds (agents' gossip addresses).
	MeshListen, MeshAdvertise, MeshJoin string
	// Repair enables the self-healing loop: every RepairInterval the
	// gateway rebuilds the shards of nodes failed for longer than
	// DeadAfter (or deactivated), and at once the copies found corrupt.
	Repair         bool
	RepairInterval time.Duration
	DeadAfter      time.Duration

	Content content.Config

	AllowOrigin     string
	RequestTimeout  time.Duration
	PublishTimeout  time.Duration
	LatestMaxAge    time.Duration
	ShutdownTimeout time.Duration
	LogLevel        string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:8080",
		Content:         content.DefaultConfig(),
		AllowOrigin:     "*",
		RequestTimeout:  60 * time.Second,
		PublishTimeout:  30 * time.Minute,
		LatestMaxAge:    60 * time.Second,
		ShutdownTimeout: 15 * time.Second,
		LogLevel:        "info",
		Repair:          true,
		RepairInterval:  2 * time.Second,
		DeadAfter:       10 * time.Second,
	}
}

func env(key string) (string, bool) {
	v, ok := os.LookupEnv("DCT_" + key)
	return v, ok && v != ""
}

// RegisterFlags binds every setting to a flag whose default comes from the
// DCT_<NAME> environment variable when set.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	str := func(p *string, name, envKey, usage string) {
		if v, ok := env(envKey); ok {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (DCT_"+envKey+")")
	}
	dur := func(p *time.Duration, name, envKey, usage string) {
		if v, ok := env(envKey); ok {
			if d, err := time.ParseDuration(v); err == nil {
				*p = d
			}
		}
		fs.DurationVar(p, name, *p, usage+" (DCT_"+envKey+")")
	}
	i64 := func(p *int64, name, envKey, usage string) {
		if v, ok := env(envKey); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				*p = n
			}
		}
		fs.Int64Var(p, name, *p, usage+" (DCT_"+envKey+")")
	}
	boolean := func(p *bool, name, envKey, usage string) {
		if v, ok := env(envKey); ok {
			if b, err := strconv.ParseBool(v); err == nil {
				*p = b
			}
		}
		fs.BoolVar(p, name, *p, usage+" (DCT_"+envKey+")")
	}
	integer := func(p *int, name, envKey, usage string) {
		if v, ok := env(envKey); ok {
			if n, err := strconv.Atoi(v); err == nil {
				*p = n
			}
		}
		fs.IntVar(p, name, *p, usage+" (DCT_"+envKey+")")
	}
	str(&c.Listen, "listen", "LISTEN", "HTTP listen address")
	str(&c.NetworkDir, "network-dir", "NETWORK_DIR", "test-network run directory to take ledger and TLS settings from")
	str(&c.Org, "org", "ORG", "organisation (MSP id) of this gateway within --network-dir")
	str(&c.PeerAddress, "peer-address", "PEER_ADDRESS", "Fabric peer gateway endpoint host:port")
	str(&c.PeerTLSCA, "peer-tls-ca", "PEER_TLS_CA", "PEM CA of the peer's TLS certificate")
	str(&c.MSPID, "msp-id", "MSP_ID", "MSP id of this gateway's identity")
	str(&c.CertFile, "cert", "CERT", "identity certificate (PEM)")
	str(&c.KeyPath, "key", "KEY", "identity private key file or keystore directory")
	str(&c.Channel, "channel", "CHANNEL", "channel (default dct, or the test network's)")
	str(&c.Chaincode, "chaincode", "CHAINCODE", "chaincode name (default dct, or the test network's)")
	str(&c.AgentCA, "agent-ca", "AGENT_CA", "PEM bundle verifying edge agents' TLS certificates")
	str(&c.AgentClientCert, "agent-client-cert", "AGENT_CLIENT_CERT", "TLS client certificate presented to edge agents")
	str(&c.AgentClientKey, "agent-client-key", "AGENT_CLIENT_KEY", "TLS client key presented to edge agents")
	str(&c.Name, "name", "NAME", "gateway name in the mesh (default gateway-<listen address>)")
	str(&c.MeshListen, "mesh-listen", "MESH_LISTEN", "gossip listen address host:port (empty: no mesh)")
	str(&c.MeshAdvertise, "mesh-advertise", "MESH_ADVERTISE", "gossip address other members dial (default: the listen address)")
	str(&c.MeshJoin, "mesh-join", "MESH_JOIN", "comma-separated gossip seeds (agents' mesh addresses)")
	boolean(&c.Repair, "repair", "REPAIR", "rebuild lost and corrupt shard copies")
	dur(&c.RepairInterval, "repair-interval", "REPAIR_INTERVAL", "interval between repair scans")
	dur(&c.DeadAfter, "dead-after", "DEAD_AFTER", "how long a node must be failed before its shards are rebuilt elsewhere")
	boolean(&c.Content.Hedge, "hedge", "HEDGE", "hedge slow shard requests")
	dur(&c.Content.HedgeMin, "hedge-min", "HEDGE_MIN", "smallest hedge delay")
	dur(&c.Content.HedgeMax, "hedge-max", "HEDGE_MAX", "largest hedge delay")
	dur(&c.Content.HedgeDefault, "hedge-default", "HEDGE_DEFAULT", "hedge delay until enough latencies were seen")
	str(&c.MasterKeyFile, "master-key-file", "MASTER_KEY_FILE", "file holding the consortium master key (>= 32 bytes)")
	integer(&c.Content.K, "k", "K", "data shards per object")
	integer(&c.Content.M, "m", "M", "parity shards per object")
	integer(&c.Content.R, "r", "R", "holders per shard")
	i64(&c.Content.ChunkSize, "chunk-size", "CHUNK_SIZE", "plaintext bytes per encrypted chunk")
	i64(&c.Content.MaxUnit, "max-unit", "MAX_UNIT", "largest shard unit per stripe in bytes")
	i64(&c.Content.MaxObjectBytes, "max-object-bytes", "MAX_OBJECT_BYTES", "largest object accepted")
	i64(&c.Content.CacheBytes, "cache-bytes", "CACHE_BYTES", "decoded-object cache budget in bytes (0 = off)")
	i64(&c.Content.CacheMaxObject, "cache-max-object", "CACHE_MAX_OBJECT", "largest object decoded whole and cached")
	i64(&c.Content.SegmentBytes, "segment-bytes", "SEGMENT_BYTES", "plaintext decoded at a time when streaming large objects")
	dur(&c.Content.ManifestTTL, "manifest-ttl", "MANIFEST_TTL", "how long a looked-up manifest is reused")
	dur(&c.Content.NodesTTL, "nodes-ttl", "NODES_TTL", "how long the node list and agent free space are reused")
	dur(&c.Content.AgentTimeout, "agent-timeout", "AGENT_TIMEOUT", "deadline of one edge-agent call")
	str(&c.AllowOrigin, "allow-origin", "ALLOW_ORIGIN", "CORS Access-Control-Allow-Origin of served assets (empty = no CORS)")
	dur(&c.RequestTimeout, "request-timeout", "REQUEST_TIMEOUT", "deadline of serve and metadata requests")
	dur(&c.PublishTimeout, "publish-timeout", "PUBLISH_TIMEOUT", "deadline of a publish")
	dur(&c.LatestMaxAge, "latest-max-age", "LATEST_MAX_AGE", "Cache-Control max-age of unversioned URLs")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", "graceful shutdown deadline")
	str(&c.LogLevel, "log-level", "LOG_LEVEL", "debug, info, warn or error")
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("invalid gateway config")

// Resolve fills the ledger and TLS settings from NetworkDir when given;
// explicit settings win.
func (c *Config) Resolve() error {
	defer c.Settings.FillFrom(ledger.DefaultSettings())
	if c.NetworkDir == "" {
		return nil
	}
	desc, err := testnetwork.Load(c.NetworkDir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	settings, org, err := desc.ClientSettings(c.Org)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.Settings.FillFrom(settings)
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.AgentCA, desc.TLSRootBundle)
	// UserCert is <user>/msp/signcerts/cert.pem; the TLS client pair is
	// in <user>/tls.
	userTLS := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(org.UserCert))), "tls")
	set(&c.AgentClientCert, filepath.Join(userTLS, "client.crt"))
	set(&c.AgentClientKey, filepath.Join(userTLS, "client.key"))
	set(&c.MasterKeyFile, filepath.Join(c.NetworkDir, "master.key"))
	return nil
}

// Validate checks the configuration (after Resolve).
func (c Config) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen address %q: %v", c.Listen, err)
	}
	if err := c.Settings.Validate(); err != nil {
		return bad("%v (set the ledger flags or --network-dir)", err)
	}
	for name, f := range map[string]string{"agent CA": c.AgentCA, "agent client certificate": c.AgentClientCert,
		"agent client key": c.AgentClientKey, "master key file": c.MasterKeyFile} {
		if f == "" {
			return bad("%s is not set", name)
		}
		if _, err := os.Stat(f); err != nil {
			return bad("%s: %v", name, err)
		}
	}
	if c.MeshListen != "" {
		if _, _, err := net.SplitHostPort(c.MeshListen); err != nil {
			return bad("mesh listen address %q: %v", c.MeshListen, err)
		}
	}
	if c.Repair && (c.RepairInterval <= 0 || c.DeadAfter <= 0) {
		return bad("repair interval and dead-after must be positive")
	}
	if c.RequestTimeout <= 0 || c.PublishTimeout <= 0 || c.ShutdownTimeout <= 0 || c.LatestMaxAge < 0 {
		return bad("timeouts must be positive")
	}
	return nil
}
