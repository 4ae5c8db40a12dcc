//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/ledger"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// shared is the network shared by the tests of this package.
var shared *testnetwork.Description

func networkConfig(runDir string, port, orderers int) testnetwork.Config {
	cfg := testenv.Config(runDir, port)
	cfg.Orderers = orderers
	return cfg
}

// suite is a network of one orderer and two organisations, no services. Its
// teardown checks that nothing is left behind. Tests that bring up networks
// of their own offset its port.
var suite = testenv.Suite{
	Name:     "it",
	BasePort: 27050, PortEnv: "DCT_TEST_BASE_PORT",
	// One agent identity per organisation (no agent runs): the node role
	// of the access-control matrix.
	Network: func(cfg *testnetwork.Config) { cfg.AgentsPerOrg = 1 },
	Ready: func(n *testenv.Network) {
		tm := n.Timings
		fmt.Printf("network up in %s (crypto+genesis %s, nodes healthy %s, channel %s, chaincode lifecycle %s, endorsement ready %s, roles %s)\n",
			tm.Total.Round(time.Millisecond), tm.Crypto.Round(time.Millisecond), tm.Nodes.Round(time.Millisecond),
			tm.Channel.Round(time.Millisecond), tm.Chaincode.Round(time.Millisecond), tm.Ready.Round(time.Millisecond), tm.Roles.Round(time.Millisecond))
		shared = n.Desc
	},
	Down: func(n *testenv.Network, _ bool) error { return downAndCheck(n.Desc) },
}

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, suite)) }

// downAndCheck brings the network down and verifies that no process and no
// port is left behind.
func downAndCheck(desc *testnetwork.Description) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pids, _ := filepath.Glob(filepath.Join(desc.RunDir, "pids", "*.pid"))
	var procs []int
	for _, f := range pids {
		var pid int
		b, _ := os.ReadFile(f)
		fmt.Sscan(string(b), &pid)
		procs = append(procs, pid)
	}
	if len(procs) == 0 {
		return fmt.Errorf("no pid files in %s", desc.RunDir)
	}
	if err := testnetwork.Down(ctx, desc.RunDir, true); err != nil {
		return err
	}
	for _, pid := range procs {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/exe", pid)); err == nil {
			if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); len(st) > 0 && !zombie(st) {
				return fmt.Errorf("process %d still alive after down", pid)
			}
		}
	}
	for _, a := range allAddresses(desc) {
		l, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("port %s still taken after down: %v", a, err)
		}
		l.Close()
	}
	if _, err := os.Stat(desc.RunDir); !os.IsNotExist(err) {
		return fmt.Errorf("run dir %s still exists", desc.RunDir)
	}
	return nil
}

func zombie(stat []byte) bool {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' {
			return i+2 < len(stat) && stat[i+2] == 'Z'
		}
	}
	return false
}

func allAddresses(d *testnetwork.Description) []string {
	out := []string{d.ChaincodeAddress}
	for _, o := range d.Orderers {
		out = append(out, o.Address, o.AdminAddress, o.OperationsAddress)
	}
	for _, org := range d.Orgs {
		for _, p := range org.Peers {
			out = append(out, p.Address, p.ChaincodeAddress, p.OperationsAddress)
		}
	}
	return out
}

// orgClient connects to the gateway of the desc's i-th organisation as its
// admin, who may make every write for the organisation (the role-specific
// identities are exercised by TestAccessControl). The connection and client
// close with the test.
func orgClient(t *testing.T, desc *testnetwork.Description, i int) *ledger.Client {
	t.Helper()
	return adminClient(t, desc, i)
}

// adminClient is orgClient for the organisation's admin identity.
func adminClient(t *testing.T, desc *testnetwork.Description, i int) *ledger.Client {
	t.Helper()
	signer, err := desc.Orgs[i].AdminSigner()
	if err != nil {
		t.Fatal(err)
	}
	return clientAs(t, desc, i, signer)
}

func clientAs(t *testing.T, desc *testnetwork.Description, i int, signer ledger.Signer) *ledger.Client {
	t.Helper()
	return testenv.LedgerClient(t, desc, i, signer)
}
