package mesh

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/memberlist"
)

// Role is what a member does in DCT.
type Role string

const (
	// RoleAgent is an edge agent storing shards.
	RoleAgent Role = "agent"
	// RoleGateway is a gateway serving content.
	RoleGateway Role = "gateway"
)

// Validate reports whether r is a known role.
func (r Role) Validate() error {
	switch r {
	case RoleAgent, RoleGateway:
		return nil
	}
	return fmt.Errorf("%w: role %q (want %q or %q)", ErrConfig, string(r), RoleAgent, RoleGateway)
}

func (r Role) String() string { return string(r) }

// Status is a member's health as this member sees it.
type Status string

const (
	// StatusAlive: the member answers probes.
	StatusAlive Status = "alive"
	// StatusSuspect: this member's last direct probe of it went
	// unanswered (serf still counts it alive). It turns failed when the
	// mesh's suspicion times out, or alive again with the next answered
	// probe.
	StatusSuspect Status = "suspect"
	// StatusFailed: the member stopped answering without leaving. It is
	// kept (and reconnection is tried) until reaped.
	StatusFailed Status = "failed"
	// StatusLeft: the member left gracefully (or is leaving). It is kept
	// until reaped.
	StatusLeft Status = "left"
)

func (s Status) String() string { return string(s) }

// Up reports whether the member is believed to be running (alive or
// suspect).
func (s Status) Up() bool { return s == StatusAlive || s == StatusSuspect }

// Tag keys the mesh sets itself; Config.Tags may not use them.
const (
	TagRole   = "role"
	TagNodeID = "node"
)

// Tag keys agents publish in Config.Tags.
const (
	// TagGRPC is the agent's gRPC endpoint (host:port) as registered in
	// the ledger.
	TagGRPC = "grpc"
	// TagZone is the agent's placement zone.
	TagZone = "zone"
)

// Tag keys gateways publish in Config.Tags.
const (
	// TagPublicURL is the gateway's public base URL as browsers reach it
	// (listed by the gateways' GET /v1/gateways for the frontend loader).
	TagPublicURL = "url"
)

// maxTagBytes bounds the tags' keys and values: serf encodes them into
// memberlist's node metadata, at most memberlist.MetaMaxSize bytes.
const maxTagBytes = memberlist.MetaMaxSize - 64

// maxNameLen bounds member names.
const maxNameLen = 128

// Timing is the failure-detection and housekeeping timing. Zero fields take
// the value of DefaultTiming.
//
// A member that stops answering is probed within about ProbeInterval times
// the number of members by each peer, so some peer suspects it after
// roughly ProbeInterval plus one interval of indirect probes; the suspicion
// becomes a failure SuspicionMult×ProbeInterval later (scaled by
// log10(members) in clusters of ten or more, and up to
// SuspicionMaxTimeoutMult times that while too few peers confirm it).
type Timing struct {
	// ProbeInterval is how often a member probes one peer (round-robin).
	ProbeInterval time.Duration
	// ProbeTimeout is how long a direct probe waits for its ack before
	// indirect probes start; it must exceed the largest RTT between
	// members, and also bounds MeasureRTT.
	ProbeTimeout time.Duration
	// SuspicionMult multiplies ProbeInterval into the suspicion timeout.
	SuspicionMult int
	// SuspicionMaxTimeoutMult caps the suspicion timeout (as a multiple of
	// it) while it waits for independent confirmations.
	SuspicionMaxTimeoutMult int
	// GossipInterval is how often state changes are gossiped.
	GossipInterval time.Duration
	// PushPullInterval is how often full state is exchanged with a random
	// peer over TCP (anti-entropy).
	PushPullInterval time.Duration
	// ReconnectInterval is how often a connection to a failed member is
	// attempted (it may have been a partition).
	ReconnectInterval time.Duration
	// ReapAfter is how long failed and left members stay listed.
	ReapAfter time.Duration
	// ReapInterval is how often failed and left members are checked
	// against ReapAfter.
	ReapInterval time.Duration
	// LeaveTimeout bounds the wait for the leave message to be sent on
	// Close; LeavePropagateDelay is then how long the member keeps
	// answering probes while the leave spreads.
	LeaveTimeout        time.Duration
	LeavePropagateDelay time.Duration
	// JoinRetryInterval is how often the seeds are tried while no other
	// member is alive.
	JoinRetryInterval time.Duration
	// ResolveInterval is how often an Advertise host name is resolved
	// again: when it no longer resolves to the advertised IP, the member
	// restarts its gossip at the new address and rejoins.
	ResolveInterval time.Duration
}

