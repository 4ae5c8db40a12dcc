package mesh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// testLogger discards, unless DCT_MESH_TEST_LOG is set (debug to stderr).
func testLogger(name string) *slog.Logger {
	if os.Getenv("DCT_MESH_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("member", name)
}

// testTiming is DefaultTiming with quick housekeeping, so a whole
// failure, leave and reap cycle fits in a few seconds.
func testTiming() Timing {
	t := DefaultTiming()
	t.ReapAfter = 3 * time.Second
	t.ReapInterval = 100 * time.Millisecond
	t.ReconnectInterval = time.Second
	t.LeavePropagateDelay = 200 * time.Millisecond
	t.JoinRetryInterval = 100 * time.Millisecond
	return t
}

func agentConfig(name string, join ...string) Config {
	return Config{Name: name, Role: RoleAgent, NodeID: name, Bind: "127.0.0.1:0", Join: join,
		Tags:   map[string]string{TagGRPC: "127.0.0.1:95" + name[len(name)-2:], TagZone: "zone-" + name[len(name)-1:]},
		Timing: testTiming(), Logger: testLogger(name)}
}

func gatewayConfig(name string, join ...string) Config {
	return Config{Name: name, Role: RoleGateway, Bind: "127.0.0.1:0", Join: join, Timing: testTiming(), Logger: testLogger(name)}
}

// start starts a member, shut down (without leaving: quicker) at the end of
// the test unless closed before.
func start(t *testing.T, cfg Config) *Mesh {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() { m.shutdown(false) })
	return m
}

// waitFor polls cond every 10 ms until it holds, failing the test after
// timeout with cond's last explanation. It returns the time waited.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	begin := time.Now()
	deadline := begin.Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return time.Since(begin)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s: %s", timeout, what, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hasStatus reports whether observer sees name with status.
func hasStatus(observer *Mesh, name string, want Status) func() (bool, string) {
	return func() (bool, string) {
		mb, ok := observer.Member(name)
		if !ok {
			return false, fmt.Sprintf("%s does not know %s; members %v", observer.Name(), name, observer.Members())
		}
		return mb.Status == want, fmt.Sprintf("%s sees %v", observer.Name(), mb)
	}
}

// allAlive reports whether every member sees every other one alive.
func allAlive(ms ...*Mesh) func() (bool, string) {
	return func() (bool, string) {
		for _, a := range ms {
			for _, b := range ms {
				if a == b {
					continue
				}
				if ok, why := hasStatus(a, b.Name(), StatusAlive)(); !ok {
					return false, why
				}
			}
		}
		return true, ""
	}
}

// recorder is a slog.Handler counting messages.
type recorder struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msgs == nil {
		r.msgs = map[string]int{}
	}
	r.msgs[rec.Message]++
	return nil
}

func (r *recorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs[msg]
}

