package testnetwork

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/network"
	"github.com/dct-network/dct/network/builder"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/netdesc"
)

// ErrAlreadyRunning is returned by Up when the run directory has live
// processes: bring it down first.
var ErrAlreadyRunning = errors.New("test network is already running")

// Timings are the durations of Up's phases.
type Timings struct {
	Crypto    time.Duration `json:"crypto"`
	Nodes     time.Duration `json:"nodes"`
	Channel   time.Duration `json:"channel"`
	Chaincode time.Duration `json:"chaincode"`
	Ready     time.Duration `json:"ready"`
	Roles     time.Duration `json:"roles"`
	Total     time.Duration `json:"total"`
}

// Network is a network being brought up.
type Network struct {
	cfg  Config
	log  *slog.Logger
	desc *Description
}

// Up creates a fresh network under cfg.RunDir, deploys the chaincode and
// returns once every organisation's gateway can get a transaction endorsed by
// all organisations. On failure it stops whatever it started.
func Up(ctx context.Context, cfg Config) (*Description, Timings, error) {
	var tm Timings
	if err := cfg.absolutize(); err != nil {
		return nil, tm, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, tm, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ReadyTimeout)
	defer cancel()
	if err := prepareRunDir(cfg.RunDir); err != nil {
		return nil, tm, err
	}
	n := &Network{cfg: cfg, log: cfg.logger()}
	n.desc = n.describe()
	if err := portsFree(n.desc.addresses()); err != nil {
		return nil, tm, err
	}
	if err := n.desc.save(); err != nil {
		return nil, tm, err
	}
	start := time.Now()
	err := n.up(ctx, &tm)
	tm.Total = time.Since(start)
	if err != nil {
		stopCtx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		if derr := Down(stopCtx, cfg.RunDir, false); derr != nil {
			n.log.Error("stopping after failed start", "err", derr)
		}
		return nil, tm, err
	}
	return n.desc, tm, nil
}

func (n *Network) up(ctx context.Context, tm *Timings) error {
	phase := time.Now()
	mark := func(d *time.Duration, name string) {
		*d = time.Since(phase)
		n.log.Info("phase done", "phase", name, "took", d.Round(time.Millisecond))
		phase = time.Now()
	}
	if err := n.generateCrypto(ctx); err != nil {
		return err
	}
	if err := n.generateGenesis(ctx); err != nil {
		return err
	}
	mark(&tm.Crypto, "crypto+genesis")
	if err := n.startNodes(ctx); err != nil {
		return err
	}
	mark(&tm.Nodes, "nodes healthy")
	if err := n.createChannel(ctx); err != nil {
		return err
	}
	mark(&tm.Channel, "channel")
	if err := n.deployChaincode(ctx); err != nil {
		return err
	}
	mark(&tm.Chaincode, "chaincode lifecycle")
	if err := n.waitEndorsable(ctx); err != nil {
		return err
	}
	mark(&tm.Ready, "endorsement ready")
	if err := n.grantRoles(ctx); err != nil {
		return err
	}
	mark(&tm.Roles, "roles granted")
	if err := n.setEpochLength(ctx); err != nil {
		return err
	}
	if err := n.writeConnectionProfiles(); err != nil {
		return err
	}
	return n.desc.save()
}

// prepareRunDir empties runDir, refusing directories that are not ours.
func prepareRunDir(runDir string) error {
	procs, err := running(filepath.Join(runDir, "pids"))
	if err != nil {
		return err
	}
	if len(procs) > 0 {
		return fmt.Errorf("%w in %s (%d processes): run down first", ErrAlreadyRunning, runDir, len(procs))
	}
	entries, err := os.ReadDir(runDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(runDir, DescriptionFile)); err != nil {
			return fmt.Errorf("%w: run directory %s is not empty and holds no %s; refusing to wipe it", ErrConfig, runDir, DescriptionFile)
		}
		if err := os.RemoveAll(runDir); err != nil {
			return err
		}
	}
	return os.MkdirAll(runDir, 0o755)
}

