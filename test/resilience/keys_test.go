//go:build integration

package resilience

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/mesh"
)

// gossipAddrs are every agent's and gateway's gossip addresses.
func gossipAddrs() []string {
	var out []string
	for _, a := range env.Agents {
		out = append(out, a.MeshAddress)
	}
	for _, g := range env.Gateways {
		out = append(out, g.MeshAddress)
	}
	return out
}

// startMember starts a mesh member in the test process that claims to be
// agent0-org1 (with a gRPC endpoint the ledger does not know).
func startMember(t *testing.T, name string, keys mesh.Keyring) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Start(context.Background(), mesh.Config{Name: name, Role: mesh.RoleAgent, NodeID: "agent0-org1",
		Bind: "127.0.0.1:0", Tags: map[string]string{mesh.TagGRPC: "127.0.0.1:1"}, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// listed reports whether gateway gw's mesh map lists the named member, and
// its status.
func listed(t *testing.T, gw int, name string) (string, bool) {
	ms, _ := members(t, gw, false)
	for _, m := range ms {
		if m.Name == name {
			return m.Status, true
		}
	}
	return "", false
}

// joinRefused: a member without a key of the ring cannot join any agent
// or gateway.
func joinRefused(t *testing.T, name string, keys mesh.Keyring) *mesh.Mesh {
	t.Helper()
	m := startMember(t, name, keys)
	for _, addr := range gossipAddrs() {
		if n, err := m.Join(ctxFor(t, 30*time.Second), []string{addr}); !errors.Is(err, mesh.ErrJoin) {
			t.Fatalf("%s joined %s (%d answered, err %v) without the consortium key", name, addr, n, err)
		}
	}
	return m
}

// TestClosedMesh: a process with another keyring, or none, cannot join;
// one with the consortium's keyring can, and leaves. The gateways never
// list the outsiders, and do not route by a member whose tags the ledger
// does not confirm.
func TestClosedMesh(t *testing.T) {
	ring, err := mesh.LoadKeyring(env.MeshKeyringFile)
	if err != nil {
		t.Fatal(err)
	}
	other, err := mesh.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	joinRefused(t, "outsider-wrong-key", mesh.Keyring{other})
	joinRefused(t, "outsider-no-key", nil)

	// Positive control: the consortium keyring joins, through one seed.
	insider := startMember(t, "insider-right-key", ring)
	if _, err := insider.Join(ctxFor(t, 30*time.Second), []string{env.Gateways[0].MeshAddress}); err != nil {
		t.Fatalf("join with the consortium keyring: %v", err)
	}
	for gw := range env.Gateways {
		waitFor(t, 30*time.Second, fmt.Sprintf("gateway%d lists the insider alive", gw), func() bool {
			st, ok := listed(t, gw, "insider-right-key")
			return ok && st == "alive"
		})
		// The insider is seen everywhere by now; the outsiders, which
		// tried first, are not.
		for _, name := range []string{"outsider-wrong-key", "outsider-no-key"} {
			if st, ok := listed(t, gw, name); ok {
				t.Fatalf("gateway%d lists %s (%s)", gw, name, st)
			}
		}
	}

	// The insider claims agent0-org1 with a gRPC endpoint the ledger does
	// not confirm: reads still work and the gateway says it ignored it.
	objs := publishSet(t, "closed-mesh", 5)
	res := load(ctxFor(t, time.Minute), objs, gatewayURLs()[:1], 2, 2*time.Second)
	if res.Failed > 0 || res.OK == 0 {
		t.Fatalf("reads with an unconfirmed claimant in the mesh: %s", res)
	}
	waitFor(t, 30*time.Second, "gateway0 logs the unconfirmed claim", func() bool {
		b, _ := os.ReadFile(env.LogFile(env.Gateways[0].Name))
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "mesh member ignored") && strings.Contains(l, "insider-right-key") {
				return true
			}
		}
		return false
	})

	if err := insider.Close(); err != nil {
		t.Fatal(err)
	}
	for gw := range env.Gateways {
		waitFor(t, 30*time.Second, fmt.Sprintf("gateway%d sees the insider leave", gw), func() bool {
			st, ok := listed(t, gw, "insider-right-key")
			return !ok || st == "left"
		})
	}
	fmt.Printf("closed mesh: wrong key and no key refused by %d members; the right key joined, was ignored for routing (tags unconfirmed), left\n",
		len(gossipAddrs()))
}

// TestMeshKeyRotation rotates the consortium keyring without a restart, in
// the three documented steps, each rolled out with SIGHUP to every agent
// and gateway: afterwards the old key no longer joins, the new one does,
// and every agent stayed alive in the mesh.
func TestMeshKeyRotation(t *testing.T) {
	path := env.MeshKeyringFile
	oldRing, err := mesh.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := mesh.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	oldKey := oldRing.Primary()
	var procs []string
	for _, a := range env.Agents {
		procs = append(procs, a.Name)
	}
	for _, g := range env.Gateways {
		procs = append(procs, g.Name)
	}
	reloads := func(name string) int {
		f, err := os.Open(env.LogFile(name))
		if err != nil {
			return 0
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		return bytes.Count(b, []byte("mesh keyring reloaded"))
	}
	start := time.Now()
	for i, step := range []mesh.Keyring{{oldKey, newKey}, {newKey, oldKey}, {newKey}} {
		if err := os.WriteFile(path, step.Format(), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			before := reloads(p)
			if err := env.Signal(p, syscall.SIGHUP); err != nil {
				t.Fatalf("SIGHUP %s: %v", p, err)
			}
			waitFor(t, 20*time.Second, fmt.Sprintf("step %d: %s reloads its keyring", i+1, p), func() bool { return reloads(p) > before })
		}
	}
	took := time.Since(start)
	joinRefused(t, "rotated-out-old-key", mesh.Keyring{oldKey})
	m := startMember(t, "rotated-in-new-key", mesh.Keyring{newKey})
	if _, err := m.Join(ctxFor(t, 30*time.Second), []string{env.Gateways[1].MeshAddress}); err != nil {
		t.Fatalf("join with the new key: %v", err)
	}
	for gw := range env.Gateways {
		waitFor(t, 30*time.Second, fmt.Sprintf("gateway%d sees every agent alive after the rotation", gw), func() bool {
			ms, _ := members(t, gw, false)
			alive := 0
			for _, mb := range ms {
				if mb.NodeID != "" && mb.Name != "rotated-in-new-key" && mb.Status == "alive" {
					alive++
				}
			}
			return alive == len(env.Agents)
		})
	}
	objs := publishSet(t, "rotated", 3)
	if res := load(ctxFor(t, time.Minute), objs, gatewayURLs(), 2, time.Second); res.Failed > 0 || res.OK == 0 {
		t.Fatalf("reads after the rotation: %s", res)
	}
	fmt.Printf("mesh key rotation: 3 steps × %d processes by SIGHUP in %s; old key refused, new key joins, every agent alive\n",
		len(procs), took.Round(time.Millisecond))
}