func TestMembership(t *testing.T) {
	gw := start(t, gatewayConfig("gw-1"))
	a1 := start(t, agentConfig("agent-01", gw.Addr()))
	a2 := start(t, agentConfig("agent-02", gw.Addr()))
	took := waitFor(t, 10*time.Second, "all alive", allAlive(gw, a1, a2))
	t.Logf("3 members converged in %s", took)

	// a2 learnt of a1 through gossip only.
	got, ok := a2.Member("agent-01")
	want := Member{Name: "agent-01", Role: RoleAgent, NodeID: "agent-01", Addr: a1.Addr(), Status: StatusAlive,
		Tags: map[string]string{"grpc": "127.0.0.1:9501", "zone": "zone-1"}}
	got.RTT, got.HasRTT = 0, false
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("a2 sees %+v, want %+v", got, want)
	}
	if g, ok := a1.Member("gw-1"); !ok || g.Role != RoleGateway || g.NodeID != "" || g.Tags != nil {
		t.Fatalf("a1 sees gateway %+v", g)
	}
	if mb, ok := gw.ByNodeID("agent-02"); !ok || mb.Name != "agent-02" {
		t.Fatalf("ByNodeID(agent-02) = %+v %v", mb, ok)
	}
	if _, ok := gw.ByNodeID("agent-09"); ok {
		t.Fatal("ByNodeID of an unknown node")
	}
	if _, ok := gw.Member("gw-1"); ok {
		t.Fatal("Member(self) found")
	}
	if n := len(gw.Members()); n != 2 {
		t.Fatalf("gateway lists %d members, want 2", n)
	}

	// Coordinates arrive with the first probe of each peer.
	waitFor(t, 5*time.Second, "estimates", func() (bool, string) {
		for _, name := range []string{"agent-01", "agent-02"} {
			if _, ok := gw.EstimateRTT(name); !ok {
				return false, "no estimate to " + name
			}
		}
		return true, ""
	})
	if _, ok := gw.EstimateRTT("nobody"); ok {
		t.Fatal("estimate to an unknown member")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rtt, err := gw.MeasureRTT(ctx, "agent-01")
	if err != nil || rtt <= 0 || rtt > 100*time.Millisecond {
		t.Fatalf("MeasureRTT = %s, %v", rtt, err)
	}
	if _, err := gw.MeasureRTT(ctx, "nobody"); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("MeasureRTT(nobody): %v", err)
	}

	t.Run("snapshot", func(t *testing.T) {
		snap := gw.Snapshot()
		if snap.Self.Name != "gw-1" || snap.Self.Role != RoleGateway || snap.Self.Status != StatusAlive ||
			snap.Self.Addr != gw.Addr() || snap.Self.Coordinate == nil || len(snap.Members) != 2 {
			t.Fatalf("snapshot %+v", snap)
		}
		for _, mb := range snap.Members {
			if mb.RTTEstimateMs == nil || mb.Coordinate == nil || mb.Status != StatusAlive || mb.Tags["zone"] == "" {
				t.Fatalf("snapshot member %+v", mb)
			}
		}
		b, err := json.Marshal(snap)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"self":`, `"members":`, `"rttEstimateMs":`, `"nodeId":"agent-01"`, `"coordinate":{"vec":[`, `"at":`} {
			if !strings.Contains(string(b), key) {
				t.Errorf("JSON lacks %s: %s", key, b)
			}
		}
		var back Map
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !back.At.Equal(snap.At) {
			t.Fatalf("at %v, want %v", back.At, snap.At)
		}
		back.At = snap.At
		if !reflect.DeepEqual(back, snap) {
			t.Fatalf("round trip\n%+v\nwant\n%+v", back, snap)
		}

		rec := httptest.NewRecorder()
		gw.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/mesh", nil))
		var served Map
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" ||
			json.Unmarshal(rec.Body.Bytes(), &served) != nil || len(served.Members) != 2 {
			t.Fatalf("handler: %d %s", rec.Code, rec.Body)
		}
		rec = httptest.NewRecorder()
		gw.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mesh", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("POST: %d", rec.Code)
		}
	})
}

// TestFailureLeaveRejoinReap: a member that stops without leaving becomes
// suspect, then failed; restarted under the same name (at another port)
// it is alive again; one that closes is left; both are reaped after
// ReapAfter.
func TestFailureLeaveRejoinReap(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~10 s of real failure detection")
	}
	// Three members: too few to await confirmations, so the suspicion
	// timeout is exactly SuspicionMult×ProbeInterval.
	gw := start(t, gatewayConfig("gw-1"))
	a1 := start(t, agentConfig("agent-01", gw.Addr()))
	victimCfg := agentConfig("agent-02", gw.Addr())
	victim := start(t, victimCfg)
	waitFor(t, 10*time.Second, "all alive", allAlive(gw, a1, victim))
	tm := testTiming()

	// Crash: no leave.
	crashed := time.Now()
	if err := victim.shutdown(false); err != nil {
		t.Fatal(err)
	}
	var suspectAt time.Duration
	waitFor(t, 4*time.Second, "victim suspect or failed", func() (bool, string) {
		mb, _ := gw.Member("agent-02")
		if mb.Status == StatusSuspect && suspectAt == 0 {
			suspectAt = time.Since(crashed)
		}
		return mb.Status == StatusSuspect || mb.Status == StatusFailed, fmt.Sprintf("gateway sees %v", mb)
	})
	if suspectAt == 0 {
		t.Fatal("the victim went from alive to failed without being seen suspect")
	}
	waitFor(t, 8*time.Second, "victim failed", hasStatus(gw, "agent-02", StatusFailed))
	failedAt := time.Since(crashed)
	t.Logf("crash detected: suspect after %s, failed after %s (probe interval %s, suspicion %d×)",
		suspectAt.Round(time.Millisecond), failedAt.Round(time.Millisecond), tm.ProbeInterval, tm.SuspicionMult)
	if suspectAt > 2*time.Second {
		t.Errorf("suspected after %s, want within ~1 s", suspectAt)
	}
	waitFor(t, 2*time.Second, "agent-01 sees the failure", hasStatus(a1, "agent-02", StatusFailed))
	if _, err := gw.MeasureRTT(context.Background(), "agent-02"); !errors.Is(err, ErrNoResponse) {
		t.Fatalf("MeasureRTT(failed): %v", err)
	}

	// Restart under the same name, at a new port.
	restarted := start(t, victimCfg)
	if restarted.Addr() == victim.Addr() {
		t.Fatalf("restart reused the port %s", victim.Addr())
	}
	took := waitFor(t, 10*time.Second, "restarted member alive", allAlive(gw, a1, restarted))
	if mb, _ := gw.Member("agent-02"); mb.Addr != restarted.Addr() {
		t.Fatalf("gateway sees %v at the old address", mb)
	}
	t.Logf("restarted member alive again after %s", took.Round(time.Millisecond))

	// Killed and restarted at the same address before anyone noticed (a
	// supervisor restarting a crashed agent): the new incarnation refutes
	// the old one's state.
	if err := restarted.shutdown(false); err != nil {
		t.Fatal(err)
	}
	sameCfg := victimCfg
	sameCfg.Bind = restarted.Addr()
	again := start(t, sameCfg)
	took = waitFor(t, 10*time.Second, "member restarted in place alive", allAlive(gw, a1, again))
	t.Logf("member restarted in place alive after %s", took.Round(time.Millisecond))

	// Graceful leave.
	closing := time.Now()
	if err := a1.Close(); err != nil {
		t.Fatal(err)
	}
	closeTook := time.Since(closing)
	if err := a1.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitFor(t, 2*time.Second, "agent-01 left", hasStatus(gw, "agent-01", StatusLeft))
	t.Logf("Close took %s", closeTook.Round(time.Millisecond))
	if _, err := a1.Join(context.Background(), []string{gw.Addr()}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Join after Close: %v", err)
	}

	// Reap: gone from everyone's list after ReapAfter.
	left := time.Now()
	waitFor(t, tm.ReapAfter+3*time.Second, "agent-01 reaped", func() (bool, string) {
		_, ok1 := gw.Member("agent-01")
		_, ok2 := again.Member("agent-01")
		return !ok1 && !ok2, fmt.Sprint(gw.Members())
	})
	if reaped := time.Since(left); reaped < tm.ReapAfter-time.Second {
		t.Fatalf("reaped after %s, before ReapAfter %s", reaped, tm.ReapAfter)
	}
}

func TestJoinRetriesUntilSeedAnswers(t *testing.T) {
	// Reserve a free port for the seed, then start the agent first.
	probe := start(t, gatewayConfig("probe"))
	seedAddr := probe.Addr()
	if err := probe.shutdown(false); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	cfg := agentConfig("agent-01", seedAddr)
	cfg.Logger = slog.New(rec)
	a := start(t, cfg)
	waitFor(t, 5*time.Second, "join attempts failing", func() (bool, string) {
		n := rec.count("mesh join failed; retrying")
		return n >= 2, fmt.Sprintf("%d failed attempts logged", n)
	})
	if n := len(a.Members()); n != 0 {
		t.Fatalf("alone agent lists %d members", n)
	}
	gwCfg := gatewayConfig("gw-1")
	gwCfg.Bind = seedAddr
	gw := start(t, gwCfg)
	waitFor(t, 5*time.Second, "agent joined the late seed", allAlive(gw, a))
}

func TestJoinErrors(t *testing.T) {
	gw := start(t, gatewayConfig("gw-1"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := gw.Join(ctx, nil); !errors.Is(err, ErrJoin) {
		t.Fatalf("Join(nil): %v", err)
	}
	if _, err := gw.Join(ctx, []string{"127.0.0.1"}); !errors.Is(err, ErrJoin) {
		t.Fatalf("Join(no port): %v", err)
	}
	// A port nobody listens on: the port of a member that has stopped.
	gone := start(t, gatewayConfig("gone"))
	addr := gone.Addr()
	gone.shutdown(false)
	if _, err := gw.Join(ctx, []string{addr}); !errors.Is(err, ErrJoin) {
		t.Fatalf("Join(dead address): %v", err)
	}
	a := start(t, agentConfig("agent-01"))
	if n, err := a.Join(ctx, []string{gw.Addr()}); n != 1 || err != nil {
		t.Fatalf("Join = %d, %v", n, err)
	}
	waitFor(t, 5*time.Second, "joined", allAlive(gw, a))

	if _, err := Start(ctx, Config{Name: "x", Role: RoleGateway, Bind: "127.0.0.1"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("Start with a bad config: %v", err)
	}
	cfg := gatewayConfig("clash")
	cfg.Bind = gw.Addr()
	if _, err := Start(ctx, cfg); err == nil || errors.Is(err, ErrConfig) {
		t.Fatalf("Start on a taken port: %v", err)
	}
}

// blackhole drops the packets and refuses the streams its member sends to
// blocked addresses: they are gone from its network.
type blackhole struct {
	memberlist.NodeAwareTransport
	mu      sync.Mutex
	blocked map[string]bool
}

func (b *blackhole) block(addr string) {
	b.mu.Lock()
	b.blocked[addr] = true
	b.mu.Unlock()
}

func (b *blackhole) gone(addr string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.blocked[addr]
}

func (b *blackhole) WriteToAddress(buf []byte, a memberlist.Address) (time.Time, error) {
	if b.gone(a.Addr) {
		return time.Now(), nil
	}
	return b.NodeAwareTransport.WriteToAddress(buf, a)
}

func (b *blackhole) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if b.gone(a.Addr) {
		return nil, fmt.Errorf("blackhole: %s unreachable", a.Addr)
	}
	return b.NodeAwareTransport.DialAddressTimeout(a, timeout)
}

func TestReaddressWhenTheAdvertisedNameMoves(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds of real failure detection")
	}
	hole := &blackhole{blocked: map[string]bool{}}
	gwCfg := gatewayConfig("gw-1")
	gwCfg.wrapTransport = func(tr memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
		hole.NodeAwareTransport = tr
		return hole
	}
	gw := start(t, gwCfg)

	// The agent advertises a name; the name moves from 127.0.0.1 to
	// 127.0.0.2 (its host re-attached under another address) and the old
	// address becomes unreachable.
	var mu sync.Mutex
	ip, lookups := "127.0.0.1", 0
	rec := &recorder{}
	cfg := agentConfig("agent-01", gw.Addr())
	cfg.Bind, cfg.Advertise, cfg.Logger = ":0", "edge.test:0", slog.New(rec)
	cfg.Timing.ResolveInterval = 100 * time.Millisecond
	cfg.lookup = func(_ context.Context, host string) ([]net.IP, error) {
		mu.Lock()
		defer mu.Unlock()
		lookups++
		if host != "edge.test" {
			return nil, fmt.Errorf("no such host %s", host)
		}
		return []net.IP{net.ParseIP(ip)}, nil
	}
	a := start(t, cfg)
	old := a.Addr()
	if !strings.HasPrefix(old, "127.0.0.1:") {
		t.Fatalf("advertises %s, want 127.0.0.1:port", old)
	}
	waitFor(t, 5*time.Second, "all alive", allAlive(gw, a))
	waitFor(t, 2*time.Second, "the name resolved again", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return lookups >= 3, fmt.Sprintf("%d lookups", lookups)
	})
	if n := rec.count("mesh advertise address changed; gossip restarted at the new one"); n != 0 {
		t.Fatalf("restarted %d times while the name stayed put", n)
	}

	moved := time.Now()
	mu.Lock()
	ip = "127.0.0.2"
	mu.Unlock()
	hole.block(old)
	_, port, _ := net.SplitHostPort(old)
	want := net.JoinHostPort("127.0.0.2", port)
	waitFor(t, 5*time.Second, "agent advertising the new address", func() (bool, string) {
		return a.Addr() == want, a.Addr()
	})
	took := waitFor(t, 15*time.Second, "gateway sees the agent alive at the new address", func() (bool, string) {
		mb, _ := gw.Member("agent-01")
		return mb.Status == StatusAlive && mb.Addr == want, fmt.Sprint(mb)
	})
	waitFor(t, 5*time.Second, "agent sees the gateway alive", hasStatus(a, "gw-1", StatusAlive))
	if n := rec.count("mesh advertise address changed; gossip restarted at the new one"); n != 1 {
		t.Fatalf("restarted %d times, want 1", n)
	}
	t.Logf("alive at the new address %s after the move (%s waiting for it)", time.Since(moved).Round(time.Millisecond), took.Round(time.Millisecond))
}
