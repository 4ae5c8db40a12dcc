package testnetwork

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dct-network/dct/network/builder"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/cobra"
)

// EnvPrefix starts the environment variable of every dct-network setting.
const EnvPrefix = "DCT_"

// OrgsFromNames builds peer organisations from short names: "BankA" becomes
// MSP id BankAMSP and domain banka.dct.test.
func OrgsFromNames(names []string) []Org {
	var out []Org
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		out = append(out, Org{Name: n, MSPID: n + "MSP", Domain: strings.ToLower(n) + ".dct.test"})
	}
	return out
}

// cli holds the settings every dct-network subcommand shares.
type cli struct {
	stdout           io.Writer
	runDir, logLevel string
}

// applyEnv returns a function applying the environment of s (after flag
// parsing), reporting malformed values as ErrConfig.
func applyEnv(s *settings.Set) func() error {
	return func() error {
		if err := s.Apply(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return nil
	}
}

// NewCommand returns the dct-network command line: up, down, status and
// package. Every flag of up, down and status also reads the DCT_<FLAG>
// environment variable (upper case, '-' as '_'); a flag wins over its
// variable and a malformed variable is an error.
func NewCommand(stdout io.Writer) *cobra.Command {
	c := &cli{stdout: stdout, runDir: filepath.Join(".run", "network"), logLevel: "info"}
	root := &cobra.Command{
		Use:           "dct-network",
		Short:         "Bring a native Hyperledger Fabric 2.5 network with the DCT chaincode up and down",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	s := settings.New(root.PersistentFlags(), EnvPrefix)
	s.String(&c.runDir, "run-dir", "directory holding all network state")
	s.String(&c.logLevel, "log-level", "debug, info, warn or error")
	apply := applyEnv(s)
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return apply() }
	root.AddCommand(c.upCommand(), c.downCommand(), c.statusCommand(), c.packageCommand(), c.clientFlagsCommand(), c.grantCommand(),
		c.generateCommand(), c.deployCommand())
	return root
}

// upOptions are the settings of dct-network up.
type upOptions struct {
	cfg      Config
	cacheDir string
	orgs     []string
	svc      Services
}

// upCommand is dct-network up.
func (c *cli) upCommand() *cobra.Command {
	o := &upOptions{cfg: DefaultConfig("", ""), cacheDir: ".cache", orgs: []string{"Org1", "Org2"}, svc: Services{Mesh: true, Auction: true}}
	var apply func() error
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create the network, deploy the chaincode and wait until it endorses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := apply(); err != nil {
				return err
			}
			return c.up(cmd.Context(), o)
		},
	}
	s := settings.New(cmd.Flags(), EnvPrefix)
	cfg := &o.cfg
	s.String(&o.cacheDir, "cache-dir", "where the Makefile put Fabric tools, the builder and the chaincode")
	s.String(&cfg.Host, "host", "address every node listens on")
	s.Int(&cfg.BasePort, "base-port", "first port of the block of ports the network uses")
	s.Int(&cfg.Orderers, "orderers", "Raft orderers: 1 or 3")
	s.StringList(&o.orgs, "orgs", "peer organisation names")
	s.String(&cfg.Channel, "channel", "channel name")
	s.String(&cfg.ChaincodeName, "chaincode", "chaincode name")
	s.String(&cfg.ChaincodeVersion, "chaincode-version", "chaincode version")
	s.Duration(&cfg.BatchTimeout, "batch-timeout", "orderer batch timeout")
	s.Duration(&cfg.RaftTick, "raft-tick", "Raft tick interval")
	s.Duration(&cfg.GossipInterval, "gossip-interval", "peer gossip alive/reconnect interval")
	s.Int64(&cfg.EpochSeconds, "epoch-seconds", "the ledger's epoch length, set once after the chaincode is committed (0 = the chaincode's default, 60)")
	s.Int(&o.svc.AgentsPerOrg, "agents-per-org", "edge agents started per organisation, 0..9")
	s.Int(&o.svc.Gateways, "gateways", "HTTP gateways started, acting for the organisations in turn")
	s.Int(&o.svc.AgentPort, "agent-port", "first agent port; agent a of org j gets +10j+a (default base port + 300)")
	s.Int(&o.svc.GatewayPort, "gateway-port", "first gateway HTTP port (default base port + 400)")
	s.Bool(&o.svc.Mesh, "mesh", "join agents and gateways in the gossip mesh")
	s.Bool(&o.svc.Auction, "auction", "agents bid for storage contracts and gateways place shards by auction")
	s.Int(&o.svc.MeshPort, "mesh-port", "first gossip port; agent a of org j gets +10j+a, gateway g +100+g (default base port + 500)")
	s.String(&o.svc.BinDir, "bin-dir", "where dct-agent and dct-gateway are (default <cache-dir>/bin)")
	s.Duration(&cfg.ReadyTimeout, "ready-timeout", "give up if not ready by then")
	apply = applyEnv(s)
	return cmd
}

