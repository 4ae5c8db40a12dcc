//go:build integration

package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/gatewayclient"
	testnetwork "github.com/dct-network/dct/test-network"
)

// stack is one compose project of the repository's docker-compose.yaml.
type stack struct {
	t       *testing.T
	compose []string // the compose command: docker compose or docker-compose
	root    string   // repository root
	project string
	env     []string
	gw      [2]int // gateways' public ports
	admin   [2]int // gateways' admin ports
}

// composeCommand finds Compose: the docker plugin, else docker-compose.
func composeCommand() ([]string, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, err
	}
	if exec.Command("docker", "info", "--format", "{{.ServerVersion}}").Run() != nil {
		return nil, fmt.Errorf("the Docker engine does not answer")
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}, nil
	}
	if _, err := exec.LookPath("docker-compose"); err != nil {
		return nil, fmt.Errorf("no docker compose plugin and no docker-compose: %w", err)
	}
	return []string{"docker-compose"}, nil
}

func newStack(t *testing.T) *stack {
	t.Helper()
	cmd, err := composeCommand()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs Docker with Compose for the compose tests: %v", err)
		}
		t.Skipf("no Docker with Compose: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	base := 26100
	if v := os.Getenv("DCT_COMPOSE_BASE_PORT"); v != "" {
		if base, err = strconv.Atoi(v); err != nil {
			t.Fatalf("DCT_COMPOSE_BASE_PORT: %v", err)
		}
	}
	s := &stack{t: t, compose: cmd, root: root, project: fmt.Sprintf("dcttest%d", os.Getpid()),
		gw: [2]int{base, base + 1}, admin: [2]int{base + 2, base + 3}}
	s.env = append(os.Environ(),
		"COMPOSE_PROJECT_NAME="+s.project, "DCT_PUBLISH_IP=127.0.0.1", "DCT_GATEWAY_CACHE_BYTES=0",
		fmt.Sprintf("DCT_GATEWAY0_PORT=%d", s.gw[0]), fmt.Sprintf("DCT_GATEWAY1_PORT=%d", s.gw[1]),
		fmt.Sprintf("DCT_GATEWAY0_ADMIN_PORT=%d", s.admin[0]), fmt.Sprintf("DCT_GATEWAY1_ADMIN_PORT=%d", s.admin[1]))
	return s
}

// run runs a compose subcommand and returns its combined output.
func (s *stack) run(ctx context.Context, args ...string) (string, error) {
	full := append(append(append([]string{}, s.compose[1:]...), "-f", filepath.Join(s.root, "docker-compose.yaml"), "-p", s.project), args...)
	cmd := exec.CommandContext(ctx, s.compose[0], full...)
	cmd.Env, cmd.Dir = s.env, s.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", strings.Join(s.compose, " "), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func docker(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildImages runs make images' script (idempotent: Docker's layer cache).
func buildImages(t *testing.T, root string) {
	cache := testnetwork.CacheDir(filepath.Join(root, ".cache"))
	start := time.Now()
	args := []string{cache}
	if tag := os.Getenv("DCT_IMAGE_TAG"); tag != "" {
		args = append(args, tag) // the compose file's image tag too
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "build-images.sh"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build images (make build and make fabric first): %v\n%s", err, out)
	}
	t.Logf("images in %s:\n%s", time.Since(start).Round(time.Millisecond), out)
}

// up starts the stack and registers its teardown (down -v), which prints
// the services' logs when the test failed.
func (s *stack) up(ctx context.Context) {
	s.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if s.t.Failed() {
			logs, _ := s.run(ctx, "logs", "--no-color", "--tail", "40")
			s.t.Logf("compose logs:\n%s", logs)
		}
		start := time.Now()
		if out, err := s.run(ctx, "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
			s.t.Errorf("down: %v\n%s", err, out)
		}
		s.t.Logf("down -v in %s", time.Since(start).Round(time.Millisecond))
	})
	if _, err := s.run(ctx, "up", "-d"); err != nil {
		s.t.Fatal(err)
	}
}

