package testnetwork

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// TestFabricNodes: StopNode and StartNode know the network's orderers and
// peers by name, with the arguments and listeners each runs with, and
// refuse anything else; StartNode refuses a node without a pid file naming
// its binary.
func TestFabricNodes(t *testing.T) {
	n := &Network{cfg: DefaultConfig(filepath.Join(t.TempDir(), "run"), fakeCache(t))}
	d := n.describe()
	o, p := d.Orderers[0], d.Orgs[1].Peers[0]
	tests := []struct {
		name      string
		args      []string
		listeners []string
		orderer   bool
		ok        bool
	}{
		{o.Name, nil, []string{o.Address, o.AdminAddress}, true, true},
		{p.Name, []string{"node", "start"}, []string{p.Address, p.ChaincodeAddress}, false, true},
		{"gateway0", nil, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.fabricNode(tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("fabricNode(%q): %v, want ok=%v", tt.name, err, tt.ok)
			}
			if tt.ok && (!slices.Equal(got.args, tt.args) || !slices.Equal(got.listeners, tt.listeners) || got.orderer != tt.orderer || got.ops == "") {
				t.Fatalf("fabricNode(%q) = %+v", tt.name, got)
			}
		})
	}
	if err := d.StartNode(context.Background(), o.Name); err == nil {
		t.Fatal("StartNode without a pid file naming the binary succeeded")
	}
	if err := d.StopNode(context.Background(), "nothing"); err == nil {
		t.Fatal("StopNode of an unknown node succeeded")
	}
}
