package mesh

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/coordinate"
	"github.com/hashicorp/serf/serf"
)

// Member is another member as this one sees it.
type Member struct {
	Name   string
	Role   Role
	NodeID string
	// Addr is the member's gossip address (host:port).
	Addr string
	// Tags are the member's extra tags (without role and node id).
	Tags   map[string]string
	Status Status
	// RTT is the round-trip time estimated from the network coordinates;
	// HasRTT is false until this member has probed that one.
	RTT    time.Duration
	HasRTT bool
}

func (m Member) String() string {
	s := fmt.Sprintf("%s (%s %s at %s", m.Name, m.Status, m.Role, m.Addr)
	if m.HasRTT {
		s += ", rtt≈" + m.RTT.Round(10*time.Microsecond).String()
	}
	return s + ")"
}

// Mesh is one member of the gossip membership. Its methods are safe for
// concurrent use.
type Mesh struct {
	cfg  Config
	log  *slog.Logger
	cur  atomic.Pointer[instance] // the running serf (replaced by readdress)
	life sync.Mutex               // serializes readdress and shutdown
	// advName is the advertised host name followed by followAdvertise
	// ("" for an IP), advPort the advertised port.
	advName string
	advPort int
	events  chan serf.Event
	probes  *probeWatch

	closed    atomic.Bool
	stop      chan struct{}       // closed when shutting down starts
	done      chan struct{}       // closed once serf is shut down
	keyring   *memberlist.Keyring // nil without encryption
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start binds the gossip address, joins the mesh in the background (see
// Config.Join) and returns at once. ctx bounds the start (resolving the
// advertise address), not the mesh's life: Close ends it.
func Start(ctx context.Context, cfg Config) (*Mesh, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Tags = maps.Clone(cfg.Tags)
	cfg.Join = slices.Clone(cfg.Join)
	log := cfg.Logger

	bindHost, bindPort, _ := splitHostPort(cfg.Bind, false)
	if bindHost == "" {
		bindHost = "0.0.0.0"
	}
	var advHost string
	advPort := 0
	if cfg.Advertise != "" {
		h, p, _ := splitHostPort(cfg.Advertise, true)
		ip, err := resolveIP(ctx, cfg.lookup, h)
		if err != nil {
			return nil, fmt.Errorf("%w: advertise address %q: %w", ErrConfig, cfg.Advertise, err)
		}
		advHost, advPort = ip.String(), p
	}

	m := &Mesh{
		cfg: cfg, log: log, events: make(chan serf.Event, 256), probes: newProbeWatch(),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if len(cfg.Keys) > 0 {
		// Seal with the primary key, accept any key of the ring, and
		// drop everything that is not sealed (GossipVerify*).
		ring, err := memberlist.NewKeyring(cfg.Keys, cfg.Keys.Primary())
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKeyring, err)
		}
		m.keyring = ring
	}
	in, err := m.create(bindHost, bindPort, advHost, advPort)
	if err != nil {
		return nil, err
	}
	m.cur.Store(in)
	if host, _, _ := splitHostPort(cfg.Advertise, false); host != "" && net.ParseIP(host) == nil {
		m.advName, m.advPort = host, advPort
	}
	m.wg.Add(1)
	go m.watch()
	if len(cfg.Join) > 0 {
		m.wg.Add(1)
		go m.keepJoined()
	}
	if m.advName != "" {
		m.wg.Add(1)
		go m.followAdvertise(m.advName, m.advPort)
	}
	log.Info("mesh started", "name", cfg.Name, "role", cfg.Role, "addr", in.addr, "seeds", strings.Join(cfg.Join, ","),
		"encrypted", len(cfg.Keys) > 0)
	return m, nil
}

// instance is one run of serf and its memberlist at one address.
type instance struct {
	serf  *serf.Serf
	ml    *memberlist.Memberlist
	addr  string // gossip address other members reach it at
	bound int    // bound port
}

// create binds the gossip address and starts serf, advertising advHost
// (the bound address when empty) and advPort (the bound port when 0).
func (m *Mesh) create(bindHost string, bindPort int, advHost string, advPort int) (*instance, error) {
	cfg, t := m.cfg, m.cfg.Timing
	std := stdLogger(m.log)
	nt, err := listen(bindHost, bindPort, std)
	if err != nil {
		return nil, fmt.Errorf("mesh: listen on %s: %w", net.JoinHostPort(bindHost, strconv.Itoa(bindPort)), err)
	}
	bound := nt.GetAutoBindPort()
	if advHost != "" && advPort == 0 {
		advPort = bound
	}
	var tr memberlist.NodeAwareTransport = nt
	if cfg.wrapTransport != nil {
		tr = cfg.wrapTransport(nt)
	}

	mlc := memberlist.DefaultLANConfig()
	mlc.BindAddr, mlc.BindPort = bindHost, bound
	mlc.AdvertiseAddr, mlc.AdvertisePort = advHost, advPort
	mlc.Transport = tr
	mlc.Logger, mlc.LogOutput = std, nil
	mlc.ProbeInterval, mlc.ProbeTimeout = t.ProbeInterval, t.ProbeTimeout
	mlc.SuspicionMult, mlc.SuspicionMaxTimeoutMult = t.SuspicionMult, t.SuspicionMaxTimeoutMult
	mlc.GossipInterval, mlc.PushPullInterval = t.GossipInterval, t.PushPullInterval
	// Probes, acks and gossip are a few hundred bytes: compressing each
	// (LZW) cost an idle member more CPU than it saves on a LAN. Members
	// still read compressed messages from older ones.
	mlc.EnableCompression = false
	// A member restarted at another address may take its name back as
	// soon as its old self has been declared dead (by default memberlist
	// never allows it). One restarted faster than failure detection is
	// accepted once the old address is declared dead and the next
	// push/pull carries the new one (within PushPullInterval).
	mlc.DeadNodeReclaimTime = time.Nanosecond
	mlc.DisableTcpPingsForNode = m.probes.probeFailed
	if m.keyring != nil {
		mlc.Keyring = m.keyring
		mlc.GossipVerifyIncoming, mlc.GossipVerifyOutgoing = true, true
	}

	tags := map[string]string{TagRole: string(cfg.Role)}
	if cfg.NodeID != "" {
		tags[TagNodeID] = cfg.NodeID
	}
	maps.Copy(tags, cfg.Tags)
	sc := serf.DefaultConfig()
	sc.NodeName = cfg.Name
	sc.Tags = tags
	sc.EventCh = m.events
	sc.MemberlistConfig = mlc
	sc.Logger, sc.LogOutput = std, nil
	sc.DisableCoordinates = false
	sc.ReapInterval, sc.ReconnectInterval = t.ReapInterval, t.ReconnectInterval
	sc.ReconnectTimeout, sc.TombstoneTimeout = t.ReapAfter, t.ReapAfter
	sc.BroadcastTimeout, sc.LeavePropagateDelay = t.LeaveTimeout, t.LeavePropagateDelay
	// Serf's name conflict resolution shuts down the member found in the
	// minority; a member whose address changed (readdress) briefly
	// conflicts with its own old address, and must not quit for it.
	// Memberlist keeps refusing a second address for a live name.
	sc.EnableNameConflictResolution = false

	s, err := serf.Create(sc)
	if err != nil {
		tr.Shutdown()
		return nil, fmt.Errorf("mesh: start: %w", err)
	}
	m.probes.setSource(s)
	local := s.LocalMember()
	return &instance{serf: s, ml: s.Memberlist(), bound: bound,
		addr: net.JoinHostPort(local.Addr.String(), strconv.Itoa(int(local.Port)))}, nil
}

// followAdvertise resolves the advertised host name every
// Timing.ResolveInterval. Memberlist cannot change a running member's
// address, so when the name no longer resolves to the advertised IP (the
// host got another address: a container re-attached to its network, a
// new lease) the member restarts its gossip at the new address and
// rejoins (readdress); without this, peers would keep probing the old
// address, and whoever holds it now, for good.
func (m *Mesh) followAdvertise(host string, port int) {
	defer m.wg.Done()
	ticker := time.NewTicker(m.cfg.Timing.ResolveInterval)
	defer ticker.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-ticker.C:
		}
		m.followOnce(host, port)
	}
}

