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

// orgNodes lists nodes named by "org/zone" specs: n0, n1, ….
func orgNodes(specs ...string) []Node {
	var out []Node
	for i, s := range specs {
		org, zone, _ := strings.Cut(s, "/")
		out = append(out, Node{ID: fmt.Sprintf("n%d", i), Org: org, Zone: zone, FreeBytes: 1 << 30})
	}
	return out
}

// TestPlaceOrgCap: no organisation takes more than OrgCap slots, which is
// at most M×R when the organisations' nodes allow it, so that losing every
// node of one organisation leaves at least K shards with a holder.
func TestPlaceOrgCap(t *testing.T) {
	k4m2 := Request{K: 4, M: 2, R: 1, ShardSize: 10}
	tests := []struct {
		name      string
		req       Request
		nodes     []Node
		wantCap   int
		survivesA bool // every org's loss keeps K shards
	}{
		{"3 banks of 2 agents", k4m2, orgNodes("A/a1", "A/a2", "B/b1", "B/b2", "C/c1", "C/c2"), 2, true},
		// The case the compose drills met: 5 usable agents, zones all
		// distinct; spread by node alone put 3 shards in one bank.
		{"3 banks, one agent down", k4m2, orgNodes("A/a1", "A/a2", "B/b1", "B/b2", "C/c1"), 2, true},
		{"3 banks, one agent each", k4m2, orgNodes("A/a", "B/b", "C/c"), 2, true},
		{"4 banks", k4m2, orgNodes("A/a", "A/a", "B/b", "B/b", "C/c", "C/c", "D/d", "D/d"), 2, true},
		{"6 banks", k4m2, orgNodes("A/a", "B/b", "C/c", "D/d", "E/e", "F/f"), 1, true},
		{"2 banks: no org rule", k4m2, orgNodes("A/a", "A/a", "B/b", "B/b"), 6, false},
		{"3 banks, two with room for one shard: no org rule", k4m2, []Node{{ID: "n0", Org: "A", Zone: "a", FreeBytes: 10},
			{ID: "n1", Org: "B", Zone: "b1", FreeBytes: 1 << 30}, {ID: "n2", Org: "B", Zone: "b2", FreeBytes: 1 << 30},
			{ID: "n3", Org: "B", Zone: "b3", FreeBytes: 1 << 30}, {ID: "n4", Org: "C", Zone: "c", FreeBytes: 10}}, 6, false},
		{"no orgs: no org rule", k4m2, nodes("a", "a", "b", "b", "c", "c"), 6, false},
		{"replication over 3 banks", Request{K: 4, M: 2, R: 2, ShardSize: 10}, orgNodes("A/a", "A/a", "B/b", "B/b", "C/c", "C/c", "A/a"), 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.req.OrgCap(tt.nodes); got != tt.wantCap {
				t.Fatalf("OrgCap = %d, want %d", got, tt.wantCap)
			}
			p, err := Place(tt.req, tt.nodes)
			if err != nil {
				t.Fatal(err)
			}
			check(t, tt.req, tt.nodes, p)
			orgOf := map[string]string{}
			for _, n := range tt.nodes {
				orgOf[n.ID] = n.Org
			}
			load := map[string]int{}
			for _, hs := range p {
				for _, h := range hs {
					load[orgOf[h]]++
				}
			}
			for org, n := range load {
				if n > tt.wantCap {
					t.Fatalf("org %q holds %d slots, cap %d: %v", org, n, tt.wantCap, p)
				}
			}
			survives := true
			for org := range load {
				left := 0
				for _, hs := range p {
					for _, h := range hs {
						if orgOf[h] != org {
							left++
							break
						}
					}
				}
				survives = survives && left >= tt.req.K
			}
			if survives != tt.survivesA {
				t.Fatalf("losing any one org keeps K shards: %v, want %v (%v)", survives, tt.survivesA, p)
			}
		})
	}
}

// TestReplaceOrgCap: a repair prefers the organisation holding the fewest
// slots, so that it keeps every object readable after the loss of any
// one organisation; holders out of reach count through Request.Orgs.
func TestReplaceOrgCap(t *testing.T) {
	r := Request{K: 4, M: 2, R: 1, ShardSize: 10, Seed: "x"}
	ns := orgNodes("A/a1", "A/a2", "B/b1", "B/b2", "C/c1", "C/c2", "B/b3")
	// n0 (A) is lost; A keeps n1 with one shard, B and C two each; B's
	// spare n6 holds nothing but B is at its cap: n1 takes the shard.
	p := Placement{nil, {"n1"}, {"n2"}, {"n3"}, {"n4"}, {"n5"}}
	got, err := Replace(r, p, 0, ns[1:])
	if err != nil || got != "n1" {
		t.Fatalf("Replace = %q, %v; want n1 (its bank holds the fewest)", got, err)
	}
	// C's holders are out of reach (not candidates): without their
	// organisation C would look empty.
	r.Orgs = map[string]string{"n4": "C", "n5": "C"}
	cands := []Node{ns[1], ns[2], ns[3], ns[6], {ID: "n9", Org: "C", Zone: "c9", FreeBytes: 1 << 30}}
	got, err = Replace(r, p, 0, cands)
	if err != nil || got != "n1" {
		t.Fatalf("Replace with C out of reach = %q, %v; want n1", got, err)
	}
}
