package testnetwork

import (
	"fmt"
	"time"

	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/cobra"
)

// registerTools binds the settings of generate and deploy that locate the
// Fabric tools inside the tools container.
func registerTools(s *settings.Set, cfg *Config) {
	s.String(&cfg.FabricBinDir, "fabric-bin-dir", "directory of cryptogen, configtxgen, osnadmin and peer")
	s.String(&cfg.FabricConfigDir, "fabric-config-dir", "directory of Fabric's base core.yaml and orderer.yaml")
}

// generateCommand is dct-network generate: Generate, for containers.
func (c *cli) generateCommand() *cobra.Command {
	cfg := DefaultConfig("", "")
	cfg.FabricBinDir, cfg.FabricConfigDir = "/usr/local/bin", "/etc/hyperledger/fabric"
	cfg.BuilderDir, cfg.NodeDataDir = "/opt/dct/builder", "/var/dct/data"
	orgs := []string{"Org1", "Org2"}
	var apply func() error
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write crypto, genesis block, node configs and chaincode package for a network of containers",
		Long: "generate prepares the run directory for a network whose nodes are containers sharing it at the\n" +
			"same path (the compose consortium): every node is reached by its host name (orderer<i>.<orderer\n" +
			"domain>, peer0.<org domain>, chaincode.<first org domain>) on Fabric's usual ports and keeps its\n" +
			"ledger in --node-data-dir. It starts nothing; run deploy once the nodes serve. It does nothing\n" +
			"when the run directory already holds a network.json.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := apply(); err != nil {
				return err
			}
			cfg.RunDir, cfg.Orgs, cfg.Logger = c.runDir, OrgsFromNames(orgs), newLogger(c.logLevel)
			start := time.Now()
			d, generated, err := Generate(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if !generated {
				fmt.Fprintf(c.stdout, "network in %s already generated; nothing to do\n", d.RunDir)
				return nil
			}
			fmt.Fprintf(c.stdout, "network generated in %s\n", time.Since(start).Round(time.Millisecond))
			printSummary(c.stdout, d)
			return nil
		},
	}
	s := settings.New(cmd.Flags(), EnvPrefix)
	registerTools(s, &cfg)
	s.String(&cfg.BuilderDir, "builder-dir", "external builder directory inside the peer containers")
	s.String(&cfg.NodeDataDir, "node-data-dir", "ledger directory inside each orderer and peer container")
	s.Int(&cfg.Orderers, "orderers", "Raft orderers: 1 or 3")
	s.StringList(&orgs, "orgs", "peer organisation names")
	s.String(&cfg.Channel, "channel", "channel name")
	s.String(&cfg.ChaincodeName, "chaincode", "chaincode name")
	s.String(&cfg.ChaincodeVersion, "chaincode-version", "chaincode version")
	s.Int(&cfg.AgentsPerOrg, "agents-per-org", "edge-agent identities per organisation, 0..9")
	s.Duration(&cfg.BatchTimeout, "batch-timeout", "orderer batch timeout")
	s.Duration(&cfg.RaftTick, "raft-tick", "Raft tick interval")
	s.Duration(&cfg.GossipInterval, "gossip-interval", "peer gossip alive/reconnect interval")
	apply = applyEnv(s)
	return cmd
}

// deployCommand is dct-network deploy: Deploy.
func (c *cli) deployCommand() *cobra.Command {
	cfg := DefaultConfig("", "")
	cfg.FabricBinDir, cfg.FabricConfigDir = "/usr/local/bin", "/etc/hyperledger/fabric"
	var apply func() error
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Join the channel, deploy the chaincode and grant roles on a generated network whose nodes serve",
		Long: "deploy finishes a network generate wrote, once its orderers, peers and chaincode server serve:\n" +
			"channel joins, chaincode lifecycle, endorsement readiness, role grants. Steps already done are\n" +
			"skipped, so it may run on every start.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := apply(); err != nil {
				return err
			}
			cfg.RunDir, cfg.Logger = c.runDir, newLogger(c.logLevel)
			tm, err := Deploy(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "network deployed in %s (channel %s, chaincode %s, endorsement ready %s, roles %s)\n",
				tm.Total.Round(time.Millisecond), tm.Channel.Round(time.Millisecond), tm.Chaincode.Round(time.Millisecond),
				tm.Ready.Round(time.Millisecond), tm.Roles.Round(time.Millisecond))
			return nil
		},
	}
	s := settings.New(cmd.Flags(), EnvPrefix)
	registerTools(s, &cfg)
	s.Duration(&cfg.ReadyTimeout, "ready-timeout", "give up if not ready by then")
	apply = applyEnv(s)
	return cmd
}
