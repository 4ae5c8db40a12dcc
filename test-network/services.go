package testnetwork

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// Services says which DCT processes StartServices runs on a network: edge
// agents of every organisation and HTTP gateways.
type Services struct {
	// BinDir holds the dct-agent and dct-gateway binaries.
	BinDir string
	// AgentsPerOrg is how many agents each organisation runs (at most the
	// network's Config.AgentsPerOrg, which made their TLS identities).
	AgentsPerOrg int
	// Gateways is how many gateways run; gateway g acts for organisation
	// g mod len(Orgs).
	Gateways int
	// AgentPort is the first agent port: agent a of organisation j listens
	// on AgentPort+10j+a.
	AgentPort int
	// GatewayPort is gateway 0's HTTP port; gateway g listens on
	// GatewayPort+g, and its admin listener (HTTPS: publish, purge) on
	// GatewayPort+AdminPortOffset+g.
	GatewayPort int
	// AgentArgs and GatewayArgs are extra command-line flags.
	AgentArgs, GatewayArgs []string
	// AgentArgsFor, when set, adds flags for one agent (for example an
	// --endpoint and --mesh-advertise behind a delaying proxy).
	AgentArgsFor func(AgentInfo) []string
	// GatewayEnv is added to gateway g's environment only.
	GatewayEnv func(g int) []string
	// Mesh joins agents and gateways in the gossip mesh: agent a of org j
	// gossips on MeshPort+10j+a, gateway g on MeshPort+100+g; every member
	// joins through the agents.
	Mesh     bool
	MeshPort int
	// Auction makes the agents bid for storage contracts (--bid) and the
	// gateways place every publish's shards by auction (--auction).
	Auction bool
	// Env is added to the services' environment (DCT_… settings).
	Env []string
	// LogLevel is the services' log level.
	LogLevel string
	// ReadyTimeout bounds StartServices.
	ReadyTimeout time.Duration
	Logger       *slog.Logger
}

// ErrServices marks services that could not be started.
var ErrServices = errors.New("dct services")

// StartServices starts the agents and gateways s describes on the network of
// desc, records them in the run directory's network.json and returns when
// every agent serves and is registered on the ledger and every gateway
// answers /healthz. Down stops them with the network.
func StartServices(ctx context.Context, desc *Description, s Services) error {
	s = s.withDefaults()
	if s.AgentsPerOrg < 0 || s.AgentsPerOrg > desc.AgentsPerOrg {
		return fmt.Errorf("%w: %d agents per organisation, the network has identities for %d", ErrServices, s.AgentsPerOrg, desc.AgentsPerOrg)
	}
	if err := portsFree(s.addresses(desc)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.ReadyTimeout)
	defer cancel()
	if err := s.startAgents(desc); err != nil {
		return err
	}
	if err := waitAgents(ctx, desc); err != nil {
		return err
	}
	if s.Auction {
		// Publishes open auctions: wait until every agent's standing bid
		// is on the ledger, or the first one would find no bidder.
		if err := waitBids(ctx, desc); err != nil {
			return err
		}
	}
	if err := s.startGateways(desc); err != nil {
		return err
	}
	for _, gw := range desc.Gateways {
		if err := desc.waitServing(ctx, gw.Name, func(ctx context.Context) error { return httpOnce(ctx, gw.URL+"/healthz") }); err != nil {
			return err
		}
	}
	return nil
}

// withDefaults fills the logger, ready timeout and log level.
func (s Services) withDefaults() Services {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.ReadyTimeout <= 0 {
		s.ReadyTimeout = 2 * time.Minute
	}
	if s.LogLevel == "" {
		s.LogLevel = "info"
	}
	return s
}

// agentAddr, agentMeshAddr, gatewayAddr and gatewayMeshAddr lay out the
// services' ports: agent a of organisation j, gateway g.
func (s Services) agentAddr(d *Description, j, a int) string {
	return fmt.Sprintf("%s:%d", d.Host, s.AgentPort+10*j+a)
}

func (s Services) agentMeshAddr(d *Description, j, a int) string {
	return fmt.Sprintf("%s:%d", d.Host, s.MeshPort+10*j+a)
}

func (s Services) gatewayAddr(d *Description, g int) string {
	return fmt.Sprintf("%s:%d", d.Host, s.GatewayPort+g)
}

// AdminPortOffset separates a gateway's admin port from its HTTP port.
const AdminPortOffset = 50

func (s Services) gatewayAdminAddr(d *Description, g int) string {
	return fmt.Sprintf("%s:%d", d.Host, s.GatewayPort+AdminPortOffset+g)
}

