package edgeagent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/edge-agent/internal/testpki"
	"github.com/dct-network/dct/pkg/mesh"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// agentConfig is a configuration of an agent on 127.0.0.1:0 with fresh
// test certificates.
func agentConfig(t *testing.T) (Config, testpki.Files, *testpki.CA) {
	t.Helper()
	dir := t.TempDir()
	files, ca, err := testpki.WriteAgent(filepath.Join(dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Listen = "127.0.0.1:0"
	c.DataDir = filepath.Join(dir, "data")
	c.NodeID = "agent0-test"
	c.CapacityBytes = 1 << 20
	c.TLSCert, c.TLSKey, c.ClientCA = files.ServerCert, files.ServerKey, files.CA
	c.Register = false
	c.ShutdownTimeout = 5 * time.Second
	return c, files, ca
}

// withLedger adds ledger settings (never dialled: the tests fake the
// registry).
func withLedger(t *testing.T, c Config) Config {
	dir := t.TempDir()
	c.Register = true
	c.MSPID = "Org1MSP"
	c.PeerAddress = "127.0.0.1:7051"
	c.PeerTLSCA = touch(t, filepath.Join(dir, "peer-ca.pem"))
	c.CertFile = touch(t, filepath.Join(dir, "user.pem"))
	c.KeyPath = touch(t, filepath.Join(dir, "user.key"))
	return c
}

type running struct {
	addr string
	done chan error
	stop context.CancelFunc
	once sync.Once
	err  error
}

// wait returns Run's result (any number of times).
func (r *running) wait() error {
	r.once.Do(func() { r.err = <-r.done })
	return r.err
}

func startAgent(t *testing.T, cfg Config, dial dialFunc) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{done: make(chan error, 1), stop: cancel}
	ready := make(chan string, 1)
	go func() { r.done <- run(ctx, cfg, slog.New(slog.DiscardHandler), func(a string) { ready <- a }, dial) }()
	select {
	case r.addr = <-ready:
	case err := <-r.done:
		cancel()
		t.Fatalf("agent stopped: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("agent not ready")
	}
	t.Cleanup(func() { cancel(); r.wait() })
	return r
}

func dialAgent(t *testing.T, addr string, files testpki.Files, ca *testpki.CA) *grpc.ClientConn {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(files.ClientCert, files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(
		&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestRunServesAndStops(t *testing.T) {
	cfg, files, ca := agentConfig(t)
	r := startAgent(t, cfg, nil)
	conn := dialAgent(t, r.addr, files, ca)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := dctv1.NewShardServiceClient(conn).Stat(ctx, &dctv1.StatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetNodeId() != "agent0-test" || st.GetCapacityBytes() != 1<<20 || st.GetVersion() != Version {
		t.Fatalf("Stat %v", st)
	}
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health %v %v", h, err)
	}
	r.stop()
	if err := r.wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The data directory is released: a new agent can use it.
	cfg.Listen = "127.0.0.1:0"
	startAgent(t, cfg, nil)
}

func TestRunRegisters(t *testing.T) {
	cfg, _, _ := agentConfig(t)
	cfg = withLedger(t, cfg)
	cfg.Zone = "eu-1"
	reg := newFakeRegistry("Org1MSP")
	closed := false
	dial := func(ctx context.Context, c Config) (Registry, func(), error) {
		return reg, func() { closed = true }, nil
	}
	r := startAgent(t, cfg, dial)
	n := reg.nodes["agent0-test"]
	if n == nil || n.Endpoint != r.addr || n.Zone != "eu-1" || n.StorageBytes != 1<<20 || n.Org != "Org1MSP" || !closed {
		t.Fatalf("registered %+v (connection closed: %v)", n, closed)
	}
	if err := records.ValidatePublicKey(n.PublicKey); err != nil {
		t.Fatal(err)
	}
	key := n.PublicKey
	r.stop()
	r.wait()

	// Restarted elsewhere after being deactivated: reactivated and
	// updated, with the same key.
	reg.nodes["agent0-test"].Status = records.NodeStatusInactive
	reg.calls = nil
	cfg.Endpoint = "127.0.0.1:19500"
	startAgent(t, cfg, dial)
	n = reg.nodes["agent0-test"]
	if !n.Active() || n.Endpoint != "127.0.0.1:19500" || n.PublicKey != key {
		t.Fatalf("re-registered %+v", n)
	}
}

func TestRunFailsFast(t *testing.T) {
	cfg, _, _ := agentConfig(t)
	cfg = withLedger(t, cfg)
	reg := newFakeRegistry("Org2MSP", &records.Node{ID: "agent0-test", Org: "Org2MSP", Status: records.NodeStatusActive})
	dial := func(ctx context.Context, c Config) (Registry, func(), error) { return reg, func() {}, nil }
	err := run(context.Background(), cfg, slog.New(slog.DiscardHandler), nil, dial)
	if !errors.Is(err, ErrNodeOwned) {
		t.Fatalf("run: %v, want ErrNodeOwned", err)
	}

	cfg, _, _ = agentConfig(t)
	cfg.CapacityBytes = 0
	if err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler), nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("Run: %v, want ErrConfig", err)
	}
}

func TestRunJoinsMesh(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key, err := mesh.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(t.TempDir(), "mesh.keyring")
	if err := os.WriteFile(ring, mesh.Keyring{key}.Format(), 0o600); err != nil {
		t.Fatal(err)
	}
	gw, err := mesh.Start(ctx, mesh.Config{Name: "gw-test", Role: mesh.RoleGateway, Bind: "127.0.0.1:0", Keys: mesh.Keyring{key}})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()

	cfg, _, _ := agentConfig(t)
	cfg.Zone = "eu-1"
	cfg.MeshListen = "127.0.0.1:0"
	cfg.MeshJoin = []string{gw.Addr()}
	cfg.MeshKeyring = ring
	r := startAgent(t, cfg, nil)

	// seen polls the gateway's view of the agent until it has status.
	seen := func(status mesh.Status) mesh.Member {
		t.Helper()
		var m mesh.Member
		for range 500 { // 10 s
			var ok bool
			if m, ok = gw.ByNodeID("agent0-test"); ok && m.Status == status {
				return m
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("gateway sees %+v, want status %s; members %v", m, status, gw.Members())
		return m
	}
	m := seen(mesh.StatusAlive)
	if m.Name != "agent0-test" || m.Role != mesh.RoleAgent || m.Tags[mesh.TagGRPC] != r.addr || m.Tags[mesh.TagZone] != "eu-1" {
		t.Fatalf("gateway sees %+v (agent serves at %s)", m, r.addr)
	}

	// A graceful stop leaves the mesh.
	r.stop()
	if err := r.wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	seen(mesh.StatusLeft)

	// A mesh address in use fails the start.
	cfg, _, _ = agentConfig(t)
	cfg.MeshListen, cfg.MeshKeyring = gw.Addr(), ring
	if err := run(ctx, cfg, slog.New(slog.DiscardHandler), nil, nil); err == nil || errors.Is(err, ErrConfig) {
		t.Fatalf("run on a taken mesh port: %v", err)
	}
}