// Down stops every process of the network in runDir and waits until its
// ports are free. With removeState it also deletes the run directory.
func Down(ctx context.Context, runDir string, removeState bool) error {
	desc, loadErr := Load(runDir)
	if err := stopAll(filepath.Join(runDir, "pids"), 10*time.Second); err != nil {
		return err
	}
	if loadErr == nil {
		if err := waitPortsFree(ctx, desc.addresses()); err != nil {
			return err
		}
	}
	if removeState {
		if _, err := os.Stat(runDir); err == nil && loadErr != nil {
			return fmt.Errorf("refusing to remove %s: %w", runDir, loadErr)
		}
		return os.RemoveAll(runDir)
	}
	return nil
}

func (d *Description) addresses() []string {
	var out []string
	for _, o := range d.Orderers {
		out = append(out, o.Address, o.AdminAddress, o.OperationsAddress)
	}
	for _, org := range d.Orgs {
		for _, p := range org.Peers {
			out = append(out, p.Address, p.ChaincodeAddress, p.OperationsAddress)
		}
	}
	for _, a := range d.Agents {
		out = append(out, a.Address)
		if a.MeshAddress != "" {
			out = append(out, a.MeshAddress)
		}
	}
	for _, g := range d.Gateways {
		out = append(out, g.Address)
		if g.AdminAddress != "" {
			out = append(out, g.AdminAddress)
		}
		if g.MeshAddress != "" {
			out = append(out, g.MeshAddress)
		}
	}
	out = append(out, d.ChaincodeAddress)
	if d.ChaincodeOpsAddress != "" {
		out = append(out, d.ChaincodeOpsAddress)
	}
	return out
}

// describe lays out every path and address of the network.
func (n *Network) describe() *Description {
	c := n.cfg
	crypto := filepath.Join(c.RunDir, "crypto")
	d := &Description{Description: netdesc.Description{
		RunDir:           c.RunDir,
		Host:             c.Host,
		Channel:          c.Channel,
		Chaincode:        c.ChaincodeName,
		ChaincodeVersion: c.ChaincodeVersion,
		ChaincodeAddress: c.addr(c.chaincodePort()),
		// The operations listener of a process chaincode server; a
		// container layout keeps its own (docker-compose.yaml).
		ChaincodeOpsAddress: c.addr(c.chaincodePort() + 1),
		TLSRootBundle:       filepath.Join(c.RunDir, "tls-ca-bundle.pem"),
		GatewaySecretsDir:   filepath.Join(c.RunDir, GatewaySecretsDir),
		MasterKeyFile:       filepath.Join(c.RunDir, GatewaySecretsDir, MasterKeyFile),
		MeshKeyringFile:     filepath.Join(c.RunDir, MeshKeyringFile),
		AgentsPerOrg:        c.AgentsPerOrg,
	}}
	oo := c.OrdererOrg
	oBase := filepath.Join(crypto, "ordererOrganizations", oo.Domain)
	d.OrdererOrg = orgInfo(oo, oBase)
	for i := 0; i < c.Orderers; i++ {
		listen, admin, ops := c.ordererPorts(i)
		name := fmt.Sprintf("orderer%d.%s", i, oo.Domain)
		o := OrdererNode{
			Name: name, Address: c.addr(listen), AdminAddress: c.addr(admin), OperationsAddress: c.addr(ops),
			Dir: filepath.Join(oBase, "orderers", name), TLSCACert: d.OrdererOrg.TLSCACert,
		}
		if c.Containers {
			o.Address, o.AdminAddress = hostAddr(name, containerOrdererPort), hostAddr(name, containerOrdererAdminPort)
			o.OperationsAddress = hostAddr(name, containerOperationsPort)
		}
		d.Orderers = append(d.Orderers, o)
	}
	var rules []string
	for j, org := range c.Orgs {
		base := filepath.Join(crypto, "peerOrganizations", org.Domain)
		info := orgInfo(org, base)
		user := "User1@" + org.Domain
		info.UserCert = filepath.Join(base, "users", user, "msp", "signcerts", user+"-cert.pem")
		info.UserKeyDir = filepath.Join(base, "users", user, "msp", "keystore")
		info.Identities = n.identities(org, base)
		gwTLS := filepath.Join(base, "peers", "gateway."+org.Domain, "tls")
		info.GatewayTLSCert, info.GatewayTLSKey = filepath.Join(gwTLS, "server.crt"), filepath.Join(gwTLS, "server.key")
		listen, cc, ops := c.peerPorts(j)
		name := "peer0." + org.Domain
		peer := PeerNode{
			Name: name, Address: c.addr(listen), ChaincodeAddress: c.addr(cc), OperationsAddress: c.addr(ops),
			Dir: filepath.Join(base, "peers", name), TLSCACert: info.TLSCACert,
		}
		if c.Containers {
			peer.Address, peer.ChaincodeAddress = hostAddr(name, containerPeerPort), hostAddr(name, containerChaincodePort)
			peer.OperationsAddress = hostAddr(name, containerOperationsPort)
			if j == 0 {
				d.ChaincodeAddress = hostAddr("chaincode."+org.Domain, containerCCaaSPort)
				d.ChaincodeOpsAddress = ""
			}
		}
		info.Peers = []PeerNode{peer}
		info.ConnectionProfile = filepath.Join(c.RunDir, "connection-"+strings.ToLower(org.Name)+".json")
		info.BidKeyFile = filepath.Join(c.RunDir, BidKeysDir, strings.ToLower(org.Name)+".key")
		d.Orgs = append(d.Orgs, info)
		rules = append(rules, fmt.Sprintf("'%s.peer'", org.MSPID))
	}
	d.EndorsementPolicy = "AND(" + strings.Join(rules, ",") + ")"
	return d
}