// followOnce resolves host and, when it no longer resolves to the
// advertised IP, readdresses and rejoins. It reports whether it did.
func (m *Mesh) followOnce(host string, port int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Timing.ResolveInterval)
	ips, err := m.cfg.lookup(ctx, host)
	cancel()
	if err != nil || len(ips) == 0 {
		// Not resolvable right now (e.g. cut off its network): keep
		// the address until the name resolves again.
		m.log.Debug("mesh advertise name not resolved", "host", host, "err", err)
		return false
	}
	curHost, _, _ := net.SplitHostPort(m.cur.Load().addr)
	if slices.ContainsFunc(ips, func(ip net.IP) bool { return ip.String() == curHost }) {
		return false
	}
	in, rejoin, err := m.readdress(pickIP(ips).String(), port)
	if err != nil {
		m.log.Warn("mesh readdress failed; retrying", "host", host, "err", err)
		return false
	}
	if in == nil || len(rejoin) == 0 {
		return true
	}
	// Peers that still hold the old address alive refuse the new one
	// until they declare the old one failed (a suspicion timeout): join
	// again every JoinRetryInterval for a few suspicion timeouts, so the
	// new address reaches them soon after rather than with the next
	// push/pull.
	t := m.cfg.Timing
	until := time.Now().Add(time.Duration(4*t.SuspicionMult) * t.ProbeInterval)
	for attempt := 1; ; attempt++ {
		n, err := in.serf.Join(rejoin, true)
		if attempt == 1 {
			m.log.Info("mesh rejoined after readdress", "name", m.cfg.Name, "answered", n, "of", len(rejoin), "err", err)
		}
		if time.Now().After(until) {
			return true
		}
		select {
		case <-m.stop:
			return true
		case <-time.After(t.JoinRetryInterval):
		}
	}
}

