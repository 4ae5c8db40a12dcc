package testnetwork

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dct-network/dct/network/builder"
	"github.com/spf13/cobra"
)

// envOr returns the environment variable's value, or def.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envBool(key string, def bool) bool {
	if v, err := strconv.ParseBool(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

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

// NewCommand returns the dct-network command line: up, down and status.
// Every flag also reads a DCT_… environment variable.
func NewCommand(stdout io.Writer) *cobra.Command {
	var (
		runDir, cacheDir, logLevel string
		orgs                       string
		svc                        Services
	)
	def := DefaultConfig("", "")
	cfg := def
	root := &cobra.Command{
		Use:           "dct-network",
		Short:         "Bring a native Hyperledger Fabric 2.5 network with the DCT chaincode up and down",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&runDir, "run-dir", envOr("DCT_RUN_DIR", filepath.Join(".run", "network")), "directory holding all network state (DCT_RUN_DIR)")
	pf.StringVar(&logLevel, "log-level", envOr("DCT_LOG_LEVEL", "info"), "debug, info, warn or error (DCT_LOG_LEVEL)")

	up := &cobra.Command{
		Use:   "up",
		Short: "Create the network, deploy the chaincode and wait until it endorses",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := DefaultConfig(runDir, cacheDir)
			c.Host, c.BasePort, c.Orderers = cfg.Host, cfg.BasePort, cfg.Orderers
			c.Channel, c.ChaincodeName, c.ChaincodeVersion = cfg.Channel, cfg.ChaincodeName, cfg.ChaincodeVersion
			c.BatchTimeout, c.RaftTick, c.ReadyTimeout, c.GossipInterval = cfg.BatchTimeout, cfg.RaftTick, cfg.ReadyTimeout, cfg.GossipInterval
			c.Orgs = OrgsFromNames(strings.Split(orgs, ","))
			c.Logger = newLogger(logLevel)
			c.AgentsPerOrg = svc.AgentsPerOrg
			desc, tm, err := Up(cmd.Context(), c)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "network up in %s (crypto+genesis %s, nodes %s, channel %s, chaincode %s, endorsement ready %s)\n",
				tm.Total.Round(time.Millisecond), tm.Crypto.Round(time.Millisecond), tm.Nodes.Round(time.Millisecond),
				tm.Channel.Round(time.Millisecond), tm.Chaincode.Round(time.Millisecond), tm.Ready.Round(time.Millisecond))
			if svc.AgentsPerOrg > 0 || svc.Gateways > 0 {
				defAgent, defGateway := ServicePorts(c.BasePort)
				if svc.AgentPort == 0 {
					svc.AgentPort = defAgent
				}
				if svc.GatewayPort == 0 {
					svc.GatewayPort = defGateway
				}
				if svc.MeshPort == 0 {
					svc.MeshPort = MeshPort(c.BasePort)
				}
				if svc.BinDir == "" {
					svc.BinDir = filepath.Join(cacheDir, "bin")
				}
				if svc.BinDir, err = filepath.Abs(svc.BinDir); err != nil {
					return err
				}
				svc.LogLevel, svc.Logger = logLevel, c.Logger
				start := time.Now()
				if err := StartServices(cmd.Context(), desc, svc); err != nil {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					_ = Down(ctx, desc.RunDir, false)
					return err
				}
				fmt.Fprintf(stdout, "%d agents and %d gateways up in %s\n", len(desc.Agents), len(desc.Gateways), time.Since(start).Round(time.Millisecond))
			}
			printSummary(stdout, desc)
			return nil
		},
	}
	f := up.Flags()
	f.StringVar(&cacheDir, "cache-dir", envOr("DCT_CACHE_DIR", ".cache"), "where the Makefile put Fabric tools, the builder and the chaincode (DCT_CACHE_DIR)")
	f.StringVar(&cfg.Host, "host", envOr("DCT_HOST", def.Host), "address every node listens on (DCT_HOST)")
	f.IntVar(&cfg.BasePort, "base-port", envInt("DCT_BASE_PORT", def.BasePort), "first port of the block of ports the network uses (DCT_BASE_PORT)")
	f.IntVar(&cfg.Orderers, "orderers", envInt("DCT_ORDERERS", def.Orderers), "Raft orderers: 1 or 3 (DCT_ORDERERS)")
	f.StringVar(&orgs, "orgs", envOr("DCT_ORGS", "Org1,Org2"), "comma-separated peer organisation names (DCT_ORGS)")
	f.StringVar(&cfg.Channel, "channel", envOr("DCT_CHANNEL", def.Channel), "channel name (DCT_CHANNEL)")
	f.StringVar(&cfg.ChaincodeName, "chaincode", envOr("DCT_CHAINCODE", def.ChaincodeName), "chaincode name (DCT_CHAINCODE)")
	f.StringVar(&cfg.ChaincodeVersion, "chaincode-version", envOr("DCT_CHAINCODE_VERSION", def.ChaincodeVersion), "chaincode version (DCT_CHAINCODE_VERSION)")
	f.DurationVar(&cfg.BatchTimeout, "batch-timeout", envDuration("DCT_BATCH_TIMEOUT", def.BatchTimeout), "orderer batch timeout (DCT_BATCH_TIMEOUT)")
	f.DurationVar(&cfg.RaftTick, "raft-tick", envDuration("DCT_RAFT_TICK", def.RaftTick), "Raft tick interval (DCT_RAFT_TICK)")
	f.DurationVar(&cfg.GossipInterval, "gossip-interval", envDuration("DCT_GOSSIP_INTERVAL", def.GossipInterval), "peer gossip alive/reconnect interval (DCT_GOSSIP_INTERVAL)")
	f.IntVar(&svc.AgentsPerOrg, "agents-per-org", envInt("DCT_AGENTS_PER_ORG", 0), "edge agents started per organisation, 0..9 (DCT_AGENTS_PER_ORG)")
	f.IntVar(&svc.Gateways, "gateways", envInt("DCT_GATEWAYS", 0), "HTTP gateways started, acting for the organisations in turn (DCT_GATEWAYS)")
	f.IntVar(&svc.AgentPort, "agent-port", envInt("DCT_AGENT_PORT", 0), "first agent port; agent a of org j gets +10j+a (DCT_AGENT_PORT; default base port + 300)")
	f.IntVar(&svc.GatewayPort, "gateway-port", envInt("DCT_GATEWAY_PORT", 0), "first gateway HTTP port (DCT_GATEWAY_PORT; default base port + 400)")
	f.BoolVar(&svc.Mesh, "mesh", envBool("DCT_MESH", true), "join agents and gateways in the gossip mesh (DCT_MESH)")
	f.IntVar(&svc.MeshPort, "mesh-port", envInt("DCT_MESH_PORT", 0), "first gossip port; agent a of org j gets +10j+a, gateway g +100+g (DCT_MESH_PORT; default base port + 500)")
	f.StringVar(&svc.BinDir, "bin-dir", envOr("DCT_BIN_DIR", ""), "where dct-agent and dct-gateway are (DCT_BIN_DIR; default <cache-dir>/bin)")
	f.DurationVar(&cfg.ReadyTimeout, "ready-timeout", envDuration("DCT_READY_TIMEOUT", def.ReadyTimeout), "give up if not ready by then (DCT_READY_TIMEOUT)")

	var keep bool
	down := &cobra.Command{
		Use:   "down",
		Short: "Stop every process of the network and free its ports",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := Down(ctx, runDir, !keep); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "network in %s is down\n", runDir)
			return nil
		},
	}
	down.Flags().BoolVar(&keep, "keep-state", false, "keep the run directory (ledgers, logs, crypto)")

	status := &cobra.Command{
		Use:   "status",
		Short: "List the network's running processes",
		RunE: func(cmd *cobra.Command, _ []string) error {
			procs, err := running(filepath.Join(runDir, "pids"))
			if err != nil {
				return err
			}
			if len(procs) == 0 {
				return fmt.Errorf("no network process is running in %s", runDir)
			}
			names := make([]string, 0, len(procs))
			for n := range procs {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(stdout, "%-32s pid %d\n", n, procs[n])
			}
			return nil
		},
	}
	var (
		label, address, rootCert, dialTimeout, out string
	)
	pkg := &cobra.Command{
		Use:   "package",
		Short: "Write a chaincode-as-a-service package for an existing network and print its package id",
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
			fmt.Fprintf(stdout, "wrote %s\npackage id %s\n", out, builder.PackageID(label, b))
			return nil
		},
	}
	pf2 := pkg.Flags()
	pf2.StringVar(&label, "label", "dct_1.0", "package label")
	pf2.StringVar(&address, "address", "", "host:port where the chaincode server listens, as the peers dial it")
	pf2.StringVar(&rootCert, "tls-root-cert", "", "PEM CA of the chaincode server's TLS certificate (enables TLS)")
	pf2.StringVar(&dialTimeout, "dial-timeout", "10s", "how long a peer waits to connect")
	pf2.StringVar(&out, "output", "", "package file (default LABEL.tar.gz)")
	_ = pkg.MarkFlagRequired("address")
	root.AddCommand(up, down, status, pkg)
	return root
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
		fmt.Fprintf(w, "  gateway  %-28s %s (%s)\n", g.Name, g.URL, g.Org)
	}
}
