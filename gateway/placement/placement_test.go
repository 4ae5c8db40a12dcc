package placement

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func nodes(zones ...string) []Node {
	var out []Node
	for i, z := range zones {
		out = append(out, Node{ID: fmt.Sprintf("n%d", i), Zone: z, FreeBytes: 1 << 30})
	}
	return out
}

// check verifies the invariants every placement must satisfy.
func check(t *testing.T, r Request, ns []Node, p Placement) {
	t.Helper()
	if len(p) != r.K+r.M {
		t.Fatalf("placement has %d shards, want %d", len(p), r.K+r.M)
	}
	per := map[string]int{}
	zone := map[string]string{}
	for _, n := range ns {
		zone[n.ID] = n.Zone
	}
	for i, holders := range p {
		if len(holders) != r.R {
			t.Fatalf("shard %d has %d holders, want %d", i, len(holders), r.R)
		}
		seen := map[string]bool{}
		for _, h := range holders {
			if seen[h] {
				t.Fatalf("shard %d lists %s twice", i, h)
			}
			seen[h] = true
			per[h]++
		}
	}
	for id, c := range per {
		if c >= r.K {
			t.Fatalf("node %s holds %d shards, k=%d: it could rebuild the object", id, c, r.K)
		}
		if r.R == 1 && c > max(r.M, 1) {
			t.Fatalf("node %s holds %d shards, m=%d: losing it would lose the object", id, c, r.M)
		}
		if _, ok := zone[id]; !ok {
			t.Fatalf("unknown node %s", id)
		}
	}
}