// readdress restarts serf advertising advHost (same name, bind address
// and port; state relearned from the peers) and returns it with the
// addresses to join: the members the old one knew alive and the seeds
// (nil, nil when it already advertises advHost).
// Peers accept the new address once they have declared the old one
// failed (DeadNodeReclaimTime).
func (m *Mesh) readdress(advHost string, advPort int) (*instance, []string, error) {
	m.life.Lock()
	defer m.life.Unlock()
	if m.closed.Load() {
		return nil, nil, ErrClosed
	}
	old := m.cur.Load()
	if h, _, _ := net.SplitHostPort(old.addr); h == advHost {
		return nil, nil, nil // readdressed meanwhile (keepJoined and followAdvertise both look)
	}
	var rejoin []string
	for _, sm := range old.serf.Members() {
		if sm.Name != m.cfg.Name && sm.Status == serf.StatusAlive {
			rejoin = append(rejoin, net.JoinHostPort(sm.Addr.String(), strconv.Itoa(int(sm.Port))))
		}
	}
	for _, s := range m.cfg.Join {
		if !slices.Contains(rejoin, s) {
			rejoin = append(rejoin, s)
		}
	}
	if err := old.serf.Shutdown(); err != nil { // no leave: the name stays ours
		m.log.Warn("mesh shutdown before readdress", "err", err)
	}
	bindHost, _, _ := splitHostPort(m.cfg.Bind, false)
	if bindHost == "" {
		bindHost = "0.0.0.0"
	}
	in, err := m.create(bindHost, old.bound, advHost, advPort)
	if err != nil {
		// Keep a member running at the old address rather than none.
		oldHost, _, _ := net.SplitHostPort(old.addr)
		if back, err2 := m.create(bindHost, old.bound, oldHost, advPort); err2 == nil {
			m.cur.Store(back)
		}
		return nil, nil, err
	}
	m.cur.Store(in)
	m.log.Warn("mesh advertise address changed; gossip restarted at the new one", "name", m.cfg.Name, "old", old.addr, "addr", in.addr)
	return in, rejoin, nil
}