// up brings the network and its services up and prints what runs.
func (c *cli) up(ctx context.Context, o *upOptions) error {
	cfg := DefaultConfig(c.runDir, o.cacheDir)
	cfg.Host, cfg.BasePort, cfg.Orderers = o.cfg.Host, o.cfg.BasePort, o.cfg.Orderers
	cfg.Channel, cfg.ChaincodeName, cfg.ChaincodeVersion = o.cfg.Channel, o.cfg.ChaincodeName, o.cfg.ChaincodeVersion
	cfg.BatchTimeout, cfg.RaftTick, cfg.ReadyTimeout, cfg.GossipInterval = o.cfg.BatchTimeout, o.cfg.RaftTick, o.cfg.ReadyTimeout, o.cfg.GossipInterval
	cfg.EpochSeconds = o.cfg.EpochSeconds
	cfg.Orgs = OrgsFromNames(o.orgs)
	cfg.Logger = newLogger(c.logLevel)
	cfg.AgentsPerOrg = o.svc.AgentsPerOrg
	desc, tm, err := Up(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "network up in %s (crypto+genesis %s, nodes %s, channel %s, chaincode %s, endorsement ready %s, roles %s)\n",
		tm.Total.Round(time.Millisecond), tm.Crypto.Round(time.Millisecond), tm.Nodes.Round(time.Millisecond),
		tm.Channel.Round(time.Millisecond), tm.Chaincode.Round(time.Millisecond), tm.Ready.Round(time.Millisecond), tm.Roles.Round(time.Millisecond))
	if o.svc.AgentsPerOrg > 0 || o.svc.Gateways > 0 {
		if err := c.startServices(ctx, desc, cfg, o); err != nil {
			return err
		}
	}
	printSummary(c.stdout, desc)
	return nil
}

// startServices starts the agents and gateways of up, with ports and
// binaries defaulting from the network's; on failure it takes the network
// down again.
func (c *cli) startServices(ctx context.Context, desc *Description, cfg Config, o *upOptions) error {
	svc := o.svc
	defAgent, defGateway := ServicePorts(cfg.BasePort)
	if svc.AgentPort == 0 {
		svc.AgentPort = defAgent
	}
	if svc.GatewayPort == 0 {
		svc.GatewayPort = defGateway
	}
	if svc.MeshPort == 0 {
		svc.MeshPort = MeshPort(cfg.BasePort)
	}
	if svc.BinDir == "" {
		svc.BinDir = filepath.Join(o.cacheDir, "bin")
	}
	var err error
	if svc.BinDir, err = filepath.Abs(svc.BinDir); err != nil {
		return err
	}
	svc.LogLevel, svc.Logger = c.logLevel, cfg.Logger
	start := time.Now()
	if err := StartServices(ctx, desc, svc); err != nil {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = Down(dctx, desc.RunDir, false)
		return err
	}
	fmt.Fprintf(c.stdout, "%d agents and %d gateways up in %s\n", len(desc.Agents), len(desc.Gateways), time.Since(start).Round(time.Millisecond))
	for _, g := range desc.Gateways {
		fmt.Fprintf(c.stdout, "gateway %s (%s): %s, admin %s\n", g.Name, g.Org, g.URL, g.AdminURL)
	}
	return nil
}

