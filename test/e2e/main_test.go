//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"

	"github.com/dct-network/dct/pkg/gatewayclient"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// env is the system shared by the tests of this package.
var env *testnetwork.Description

// Redundancy the gateway runs with (its defaults).
const k, m = 4, 2

// suite is a network with three agents per organisation and one gateway.
var suite = testenv.Suite{
	Name:     "e2e",
	BasePort: 29050, PortEnv: "DCT_E2E_BASE_PORT",
	Network: func(cfg *testnetwork.Config) { cfg.AgentsPerOrg = 3 },
	Services: func(_ *testenv.Network, s testnetwork.Services) (testnetwork.Services, error) {
		s.AgentsPerOrg, s.Gateways = 3, 1
		// The network's default: agents bid, the gateway places by auction.
		s.Auction = true
		// Exercise the shard path on every read; keep requests bounded.
		s.Env = []string{"DCT_CACHE_BYTES=0", "DCT_MAX_OBJECT_BYTES=" + strconv.Itoa(maxObject), "DCT_AGENT_TIMEOUT=5s",
			// Bounded serving (bounded_test.go): small segments, few cold
			// reads at once, the others queued.
			"DCT_SEGMENT_BYTES=" + strconv.Itoa(boundedSegment), "DCT_MAX_COLD_READS=" + strconv.Itoa(boundedColdReads),
			"DCT_COLD_READ_WAIT=" + boundedWait,
			// SLA (sla_test.go): score an epoch soon after its attestations.
			"DCT_SLA_SCORE_WAIT=5s"}
		s.LogLevel = "info"
		return s, nil
	},
	Ready: func(n *testenv.Network) {
		env = n.Desc
		fmt.Printf("network, %d agents and %d gateway up in %s\n", len(env.Agents), len(env.Gateways), n.Elapsed())
	},
}

func TestMain(tm *testing.M) { os.Exit(testenv.Main(tm, suite)) }

// maxObject is the gateway's --max-object-bytes: room for the 256 MiB
// object of TestRangeReadsInBoundedMemory.
const maxObject = boundedObject

// client is a client of the gateway (Org1's) publishing as Org1's
// publisher (User1) through the admin listener.
func client() *gatewayclient.Client { return testenv.Publisher(env, env.Gateways[0]) }

func gatewayURL() string { return env.Gateways[0].URL }

func adminURL() string { return env.Gateways[0].AdminURL }

// publisherHTTP is an HTTPS client of the admin listener as Org1's
// publisher.
func publisherHTTP(t *testing.T) *http.Client {
	t.Helper()
	org, err := env.Org(env.Gateways[0].Org)
	if err != nil {
		t.Fatal(err)
	}
	id, err := org.Identity(testnetwork.RolePublisher)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := testenv.AdminHTTPClient(env, id)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}