func orgInfo(org Org, base string) OrgInfo {
	admin := "Admin@" + org.Domain
	return OrgInfo{
		Org:          org,
		MSPDir:       filepath.Join(base, "msp"),
		TLSCACert:    filepath.Join(base, "tlsca", "tlsca."+org.Domain+"-cert.pem"),
		AdminCert:    filepath.Join(base, "users", admin, "msp", "signcerts", admin+"-cert.pem"),
		AdminKeyDir:  filepath.Join(base, "users", admin, "msp", "keystore"),
		AdminMSPDir:  filepath.Join(base, "users", admin, "msp"),
		AdminTLSCert: filepath.Join(base, "users", admin, "tls", "client.crt"),
		AdminTLSKey:  filepath.Join(base, "users", admin, "tls", "client.key"),
	}
}

// roleUsers are the user identities with an organisation-wide role: User1
// publishes, User2 is the gateways' identity, User3 audits.
const roleUsers = 3

// identities lists an organisation's identities and their roles: the
// roleUsers, then one node identity per agent host (User4 for agent0, …),
// bound to its node id. Node identities are client identities (NodeOU
// "client"), since the channel's Writers policy admits clients and admins
// only; an agent's TLS server pair is its host's (peers/agentN).
func (n *Network) identities(org Org, base string) []Identity {
	user := func(i int, role string) Identity {
		name := fmt.Sprintf("User%d@%s", i, org.Domain)
		dir := filepath.Join(base, "users", name)
		return Identity{
			Role: role, Name: name, MSPDir: filepath.Join(dir, "msp"),
			Cert:    filepath.Join(dir, "msp", "signcerts", name+"-cert.pem"),
			KeyDir:  filepath.Join(dir, "msp", "keystore"),
			TLSCert: filepath.Join(dir, "tls", "client.crt"), TLSKey: filepath.Join(dir, "tls", "client.key"),
		}
	}
	ids := []Identity{user(1, RolePublisher), user(2, RoleGateway), user(3, RoleAuditor)}
	for i, host := range n.agentHosts() {
		id := user(roleUsers+1+i, RoleNode)
		id.Host, id.NodeID = host, AgentNodeID(host, org)
		tls := filepath.Join(base, "peers", host+"."+org.Domain, "tls")
		id.TLSCert, id.TLSKey = filepath.Join(tls, "server.crt"), filepath.Join(tls, "server.key")
		ids = append(ids, id)
	}
	return ids
}

// AgentNodeID is the node id of an organisation's agent host: the host
// name in the organisation's node-id namespace (records.OrgSlug).
func AgentNodeID(host string, org Org) string {
	return host + "-" + records.OrgSlug(org.MSPID)
}

// agentHosts are the cryptogen host names of each organisation's edge agents.
func (n *Network) agentHosts() []string {
	var out []string
	for i := 0; i < n.cfg.AgentsPerOrg; i++ {
		out = append(out, fmt.Sprintf("agent%d", i))
	}
	return out
}