// downCommand is dct-network down.
func (c *cli) downCommand() *cobra.Command {
	var keep bool
	var apply func() error
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop every process of the network and free its ports",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := apply(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := Down(ctx, c.runDir, !keep); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "network in %s is down\n", c.runDir)
			return nil
		},
	}
	s := settings.New(cmd.Flags(), EnvPrefix)
	s.Bool(&keep, "keep-state", "keep the run directory (ledgers, logs, crypto)")
	apply = applyEnv(s)
	return cmd
}

// statusCommand is dct-network status.
func (c *cli) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "List the network's running processes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			procs, err := running(filepath.Join(c.runDir, "pids"))
			if err != nil {
				return err
			}
			if len(procs) == 0 {
				return fmt.Errorf("no network process is running in %s", c.runDir)
			}
			names := make([]string, 0, len(procs))
			for n := range procs {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(c.stdout, "%-32s pid %d\n", n, procs[n])
			}
			return nil
		},
	}
}

// packageCommand is dct-network package. Its flags describe one package
// and read no environment.
func (c *cli) packageCommand() *cobra.Command {
	var label, address, rootCert, dialTimeout, out string
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Write a chaincode-as-a-service package for an existing network and print its package id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn := builder.Connection{Address: address, DialTimeout: dialTimeout}
			if rootCert != "" {
				pemBytes, err := os.ReadFile(rootCert)
				if err != nil {
					return err
				}
				conn.TLSRequired, conn.RootCert = true, string(pemBytes)
			}
			b, err := builder.Package(label, conn)
			if err != nil {
				return err
			}
			if out == "" {
				out = label + ".tar.gz"
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "wrote %s\npackage id %s\n", out, builder.PackageID(label, b))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&label, "label", "dct_1.0", "package label")
	f.StringVar(&address, "address", "", "host:port where the chaincode server listens, as the peers dial it")
	f.StringVar(&rootCert, "tls-root-cert", "", "PEM CA of the chaincode server's TLS certificate (enables TLS)")
	f.StringVar(&dialTimeout, "dial-timeout", "10s", "how long a peer waits to connect")
	f.StringVar(&out, "output", "", "package file (default LABEL.tar.gz)")
	_ = cmd.MarkFlagRequired("address")
	return cmd
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func printSummary(w io.Writer, d *Description) {
	fmt.Fprintf(w, "channel %s, chaincode %s (package %s), endorsement policy %s\n", d.Channel, d.Chaincode, d.ChaincodePackageID, d.EndorsementPolicy)
	for _, o := range d.Orderers {
		fmt.Fprintf(w, "  orderer  %-28s %s (admin %s, operations %s)\n", o.Name, o.Address, o.AdminAddress, o.OperationsAddress)
	}
	for _, org := range d.Orgs {
		for _, p := range org.Peers {
			fmt.Fprintf(w, "  peer     %-28s %s (%s, operations %s)\n", p.Name, p.Address, org.MSPID, p.OperationsAddress)
		}
		fmt.Fprintf(w, "  profile  %s\n", org.ConnectionProfile)
	}
	fmt.Fprintf(w, "  chaincode server %s\n  description %s\n", d.ChaincodeAddress, filepath.Join(d.RunDir, DescriptionFile))
	for _, a := range d.Agents {
		fmt.Fprintf(w, "  agent    %-28s %s (%s, zone %s)\n", a.Name, a.Address, a.Org, a.Zone)
	}
	for _, g := range d.Gateways {
		fmt.Fprintf(w, "  gateway  %-28s %s (%s), admin %s\n", g.Name, g.URL, g.Org, g.AdminURL)
	}
}