// DefaultTiming is tuned for a LAN or loopback: a dead member is suspected
// within about a second and declared failed a second or two later. Probes
// are most of an idle member's CPU: every 500 ms with a suspicion of 3
// intervals (1.5 s once another member confirms it) halves the probe
// traffic of 250 ms and 4 intervals, for a failure declared about a
// second later (TestFailureLeaveRejoinReap: failed after ~2.8 s instead of
// ~1.4 s with three members).
func DefaultTiming() Timing {
	return Timing{
		ProbeInterval:           500 * time.Millisecond,
		ProbeTimeout:            100 * time.Millisecond,
		SuspicionMult:           3,
		SuspicionMaxTimeoutMult: 3,
		GossipInterval:          200 * time.Millisecond,
		PushPullInterval:        10 * time.Second,
		ReconnectInterval:       5 * time.Second,
		ReapAfter:               time.Hour,
		ReapInterval:            5 * time.Second,
		LeaveTimeout:            2 * time.Second,
		LeavePropagateDelay:     500 * time.Millisecond,
		JoinRetryInterval:       time.Second,
		ResolveInterval:         5 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultTiming.
func (t Timing) withDefaults() Timing {
	d := DefaultTiming()
	dur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	num := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	dur(&t.ProbeInterval, d.ProbeInterval)
	dur(&t.ProbeTimeout, d.ProbeTimeout)
	num(&t.SuspicionMult, d.SuspicionMult)
	num(&t.SuspicionMaxTimeoutMult, d.SuspicionMaxTimeoutMult)
	dur(&t.GossipInterval, d.GossipInterval)
	dur(&t.PushPullInterval, d.PushPullInterval)
	dur(&t.ReconnectInterval, d.ReconnectInterval)
	dur(&t.ReapAfter, d.ReapAfter)
	dur(&t.ReapInterval, d.ReapInterval)
	dur(&t.LeaveTimeout, d.LeaveTimeout)
	dur(&t.LeavePropagateDelay, d.LeavePropagateDelay)
	dur(&t.JoinRetryInterval, d.JoinRetryInterval)
	dur(&t.ResolveInterval, d.ResolveInterval)
	return t
}

// Validate checks the timing (after defaults: every field positive).
func (t Timing) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: timing: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"probe interval", t.ProbeInterval}, {"probe timeout", t.ProbeTimeout}, {"gossip interval", t.GossipInterval},
		{"push/pull interval", t.PushPullInterval}, {"reconnect interval", t.ReconnectInterval},
		{"reap after", t.ReapAfter}, {"reap interval", t.ReapInterval}, {"leave timeout", t.LeaveTimeout},
		{"leave propagate delay", t.LeavePropagateDelay}, {"join retry interval", t.JoinRetryInterval},
		{"resolve interval", t.ResolveInterval},
	} {
		if d.v <= 0 {
			return bad("%s must be positive, got %s", d.name, d.v)
		}
	}
	if t.ProbeTimeout >= t.ProbeInterval {
		return bad("probe timeout %s must be shorter than the probe interval %s", t.ProbeTimeout, t.ProbeInterval)
	}
	if t.SuspicionMult < 1 || t.SuspicionMaxTimeoutMult < 1 {
		return bad("suspicion multipliers must be at least 1, got %d and %d", t.SuspicionMult, t.SuspicionMaxTimeoutMult)
	}
	return nil
}