// tool runs a Fabric command-line tool to completion.
func (n *Network) tool(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(n.cfg.FabricBinDir, name), args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Dir = n.cfg.RunDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}

func baseEnv() []string {
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "FABRIC_LOGGING_SPEC=warning"}
	if h := os.Getenv("HOME"); h != "" {
		env = append(env, "HOME="+h)
	}
	return env
}

func (n *Network) generateCrypto(ctx context.Context) error {
	type node struct{ Hostname string }
	var orderers []node
	for _, o := range n.desc.Orderers {
		orderers = append(orderers, node{Hostname: strings.TrimSuffix(o.Name, "."+n.cfg.OrdererOrg.Domain)})
	}
	cfgYAML, err := network.Render(network.CryptoConfig, map[string]any{
		"Orderer": n.cfg.OrdererOrg, "Orderers": orderers, "Orgs": n.cfg.Orgs, "Agents": n.agentHosts(),
		"Users": roleUsers + n.cfg.AgentsPerOrg,
	})
	if err != nil {
		return err
	}
	dir := filepath.Join(n.cfg.RunDir, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "crypto-config.yaml")
	if err := os.WriteFile(path, cfgYAML, 0o644); err != nil {
		return err
	}
	if _, err := n.tool(ctx, nil, "cryptogen", "generate", "--config="+path, "--output="+filepath.Join(n.cfg.RunDir, "crypto")); err != nil {
		return err
	}
	if err := n.writeConsortiumKeys(); err != nil {
		return err
	}
	// One bundle of every organisation's TLS CA (see core-overlay.yaml.tmpl).
	var bundle []byte
	for _, o := range append([]OrgInfo{n.desc.OrdererOrg}, n.desc.Orgs...) {
		b, err := os.ReadFile(o.TLSCACert)
		if err != nil {
			return err
		}
		bundle = append(bundle, b...)
	}
	return os.WriteFile(n.desc.TLSRootBundle, bundle, 0o644)
}

func (n *Network) blockPath() string {
	return filepath.Join(n.cfg.RunDir, "channel", n.cfg.Channel+".block")
}

func (n *Network) generateGenesis(ctx context.Context) error {
	type endpoint struct {
		Host    string
		Port    string
		Address string
		TLSCert string
	}
	split := func(addr string) (string, string) {
		i := strings.LastIndexByte(addr, ':')
		return addr[:i], addr[i+1:]
	}
	var orderers []endpoint
	for _, o := range n.desc.Orderers {
		h, p := split(o.Address)
		orderers = append(orderers, endpoint{Host: h, Port: p, Address: o.Address, TLSCert: filepath.Join(o.Dir, "tls", "server.crt")})
	}
	type org struct {
		OrgInfo
		Peers []endpoint
	}
	var orgs []org
	for _, o := range n.desc.Orgs {
		og := org{OrgInfo: o}
		for _, p := range o.Peers {
			h, pt := split(p.Address)
			og.Peers = append(og.Peers, endpoint{Host: h, Port: pt, Address: p.Address})
		}
		orgs = append(orgs, og)
	}
	const profile = "DCTChannel"
	txYAML, err := network.Render(network.ConfigTx, map[string]any{
		"Orderer": n.desc.OrdererOrg, "Orderers": orderers, "Orgs": orgs, "Profile": profile,
		"RaftTick": n.cfg.RaftTick.String(), "BatchTimeout": n.cfg.BatchTimeout.String(), "MaxMessageCount": 500,
	})
	if err != nil {
		return err
	}
	dir := filepath.Join(n.cfg.RunDir, "config")
	if err := os.WriteFile(filepath.Join(dir, "configtx.yaml"), txYAML, 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(n.blockPath()), 0o755); err != nil {
		return err
	}
	_, err = n.tool(ctx, nil, "configtxgen", "-configPath", dir, "-profile", profile,
		"-channelID", n.cfg.Channel, "-outputBlock", n.blockPath())
	return err
}

// nodeDir is where a node's rendered config and data live.
func (n *Network) nodeDir(name string) string { return filepath.Join(n.cfg.RunDir, "nodes", name) }

