package testnetwork

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Config describes the network to bring up. The zero value is not usable:
// start from DefaultConfig and change what you need.
type Config struct {
	// RunDir holds all state: crypto material, configs, ledgers, logs, pids.
	RunDir string
	// FabricBinDir holds peer, orderer, configtxgen, cryptogen and osnadmin.
	FabricBinDir string
	// FabricConfigDir holds Fabric's base core.yaml and orderer.yaml, onto
	// which DCT's overlays are merged.
	FabricConfigDir string
	// BuilderDir is the external chaincode builder (it contains bin/detect,
	// bin/build and bin/release).
	BuilderDir string
	// ChaincodeBinary is the DCT chaincode server executable.
	ChaincodeBinary string

	// Host is the address every node listens on.
	Host string
	// BasePort is the first port of the block the network uses; see Ports.
	BasePort int
	// Orderers is the number of Raft orderers: 1 or 3.
	Orderers int
	// OrdererOrg is the ordering service organisation.
	OrdererOrg Org
	// Orgs are the peer organisations (banks), one peer each.
	Orgs []Org
	// AgentsPerOrg is how many edge-agent TLS identities each organisation
	// gets (agent0, agent1, …).
	AgentsPerOrg int

	Channel          string
	ChaincodeName    string
	ChaincodeVersion string
	// EpochSeconds, when set, is the ledger's epoch length
	// (delivery:SetEpochLength, by the first organisation's admin once
	// the roles are granted, before any service starts); zero keeps the
	// chaincode's default (records.DefaultEpochSeconds).
	EpochSeconds int64

	// BatchTimeout and RaftTick tune the ordering service for latency.
	BatchTimeout time.Duration
	RaftTick     time.Duration
	// GossipInterval is the peers' gossip alive, reconnect and state-info
	// interval; members expire after five of them. Each one signs and
	// verifies messages, so it sets most of an idle peer's CPU; 2s
	// (Fabric's defaults are 4–5s) did not slow the network's start.
	GossipInterval time.Duration
	// ReadyTimeout bounds the whole of Up.
	ReadyTimeout time.Duration

	// Containers lays the network out for containers (Generate and
	// Deploy, the compose consortium) instead of processes on Host: every
	// node is reached by its own host name (orderer0.<orderer domain>,
	// peer0.<org domain>, chaincode.<first org domain>) on Fabric's usual
	// ports, listens on every interface, and keeps its ledger in
	// NodeDataDir (a volume of its own) rather than under the run
	// directory, which the containers share at the same path.
	Containers  bool
	NodeDataDir string

	Logger *slog.Logger
}

// DefaultConfig returns a two-bank, one-orderer network rooted at runDir with
// the tools found under cacheDir (the layout the Makefile builds).
func DefaultConfig(runDir, cacheDir string) Config {
	return Config{
		RunDir:           runDir,
		FabricBinDir:     filepath.Join(cacheDir, "fabric", "bin"),
		FabricConfigDir:  filepath.Join(cacheDir, "fabric", "config"),
		BuilderDir:       filepath.Join(cacheDir, "builder"),
		ChaincodeBinary:  filepath.Join(cacheDir, "bin", "dct-chaincode"),
		Host:             "127.0.0.1",
		BasePort:         7050,
		Orderers:         1,
		OrdererOrg:       Org{Name: "OrdererOrg", MSPID: "OrdererMSP", Domain: "orderer.dct.test"},
		Orgs:             []Org{{Name: "Org1", MSPID: "Org1MSP", Domain: "org1.dct.test"}, {Name: "Org2", MSPID: "Org2MSP", Domain: "org2.dct.test"}},
		Channel:          "dct",
		ChaincodeName:    "dct",
		ChaincodeVersion: "1.0",
		BatchTimeout:     100 * time.Millisecond,
		RaftTick:         100 * time.Millisecond,
		GossipInterval:   2 * time.Second,
		ReadyTimeout:     2 * time.Minute,
	}
}

