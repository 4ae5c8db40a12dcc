package testenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	testnetwork "github.com/dct-network/dct/test-network"
)

// downTimeout bounds the teardown of a network.
const downTimeout = time.Minute

// ErrSuite marks an unusable Suite.
var ErrSuite = errors.New("test suite")

// CacheDir is where the Makefile put the Fabric tools, the chaincode and the
// DCT binaries: $DCT_CACHE_DIR, else the repository's .cache seen from a
// test package directly under test/.
func CacheDir() string { return testnetwork.CacheDir("../../.cache") }

// BinDir holds the DCT binaries (dct-agent, dct-gateway).
func BinDir() string { return filepath.Join(CacheDir(), "bin") }

// Logger is the suites' logger: warnings and errors on stderr.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// BasePort is the port in the environment variable env when it holds a
// number, else def. An empty env always gives def.
func BasePort(env string, def int) int {
	if env == "" {
		return def
	}
	if p, err := strconv.Atoi(os.Getenv(env)); err == nil {
		return p
	}
	return def
}

// Config is testnetwork.DefaultConfig for runDir with the suites' cache
// directory, basePort and Logger.
func Config(runDir string, basePort int) testnetwork.Config {
	cfg := testnetwork.DefaultConfig(runDir, CacheDir())
	cfg.BasePort = basePort
	cfg.Logger = Logger()
	return cfg
}

// Suite says how one test package brings up its system.
type Suite struct {
	// Name names the run directory, $TMPDIR/dct-<Name>-*.
	Name string
	// BasePort is the network's base port; the environment variable
	// PortEnv, when set to a number, overrides it.
	BasePort int
	PortEnv  string
	// Network, when set, adjusts the network's configuration (agents per
	// organisation, orderers).
	Network func(cfg *testnetwork.Config)
	// Services, when set, says which agents and gateways run on the network:
	// it completes svc, which has the binaries, ports and logger filled in
	// (Network.Services). It may start helpers, such as proxies, and have
	// them stopped with Network.OnDown.
	Services func(n *Network, svc testnetwork.Services) (testnetwork.Services, error)
	// Ready, when set, runs once everything is up, before the tests: the
	// suite keeps n.Desc and says what is up.
	Ready func(n *Network)
	// Down, when set, replaces the default teardown (testnetwork.Down,
	// keeping the run directory when the tests failed).
	Down func(n *Network, failed bool) error
}

// Port is the suite's base port: $PortEnv when it holds a number, else
// BasePort.
func (s Suite) Port() int { return BasePort(s.PortEnv, s.BasePort) }

// String names the suite.
func (s Suite) String() string { return "suite " + s.Name }

// Validate checks that the suite has a name and a base port.
func (s Suite) Validate() error {
	switch {
	case s.Name == "" || filepath.Base(s.Name) != s.Name:
		return fmt.Errorf("%w: name %q must be a plain file name", ErrSuite, s.Name)
	case s.BasePort <= 0:
		return fmt.Errorf("%w: %s has no base port", ErrSuite, s.Name)
	}
	return nil
}

// Network is a suite's running system.
type Network struct {
	// Desc describes the network and, once started, its services.
	Desc *testnetwork.Description
	// Config is the configuration the network was brought up with.
	Config testnetwork.Config
	// Timings are the phases of testnetwork.Up.
	Timings testnetwork.Timings
	// Start is when the bring-up began.
	Start time.Time

	suite  Suite
	onDown []func()
}

// Up makes a fresh run directory and brings the suite's network up (not
// its services: StartServices).
func Up(ctx context.Context, s Suite) (*Network, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	runDir, err := os.MkdirTemp("", "dct-"+s.Name+"-*")
	if err != nil {
		return nil, err
	}
	cfg := Config(runDir, s.Port())
	if s.Network != nil {
		s.Network(&cfg)
	}
	desc, tm, err := testnetwork.Up(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Network{Desc: desc, Config: cfg, Timings: tm, Start: start, suite: s}, nil
}

// RunDir is the network's run directory (logs in RunDir/logs).
func (n *Network) RunDir() string { return n.Config.RunDir }

// Elapsed is the time since the bring-up began, in milliseconds.
func (n *Network) Elapsed() time.Duration { return time.Since(n.Start).Round(time.Millisecond) }

// String says where the network runs.
func (n *Network) String() string {
	return fmt.Sprintf("%s network on port %d in %s", n.suite.Name, n.Config.BasePort, n.RunDir())
}

// Services returns the services of the network with BinDir, the ports
// (testnetwork.ServicePorts, testnetwork.MeshPort) and Logger filled in.
func (n *Network) Services() testnetwork.Services {
	agentPort, gatewayPort := testnetwork.ServicePorts(n.Config.BasePort)
	return testnetwork.Services{
		BinDir:    BinDir(),
		AgentPort: agentPort, GatewayPort: gatewayPort, MeshPort: testnetwork.MeshPort(n.Config.BasePort),
		Logger: n.Config.Logger,
	}
}

// StartServices starts the suite's services, if it has any.
func (n *Network) StartServices(ctx context.Context) error {
	if n.suite.Services == nil {
		return nil
	}
	svc, err := n.suite.Services(n, n.Services())
	if err != nil {
		return err
	}
	return testnetwork.StartServices(ctx, n.Desc, svc)
}

// OnDown registers f to run at the start of Down, before the network
// stops; the last registered runs first.
func (n *Network) OnDown(f func()) { n.onDown = append(n.onDown, f) }

// Down runs the OnDown functions and stops everything. Unless the suite
// has its own Down, the run directory is removed, or kept with its logs
// when failed (and stderr says where).
func (n *Network) Down(failed bool) error {
	for i := len(n.onDown) - 1; i >= 0; i-- {
		n.onDown[i]()
	}
	n.onDown = nil
	if n.suite.Down != nil {
		return n.suite.Down(n, failed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), downTimeout)
	defer cancel()
	err := testnetwork.Down(ctx, n.RunDir(), !failed)
	if failed {
		fmt.Fprintf(os.Stderr, "logs are in %s/logs (kept)\n", n.RunDir())
	}
	return err
}

// Main brings the suite's system up, runs the package's tests and brings
// it down; it returns the exit code for TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m, suite)) }
func Main(m *testing.M, s Suite) int {
	ctx := context.Background()
	n, err := Up(ctx, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "network up:", err)
		return 1
	}
	code := 1
	if err := n.StartServices(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "services:", err)
	} else {
		if s.Ready != nil {
			s.Ready(n)
		}
		code = m.Run()
	}
	if err := n.Down(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, "network down:", err)
		code = 1
	}
	return code
}

// Start brings the suite's system up for one test and brings it down when
// the test ends, keeping the logs if it failed.
func Start(t testing.TB, s Suite) *Network {
	t.Helper()
	ctx := context.Background()
	n, err := Up(ctx, s)
	if err != nil {
		t.Fatalf("network up: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Down(t.Failed()); err != nil {
			t.Errorf("network down: %v", err)
		}
	})
	if err := n.StartServices(ctx); err != nil {
		t.Fatalf("services: %v", err)
	}
	if s.Ready != nil {
		s.Ready(n)
	}
	return n
}
