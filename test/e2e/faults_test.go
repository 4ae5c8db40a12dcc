//go:build integration

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/gatewayclient"
)

// TestServesWithMAgentsKilled: with m agents SIGKILLed, every object is
// still served byte-identical, whole and in ranges.
func TestServesWithMAgentsKilled(t *testing.T) {
	objects := map[string][]byte{
		"e2e/kill/small.css":  payload(600, 1),
		"e2e/kill/lib.js":     payload(300<<10, 2),
		"e2e/kill/feed.bin":   payload(6<<20, 3),
		"e2e/kill/empty.json": {},
	}
	var first *api.PublishResponse
	for name, body := range objects {
		res := publish(t, name, "", body)
		if first == nil {
			first = res
		}
	}
	// Kill the holders of two data shards of one object: the worst case,
	// every read of it needs reconstruction.
	killed := map[string]bool{}
	for _, holders := range first.Placement {
		if len(killed) == m {
			break
		}
		name := agentByNode(t, holders[0]).Name
		if !killed[name] {
			killed[name] = true
			killAgent(t, name)
		}
	}
	for name, body := range objects {
		resp, got := do(t, http.MethodGet, "/cdn/"+name, nil)
		if resp.StatusCode != 200 || !bytes.Equal(got, body) {
			t.Fatalf("GET %s with %v killed: %s, %d bytes (want %d)", name, killed, resp.Status, len(got), len(body))
		}
		if len(body) > 200 {
			resp, got = do(t, http.MethodGet, "/cdn/"+name, map[string]string{"Range": "bytes=100-199"})
			if resp.StatusCode != 206 || !bytes.Equal(got, body[100:200]) {
				t.Fatalf("range of %s with %v killed: %s", name, killed, resp.Status)
			}
		}
	}
	t.Logf("all %d objects served with agents %v killed", len(objects), killed)
}