func TestPlace(t *testing.T) {
	tests := []struct {
		name     string
		req      Request
		nodes    []Node
		wantErr  bool
		maxZone  int // most shards allowed in one zone (0: unchecked)
		distinct int // expected distinct holders (0: unchecked)
	}{
		{"6 nodes 2 zones k4 m2", Request{K: 4, M: 2, R: 1, ShardSize: 10}, nodes("a", "a", "a", "b", "b", "b"), false, 3, 6},
		{"3 nodes k4 m2: two shards each", Request{K: 4, M: 2, R: 1, ShardSize: 10}, nodes("a", "b", "c"), false, 2, 3},
		{"2 nodes k4 m2: impossible (losing one node would lose 3 > m shards)", Request{K: 4, M: 2, R: 1, ShardSize: 10}, nodes("a", "b"), true, 0, 0},
		{"2 nodes k4 m3: three shards each", Request{K: 4, M: 3, R: 1, ShardSize: 10}, nodes("a", "b", "c"), false, 3, 3},
		{"1 node: impossible", Request{K: 4, M: 2, R: 1, ShardSize: 10}, nodes("a"), true, 0, 0},
		{"k=2 m=1 needs 3 nodes", Request{K: 2, M: 1, R: 1, ShardSize: 10}, nodes("a", "b"), true, 0, 0},
		{"k=2 m=1 on 3 nodes", Request{K: 2, M: 1, R: 1, ShardSize: 10}, nodes("a", "b", "c"), false, 1, 3},
		{"k=1 refused", Request{K: 1, M: 2, R: 1, ShardSize: 10}, nodes("a", "b", "c"), true, 0, 0},
		{"replication 3 over 6 nodes", Request{K: 4, M: 2, R: 3, ShardSize: 10}, nodes("a", "a", "b", "b", "c", "c"), false, 6, 6},
		{"replication needs distinct holders", Request{K: 4, M: 2, R: 3, ShardSize: 10}, nodes("a", "b"), true, 0, 0},
		{"full nodes are skipped", Request{K: 2, M: 1, R: 1, ShardSize: 10},
			[]Node{{ID: "x", Zone: "a", FreeBytes: 5}, {ID: "y", Zone: "a", FreeBytes: 50}, {ID: "z", Zone: "b", FreeBytes: 50}}, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Place(tt.req, tt.nodes)
			if tt.wantErr {
				if !errors.Is(err, ErrImpossible) {
					t.Fatalf("Place() = %v, %v; want ErrImpossible", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			check(t, tt.req, tt.nodes, p)
			zoneOf := map[string]string{}
			for _, n := range tt.nodes {
				zoneOf[n.ID] = n.Zone
			}
			perZone, holders := map[string]int{}, map[string]bool{}
			for _, hs := range p {
				for _, h := range hs {
					perZone[zoneOf[h]]++
					holders[h] = true
				}
			}
			for z, c := range perZone {
				if tt.maxZone > 0 && c > tt.maxZone {
					t.Fatalf("zone %s holds %d shards, want at most %d (%v)", z, c, tt.maxZone, p)
				}
			}
			if tt.distinct > 0 && len(holders) != tt.distinct {
				t.Fatalf("%d distinct holders, want %d (%v)", len(holders), tt.distinct, p)
			}
		})
	}
}

func TestPlaceSpreadsAcrossObjects(t *testing.T) {
	ns := nodes("a", "a", "a", "a", "b", "b", "b", "b")
	first := map[string]int{}
	for i := 0; i < 200; i++ {
		p, err := Place(Request{K: 2, M: 1, R: 1, ShardSize: 1, Seed: fmt.Sprintf("obj-%d", i)}, ns)
		if err != nil {
			t.Fatal(err)
		}
		first[p[0][0]]++
	}
	if len(first) < 6 {
		t.Fatalf("shard 0 of 200 objects landed on only %d of 8 nodes: %v", len(first), first)
	}
}

func TestReplace(t *testing.T) {
	ns := nodes("a", "a", "b", "b", "c", "c", "c")
	r := Request{K: 4, M: 2, R: 1, ShardSize: 10, Seed: "x"}
	p, err := Place(r, ns[:6])
	if err != nil {
		t.Fatal(err)
	}
	// n6 is the only usable node holding nothing: it takes the lost shard.
	lost := p[2][0]
	p[2] = nil
	var alive []Node
	for _, n := range ns {
		if n.ID != lost {
			alive = append(alive, n)
		}
	}
	got, err := Replace(r, p, 2, alive)
	if err != nil || got != "n6" {
		t.Fatalf("Replace = %q, %v; want n6", got, err)
	}
	p[2] = []string{got}
	check(t, r, ns, p)
	// Without n6 and without the lost node, the others may take a second
	// shard (max(m,1) = 2 per node), never a second copy of one they hold.
	var rest []Node
	for _, n := range ns {
		if n.ID != "n6" && n.ID != lost {
			rest = append(rest, n)
		}
	}
	p[2] = nil
	got, err = Replace(r, p, 2, rest)
	if err != nil || got == lost {
		t.Fatalf("Replace without spare nodes = %q, %v", got, err)
	}
	p[2] = []string{got}
	check(t, r, ns, p)
	// Nobody left with room: a clear error.
	full := []Node{{ID: "z", Zone: "a", FreeBytes: 1}}
	p[2] = nil
	if _, err := Replace(r, p, 2, full); !errors.Is(err, ErrImpossible) {
		t.Fatalf("Replace onto full nodes: %v", err)
	}
	if _, err := Replace(r, p, 9, ns); !errors.Is(err, ErrImpossible) {
		t.Fatalf("Replace of shard 9: %v", err)
	}
}

func TestCheck(t *testing.T) {
	r := Request{K: 2, M: 1, R: 1, ShardSize: 10}
	nodes := []Node{{ID: "a", FreeBytes: 100}, {ID: "b", FreeBytes: 100}, {ID: "c", FreeBytes: 5}, {ID: "d", FreeBytes: 100}}
	tests := []struct {
		name string
		p    Placement
		r    Request
		want string
	}{
		{"ok", Placement{{"a"}, {"b"}, {"d"}}, r, ""},
		{"too few shards", Placement{{"a"}, {"b"}}, r, "2 shards placed"},
		{"k rule", Placement{{"a"}, {"a"}, {"b"}}, r, "holds 2 shards"},
		{"unknown node", Placement{{"a"}, {"b"}, {"x"}}, r, "not usable"},
		{"no room", Placement{{"a"}, {"b"}, {"c"}}, r, "lacks room"},
		{"replicas", Placement{{"a", "b"}, {"b"}, {"d"}}, r, "2 holders"},
		{"same holder twice", Placement{{"a", "a"}, {"b", "d"}, {"d", "b"}}, Request{K: 2, M: 1, R: 2, ShardSize: 10}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.r, tt.p, nodes)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrImpossible) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrImpossible with %q", err, tt.want)
			}
		})
	}
}
