package edgeagent

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/mesh"
	testnetwork "github.com/dct-network/dct/test-network"
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

	// TLSCert/TLSKey is the agent's server certificate; ClientCA is the PEM
	// bundle of the consortium's TLS CAs that client certificates must
	// chain to.
	TLSCert  string
	TLSKey   string
	ClientCA string

	// NetworkDir, when set, is a test-network run directory: the ledger and
	// TLS settings of Org are read from its network.json.
	NetworkDir string
	Org        string

	// Settings are the peer and the operator identity registration uses.
	ledger.Settings

	// MeshListen is the gossip address (host:port, UDP and TCP) of the
	// latency mesh shared with the gateways; empty leaves the mesh off.
	// MeshAdvertise is the host:port other members reach it at (default:
	// the bound address); MeshJoin are seed members' gossip addresses.
	MeshListen    string
	MeshAdvertise string
	MeshJoin      []string

	// Register makes the agent register (or update) itself in the node
	// registry on start.
	Register        bool
	RegisterTimeout time.Duration
	ShutdownTimeout time.Duration
	LogLevel        string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:9500",
		CapacityBytes:   1 << 30,
		Name:            "agent0",
		Zone:            "local",
		BandwidthBps:    100_000_000,
		Register:        true,
		RegisterTimeout: 2 * time.Minute,
		ShutdownTimeout: 10 * time.Second,
		LogLevel:        "info",
	}
}

// EnvPrefix starts the environment variable of every setting.
const EnvPrefix = "DCT_AGENT_"

func env(key string) (string, bool) {
	v, ok := os.LookupEnv(EnvPrefix + key)
	return v, ok && v != ""
}

// RegisterFlags binds every setting to a flag whose default comes from the
// DCT_AGENT_<NAME> environment variable when set. A malformed variable is
// reported by the returned function (call it after parsing).
func (c *Config) RegisterFlags(fs *pflag.FlagSet) (envErr func() error) {
	var errs []error
	parse := func(envKey string, set func(string) error) {
		if v, ok := env(envKey); ok {
			if err := set(v); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s%s=%q: %v", ErrConfig, EnvPrefix, envKey, v, err))
			}
		}
	}
	usage := func(u, envKey string) string { return u + " (" + EnvPrefix + envKey + ")" }
	str := func(p *string, name, envKey, u string) {
		parse(envKey, func(v string) error { *p = v; return nil })
		fs.StringVar(p, name, *p, usage(u, envKey))
	}
	i64 := func(p *int64, name, envKey, u string) {
		parse(envKey, func(v string) (err error) { *p, err = strconv.ParseInt(v, 10, 64); return })
		fs.Int64Var(p, name, *p, usage(u, envKey))
	}
	f64 := func(p *float64, name, envKey, u string) {
		parse(envKey, func(v string) (err error) { *p, err = strconv.ParseFloat(v, 64); return })
		fs.Float64Var(p, name, *p, usage(u, envKey))
	}
	boolean := func(p *bool, name, envKey, u string) {
		parse(envKey, func(v string) (err error) { *p, err = strconv.ParseBool(v); return })
		fs.BoolVar(p, name, *p, usage(u, envKey))
	}
	list := func(p *[]string, name, envKey, u string) {
		parse(envKey, func(v string) error { *p = splitList(v); return nil })
		fs.StringSliceVar(p, name, *p, usage(u, envKey))
	}
	dur := func(p *time.Duration, name, envKey, u string) {
		parse(envKey, func(v string) (err error) { *p, err = time.ParseDuration(v); return })
		fs.DurationVar(p, name, *p, usage(u, envKey))
	}
	str(&c.Listen, "listen", "LISTEN", "gRPC listen address host:port")
	str(&c.Endpoint, "endpoint", "ENDPOINT", "host:port registered for gateways to dial (default: the bound listen address)")
	str(&c.DataDir, "data-dir", "DATA_DIR", "directory of the shard store and node key (default with --network-dir: <network-dir>/agents/<node-id>)")
	i64(&c.CapacityBytes, "capacity-bytes", "CAPACITY_BYTES", "storage offered for shards, in bytes")
	str(&c.NodeID, "node-id", "NODE_ID", "node id in the ledger's registry (default <name>-<organisation>)")
	str(&c.Name, "name", "NAME", "agent host name within the organisation's crypto material (agent0, agent1, …)")
	str(&c.Zone, "zone", "ZONE", "placement zone")
	f64(&c.Latitude, "latitude", "LATITUDE", "latitude in degrees")
	f64(&c.Longitude, "longitude", "LONGITUDE", "longitude in degrees")
	i64(&c.BandwidthBps, "bandwidth-bps", "BANDWIDTH_BPS", "bandwidth offered, in bits per second")
	str(&c.TLSCert, "tls-cert", "TLS_CERT", "agent TLS server certificate (PEM)")
	str(&c.TLSKey, "tls-key", "TLS_KEY", "agent TLS server key (PEM)")
	str(&c.ClientCA, "client-ca", "CLIENT_CA", "PEM bundle of the TLS CAs client certificates must chain to")
	str(&c.NetworkDir, "network-dir", "NETWORK_DIR", "test-network run directory to take ledger and TLS settings from")
	str(&c.Org, "org", "ORG", "organisation (MSP id) operating this agent within --network-dir")
	str(&c.PeerAddress, "peer-address", "PEER_ADDRESS", "Fabric peer gateway endpoint host:port")
	str(&c.PeerTLSCA, "peer-tls-ca", "PEER_TLS_CA", "PEM CA of the peer's TLS certificate")
	str(&c.MSPID, "msp-id", "MSP_ID", "MSP id of the operator identity")
	str(&c.CertFile, "cert", "CERT", "operator identity certificate (PEM)")
	str(&c.KeyPath, "key", "KEY", "operator identity private key file or keystore directory")
	str(&c.Channel, "channel", "CHANNEL", "channel (default dct, or the test network's)")
	str(&c.Chaincode, "chaincode", "CHAINCODE", "chaincode name (default dct, or the test network's)")
	str(&c.MeshListen, "mesh-listen", "MESH_LISTEN", "gossip address host:port (UDP and TCP) of the latency mesh; empty: no mesh")
	str(&c.MeshAdvertise, "mesh-advertise", "MESH_ADVERTISE", "gossip address host:port other mesh members reach (default: the bound --mesh-listen address)")
	list(&c.MeshJoin, "mesh-join", "MESH_JOIN", "comma-separated gossip addresses host:port of mesh members to join (retried until one answers)")
	boolean(&c.Register, "register", "REGISTER", "register or update the node in the ledger on start")
	dur(&c.RegisterTimeout, "register-timeout", "REGISTER_TIMEOUT", "how long to retry the registration")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", "graceful shutdown deadline")
	str(&c.LogLevel, "log-level", "LOG_LEVEL", "debug, info, warn or error")
	return func() error { return errors.Join(errs...) }
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("invalid agent config")

