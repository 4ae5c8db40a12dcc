package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/mesh"
)

// meshTopology is the content service's view of the gossip mesh: an agent's
// health from SWIM failure detection, its RTT from Vivaldi coordinates.
//
// Gossip tags are claims, not facts: a mesh member is taken as node X only
// when the ledger's record of X confirms its tags (trustedMember). The
// gateway then dials the ledger's endpoint of X over TLS, where the
// agent's certificate must chain to the consortium's CAs, so a member
// that lies about its id can neither attract nor deflect reads.
type meshTopology struct {
	m *mesh.Mesh
	// nodes is the ledger's record of a node, without calling the ledger
	// (content.Service.CachedNode); nil until set.
	nodes func(id string) (*records.Node, bool)
	hosts *hostResolver
	log   *slog.Logger

	mu     sync.Mutex
	warned map[string]bool // member + reason already logged
}

func newMeshTopology(m *mesh.Mesh, log *slog.Logger) *meshTopology {
	return &meshTopology{m: m, hosts: newHostResolver(time.Minute, nil), log: log, warned: map[string]bool{}}
}

func (t *meshTopology) Node(id string) (content.Health, time.Duration, bool) {
	if t.nodes == nil {
		return content.HealthUnknown, 0, false
	}
	n, ok := t.nodes(id)
	if !ok {
		return content.HealthUnknown, 0, false
	}
	mem, ok, rejected := trustedMember(t.m.Members(), n, t.hosts.sameHost)
	for _, r := range rejected {
		t.warn(r)
	}
	if !ok {
		return content.HealthUnknown, 0, false
	}
	h := content.HealthUnknown
	switch mem.Status {
	case mesh.StatusAlive:
		h = content.HealthAlive
	case mesh.StatusSuspect:
		h = content.HealthSuspect
	case mesh.StatusFailed, mesh.StatusLeft:
		h = content.HealthFailed
	}
	return h, mem.RTT, mem.HasRTT
}

// warn logs a rejected claim once per member and reason.
func (t *meshTopology) warn(r rejection) {
	key := r.member.Name + "\x00" + r.reason
	t.mu.Lock()
	seen := t.warned[key]
	t.warned[key] = true
	t.mu.Unlock()
	if !seen {
		t.log.Warn("mesh member ignored: its gossip tags do not match the ledger's node record",
			"member", r.member.Name, "claims", r.member.NodeID, "addr", r.member.Addr, "reason", r.reason)
	}
}

// rejection is a member whose claim to a node id the ledger does not
// confirm.
type rejection struct {
	member mesh.Member
	reason string
}

// trustedMember picks, among the mesh agents claiming node n's id, the one
// the ledger's record confirms: its gRPC tag is n's registered endpoint,
// and its gossip address is on the endpoint's host (sameHost). Of several
// confirmed claimants an alive one wins over a suspect one over the
// others. The claimants it rejects are returned with the reason.
func trustedMember(members []mesh.Member, n *records.Node, sameHost func(gossipHost, endpointHost string) bool) (mesh.Member, bool, []rejection) {
	var (
		best     mesh.Member
		found    bool
		rejected []rejection
	)
	rank := map[mesh.Status]int{mesh.StatusAlive: 3, mesh.StatusSuspect: 2}
	for _, mb := range members {
		if mb.Role != mesh.RoleAgent || mb.NodeID != n.ID {
			continue
		}
		if err := confirms(mb, n, sameHost); err != nil {
			rejected = append(rejected, rejection{member: mb, reason: err.Error()})
			continue
		}
		if !found || rank[mb.Status] > rank[best.Status] {
			best, found = mb, true
		}
	}
	return best, found, rejected
}

// confirms checks a member's tags against the ledger's record of the node
// it claims to be.
func confirms(mb mesh.Member, n *records.Node, sameHost func(gossipHost, endpointHost string) bool) error {
	if got := mb.Tags[mesh.TagGRPC]; got != n.Endpoint {
		return fmt.Errorf("gRPC tag %q is not the ledger endpoint %q", got, n.Endpoint)
	}
	epHost, _, err := net.SplitHostPort(n.Endpoint)
	if err != nil {
		return fmt.Errorf("ledger endpoint %q: %v", n.Endpoint, err)
	}
	gHost, _, err := net.SplitHostPort(mb.Addr)
	if err != nil {
		return fmt.Errorf("gossip address %q: %v", mb.Addr, err)
	}
	if !sameHost(gHost, epHost) {
		return fmt.Errorf("gossip address %s is not on the ledger endpoint's host %s", mb.Addr, epHost)
	}
	return nil
}

// hostResolver compares a gossip address (an IP) with an endpoint host (an
// IP or a name), caching name lookups for ttl. A lookup that fails, or
// finds no address, keeps the addresses last found: an agent host gone
// for good (its name removed from DNS with it) stays matched to the
// address it gossiped from, so its member is still confirmed, seen
// failed, and its shards repaired, rather than unknown for ever.
type hostResolver struct {
	ttl    time.Duration
	lookup func(ctx context.Context, host string) ([]string, error)

	mu    sync.Mutex
	cache map[string]resolved
}

type resolved struct {
	addrs []net.IP
	at    time.Time
}

// newHostResolver resolves with lookup (nil: the system resolver).
func newHostResolver(ttl time.Duration, lookup func(ctx context.Context, host string) ([]string, error)) *hostResolver {
	if lookup == nil {
		lookup = net.DefaultResolver.LookupHost
	}
	return &hostResolver{ttl: ttl, lookup: lookup, cache: map[string]resolved{}}
}

// sameHost reports whether gossipHost is endpointHost or one of its
// addresses. A name that never resolved matches nothing (until its
// cached failure expires).
func (r *hostResolver) sameHost(gossipHost, endpointHost string) bool {
	if gossipHost == endpointHost {
		return true
	}
	g := net.ParseIP(gossipHost)
	if g == nil {
		return false
	}
	if ip := net.ParseIP(endpointHost); ip != nil {
		return ip.Equal(g)
	}
	if slices.ContainsFunc(r.resolve(endpointHost, r.ttl), g.Equal) {
		return true
	}
	// A host that got another address (an agent re-attached to its
	// network) gossips from it at once: look the name up again rather
	// than distrust it for the rest of the ttl.
	return slices.ContainsFunc(r.resolve(endpointHost, min(r.ttl, recheckAfter)), g.Equal)
}

// recheckAfter is how old a cached lookup must be for a gossip address
// it does not match to trigger a new lookup.
const recheckAfter = 5 * time.Second

// resolve returns host's addresses, looked up again when the cached ones
// are maxAge old.
func (r *hostResolver) resolve(host string, maxAge time.Duration) []net.IP {
	r.mu.Lock()
	c, ok := r.cache[host]
	r.mu.Unlock()
	if ok && time.Since(c.at) < maxAge {
		return c.addrs
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	names, _ := r.lookup(ctx, host)
	var addrs []net.IP
	for _, a := range names {
		if ip := net.ParseIP(a); ip != nil {
			addrs = append(addrs, ip)
		}
	}
	if len(addrs) == 0 && ok {
		addrs = c.addrs // stale rather than nothing (see hostResolver)
	}
	r.mu.Lock()
	r.cache[host] = resolved{addrs: addrs, at: time.Now()}
	r.mu.Unlock()
	return addrs
}