// TestTooFewShardsIs503: with m+1 holders of an object's shards down, the
// gateway answers 503 naming the cause.
func TestTooFewShardsIs503(t *testing.T) {
	res := publish(t, "e2e/kill/unavailable.txt", "", payload(10_000, 5))
	down := map[string]bool{}
	for _, holders := range res.Placement {
		down[holders[0]] = true
		if len(down) == m+1 {
			break
		}
	}
	// Placement allows up to m shards per node: count shards lost.
	lost := 0
	for _, holders := range res.Placement {
		if down[holders[0]] {
			lost++
		}
	}
	if lost <= m {
		t.Fatalf("placement %v: %d nodes hold only %d shards", res.Placement, len(down), lost)
	}
	for id := range down {
		killAgent(t, agentByNode(t, id).Name)
	}
	resp, got := do(t, http.MethodGet, res.VersionedURL, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, got) != api.CodeShardsUnavailable {
		t.Fatalf("GET with %d of %d shards lost: %s %s", lost, k+m, resp.Status, got)
	}
	// The anonymous client gets no node id; the gateway's log has the
	// cause under the request's id.
	for id := range down {
		if strings.Contains(string(got), id) {
			t.Fatalf("503 body names node %s: %s", id, got)
		}
	}
	rid := resp.Header.Get(api.RequestIDHeader)
	logText, err := os.ReadFile(env.LogFile(env.Gateways[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(logText), "\n") {
		if rid != "" && strings.Contains(l, "requestId="+rid) {
			line = l
		}
	}
	if !strings.Contains(line, "shard") {
		t.Fatalf("the gateway's log has no cause under request id %q: %q", rid, line)
	}
}

// TestCorruptShardOnDisk: a shard overwritten on an agent's disk is detected
// (the agent refuses to serve it and quarantines it) and the object is still
// served correctly from the other shards.
func TestCorruptShardOnDisk(t *testing.T) {
	body := payload(200_000, 7)
	res := publish(t, "e2e/rot/data.json", "application/json", body)
	mf := manifest(t, res.Name, res.Version)
	sh := mf.Shards[0]
	a := agentByNode(t, sh.Nodes[0])
	path := shardPath(a, sh.Hash)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("shard file of shard 0 on %s: %v", a.Name, err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xEE}, 64), sh.Size/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The gateway reads the k shards it ranks first: with no mesh and no
	// recent latency samples, that is the data shards in order, shard 0
	// first. Wait until its samples of the previous tests have expired.
	waitRoutingIdle(t)
	for _, hdr := range []map[string]string{{"Range": "bytes=0-999"}, nil} {
		resp, got := do(t, http.MethodGet, res.VersionedURL, hdr)
		want := body
		if hdr != nil {
			want = body[:1000]
		}
		if resp.StatusCode/100 != 2 || !bytes.Equal(got, want) {
			t.Fatalf("GET %v with a corrupt shard: %s, content differs", hdr, resp.Status)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the corrupt shard is still in place (%v): the agent did not detect it", err)
	}
	q, _ := filepath.Glob(filepath.Join(a.DataDir, "quarantine", sh.Hash+"*"))
	if len(q) == 0 {
		t.Fatalf("the corrupt shard is not in %s/quarantine", a.DataDir)
	}
}

// TestPurge: a purge tombstones the version on the ledger and deletes its
// shards from the agents.
func TestPurge(t *testing.T) {
	res := publish(t, "e2e/purge/old.css", "", payload(5000, 9))
	mf := manifest(t, res.Name, res.Version)
	out, err := client().Purge(ctxT(t, time.Minute), res.Name, "", "superseded by the new design")
	if err != nil {
		t.Fatal(err)
	}
	if out.Manifest.Purged == nil || out.ShardsDeleted != k+m || len(out.DeleteErrors) != 0 {
		t.Fatalf("purge: %+v", out)
	}
	for _, sh := range mf.Shards {
		for _, id := range sh.Nodes {
			if _, err := os.Stat(shardPath(agentByNode(t, id), sh.Hash)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("shard %d still on %s after purge", sh.Index, id)
			}
		}
	}
	resp, got := do(t, http.MethodGet, res.VersionedURL, nil)
	if resp.StatusCode != http.StatusGone || errorCode(t, got) != api.CodePurged {
		t.Fatalf("versioned URL after purge: %s %s", resp.Status, got)
	}
	resp, got = do(t, http.MethodGet, res.URL, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("latest URL after purging the only version: %s %s", resp.Status, got)
	}
}

// TestAgentKilledMidPublish: an agent SIGKILLed while it receives a shard
// fails the publish cleanly: no manifest on the ledger, no shard of it left
// on any agent, and the restarted agent serves nothing partial.
func TestAgentKilledMidPublish(t *testing.T) {
	before := shardFiles(t)
	victim := env.Agents[len(env.Agents)-1].Name
	const size = 48 << 20
	// The kill runs in the HTTP client's body-writing goroutine; the test
	// waits for it before restarting the agent.
	killed := make(chan error, 1)
	killCtx := ctxT(t, time.Minute)
	body := &killingReader{r: bytes.NewReader(payload(size, 11)), at: 12 << 20, kill: func() {
		killed <- env.KillService(killCtx, victim)
	}}
	_, err := client().Publish(ctxT(t, 5*time.Minute), "e2e/midpublish/big.bin", "", size, body)
	if !body.killed {
		t.Fatal("the agent was not killed during the upload")
	}
	if kerr := <-killed; kerr != nil {
		t.Fatal(kerr)
	}
	ctx := ctxT(t, time.Minute)
	if rerr := env.RestartService(ctx, victim); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatal("publish succeeded although an agent died mid-upload")
	}
	if !gatewayclient.IsCode(err, api.CodeUploadFailed) {
		t.Fatalf("publish error %v, want %s", err, api.CodeUploadFailed)
	}
	if _, err := client().Object(ctx, "e2e/midpublish/big.bin"); !gatewayclient.IsCode(err, api.CodeNotFound) {
		t.Fatalf("object after a failed publish: %v, want NOT_FOUND", err)
	}
	after := shardFiles(t)
	for f := range after {
		if !before[f] {
			t.Errorf("shard %s left behind by the failed publish", f)
		}
	}
	a := agentByNode(t, victim)
	leftovers, _ := filepath.Glob(filepath.Join(a.DataDir, "shards", ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files survive the agent's restart: %v", leftovers)
	}
}

// killingReader runs kill once at byte offset at, then goes on.
type killingReader struct {
	r      io.Reader
	n, at  int64
	kill   func()
	killed bool
}

func (k *killingReader) Read(p []byte) (int, error) {
	if !k.killed && k.n >= k.at {
		k.killed = true
		k.kill()
	}
	n, err := k.r.Read(p)
	k.n += int64(n)
	return n, err
}

// waitRoutingIdle waits until the gateway sent no shard request for longer
// than it keeps observed latencies (3 s), so that its next read ranks the
// shards by index.
func waitRoutingIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, b := do(t, http.MethodGet, "/v1/mesh", nil)
		var v struct {
			Fetches struct {
				Nodes map[string]struct {
					LastAttemptAt time.Time `json:"lastAttemptAt"`
				} `json:"nodes"`
			} `json:"fetches"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &v) != nil {
			t.Fatalf("GET /v1/mesh: %s %s", resp.Status, b)
		}
		var last time.Time
		for _, n := range v.Fetches.Nodes {
			if n.LastAttemptAt.After(last) {
				last = n.LastAttemptAt
			}
		}
		if time.Since(last) > 3500*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway kept fetching shards (last at %s)", last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
