package mesh

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseKeyring(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16)
	good := Keyring{k1, k2}.Format()
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{"formatted", string(good), 2, false},
		{"comments and blanks", "# c\n\n" + string(Keyring{k2}.Format()) + "\n  \n", 1, false},
		{"empty", "# nothing\n", 0, true},
		{"not base64", "***\n", 0, true},
		{"wrong size", "AAEC\n", 0, true},
		{"repeated", string(Keyring{k1, k1}.Format()), 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := ParseKeyring([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrKeyring) {
					t.Fatalf("err = %v, want ErrKeyring", err)
				}
				return
			}
			if err != nil || len(ring) != tc.want {
				t.Fatalf("ParseKeyring = %d keys, %v; want %d", len(ring), err, tc.want)
			}
		})
	}
	ring, _ := ParseKeyring(good)
	if !bytes.Equal(ring.Primary(), k1) {
		t.Fatal("the first key is not the primary key")
	}
	if s := ring.String(); bytes.Contains([]byte(s), []byte(string(good[60:90]))) {
		t.Fatalf("String reveals key material: %s", s)
	}
	path := filepath.Join(t.TempDir(), "gossip.keys")
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadKeyring(path); err != nil || len(got) != 2 {
		t.Fatalf("LoadKeyring = %v, %v", got, err)
	}
	if _, err := LoadKeyring(path + ".missing"); !errors.Is(err, ErrKeyring) {
		t.Fatalf("LoadKeyring(missing) = %v", err)
	}
	cfg := gatewayConfig("gw")
	cfg.Keys = Keyring{[]byte("short")}
	if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
		t.Fatalf("Validate with a bad key = %v", err)
	}
}

// TestClosedMesh: members sharing the keyring form a mesh; a process with
// no key or another key cannot join, and nobody lists it.
func TestClosedMesh(t *testing.T) {
	ring := Keyring{mustKey(t)}
	keyed := func(cfg Config, k Keyring) Config { cfg.Keys = k; return cfg }
	gw := start(t, keyed(gatewayConfig("gw-1"), ring))
	a := start(t, keyed(agentConfig("agent-01", gw.Addr()), ring))
	waitFor(t, 10*time.Second, "keyed members alive", allAlive(gw, a))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		keys Keyring
	}{
		{"plain", nil},
		{"other key", Keyring{mustKey(t)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := start(t, keyed(agentConfig("agent-66"), tc.keys))
			if n, err := out.Join(ctx, []string{gw.Addr(), a.Addr()}); n != 0 || !errors.Is(err, ErrJoin) {
				t.Fatalf("outsider Join = %d, %v; want ErrJoin", n, err)
			}
			for _, m := range []*Mesh{gw, a} {
				if _, ok := m.Member("agent-66"); ok {
					t.Fatalf("%s lists the outsider", m.Name())
				}
			}
			if len(out.Members()) != 0 {
				t.Fatalf("the outsider sees %d members", len(out.Members()))
			}
		})
	}
}

// TestKeyRotation rotates the key of a running mesh in the three
// documented steps; the members stay connected throughout, and afterwards
// a process holding only the old key is shut out.
func TestKeyRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	cfg := func(c Config) Config { c.Keys = Keyring{oldKey}; return c }
	gw := start(t, cfg(gatewayConfig("gw-1")))
	a := start(t, cfg(agentConfig("agent-01", gw.Addr())))
	b := start(t, cfg(agentConfig("agent-02", gw.Addr())))
	waitFor(t, 10*time.Second, "all alive", allAlive(gw, a, b))
	steps := []Keyring{{oldKey, newKey}, {newKey, oldKey}, {newKey}}
	for i, step := range steps {
		for _, m := range []*Mesh{gw, a, b} {
			if err := m.SetKeys(step); err != nil {
				t.Fatalf("step %d on %s: %v", i+1, m.Name(), err)
			}
		}
		// A full round of probes and gossip under the new ring.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := a.Join(ctx, []string{gw.Addr(), b.Addr()}); err != nil {
			t.Fatalf("step %d: members cannot talk: %v", i+1, err)
		}
		cancel()
		waitFor(t, 5*time.Second, "all alive", allAlive(gw, a, b))
	}
	stale := start(t, cfg(agentConfig("agent-03")))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := stale.Join(ctx, []string{gw.Addr()}); n != 0 || !errors.Is(err, ErrJoin) {
		t.Fatalf("old-key member Join = %d, %v; want ErrJoin", n, err)
	}
	if err := gw.SetKeys(nil); !errors.Is(err, ErrKeyring) {
		t.Fatalf("SetKeys(nil) = %v", err)
	}
	plain := start(t, gatewayConfig("gw-plain"))
	if err := plain.SetKeys(Keyring{newKey}); !errors.Is(err, ErrKeyring) {
		t.Fatalf("SetKeys on a plain member = %v", err)
	}
}