func (s Services) gatewayMeshAddr(d *Description, g int) string {
	return fmt.Sprintf("%s:%d", d.Host, s.MeshPort+100+g)
}

// addresses are every address the services will listen on.
func (s Services) addresses(d *Description) []string {
	var addrs []string
	for j := range d.Orgs {
		for a := 0; a < s.AgentsPerOrg; a++ {
			addrs = append(addrs, s.agentAddr(d, j, a))
		}
	}
	for g := 0; g < s.Gateways; g++ {
		addrs = append(addrs, s.gatewayAddr(d, g), s.gatewayAdminAddr(d, g))
		if s.Mesh {
			addrs = append(addrs, s.gatewayMeshAddr(d, g))
		}
	}
	if s.Mesh {
		addrs = append(addrs, s.meshSeeds(d)...)
	}
	return addrs
}

// meshSeeds are the agents' gossip addresses (none without mesh): every
// member joins through them.
func (s Services) meshSeeds(d *Description) []string {
	if !s.Mesh {
		return nil
	}
	var seeds []string
	for j := range d.Orgs {
		for a := 0; a < s.AgentsPerOrg; a++ {
			seeds = append(seeds, s.agentMeshAddr(d, j, a))
		}
	}
	return seeds
}

// startAgents starts every organisation's agents and records them in
// desc and its network.json.
func (s Services) startAgents(desc *Description) error {
	env := append(os.Environ(), s.Env...)
	for j, org := range desc.Orgs {
		for a := 0; a < s.AgentsPerOrg; a++ {
			ag := s.agent(desc, j, a, org)
			if err := startProcess(desc.RunDir, s.Logger, process{name: ag.Name, bin: ag.Bin, args: ag.Args, env: env}); err != nil {
				return err
			}
			desc.Agents = append(desc.Agents, ag)
		}
	}
	return desc.save()
}

// agent describes agent a of organisation j and its command line.
func (s Services) agent(desc *Description, j, a int, org OrgInfo) AgentInfo {
	short := strings.ToLower(org.Name)
	host := fmt.Sprintf("agent%d", a)
	name := AgentNodeID(host, org.Org)
	ag := AgentInfo{
		Name: name, NodeID: name, Org: org.MSPID,
		Zone:    fmt.Sprintf("%s-%c", short, 'a'+a%2),
		Address: s.agentAddr(desc, j, a),
		DataDir: filepath.Join(desc.RunDir, "agents", name),
		Bin:     filepath.Join(s.BinDir, "dct-agent"),
		Env:     s.Env,
	}
	ag.Args = append(agentIdentityArgs(desc, org, host), "--name", host,
		"--node-id", ag.NodeID, "--zone", ag.Zone, "--listen", ag.Address,
		"--data-dir", ag.DataDir, "--log-level", s.LogLevel)
	if s.Auction {
		ag.Args = append(ag.Args, "--bid")
	}
	ag.Args = append(ag.Args, s.AgentArgs...)
	if s.Mesh {
		ag.MeshAddress = s.agentMeshAddr(desc, j, a)
		ag.Args = append(ag.Args, "--mesh-listen", ag.MeshAddress, "--mesh-keyring", desc.MeshKeyringFile)
		if seed := s.meshSeeds(desc)[0]; ag.MeshAddress != seed {
			ag.Args = append(ag.Args, "--mesh-join", seed)
		}
	}
	if s.AgentArgsFor != nil {
		ag.Args = append(ag.Args, s.AgentArgsFor(ag)...)
	}
	return ag
}

// waitAgents waits until every agent of desc serves and is registered.
func waitAgents(ctx context.Context, desc *Description) error {
	var ids []string
	for _, ag := range desc.Agents {
		if err := desc.waitServing(ctx, ag.Name, func(ctx context.Context) error { return dialOnce(ctx, ag.Address) }); err != nil {
			return err
		}
		ids = append(ids, ag.NodeID)
	}
	if len(ids) == 0 {
		return nil
	}
	return waitRegistered(ctx, desc, ids)
}

// startGateways starts the gateways, gateway g acting for organisation g
// mod len(Orgs), and records them in desc and its network.json.
func (s Services) startGateways(desc *Description) error {
	for g := 0; g < s.Gateways; g++ {
		gw := s.gateway(desc, g)
		if err := startProcess(desc.RunDir, s.Logger, process{name: gw.Name, bin: gw.Bin, args: gw.Args, env: append(os.Environ(), gw.Env...)}); err != nil {
			return err
		}
		desc.Gateways = append(desc.Gateways, gw)
	}
	return desc.save()
}