// Resolve fills the ledger, TLS and identity settings from NetworkDir when
// given, and the node id and data directory defaults; explicit settings
// win.
func (c *Config) Resolve() error {
	defer c.Settings.FillFrom(ledger.DefaultSettings())
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	orgName := c.MSPID
	if c.NetworkDir != "" {
		desc, err := testnetwork.Load(c.NetworkDir)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if len(desc.Orgs) == 0 {
			return fmt.Errorf("%w: %s describes no organisation", ErrConfig, c.NetworkDir)
		}
		settings, org, err := desc.ClientSettings(c.Org)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.Settings.FillFrom(settings)
		set(&c.ClientCA, desc.TLSRootBundle)
		// cryptogen: <org>/msp next to <org>/peers/<host>.<domain>/tls.
		hostTLS := filepath.Join(filepath.Dir(org.MSPDir), "peers", c.Name+"."+org.Domain, "tls")
		set(&c.TLSCert, filepath.Join(hostTLS, "server.crt"))
		set(&c.TLSKey, filepath.Join(hostTLS, "server.key"))
		orgName = org.Name
	}
	if c.NodeID == "" && c.Name != "" {
		c.NodeID = c.Name
		if orgName != "" {
			c.NodeID += "-" + idPart(orgName)
		}
	}
	if c.DataDir == "" && c.NetworkDir != "" && c.NodeID != "" {
		c.DataDir = filepath.Join(c.NetworkDir, "agents", c.NodeID)
	}
	return nil
}

var nonIDChars = regexp.MustCompile(`[^a-z0-9-]+`)

// idPart turns an organisation name into node-id characters.
func idPart(s string) string {
	return strings.Trim(nonIDChars.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

var zoneRe = regexp.MustCompile(records.ZonePattern)

// Validate checks the configuration (after Resolve).
func (c Config) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return bad("listen address %q: %v", c.Listen, err)
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
	if c.CapacityBytes <= 0 {
		return bad("capacity must be positive, got %d bytes", c.CapacityBytes)
	}
	if err := records.ValidateNodeID(c.NodeID); err != nil {
		return bad("node id: %v", err)
	}
	if !zoneRe.MatchString(c.Zone) {
		return bad("zone %q must match %s", c.Zone, records.ZonePattern)
	}
	if math.IsNaN(c.Latitude) || c.Latitude < -90 || c.Latitude > 90 {
		return bad("latitude must be in -90..90, got %v", c.Latitude)
	}
	if math.IsNaN(c.Longitude) || c.Longitude < -180 || c.Longitude > 180 {
		return bad("longitude must be in -180..180, got %v", c.Longitude)
	}
	if c.BandwidthBps <= 0 {
		return bad("bandwidth must be positive, got %d bit/s", c.BandwidthBps)
	}
	files := []struct{ name, path, hint string }{
		{"TLS certificate", c.TLSCert, "--tls-cert"},
		{"TLS key", c.TLSKey, "--tls-key"},
		{"client CA bundle", c.ClientCA, "--client-ca"},
	}
	if c.Register {
		if err := c.Settings.Validate(); err != nil {
			return bad("%v (set the ledger flags or --network-dir, or --register=false)", err)
		}
		if c.RegisterTimeout <= 0 {
			return bad("register timeout must be positive")
		}
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
	if err := c.validateMesh(); err != nil {
		return err
	}
	if _, err := c.level(); err != nil {
		return err
	}
	return nil
}

// validateMesh checks the mesh settings.
func (c Config) validateMesh() error {
	if c.MeshListen == "" {
		if c.MeshAdvertise != "" || len(c.MeshJoin) > 0 {
			return fmt.Errorf("%w: --mesh-advertise and --mesh-join need --mesh-listen", ErrConfig)
		}
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