// listen binds UDP and TCP; with port 0 it retries the (racy) pick of a
// port free for both.
func listen(host string, port int, std *log.Logger) (*memberlist.NetTransport, error) {
	tries := 1
	if port == 0 {
		tries = 10
	}
	var err error
	for range tries {
		var nt *memberlist.NetTransport
		nt, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{host}, BindPort: port, Logger: std,
		})
		if err == nil {
			return nt, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, err
}

// resolveIP returns host as an IP, resolving a name with lookup (IPv4
// preferred).
func resolveIP(ctx context.Context, lookup func(context.Context, string) ([]net.IP, error), host string) (net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip, nil
	}
	ips, err := lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s has no address", host)
	}
	return pickIP(ips), nil
}

// pickIP is the first IPv4 address of ips, else the first one.
func pickIP(ips []net.IP) net.IP {
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip
		}
	}
	return ips[0]
}

// lookupIP resolves host with the system resolver.
func lookupIP(ctx context.Context, host string) ([]net.IP, error) {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	ips := make([]net.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = a.IP
	}
	return ips, nil
}

// Name is this member's name.
func (m *Mesh) Name() string { return m.cfg.Name }

// Addr is the gossip address other members reach this one at (the
// advertised address, else the bound one, with the bound port when the
// configured one was 0).
func (m *Mesh) Addr() string { return m.cur.Load().addr }