func (n *Network) startNodes(ctx context.Context) error {
	// A node is ready when its operations endpoint reports healthy and its
	// service listeners accept connections (the operations server starts
	// first).
	type health struct {
		name, ops string
		listeners []string
	}
	var checks []health
	for _, o := range n.desc.Orderers {
		dir := n.nodeDir(o.Name)
		if err := n.writeOrdererConfig(o); err != nil {
			return err
		}
		if err := n.start(process{
			name: o.Name, bin: filepath.Join(n.cfg.FabricBinDir, "orderer"), dir: dir,
			env: append(baseEnv(), "FABRIC_CFG_PATH="+filepath.Join(dir, "config"), "FABRIC_LOGGING_SPEC=info"),
		}); err != nil {
			return err
		}
		checks = append(checks, health{o.Name, o.OperationsAddress, []string{o.Address, o.AdminAddress}})
	}
	for _, org := range n.desc.Orgs {
		for _, p := range org.Peers {
			dir := n.nodeDir(p.Name)
			if err := n.writePeerConfig(org, p); err != nil {
				return err
			}
			if err := n.start(process{
				name: p.Name, bin: filepath.Join(n.cfg.FabricBinDir, "peer"), args: []string{"node", "start"}, dir: dir,
				env: append(baseEnv(), "FABRIC_CFG_PATH="+filepath.Join(dir, "config"), "FABRIC_LOGGING_SPEC=info"),
			}); err != nil {
				return err
			}
			checks = append(checks, health{p.Name, p.OperationsAddress, []string{p.Address, p.ChaincodeAddress}})
		}
	}
	return parallel(len(checks), func(i int) error {
		c := checks[i]
		if err := waitHealthy(ctx, c.ops, c.name, filepath.Join(n.logDir(), c.name+".log")); err != nil {
			return err
		}
		for _, l := range c.listeners {
			if err := waitDial(ctx, l); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
		return nil
	})
}

// writeOrdererConfig renders orderer o's orderer.yaml into its node
// directory.
func (n *Network) writeOrdererConfig(o OrdererNode) error {
	h, p := splitHostPort(n.cfg.listenAddr(o.Address))
	overlay, err := network.Render(network.OrdererOverlay, map[string]any{
		"Host": h, "Port": p,
		"TLSCert": filepath.Join(o.Dir, "tls", "server.crt"), "TLSKey": filepath.Join(o.Dir, "tls", "server.key"),
		"TLSCA": o.TLSCACert, "MSPDir": filepath.Join(o.Dir, "msp"), "MSPID": n.cfg.OrdererOrg.MSPID,
		"DataDir": n.cfg.nodeDataDir(o.Name), "OperationsAddress": n.cfg.listenAddr(o.OperationsAddress),
		"AdminAddress": n.cfg.listenAddr(o.AdminAddress),
	})
	if err != nil {
		return err
	}
	return n.writeNodeConfig(n.nodeDir(o.Name), "orderer.yaml", overlay)
}

// writePeerConfig renders org's peer p's core.yaml into its node directory.
func (n *Network) writePeerConfig(org OrgInfo, p PeerNode) error {
	overlay, err := network.Render(network.PeerOverlay, map[string]any{
		"ID": p.Name, "NetworkID": n.cfg.Channel, "Address": p.Address, "ChaincodeAddress": p.ChaincodeAddress,
		"ListenAddress": n.cfg.listenAddr(p.Address), "ChaincodeListenAddress": n.cfg.listenAddr(p.ChaincodeAddress),
		"DataDir": n.cfg.nodeDataDir(p.Name), "MSPDir": filepath.Join(p.Dir, "msp"), "MSPID": org.MSPID,
		"TLSCert": filepath.Join(p.Dir, "tls", "server.crt"), "TLSKey": filepath.Join(p.Dir, "tls", "server.key"),
		"TLSRootBundle": n.desc.TLSRootBundle, "BuilderDir": n.cfg.BuilderDir,
		"OperationsAddress": n.cfg.listenAddr(p.OperationsAddress),
		"GossipAlive":       n.cfg.GossipInterval.String(), "GossipExpiration": (5 * n.cfg.GossipInterval).String(),
	})
	if err != nil {
		return err
	}
	return n.writeNodeConfig(n.nodeDir(p.Name), "core.yaml", overlay)
}

func (n *Network) writeNodeConfig(dir, file string, overlay []byte) error {
	cfgDir := filepath.Join(dir, "config")
	if !n.cfg.Containers {
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		return err
	}
	merged, err := overlayYAML(filepath.Join(n.cfg.FabricConfigDir, file), overlay)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cfgDir, file), merged, 0o644)
}

