package gateway

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/mesh"
)

func TestTrustedMember(t *testing.T) {
	node := &records.Node{ID: "agent0-org1", Endpoint: "10.0.0.5:9500"}
	named := &records.Node{ID: "agent1-org1", Endpoint: "agent1.bank-a.example:9500"}
	hosts := newHostResolver(time.Minute, func(_ context.Context, host string) ([]string, error) {
		if host == "agent1.bank-a.example" {
			return []string{"10.0.0.6", "fd00::6"}, nil
		}
		return nil, errors.New("no such host")
	})
	agent := func(name, id, addr, grpc string, st mesh.Status) mesh.Member {
		return mesh.Member{Name: name, Role: mesh.RoleAgent, NodeID: id, Addr: addr, Status: st, Tags: map[string]string{mesh.TagGRPC: grpc}}
	}
	genuine := agent("agent0-org1", "agent0-org1", "10.0.0.5:7946", "10.0.0.5:9500", mesh.StatusAlive)
	tests := []struct {
		name     string
		node     *records.Node
		members  []mesh.Member
		want     string // member name taken as the node; "" = none
		rejected []string
	}{
		{"tags match the ledger", node, []mesh.Member{genuine}, "agent0-org1", nil},
		{"no claimant", node, []mesh.Member{agent("x", "agent9", "10.0.0.9:7946", "10.0.0.9:9500", mesh.StatusAlive)}, "", nil},
		{"gateway with the node id is no claimant", node, []mesh.Member{{Name: "gw", Role: mesh.RoleGateway, NodeID: "agent0-org1", Addr: "10.0.0.5:7946"}}, "", nil},
		{"other gRPC endpoint", node, []mesh.Member{agent("imposter", "agent0-org1", "10.0.0.5:7946", "10.0.0.66:9500", mesh.StatusAlive)},
			"", []string{"is not the ledger endpoint"}},
		{"no gRPC tag", node, []mesh.Member{agent("imposter", "agent0-org1", "10.0.0.5:7946", "", mesh.StatusAlive)},
			"", []string{"is not the ledger endpoint"}},
		{"right tag, gossip from another host", node, []mesh.Member{agent("imposter", "agent0-org1", "10.0.0.66:7946", "10.0.0.5:9500", mesh.StatusAlive)},
			"", []string{"is not on the ledger endpoint's host 10.0.0.5"}},
		{"an alive imposter does not shadow a suspect genuine member", node, []mesh.Member{
			agent("imposter", "agent0-org1", "10.0.0.66:7946", "10.0.0.5:9500", mesh.StatusAlive),
			agent("agent0-org1", "agent0-org1", "10.0.0.5:7946", "10.0.0.5:9500", mesh.StatusSuspect),
		}, "agent0-org1", []string{"not on the ledger endpoint's host"}},
		{"a failed imposter does not mark the genuine member failed", node, []mesh.Member{
			genuine, agent("imposter", "agent0-org1", "10.0.0.66:7946", "10.0.0.66:9500", mesh.StatusFailed),
		}, "agent0-org1", []string{"is not the ledger endpoint"}},
		{"confirmed: alive wins over failed", node, []mesh.Member{
			agent("old", "agent0-org1", "10.0.0.5:7947", "10.0.0.5:9500", mesh.StatusFailed), genuine,
		}, "agent0-org1", nil},
		{"endpoint by name, gossip on one of its addresses", named, []mesh.Member{agent("a1", "agent1-org1", "[fd00::6]:7946", "agent1.bank-a.example:9500", mesh.StatusAlive)},
			"a1", nil},
		{"endpoint by name, gossip elsewhere", named, []mesh.Member{agent("a1", "agent1-org1", "10.0.0.7:7946", "agent1.bank-a.example:9500", mesh.StatusAlive)},
			"", []string{"not on the ledger endpoint's host agent1.bank-a.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, rejected := trustedMember(tc.members, tc.node, hosts.sameHost)
			if name := map[bool]string{true: got.Name}[ok]; name != tc.want {
				t.Fatalf("taken as %s: %q (found %v), want %q", tc.node.ID, name, ok, tc.want)
			}
			if len(rejected) != len(tc.rejected) {
				t.Fatalf("rejected %+v, want %d", rejected, len(tc.rejected))
			}
			for i, r := range rejected {
				if !strings.Contains(r.reason, tc.rejected[i]) {
					t.Fatalf("rejection %q, want %q", r.reason, tc.rejected[i])
				}
			}
		})
	}
}

func TestHostResolverCaches(t *testing.T) {
	calls := 0
	r := newHostResolver(time.Hour, func(_ context.Context, host string) ([]string, error) {
		calls++
		return []string{"192.0.2.1"}, nil
	})
	for range 3 {
		if !r.sameHost("192.0.2.1", "edge.example") || r.sameHost("192.0.2.2", "edge.example") {
			t.Fatal("wrong match")
		}
	}
	if calls != 1 {
		t.Fatalf("%d lookups, want 1 (cached)", calls)
	}
	if r.sameHost("edge.example", "edge.example") != true || r.sameHost("not-an-ip", "other") {
		t.Fatal("literal comparison")
	}
}

func TestHostResolverKeepsAddressesWhenTheNameIsGone(t *testing.T) {
	gone := false
	r := newHostResolver(time.Nanosecond, func(_ context.Context, host string) ([]string, error) {
		if gone {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []string{"192.0.2.1"}, nil
	})
	if !r.sameHost("192.0.2.1", "edge.example") {
		t.Fatal("no match while the name resolves")
	}
	gone = true // the host removed for good, its name with it
	for range 2 {
		if !r.sameHost("192.0.2.1", "edge.example") || r.sameHost("192.0.2.2", "edge.example") {
			t.Fatal("the last addresses found are not kept once the name no longer resolves")
		}
	}
	if r.sameHost("192.0.2.1", "never.example") {
		t.Fatal("a name that never resolved matches")
	}
}

func TestHostResolverRechecksAnAddressItDoesNotKnow(t *testing.T) {
	addr, calls := "192.0.2.1", 0
	r := newHostResolver(time.Hour, func(_ context.Context, host string) ([]string, error) {
		calls++
		return []string{addr}, nil
	})
	if !r.sameHost("192.0.2.1", "edge.example") || calls != 1 {
		t.Fatalf("first lookup: %d calls", calls)
	}
	addr = "192.0.2.9" // the host re-attached under another address
	if r.sameHost("192.0.2.9", "edge.example") || calls != 1 {
		t.Fatalf("looked up again within recheckAfter: %d calls", calls)
	}
	r.mu.Lock()
	c := r.cache["edge.example"]
	c.at = c.at.Add(-recheckAfter)
	r.cache["edge.example"] = c
	r.mu.Unlock()
	if !r.sameHost("192.0.2.9", "edge.example") || calls != 2 {
		t.Fatalf("the new address not matched after recheckAfter: %d calls", calls)
	}
	if r.sameHost("192.0.2.1", "edge.example") {
		t.Fatal("the old address still matches")
	}
}
