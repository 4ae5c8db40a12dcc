package testnetwork

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// PackageIDFile, in the run directory's chaincode/ folder, holds the
// chaincode package id Generate computed, for the chaincode server
// container (CHAINCODE_ID_FILE).
const PackageIDFile = "package-id"

// Generate writes, for the container layout (Config.Containers), all that
// a network's nodes need before they start: crypto material, the channel's
// genesis block, every orderer's and peer's merged configuration, the
// consortium's keys, the CCaaS package (and its id in PackageIDFile) and a
// connection profile per organisation, then network.json. It starts
// nothing: the nodes are containers started by their orchestrator, and
// Deploy finishes the network once they serve.
//
// Generate is idempotent: when the run directory already holds a
// network.json it returns that description and generated=false. Otherwise
// it empties the run directory first (the remains of an interrupted run).
func Generate(ctx context.Context, cfg Config) (desc *Description, generated bool, err error) {
	cfg.Containers = true
	if err := cfg.absolutize(); err != nil {
		return nil, false, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, false, err
	}
	if d, err := Load(cfg.RunDir); err == nil {
		return d, false, nil
	}
	if err := emptyDir(cfg.RunDir); err != nil {
		return nil, false, err
	}
	n := &Network{cfg: cfg, log: cfg.logger()}
	n.desc = n.describe()
	if err := n.generateCrypto(ctx); err != nil {
		return nil, false, err
	}
	if err := n.generateGenesis(ctx); err != nil {
		return nil, false, err
	}
	for _, o := range n.desc.Orderers {
		if err := n.writeOrdererConfig(o); err != nil {
			return nil, false, err
		}
	}
	for _, org := range n.desc.Orgs {
		for _, p := range org.Peers {
			if err := n.writePeerConfig(org, p); err != nil {
				return nil, false, err
			}
		}
	}
	if _, err := n.writePackage(); err != nil {
		return nil, false, err
	}
	idFile := filepath.Join(filepath.Dir(n.packagePath()), PackageIDFile)
	if err := writeFileAtomic(idFile, []byte(n.desc.ChaincodePackageID+"\n"), 0o644); err != nil {
		return nil, false, err
	}
	if err := n.writeConnectionProfiles(); err != nil {
		return nil, false, err
	}
	// Last: its presence says the run directory is complete.
	return n.desc, true, n.desc.save()
}

// emptyDir creates dir or removes everything in it (dir itself may be a
// mount point).
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// DeployTimings are the durations of Deploy's phases.
type DeployTimings struct {
	Channel, Chaincode, Ready, Roles, Total time.Duration
}

// Deploy finishes a network Generate wrote, once its orderers, peers and
// chaincode server serve: every orderer and peer joins the channel (after
// which it waits for a Raft leader), the chaincode is installed, approved
// and committed, every organisation's gateway can get a transaction
// endorsed by all, and each organisation's admin grants its identities
// their roles. Every step already done is skipped or harmlessly repeated,
// so Deploy may run on every start of the consortium. cfg gives the tools
// (FabricBinDir), the run directory, the log and ReadyTimeout.
func Deploy(ctx context.Context, cfg Config) (DeployTimings, error) {
	var tm DeployTimings
	if err := cfg.absolutize(); err != nil {
		return tm, err
	}
	d, err := Load(cfg.RunDir)
	if err != nil {
		return tm, fmt.Errorf("%w: %s holds no generated network (run generate first): %w", ErrConfig, cfg.RunDir, err)
	}
	cfg.Containers = true
	cfg.Channel, cfg.ChaincodeName, cfg.ChaincodeVersion = d.Channel, d.Chaincode, d.ChaincodeVersion
	if cfg.ReadyTimeout <= 0 {
		return tm, fmt.Errorf("%w: ready timeout must be positive", ErrConfig)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ReadyTimeout)
	defer cancel()
	n := &Network{cfg: cfg, log: cfg.logger(), desc: d}
	start, phase := time.Now(), time.Now()
	mark := func(dur *time.Duration, name string) {
		*dur = time.Since(phase)
		n.log.Info("phase done", "phase", name, "took", dur.Round(time.Millisecond))
		phase = time.Now()
	}
	if err := n.createChannel(ctx); err != nil {
		return tm, err
	}
	mark(&tm.Channel, "channel")
	if err := n.lifecycle(ctx, n.packagePath()); err != nil {
		return tm, err
	}
	mark(&tm.Chaincode, "chaincode lifecycle")
	if err := n.waitEndorsable(ctx); err != nil {
		return tm, err
	}
	mark(&tm.Ready, "endorsement ready")
	if err := n.grantRoles(ctx); err != nil {
		return tm, err
	}
	mark(&tm.Roles, "roles granted")
	tm.Total = time.Since(start)
	return tm, nil
}