// Join contacts the given members (host:port) and returns how many
// answered; it fails with ErrJoin when none did. Start's seeds are joined
// in the background without calling Join. When ctx ends first, Join
// returns ctx's error and the attempt finishes in the background.
func (m *Mesh) Join(ctx context.Context, addrs []string) (int, error) {
	if m.closed.Load() {
		return 0, ErrClosed
	}
	if len(addrs) == 0 {
		return 0, fmt.Errorf("%w: no address given", ErrJoin)
	}
	if err := validateSeeds(addrs); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrJoin, err)
	}
	type result struct {
		n   int
		err error
	}
	res := make(chan result, 1)
	go func() {
		n, err := m.cur.Load().serf.Join(addrs, true)
		res <- result{n, err}
	}()
	select {
	case r := <-res:
		if r.n == 0 {
			if m.closed.Load() {
				return 0, ErrClosed
			}
			return 0, fmt.Errorf("%w: %v", ErrJoin, r.err)
		}
		return r.n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// keepJoined joins the seeds whenever no other member is alive: at start,
// until one answers, and again should this member end up alone.
func (m *Mesh) keepJoined() {
	defer m.wg.Done()
	var seeds []string
	for _, s := range m.cfg.Join {
		if s != m.Addr() {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	for {
		select {
		case <-m.stop:
			return
		case <-timer.C:
		}
		timer.Reset(m.cfg.Timing.JoinRetryInterval)
		if m.hasAlivePeer() {
			failures = 0
			continue
		}
		// Alone, perhaps after a partition: should this member's address
		// have changed meanwhile, rejoin under the new one rather than
		// announce the old one (peers would probe whoever holds it now).
		if m.advName != "" && m.followOnce(m.advName, m.advPort) {
			continue
		}
		n, err := m.cur.Load().serf.Join(seeds, true)
		switch {
		case m.closed.Load():
			return
		case n > 0:
			m.log.Info("mesh joined", "name", m.cfg.Name, "seedsAnswered", n)
			failures = 0
		default:
			failures++
			lvl := slog.LevelDebug
			if failures == 1 {
				lvl = slog.LevelWarn
			}
			m.log.Log(context.Background(), lvl, "mesh join failed; retrying", "seeds", strings.Join(seeds, ","),
				"attempts", failures, "retryIn", m.cfg.Timing.JoinRetryInterval, "err", err)
		}
	}
}

func (m *Mesh) hasAlivePeer() bool {
	for _, sm := range m.cur.Load().serf.Members() {
		if sm.Name != m.cfg.Name && sm.Status == serf.StatusAlive {
			return true
		}
	}
	return false
}

// watch logs membership events (serf requires its event channel to be
// drained).
func (m *Mesh) watch() {
	defer m.wg.Done()
	for {
		select {
		case <-m.done:
			return
		case e := <-m.events:
			me, ok := e.(serf.MemberEvent)
			if !ok {
				continue
			}
			lvl, msg := slog.LevelInfo, ""
			switch me.Type {
			case serf.EventMemberJoin:
				msg = "mesh member joined"
			case serf.EventMemberLeave:
				msg = "mesh member left"
			case serf.EventMemberFailed:
				msg = "mesh member failed"
			case serf.EventMemberReap:
				msg = "mesh member reaped"
			default:
				lvl, msg = slog.LevelDebug, "mesh member updated"
			}
			for _, sm := range me.Members {
				if sm.Name == m.cfg.Name {
					continue
				}
				if me.Type != serf.EventMemberUpdate {
					m.probes.forget(sm.Name)
				}
				m.log.Log(context.Background(), lvl, msg, "member", sm.Name, "role", sm.Tags[TagRole],
					"addr", net.JoinHostPort(sm.Addr.String(), strconv.Itoa(int(sm.Port))))
			}
		}
	}
}

func status(sm serf.Member, suspects map[string]bool) Status {
	switch sm.Status {
	case serf.StatusFailed:
		return StatusFailed
	case serf.StatusLeft, serf.StatusLeaving:
		return StatusLeft
	case serf.StatusAlive:
		if suspects[sm.Name] {
			return StatusSuspect
		}
		return StatusAlive
	}
	return StatusFailed // StatusNone: never fully joined
}

// toMember converts a serf member; self is this member's coordinate (nil
// for no estimate).
func (m *Mesh) toMember(sm serf.Member, suspects map[string]bool, self *coordinate.Coordinate) Member {
	out := Member{
		Name:   sm.Name,
		Role:   Role(sm.Tags[TagRole]),
		NodeID: sm.Tags[TagNodeID],
		Addr:   net.JoinHostPort(sm.Addr.String(), strconv.Itoa(int(sm.Port))),
		Status: status(sm, suspects),
	}
	for k, v := range sm.Tags {
		if k != TagRole && k != TagNodeID {
			if out.Tags == nil {
				out.Tags = map[string]string{}
			}
			out.Tags[k] = v
		}
	}
	if self != nil {
		if other, ok := m.cur.Load().serf.GetCachedCoordinate(sm.Name); ok {
			out.RTT, out.HasRTT = distance(self, other)
		}
	}
	return out
}

// distance estimates the RTT between two coordinates.
func distance(a, b *coordinate.Coordinate) (time.Duration, bool) {
	if a == nil || b == nil || !a.IsValid() || !b.IsValid() || !a.IsCompatibleWith(b) {
		return 0, false
	}
	return a.DistanceTo(b), true
}

// Members lists every known member but this one, by name: alive, suspect,
// and failed or left ones until they are reaped.
func (m *Mesh) Members() []Member {
	suspects := m.probes.suspects()
	self, _ := m.cur.Load().serf.GetCoordinate()
	sms := m.cur.Load().serf.Members()
	out := make([]Member, 0, len(sms))
	for _, sm := range sms {
		if sm.Name != m.cfg.Name {
			out = append(out, m.toMember(sm, suspects, self))
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Member returns the member of that name (not this one).
func (m *Mesh) Member(name string) (Member, bool) {
	if name == m.cfg.Name {
		return Member{}, false
	}
	for _, sm := range m.cur.Load().serf.Members() {
		if sm.Name == name {
			self, _ := m.cur.Load().serf.GetCoordinate()
			return m.toMember(sm, m.probes.suspects(), self), true
		}
	}
	return Member{}, false
}

// ByNodeID returns the agent with that ledger node id. Should several
// members claim it, an alive one wins over a suspect one over the others.
func (m *Mesh) ByNodeID(nodeID string) (Member, bool) {
	if nodeID == "" {
		return Member{}, false
	}
	var best Member
	found := false
	rank := map[Status]int{StatusAlive: 3, StatusSuspect: 2}
	for _, mb := range m.Members() {
		if mb.Role == RoleAgent && mb.NodeID == nodeID && (!found || rank[mb.Status] > rank[best.Status]) {
			best, found = mb, true
		}
	}
	return best, found
}

// EstimateRTT estimates the round-trip time to the named member from the
// Vivaldi network coordinates; false until this member has probed that
// one (and so holds both coordinates).
func (m *Mesh) EstimateRTT(name string) (time.Duration, bool) {
	if name == m.cfg.Name {
		return 0, false
	}
	other, ok := m.cur.Load().serf.GetCachedCoordinate(name)
	if !ok {
		return 0, false
	}
	self, err := m.cur.Load().serf.GetCoordinate()
	if err != nil {
		return 0, false
	}
	return distance(self, other)
}

// MeasureRTT sends the named member one probe (a memberlist ping over UDP)
// and returns its round-trip time: a measurement rather than an estimate,
// e.g. for an error report. The probe gives up after Timing.ProbeTimeout
// (ErrNoResponse) or when ctx ends.
func (m *Mesh) MeasureRTT(ctx context.Context, name string) (time.Duration, error) {
	if m.closed.Load() {
		return 0, ErrClosed
	}
	var target *serf.Member
	for _, sm := range m.cur.Load().serf.Members() {
		if sm.Name == name && name != m.cfg.Name {
			target = &sm
			break
		}
	}
	if target == nil {
		return 0, fmt.Errorf("%w: %q", ErrUnknownMember, name)
	}
	if target.Status != serf.StatusAlive {
		return 0, fmt.Errorf("%w: %s has %s", ErrNoResponse, name, status(*target, nil))
	}
	addr := &net.UDPAddr{IP: target.Addr, Port: int(target.Port)}
	type result struct {
		rtt time.Duration
		err error
	}
	res := make(chan result, 1)
	go func() {
		before := time.Now()
		rtt, err := m.cur.Load().ml.Ping(name, addr)
		if err == nil && rtt <= 0 {
			// memberlist stamps the send after the send returns, so on
			// loopback the ack can seem to arrive first: fall back to
			// the whole call's duration.
			rtt = time.Since(before)
		}
		res <- result{rtt, err}
	}()
	select {
	case r := <-res:
		var np memberlist.NoPingResponseError
		if errors.As(r.err, &np) {
			return 0, fmt.Errorf("%w: %s within %s", ErrNoResponse, name, m.cfg.Timing.ProbeTimeout)
		}
		if r.err != nil {
			return 0, fmt.Errorf("mesh: ping %s: %w", name, r.err)
		}
		return r.rtt, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Close leaves the mesh gracefully (peers see this member as left rather
// than failed), then shuts it down. It takes up to Timing.LeaveTimeout
// plus Timing.LeavePropagateDelay and may be called more than once.
func (m *Mesh) Close() error { return m.shutdown(true) }

// shutdown stops the mesh, leaving first when leave is set (without, peers
// detect a failure, as after a crash).
func (m *Mesh) shutdown(leave bool) error {
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		close(m.stop)
		m.life.Lock() // no readdress under way
		defer m.life.Unlock()
		var errs []error
		if leave {
			if err := m.cur.Load().serf.Leave(); err != nil {
				errs = append(errs, fmt.Errorf("mesh: leave: %w", err))
			}
		}
		if err := m.cur.Load().serf.Shutdown(); err != nil {
			errs = append(errs, fmt.Errorf("mesh: shutdown: %w", err))
		}
		close(m.done)
		m.wg.Wait()
		m.closeErr = errors.Join(errs...)
		m.log.Info("mesh stopped", "name", m.cfg.Name, "left", leave)
	})
	return m.closeErr
}
