//go:build integration

package scoredrop

import (
	"fmt"
	"os"
	"testing"

	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// env is the system the test runs on.
var env *testnetwork.Description

// epochSeconds is the ledger's epoch length on this network: short enough
// that a score falls from ok to penalized (two epochs to go below the
// warning threshold, then records.SLAGraceEpochs more) in under a minute.
const epochSeconds = 4

// suite is a network with three agents per organisation in the gossip
// mesh (the agents attest the other organisation's nodes from what the
// mesh shows) and one gateway placing by auction and running the
// contract lifecycle; every SLA wait is shortened to fit 4 s epochs.
var suite = testenv.Suite{
	Name:     "scoredrop",
	BasePort: 29050, PortEnv: "DCT_E2E_BASE_PORT",
	Network: func(cfg *testnetwork.Config) {
		cfg.AgentsPerOrg = 3
		cfg.EpochSeconds = epochSeconds
	},
	Services: func(_ *testenv.Network, s testnetwork.Services) (testnetwork.Services, error) {
		s.AgentsPerOrg, s.Gateways = 3, 1
		s.Auction, s.Mesh = true, true
		s.Env = []string{"DCT_CACHE_BYTES=0", "DCT_AGENT_TIMEOUT=3s",
			// Attest and score each epoch within a second or two of its
			// end, from a probe a second (gateway: DCT_, agents: DCT_AGENT_).
			"DCT_SLA_GRACE=1s", "DCT_SLA_SAMPLE_INTERVAL=1s", "DCT_SLA_SCORE_WAIT=1s",
			"DCT_AGENT_SLA_GRACE=1s", "DCT_AGENT_SLA_SAMPLE_INTERVAL=1s",
			// Batch each epoch's receipts a second after it ends.
			"DCT_RECEIPTS_GRACE=1s",
			// Scan the contracts often. The repair loop would move the
			// shards of a node dead in the mesh after --dead-after, before
			// any score matters: a long one leaves the stopped node's
			// shards to the score path (a node the SLA penalizes is
			// usually degraded, not dead).
			"DCT_CONTRACT_LIFECYCLE_INTERVAL=2s", "DCT_REPAIR_INTERVAL=1s", "DCT_DEAD_AFTER=10m"}
		s.LogLevel = "info"
		return s, nil
	},
	Ready: func(n *testenv.Network) {
		env = n.Desc
		fmt.Printf("network (%d s epochs), %d agents and %d gateway up in %s\n", epochSeconds, len(env.Agents), len(env.Gateways), n.Elapsed())
	},
}

func TestMain(tm *testing.M) { os.Exit(testenv.Main(tm, suite)) }