func splitHostPort(addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}

// parallel runs f(0..count-1) concurrently and returns the first error.
func parallel(count int, f func(i int) error) error {
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := 0; i < count; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = f(i)
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// peerEnv is the environment of the peer CLI acting as org's admin.
func (n *Network) peerEnv(org OrgInfo) []string {
	p := org.Peers[0]
	return []string{
		"FABRIC_CFG_PATH=" + filepath.Join(n.nodeDir(p.Name), "config"),
		"CORE_PEER_LOCALMSPID=" + org.MSPID,
		"CORE_PEER_MSPCONFIGPATH=" + org.AdminMSPDir,
		"CORE_PEER_ADDRESS=" + p.Address,
		"CORE_PEER_TLS_ENABLED=true",
		"CORE_PEER_TLS_ROOTCERT_FILE=" + p.TLSCACert,
	}
}

func (n *Network) createChannel(ctx context.Context) error {
	oo := n.desc.OrdererOrg
	err := parallel(len(n.desc.Orderers), func(i int) error {
		o := n.desc.Orderers[i]
		_, err := n.tool(ctx, nil, "osnadmin", "channel", "join", "--channelID", n.cfg.Channel,
			"--config-block", n.blockPath(), "-o", o.AdminAddress,
			"--ca-file", o.TLSCACert, "--client-cert", oo.AdminTLSCert, "--client-key", oo.AdminTLSKey)
		return ignoreExisting(err)
	})
	if err != nil {
		return err
	}
	if err := parallel(len(n.desc.Orgs), func(i int) error {
		_, err := n.tool(ctx, n.peerEnv(n.desc.Orgs[i]), "peer", "channel", "join", "-b", n.blockPath())
		return ignoreExisting(err)
	}); err != nil {
		return err
	}
	// Transactions need a Raft leader: wait for one to be elected.
	return n.waitRaftLeader(ctx)
}

// ignoreExisting drops the error of a join that was already done (a
// channel the orderer has, a ledger the peer has), which Deploy meets when
// it runs again.
func ignoreExisting(err error) error {
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return nil
	}
	return err
}

// waitRaftLeader polls the orderers' metrics until one of them reports that
// it leads the channel.
func (n *Network) waitRaftLeader(ctx context.Context) error {
	if err := n.desc.WaitRaftLeader(ctx); err != nil {
		return err
	}
	n.log.Debug("raft leader elected")
	return nil
}

func (n *Network) deployChaincode(ctx context.Context) error {
	pkgPath, err := n.writePackage()
	if err != nil {
		return err
	}
	if err := n.desc.save(); err != nil {
		return err
	}
	ccTLS := n.chaincodeTLSDir()
	env := append(baseEnv(),
		"CHAINCODE_ID="+n.desc.ChaincodePackageID,
		"CHAINCODE_SERVER_ADDRESS="+n.desc.ChaincodeAddress,
		"CHAINCODE_TLS_CERT_FILE="+filepath.Join(ccTLS, "server.crt"),
		"CHAINCODE_TLS_KEY_FILE="+filepath.Join(ccTLS, "server.key"),
	)
	if n.desc.ChaincodeOpsAddress != "" {
		env = append(env, "CHAINCODE_OPS_LISTEN="+n.desc.ChaincodeOpsAddress)
	}
	if err := n.start(process{
		name: "chaincode-" + n.cfg.ChaincodeName, bin: n.cfg.ChaincodeBinary, dir: n.cfg.RunDir,
		env: env,
	}); err != nil {
		return err
	}
	if err := waitDial(ctx, n.desc.ChaincodeAddress); err != nil {
		return err
	}
	return n.lifecycle(ctx, pkgPath)
}

// chaincodeTLSDir holds the chaincode server's TLS pair (the first
// organisation's "chaincode" host).
func (n *Network) chaincodeTLSDir() string {
	first := n.desc.Orgs[0]
	return filepath.Join(filepath.Dir(first.Peers[0].Dir), "chaincode."+first.Domain, "tls")
}