// gateway describes gateway g and its command line.
func (s Services) gateway(desc *Description, g int) GatewayInfo {
	org := desc.Orgs[g%len(desc.Orgs)]
	gw := GatewayInfo{
		Name: fmt.Sprintf("gateway%d", g), Org: org.MSPID,
		Address:      s.gatewayAddr(desc, g),
		AdminAddress: s.gatewayAdminAddr(desc, g),
		Bin:          filepath.Join(s.BinDir, "dct-gateway"),
	}
	gw.ReceiptsDir = filepath.Join(desc.RunDir, "gateways", gw.Name, "receipts")
	gw.URL = "http://" + gw.Address
	gw.AdminURL = "https://" + gw.AdminAddress
	gw.Args = append(gatewayIdentityArgs(desc, org), "--listen", gw.Address, "--admin-listen", gw.AdminAddress,
		"--receipts-dir", gw.ReceiptsDir, "--log-level", s.LogLevel)
	// Every gateway lists the others for the frontend loader (GET
	// /v1/gateways), with or without the mesh.
	var peers []string
	for p := 0; p < s.Gateways; p++ {
		if p != g {
			peers = append(peers, "http://"+s.gatewayAddr(desc, p))
		}
	}
	if len(peers) > 0 {
		gw.Args = append(gw.Args, "--peer-gateways", strings.Join(peers, ","))
	}
	if s.Auction {
		gw.Args = append(gw.Args, "--auction")
	}
	gw.Args = append(gw.Args, s.GatewayArgs...)
	if s.Mesh {
		gw.MeshAddress = s.gatewayMeshAddr(desc, g)
		gw.Args = append(gw.Args, "--mesh-listen", gw.MeshAddress, "--mesh-keyring", desc.MeshKeyringFile,
			"--mesh-join", strings.Join(s.meshSeeds(desc), ","))
	}
	gw.Env = slices.Clone(s.Env)
	if s.GatewayEnv != nil {
		gw.Env = append(gw.Env, s.GatewayEnv(g)...)
	}
	return gw
}

