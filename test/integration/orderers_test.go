//go:build integration

package integration

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	testnetwork "github.com/dct-network/dct/test-network"
)

// TestThreeOrderers brings up a second network with three Raft orderers,
// commits a transaction through it and brings it down again.
func TestThreeOrderers(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a second network")
	}
	runDir := t.TempDir()
	cfg := networkConfig(runDir, suite.Port()+1000, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	desc, tm, err := testnetwork.Up(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3-orderer network up in %s", tm.Total.Round(time.Millisecond))
	downed := false
	defer func() {
		if !downed {
			_ = testnetwork.Down(context.Background(), runDir, false)
		}
	}()
	if len(desc.Orderers) != 3 {
		t.Fatalf("description lists %d orderers", len(desc.Orderers))
	}
	for _, org := range desc.Orgs {
		if _, err := os.Stat(org.ConnectionProfile); err != nil {
			t.Fatalf("connection profile: %v", err)
		}
	}
	cl := orgClient(t, desc, 1)
	n, err := cl.RegisterNode(ctx, nodeInput(t, "raft3-node-org2", "zone-a", 9300))
	if err != nil {
		t.Fatal(err)
	}
	if n.Org != desc.Orgs[1].MSPID {
		t.Fatalf("node org = %s", n.Org)
	}
	// The other organisation's peer commits the block on its own time:
	// wait for its block event before reading.
	other := orgClient(t, desc, 0)
	if err := other.WaitForCommit(ctx, n.LastTxID); err != nil {
		t.Fatalf("other org's peer: %v", err)
	}
	got, err := other.GetNode(ctx, "raft3-node-org2")
	if err != nil || got.LastTxID != n.LastTxID {
		t.Fatalf("other org reads %+v, %v", got, err)
	}
	if _, _, err := testnetwork.Up(ctx, cfg); !errors.Is(err, testnetwork.ErrAlreadyRunning) {
		t.Fatalf("second Up on a running network: %v, want ErrAlreadyRunning", err)
	}
	downed = true
	if err := downAndCheck(desc); err != nil {
		t.Fatal(err)
	}
}