// containers maps the project's running services to their container ids.
func (s *stack) containers(ctx context.Context) map[string]string {
	s.t.Helper()
	out, err := docker(ctx, "ps", "--filter", "label=com.docker.compose.project="+s.project,
		"--format", `{{.ID}} {{.Label "com.docker.compose.service"}}`)
	if err != nil {
		s.t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			m[f[1]] = f[0]
		}
	}
	return m
}

// waitHealthy waits until every running container of the project with a
// healthcheck reports healthy (Docker's readiness signal) and returns
// how many there are.
func (s *stack) waitHealthy(ctx context.Context, want int) int {
	s.t.Helper()
	for {
		ids := s.containers(ctx)
		healthy, pending := 0, []string{}
		for svc, id := range ids {
			st, err := docker(ctx, "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", id)
			switch {
			case err == nil && st == "healthy":
				healthy++
			case err == nil && st == "none":
			default:
				pending = append(pending, svc+"="+st)
			}
		}
		if len(pending) == 0 && healthy >= want {
			return healthy
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("containers not healthy (%d healthy, want %d): %v: %v", healthy, want, pending, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// stats logs scripts/container-stats.sh's table of the project's
// containers (CPU and memory by kind, over 3 docker stats snapshots).
func (s *stack) stats(ctx context.Context, when string) {
	s.t.Helper()
	out, err := exec.CommandContext(ctx, filepath.Join(s.root, "scripts", "container-stats.sh"), s.project, "3").CombinedOutput()
	if err != nil {
		s.t.Errorf("container stats %s: %v\n%s", when, err, out)
		return
	}
	s.t.Logf("container stats, %s:\n%s", when, out)
}

// publisher is a client of gateway0 whose writes go to its admin listener
// as BankA's publisher, with the identity copied out of the consortium
// volume.
func (s *stack) publisher(ctx context.Context, gateway0 string) *gatewayclient.Client {
	s.t.Helper()
	dir := s.t.TempDir()
	org := "/var/dct/network/crypto/peerOrganizations/banka.dct.test"
	for _, cp := range [][2]string{
		{org + "/users/User1@banka.dct.test/msp", filepath.Join(dir, "msp")},
		{org + "/tlsca/tlsca.banka.dct.test-cert.pem", filepath.Join(dir, "tlsca.pem")},
	} {
		if _, err := docker(ctx, "cp", gateway0+":"+cp[0], cp[1]); err != nil {
			s.t.Fatal(err)
		}
	}
	tlsCfg, err := gatewayclient.TLSConfig(gatewayclient.TLSFiles{MSPDir: filepath.Join(dir, "msp"), CACert: filepath.Join(dir, "tlsca.pem")})
	if err != nil {
		s.t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	return gatewayclient.New(s.url(0), gatewayclient.WithAdmin(fmt.Sprintf("https://127.0.0.1:%d", s.admin[0]), hc))
}

func (s *stack) url(g int) string { return fmt.Sprintf("http://127.0.0.1:%d", s.gw[g]) }

// get reads /cdn/<name> from gateway g: status and body.
func get(ctx context.Context, base, name string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/cdn/"+name, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// getEventually reads name from base until it is served: another bank's
// gateway sees a manifest once its own peer has committed the block.
func getEventually(ctx context.Context, base, name string) ([]byte, error) {
	for {
		code, body, err := get(ctx, base, name)
		if err == nil && code == http.StatusOK {
			return body, nil
		}
		if err == nil && code != http.StatusNotFound {
			return nil, fmt.Errorf("GET %s/cdn/%s: %d %s", base, name, code, body)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("GET %s/cdn/%s: never served (last %d, %v): %w", base, name, code, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// agent is an edge agent of the compose file: its service, host alias and
// node id, and (rankHolders) how many shards it holds.
type agent struct {
	svc, alias, node string
	shards           int
}

func (a agent) String() string { return fmt.Sprintf("%s=%d", a.svc, a.shards) }

// bank is the agent's bank's site: banka, bankb, ….
func (a agent) bank() string { return a.svc[strings.LastIndexByte(a.svc, '-')+1:] }

// mostBank is the bank (orgOf: node -> bank) holding the most shards of
// one placement, and how many.
func mostBank(placement [][]string, orgOf map[string]string) (string, int) {
	per := map[string]int{}
	for _, nodes := range placement {
		for _, n := range nodes {
			per[orgOf[n]]++
		}
	}
	best, most := "", 0
	for _, b := range slices.Sorted(maps.Keys(per)) {
		if per[b] > most {
			best, most = b, per[b]
		}
	}
	return best, most
}

// rankBanks orders the banks by the shards their agents hold, most first.
func rankBanks(ranked []agent) []string {
	per := map[string]int{}
	for _, a := range ranked {
		per[a.bank()] += a.shards
	}
	banks := slices.Sorted(maps.Keys(per))
	slices.SortStableFunc(banks, func(a, b string) int { return per[b] - per[a] })
	return banks
}

// composeAgents are docker-compose.yaml's six agents.
func composeAgents() []agent {
	var out []agent
	for _, bank := range []string{"BankA", "BankB", "BankC"} {
		for i := 0; i < 2; i++ {
			host, l := fmt.Sprintf("agent%d", i), strings.ToLower(bank)
			out = append(out, agent{svc: host + "-" + l, alias: host + "." + l + ".dct.test",
				node: testnetwork.AgentNodeID(host, testnetwork.Org{MSPID: bank + "MSP"})})
		}
	}
	return out
}

// mostShards is the agent holding the most shards of one placement, and
// how many.
func mostShards(placement [][]string, agents []agent) (string, int) {
	best, most := "", 0
	for _, a := range agents {
		n := 0
		for _, nodes := range placement {
			for _, node := range nodes {
				if node == a.node {
					n++
				}
			}
		}
		if n > most {
			best, most = a.svc, n
		}
	}
	return best, most
}

// rankHolders counts each agent's shards over the placements, most first.
func rankHolders(placements [][][]string, agents []agent) []agent {
	out := slices.Clone(agents)
	for i := range out {
		for _, p := range placements {
			for _, nodes := range p {
				for _, node := range nodes {
					if node == out[i].node {
						out[i].shards++
					}
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b agent) int { return b.shards - a.shards })
	return out
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConsortium brings the consortium up (the gateways' object cache off:
// every read fetches shards), publishes through BankA's gateway and reads
// through BankB's, stops an edge agent container and reads every object
// through both gateways, then runs the other container drills (runDrills)
// under a read load: no read and no publish may fail.
func TestConsortium(t *testing.T) {
	s := newStack(t)
	buildImages(t, s.root)
	// 20 minutes: on a 2-core machine shared with other jobs, up alone
	// has taken 2 minutes and the drills with the receipts' epoch wait 8.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	start := time.Now()
	s.up(ctx)
	upDone := time.Since(start)
	// 3 orderers, 3 peers, the chaincode server, 6 agents, 2 gateways.
	const withHealthcheck = 15
	n := s.waitHealthy(ctx, withHealthcheck)
	t.Logf("compose up -d in %s; %d containers healthy after %s", upDone.Round(time.Millisecond), n, time.Since(start).Round(time.Millisecond))
	ids := s.containers(ctx)
	s.stats(ctx, "idle (all healthy, nothing published)")

	pub := s.publisher(ctx, ids["gateway0"])
	var objects []object
	var placements [][][]string
	publishStart := time.Now()
	parity := 0
	for i := 0; i < 6; i++ {
		o := object{name: fmt.Sprintf("compose/object-%d.bin", i), data: randomBytes(t, 64<<10+i*4099)}
		resp, err := pub.Publish(ctx, o.name, "application/octet-stream", int64(len(o.data)), bytes.NewReader(o.data))
		if err != nil {
			t.Fatalf("publish %s through gateway0 (BankA): %v", o.name, err)
		}
		objects, placements, parity = append(objects, o), append(placements, resp.Placement), resp.M
	}
	t.Logf("published %d objects through gateway0 in %s", len(objects), time.Since(publishStart).Round(time.Millisecond))

	// The first object through BankB's gateway: the round trip the
	// consortium exists for.
	body, err := getEventually(ctx, s.url(1), objects[0].name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, objects[0].data) {
		t.Fatalf("gateway1 served %d bytes, not the %d published through gateway0", len(body), len(objects[0].data))
	}

	// The drills lose one agent, or one bank's branch site, at a time,
	// which every object survives when neither an agent nor a bank holds
	// more than M of its shards: placement promises both (no agent above
	// max(M, 1), no bank above M while three banks have room), so every
	// object is read. The drills' agents are those holding the most
	// shards, and the site cut off is that of the bank holding the most.
	agents := composeAgents()
	orgOf := map[string]string{}
	for _, a := range agents {
		orgOf[a.node] = a.bank()
	}
	for i, o := range objects {
		if worst, n := mostShards(placements[i], agents); n > parity {
			t.Errorf("%s: %s holds %d of its shards (M = %d): %v", o.name, worst, n, parity, placements[i])
		}
		if bank, n := mostBank(placements[i], orgOf); n > parity {
			t.Errorf("%s: %s holds %d of its shards (M = %d): a partition of its site would make it unreadable: %v", o.name, bank, n, parity, placements[i])
		}
	}
	read := objects[1:]
	ranked := rankHolders(placements[1:], agents)
	stopped, cut, lost := ranked[0], ranked[1], ranked[2]
	site := rankBanks(ranked)[0]
	if fullDrills(t) {
		t.Logf("shards held by each agent over the objects read: %v; site cut off: %s; agent removed for good: %s", ranked, site, lost.svc)
	} else {
		t.Logf("shards held by each agent over the objects read: %v (DCT_COMPOSE_DRILLS=short: no site cut off, no agent removed)", ranked)
	}

	// Drill: stop the agent holding the most shards; every object read,
	// through each gateway, is still served.
	stop := time.Now()
	if _, err := s.run(ctx, "stop", "-t", "5", stopped.svc); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s stopped in %s; it held %d shards of the %d objects read", stopped.svc, time.Since(stop).Round(time.Millisecond), stopped.shards, len(read))
	reads, failed := 0, 0
	for g := 0; g < 2; g++ {
		for _, o := range read {
			reads++
			code, body, err := get(ctx, s.url(g), o.name)
			if err != nil || code != http.StatusOK || !bytes.Equal(body, o.data) {
				failed++
				t.Errorf("gateway%d GET %s with %s stopped: %d, %d bytes, %v", g, o.name, stopped.svc, code, len(body), err)
			}
		}
	}
	t.Logf("drill agent stopped: %d reads, %d failed", reads, failed)

	runDrills(ctx, t, s, read, stopped.svc, cut, site, lost, pub, orgOf, func(name string) error {
		data := randomBytes(t, 32<<10)
		_, err := pub.Publish(ctx, name, "application/octet-stream", int64(len(data)), bytes.NewReader(data))
		return err
	})

	// Every receipt the gateways issued (each shard an agent delivered
	// during the test) reached the ledger exactly once.
	d := s.description(ctx, ids["gateway0"])
	for g, msp := range []string{"BankAMSP", "BankBMSP"} {
		if !fullDrills(t) {
			break
		}
		rc := s.checkReceipts(ctx, d, fmt.Sprintf("gateway%d", g), msp)
		t.Logf("receipts of %s (%s): %d in its log over %d epochs, each epoch in one accepted batch of its size on the ledger (waited %s for the last epoch's)",
			rc.gateway, msp, rc.receipts, rc.epochs, rc.waited.Round(100*time.Millisecond))
	}
	t.Logf("total before teardown %s", time.Since(start).Round(time.Millisecond))
}