// Config is one member's mesh configuration.
type Config struct {
	// Name is the member's unique name: an agent's ledger node id, a
	// gateway's name.
	Name string
	Role Role
	// NodeID is the ledger node id (required for agents; empty for
	// gateways).
	NodeID string
	// Bind is the gossip address, UDP and TCP on the same port: IP:port,
	// or :port for every interface (then set Advertise). Port 0 picks a
	// free port (see Mesh.Addr).
	Bind string
	// Advertise is the host:port other members reach this one at (default:
	// the bound address). A host name is resolved on Start; port 0 means
	// the bound port.
	Advertise string
	// Join are seed addresses (host:port). While no other member is alive
	// they are tried every Timing.JoinRetryInterval in the background.
	Join []string
	// Tags are extra tags published to every member (e.g. the agent's gRPC
	// endpoint, its zone); the keys TagRole and TagNodeID are reserved.
	Tags   map[string]string
	Timing Timing
	// Keys is the consortium's gossip keyring (see Keyring): every
	// message is sealed with its primary key, and only messages sealed
	// with one of its keys are accepted. Empty leaves gossip in plain
	// text, which the DCT binaries refuse; it is for tests of the mesh
	// alone.
	Keys Keyring
	// Logger receives the mesh's logs; serf's and memberlist's own lines
	// are mapped to Debug (DEBUG, INFO) and Warn (WARN, ERR). Default:
	// discard.
	Logger *slog.Logger

	// wrapTransport, when set (tests), wraps the UDP/TCP transport.
	wrapTransport func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
	// lookup resolves the Advertise host name (tests; default: the
	// system resolver).
	lookup func(ctx context.Context, host string) ([]net.IP, error)
}

// withDefaults returns the configuration with defaults applied.
func (c Config) withDefaults() Config {
	c.Timing = c.Timing.withDefaults()
	if c.lookup == nil {
		c.lookup = lookupIP
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the configuration; zero timing fields count as their
// defaults.
func (c Config) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	if err := validateName(c.Name); err != nil {
		return bad("name: %v", err)
	}
	if err := c.Role.Validate(); err != nil {
		return err
	}
	if c.Role == RoleAgent && c.NodeID == "" {
		return bad("an agent needs its ledger node id")
	}
	if c.NodeID != "" {
		if err := validateName(c.NodeID); err != nil {
			return bad("node id: %v", err)
		}
	}
	if err := validateBind(c.Bind); err != nil {
		return bad("bind address %q: %v", c.Bind, err)
	}
	if c.Advertise != "" {
		if _, _, err := splitHostPort(c.Advertise, true); err != nil {
			return bad("advertise address %q: %v", c.Advertise, err)
		}
	}
	if err := validateSeeds(c.Join); err != nil {
		return bad("%v", err)
	}
	if len(c.Keys) > 0 {
		if err := c.Keys.Validate(); err != nil {
			return bad("%v", err)
		}
	}
	size := 0
	for k, v := range c.Tags {
		if k == "" {
			return bad("empty tag key")
		}
		if k == TagRole || k == TagNodeID {
			return bad("tag %q is reserved", k)
		}
		size += len(k) + len(v)
	}
	if size > maxTagBytes {
		return bad("tags take %d bytes, at most %d fit", size, maxTagBytes)
	}
	return c.Timing.withDefaults().Validate()
}

// validateName accepts 1–128 printable characters without spaces.
func validateName(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%d bytes, at most %d", len(s), maxNameLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not UTF-8", s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%q has a space or control character", s)
		}
	}
	return nil
}

// validateBind accepts IP:port and :port.
func validateBind(s string) error {
	host, _, err := splitHostPort(s, false)
	if err != nil {
		return err
	}
	if host != "" && net.ParseIP(host) == nil {
		return fmt.Errorf("host must be an IP address (or empty for every interface)")
	}
	return nil
}

func validateSeeds(addrs []string) error {
	for _, a := range addrs {
		if _, _, err := splitHostPort(a, true); err != nil {
			return fmt.Errorf("join address %q: %v", a, err)
		}
	}
	return nil
}

// splitHostPort splits host:port with a numeric port (0 allowed); with
// needHost the host may not be empty.
func splitHostPort(s string, needHost bool) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	if needHost && host == "" {
		return "", 0, fmt.Errorf("no host")
	}
	if strings.ContainsAny(host, " \t") {
		return "", 0, fmt.Errorf("space in host")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: want 0–65535", port)
	}
	return host, int(p), nil
}