// packagePath is the CCaaS package of the chaincode.
func (n *Network) packagePath() string {
	return filepath.Join(n.cfg.RunDir, "chaincode", n.cfg.ChaincodeName+"_"+n.cfg.ChaincodeVersion+".tar.gz")
}

// writePackage writes the CCaaS package (the chaincode server's address
// and TLS root) and records its package id in the description.
func (n *Network) writePackage() (string, error) {
	c := n.cfg
	rootPEM, err := os.ReadFile(n.desc.Orgs[0].TLSCACert)
	if err != nil {
		return "", err
	}
	label := c.ChaincodeName + "_" + c.ChaincodeVersion
	pkg, err := builder.Package(label, builder.Connection{
		Address: n.desc.ChaincodeAddress, DialTimeout: "10s", TLSRequired: true, RootCert: string(rootPEM),
	})
	if err != nil {
		return "", err
	}
	pkgPath := n.packagePath()
	if err := os.MkdirAll(filepath.Dir(pkgPath), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(pkgPath, pkg, 0o644); err != nil {
		return "", err
	}
	n.desc.ChaincodePackageID = builder.PackageID(label, pkg)
	return pkgPath, nil
}

// lifecycle installs the package on every organisation's peer, approves
// it for every organisation and commits it. Each step already done (an
// installed package, an approval, a committed definition) is skipped, so
// it may run again on a network where it was interrupted.
func (n *Network) lifecycle(ctx context.Context, pkgPath string) error {
	c := n.cfg
	first := n.desc.Orgs[0]
	if _, err := n.tool(ctx, n.peerEnv(first), "peer", "lifecycle", "chaincode", "querycommitted",
		"--channelID", c.Channel, "--name", c.ChaincodeName); err == nil {
		n.log.Info("chaincode already committed", "name", c.ChaincodeName)
		return nil
	}
	orderer := n.desc.Orderers[0]
	common := []string{"-o", orderer.Address, "--tls", "--cafile", orderer.TLSCACert,
		"--channelID", c.Channel, "--name", c.ChaincodeName, "--version", c.ChaincodeVersion,
		"--sequence", "1", "--signature-policy", n.desc.EndorsementPolicy}
	if err := parallel(len(n.desc.Orgs), func(i int) error {
		org := n.desc.Orgs[i]
		if _, err := n.tool(ctx, n.peerEnv(org), "peer", "lifecycle", "chaincode", "install", pkgPath); err != nil && !strings.Contains(err.Error(), "already successfully installed") {
			return err
		}
		args := append([]string{"lifecycle", "chaincode", "approveformyorg", "--package-id", n.desc.ChaincodePackageID}, common...)
		if _, err := n.tool(ctx, n.peerEnv(org), "peer", args...); err != nil && !strings.Contains(err.Error(), "unchanged content") {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	args := append([]string{"lifecycle", "chaincode", "commit"}, common...)
	for _, org := range n.desc.Orgs {
		args = append(args, "--peerAddresses", org.Peers[0].Address, "--tlsRootCertFiles", org.Peers[0].TLSCACert)
	}
	_, err := n.tool(ctx, n.peerEnv(first), "peer", args...)
	return err
}

// grantRoles has each organisation's admin grant its identities their
// roles on the ledger (identity:Grant), all organisations at once.
func (n *Network) grantRoles(ctx context.Context) error {
	return parallel(len(n.desc.Orgs), func(i int) error {
		org := n.desc.Orgs[i]
		cl, closeClient, err := n.orgClient(ctx, org, org.AdminSigner)
		if err != nil {
			return err
		}
		defer closeClient()
		return parallel(len(org.Identities), func(j int) error {
			id := org.Identities[j]
			certPEM, err := os.ReadFile(id.Cert)
			if err != nil {
				return err
			}
			in := records.GrantInput{Certificate: string(certPEM), Roles: []records.Role{records.Role(id.Role)}, NodeID: id.NodeID}
			if _, err := cl.GrantIdentity(ctx, in); err != nil {
				return fmt.Errorf("grant %s to %s: %w", id.Role, id.Name, err)
			}
			return nil
		})
	})
}

// setEpochLength sets the ledger's epoch length (Config.EpochSeconds) as
// the first organisation's admin; a ledger that already has it (a network
// brought up again on its state) is left as it is when the length is the
// one asked.
func (n *Network) setEpochLength(ctx context.Context) error {
	if n.cfg.EpochSeconds == 0 {
		return nil
	}
	org := n.desc.Orgs[0]
	cl, closeClient, err := n.orgClient(ctx, org, org.AdminSigner)
	if err != nil {
		return err
	}
	defer closeClient()
	if _, err := cl.SetEpochLength(ctx, n.cfg.EpochSeconds); err != nil {
		info, rerr := cl.Epoch(ctx)
		if rerr == nil && info.Seconds == n.cfg.EpochSeconds {
			return nil
		}
		return fmt.Errorf("set the epoch length to %d s: %w", n.cfg.EpochSeconds, err)
	}
	n.log.Info("epoch length set", "seconds", n.cfg.EpochSeconds)
	return nil
}

// orgClient connects to the organisation's peer as the identity signer
// loads; closeClient closes the client and its connection.
func (n *Network) orgClient(ctx context.Context, org OrgInfo, signer func() (ledger.Signer, error)) (cl *ledger.Client, closeClient func(), err error) {
	s, err := signer()
	if err != nil {
		return nil, nil, err
	}
	conn, err := ledger.Dial(ctx, org.PeerEndpoint())
	if err != nil {
		return nil, nil, err
	}
	cl, err = ledger.New(conn, s, ledger.WithChannel(n.cfg.Channel), ledger.WithChaincode(n.cfg.ChaincodeName))
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return cl, func() { cl.Close(); conn.Close() }, nil
}

// waitEndorsable waits until every organisation's gateway can get a proposal
// endorsed by all organisations (gossip and service discovery have converged).
func (n *Network) waitEndorsable(ctx context.Context) error {
	return parallel(len(n.desc.Orgs), func(i int) error {
		org := n.desc.Orgs[i]
		cl, closeClient, err := n.orgClient(ctx, org, org.UserSigner)
		if err != nil {
			return err
		}
		defer closeClient()
		backoff := 50 * time.Millisecond
		for attempt := 1; ; attempt++ {
			attemptCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := cl.CheckEndorsement(attemptCtx)
			cancel()
			if err == nil {
				n.log.Debug("endorsement ready", "org", org.MSPID, "attempts", attempt)
				return nil
			}
			n.log.Debug("endorsement not ready", "org", org.MSPID, "attempt", attempt, "err", err)
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s cannot get endorsements from all organisations: %w (last error: %v)", org.MSPID, ctx.Err(), err)
			case <-time.After(backoff):
			}
			if backoff < time.Second {
				backoff *= 2
			}
		}
	})
}

// Files of the consortium's shared secrets in the run directory.
const (
	// GatewaySecretsDir (mode 0700) holds what only gateways are given.
	GatewaySecretsDir = "gateway-secrets"
	// MasterKeyFile, in GatewaySecretsDir, is the consortium master key.
	MasterKeyFile = "master.key"
	// BidKeysDir holds each organisation's bid key (OrgInfo.BidKeyFile).
	BidKeysDir = "bidkeys"
	// MeshKeyringFile is the gossip keyring every agent and gateway holds.
	MeshKeyringFile = "mesh.keyring"
)

// writeConsortiumKeys writes the consortium master key shared by the
// gateways (object keys derive from it; it never reaches the ledger or the
// agents) into the gateways' own directory, and the gossip keyring (one
// random key) shared by every mesh member.
func (n *Network) writeConsortiumKeys() error {
	if err := os.MkdirAll(n.desc.GatewaySecretsDir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(n.desc.GatewaySecretsDir, 0o700); err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	if err := os.WriteFile(n.desc.MasterKeyFile, key, 0o600); err != nil {
		return err
	}
	gossip, err := mesh.GenerateKey()
	if err != nil {
		return err
	}
	if err := os.WriteFile(n.desc.MeshKeyringFile, mesh.Keyring{gossip}.Format(), 0o600); err != nil {
		return err
	}
	// Each organisation's bid key, for its agents and gateways only.
	for _, org := range n.desc.Orgs {
		if org.BidKeyFile == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(org.BidKeyFile), 0o700); err != nil {
			return err
		}
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return err
		}
		if err := os.WriteFile(org.BidKeyFile, k, 0o600); err != nil {
			return err
		}
	}
	return nil
}