var (
	orgNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,31}$`)
	mspIDRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,63}$`)
	domainRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	channelRE = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,248}$`)
	ccNameRE  = regexp.MustCompile(`^[A-Za-z0-9]+([A-Za-z0-9_-]*[A-Za-z0-9])?$`)
)

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("invalid test-network config")

// Validate checks the configuration and that the tools exist.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	if c.RunDir == "" {
		return bad("run directory is empty")
	}
	if net.ParseIP(c.Host) == nil {
		return bad("host %q is not an IP address", c.Host)
	}
	if c.Orderers != 1 && c.Orderers != 3 {
		return bad("orderers must be 1 or 3, got %d", c.Orderers)
	}
	if len(c.Orgs) < 1 || len(c.Orgs) > maxOrgs {
		return bad("between 1 and %d peer organisations are needed, got %d", maxOrgs, len(c.Orgs))
	}
	if c.BasePort < 1024 || c.BasePort+c.portSpan() > 65535 {
		return bad("base port %d leaves no room for %d ports", c.BasePort, c.portSpan())
	}
	seen := map[string]bool{}
	for _, o := range append([]Org{c.OrdererOrg}, c.Orgs...) {
		if !orgNameRE.MatchString(o.Name) || !mspIDRE.MatchString(o.MSPID) || !domainRE.MatchString(o.Domain) {
			return bad("organisation %+v: name must be alphanumeric, MSP id and domain well-formed", o)
		}
		for _, k := range []string{"n:" + o.Name, "m:" + o.MSPID, "d:" + o.Domain} {
			if seen[k] {
				return bad("organisation %q repeats a name, MSP id or domain", o.Name)
			}
			seen[k] = true
		}
	}
	if c.AgentsPerOrg < 0 || c.AgentsPerOrg > 9 {
		return bad("agents per organisation must be 0..9, got %d", c.AgentsPerOrg)
	}
	if !channelRE.MatchString(c.Channel) {
		return bad("channel name %q", c.Channel)
	}
	if !ccNameRE.MatchString(c.ChaincodeName) || c.ChaincodeVersion == "" {
		return bad("chaincode name %q / version %q", c.ChaincodeName, c.ChaincodeVersion)
	}
	if c.EpochSeconds != 0 {
		if err := records.ValidateEpochSeconds(c.EpochSeconds); err != nil {
			return bad("epoch seconds: %v", err)
		}
	}
	if c.BatchTimeout <= 0 || c.RaftTick <= 0 || c.ReadyTimeout <= 0 || c.GossipInterval <= 0 {
		return bad("batch timeout, raft tick, gossip interval and ready timeout must be positive")
	}
	if c.Containers {
		return c.validateTools("peer", "configtxgen", "cryptogen", "osnadmin")
	}
	if err := c.validateTools("peer", "orderer", "configtxgen", "cryptogen", "osnadmin"); err != nil {
		return err
	}
	for _, b := range []string{"detect", "build", "release"} {
		if err := executable(filepath.Join(c.BuilderDir, "bin", b)); err != nil {
			return bad("external builder: %v", err)
		}
	}
	if err := executable(c.ChaincodeBinary); err != nil {
		return bad("chaincode server: %v", err)
	}
	return nil
}

// validateTools checks that the named Fabric tools and the base configs
// exist.
func (c Config) validateTools(tools ...string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	for _, tool := range tools {
		if err := executable(filepath.Join(c.FabricBinDir, tool)); err != nil {
			return bad("fabric tool: %v (run scripts/install-fabric.sh)", err)
		}
	}
	for _, f := range []string{"core.yaml", "orderer.yaml"} {
		if _, err := os.Stat(filepath.Join(c.FabricConfigDir, f)); err != nil {
			return bad("fabric base config: %v (run scripts/install-fabric.sh)", err)
		}
	}
	return nil
}

func executable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Port layout, relative to BasePort:
//
//	orderer i:  +10*i (gRPC), +10*i+1 (admin), +10*i+2 (operations)
//	peer of org j: +100+10*j (gRPC), +1 (chaincode), +2 (operations)
//	chaincode server: +200
const (
	maxOrgs        = 10
	peerBlock      = 100
	chaincodeBlock = 200
	// servicesBlock starts the default agent ports (B+300+10j+a) and, 100
	// further, the gateway ports (ServicePorts).
	servicesBlock = 300
)

func (c Config) portSpan() int { return chaincodeBlock + 2 }

func (c Config) ordererPorts(i int) (listen, admin, ops int) {
	p := c.BasePort + 10*i
	return p, p + 1, p + 2
}

func (c Config) peerPorts(j int) (listen, chaincode, ops int) {
	p := c.BasePort + peerBlock + 10*j
	return p, p + 1, p + 2
}

func (c Config) chaincodePort() int { return c.BasePort + chaincodeBlock }

func (c Config) addr(port int) string { return net.JoinHostPort(c.Host, fmt.Sprint(port)) }

// The ports of the container layout (Containers): every node has a host
// of its own, so they are Fabric's usual ones.
const (
	containerOrdererPort      = 7050
	containerOrdererAdminPort = 7053
	containerPeerPort         = 7051
	containerChaincodePort    = 7052
	containerOperationsPort   = 9443
	containerCCaaSPort        = 9999
)

// hostAddr is host:port.
func hostAddr(host string, port int) string { return net.JoinHostPort(host, fmt.Sprint(port)) }

// listenAddr is what a node whose advertised address is addr listens on:
// addr itself on a shared host, every interface in its own container.
func (c Config) listenAddr(addr string) string {
	if !c.Containers {
		return addr
	}
	_, port := splitHostPort(addr)
	return "0.0.0.0:" + port
}

// nodeDataDir is where the node named name keeps its ledger.
func (c Config) nodeDataDir(name string) string {
	if c.Containers && c.NodeDataDir != "" {
		return c.NodeDataDir
	}
	return filepath.Join(c.RunDir, "nodes", name, "data")
}

// absolutize makes every path absolute: tools run with the run directory as
// their working directory.
func (c *Config) absolutize() error {
	for _, p := range []*string{&c.RunDir, &c.FabricBinDir, &c.FabricConfigDir, &c.BuilderDir, &c.ChaincodeBinary} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	return nil
}

// CacheDir is where the Makefile put the Fabric tools, the builder and the
// DCT binaries: $DCT_CACHE_DIR, else fallback made absolute (tests pass the
// repository's .cache relative to their package).
func CacheDir(fallback string) string {
	if d := os.Getenv("DCT_CACHE_DIR"); d != "" {
		return d
	}
	if abs, err := filepath.Abs(fallback); err == nil {
		return abs
	}
	return fallback
}