// waitServing polls ready until it succeeds, failing at once, with the end
// of its log, when the named process has exited.
func (d *Description) waitServing(ctx context.Context, name string, ready func(context.Context) error) error {
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		if _, perr := d.PID(name); perr != nil {
			return fmt.Errorf("%w: %s exited: %s", ErrServices, name, logTail(d.LogFile(name), 5))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s not ready (see %s): %v: %w", ErrServices, name, d.LogFile(name), err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail returns the last n lines of a log file.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func dialOnce(ctx context.Context, addr string) error {
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

func httpOnce(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// LogFile is the log of the named process.
func (d *Description) LogFile(name string) string {
	return filepath.Join(d.RunDir, "logs", name+".log")
}

// PID returns the pid of a running process of the network (for example an
// agent's Name), or an error if it is not running.
func (d *Description) PID(name string) (int, error) {
	procs, err := running(filepath.Join(d.RunDir, "pids"))
	if err != nil {
		return 0, err
	}
	pid, ok := procs[name]
	if !ok {
		return 0, fmt.Errorf("%s is not running", name)
	}
	return pid, nil
}

// Signal sends sig to a running process of the network.
func (d *Description) Signal(name string, sig syscall.Signal) error {
	pid, err := d.PID(name)
	if err != nil {
		return err
	}
	return syscall.Kill(pid, sig)
}

// KillService kills the named agent or gateway with SIGKILL and waits until
// it is gone and its port is free.
func (d *Description) KillService(ctx context.Context, name string) error {
	pid, err := d.PID(name)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for alive(pid, "") {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s (pid %d) still alive: %w", name, pid, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	_ = os.Remove(filepath.Join(d.RunDir, "pids", name+".pid"))
	if addrs := d.serviceAddresses(name); len(addrs) > 0 {
		return waitPortsFree(ctx, addrs)
	}
	return nil
}

// RestartService starts a stopped agent or gateway again with the arguments
// it was first started with and waits until it serves.
func (d *Description) RestartService(ctx context.Context, name string) error {
	for _, ag := range d.Agents {
		if ag.Name == name {
			if err := startProcess(d.RunDir, slog.New(slog.DiscardHandler), process{name: name, bin: ag.Bin, args: ag.Args, env: append(os.Environ(), ag.Env...)}); err != nil {
				return err
			}
			return d.waitServing(ctx, name, func(ctx context.Context) error { return dialOnce(ctx, ag.Address) })
		}
	}
	for _, gw := range d.Gateways {
		if gw.Name == name {
			if err := startProcess(d.RunDir, slog.New(slog.DiscardHandler), process{name: name, bin: gw.Bin, args: gw.Args, env: append(os.Environ(), gw.Env...)}); err != nil {
				return err
			}
			return d.waitServing(ctx, name, func(ctx context.Context) error { return httpOnce(ctx, gw.URL+"/healthz") })
		}
	}
	return fmt.Errorf("no service %q", name)
}

// serviceAddresses are the TCP addresses the named agent or gateway
// listens on.
func (d *Description) serviceAddresses(name string) []string {
	for _, ag := range d.Agents {
		if ag.Name == name {
			return []string{ag.Address}
		}
	}
	for _, gw := range d.Gateways {
		if gw.Name == name {
			if gw.AdminAddress != "" {
				return []string{gw.Address, gw.AdminAddress}
			}
			return []string{gw.Address}
		}
	}
	return nil
}

// ledgerClient connects to the first organisation's peer as its client
// identity; the caller closes it.
func (d *Description) ledgerClient(ctx context.Context) (*ledger.Client, error) {
	settings, _, err := d.ClientSettings("")
	if err != nil {
		return nil, err
	}
	return ledger.Connect(ctx, settings)
}

// waitRegistered polls the ledger until every node id is registered and
// active.
func waitRegistered(ctx context.Context, desc *Description, ids []string) error {
	cl, err := desc.ledgerClient(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		nodes, err := cl.ListNodes(ctx)
		missing := slices.Clone(ids)
		if err == nil {
			for _, n := range nodes {
				if n.Active() {
					missing = slices.DeleteFunc(missing, func(id string) bool { return id == n.ID })
				}
			}
			if len(missing) == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: agents not registered on the ledger: %v (last error %v): %w", ErrServices, missing, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitBids polls the ledger until every agent of desc has an active
// standing bid.
func waitBids(ctx context.Context, desc *Description) error {
	cl, err := desc.ledgerClient(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, ag := range desc.Agents {
		for {
			b, err := cl.GetBid(ctx, ag.NodeID)
			if err == nil && b.Status == records.BidActive {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: agent %s has no standing bid on the ledger (last error %v): %w", ErrServices, ag.NodeID, err, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// ServicePorts returns the default agent and gateway ports of a network with
// the given base port.
func ServicePorts(basePort int) (agentPort, gatewayPort int) {
	return basePort + servicesBlock, basePort + servicesBlock + 100
}

// MeshPort returns the default first gossip port of a network with the
// given base port (agents from there, gateways 100 further).
func MeshPort(basePort int) int { return basePort + servicesBlock + 200 }

// gatewayIdentityArgs configures a gateway the way a member deploys one on
// an existing consortium: from the organisation's standard connection
// profile and the MSP directory of its gateway identity (not from
// network.json), so that path is what the tests and the demo run.
func gatewayIdentityArgs(desc *Description, org OrgInfo) []string {
	id, _ := org.Identity(RoleGateway) // every organisation of Up has one
	cas, _ := desc.MemberCAs()         // Up's cryptogen wrote every msp/cacerts
	return []string{
		"--connection-profile", org.ConnectionProfile, "--msp-dir", id.MSPDir,
		"--channel", desc.Channel, "--chaincode", desc.Chaincode,
		// Towards the agents the gateway authenticates as its ledger
		// identity (the default of --agent-client-cert/--agent-client-key),
		// which the agents check for the gateway role in the registry.
		"--agent-ca", desc.TLSRootBundle,
		"--master-key-file", desc.MasterKeyFile,
		"--admin-tls-cert", org.GatewayTLSCert, "--admin-tls-key", org.GatewayTLSKey,
		"--member-cas", strings.Join(cas, ","),
	}
}

// agentIdentityArgs configures an agent from the connection profile and
// its own node identity (an agent never holds the organisation's client
// identities), with its TLS server pair and every member's MSP CAs, which
// verify the gateways' enrollment certificates.
func agentIdentityArgs(desc *Description, org OrgInfo, host string) []string {
	id, _ := org.NodeIdentity(host) // Up made one per agent host
	cas, _ := desc.MemberCAs()      // Up's cryptogen wrote every msp/cacerts
	return []string{
		"--connection-profile", org.ConnectionProfile, "--msp-dir", id.MSPDir,
		"--channel", desc.Channel, "--chaincode", desc.Chaincode,
		"--tls-cert", id.TLSCert, "--tls-key", id.TLSKey, "--member-cas", strings.Join(cas, ","),
	}
}
