package content_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
	"github.com/dct-network/dct/pkg/codec"
)

// TestMasterKeyRotation: objects published under key A are still served
// once the gateways hold [B, A], new objects use B, and a gateway holding
// only B answers ErrUnknownKey for the old ones.
func TestMasterKeyRotation(t *testing.T) {
	ctx := context.Background()
	keyA, keyB := bytes.Repeat([]byte{0xA}, 32), bytes.Repeat([]byte{0xB}, 32)
	l := contenttest.NewLedger("Org1MSP", 6)
	agents := contenttest.NewAgents(l, 1<<30)
	service := func(keys ...[]byte) *content.Service {
		t.Helper()
		s, err := content.New(testConfig(func(c *content.Config) { c.MasterKeys = keys; c.CacheBytes = 0 }), l, agents, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	oldBody, newBody := payload(5000), payload(7000)
	old := publishWith(t, service(keyA), "site/old.js", oldBody)
	if old.Encryption.KeyID != codec.KeyID(keyA) {
		t.Fatalf("old object under key id %q, want %q", old.Encryption.KeyID, codec.KeyID(keyA))
	}

	rotated := service(keyB, keyA)
	if got, want := rotated.KeyIDs(), []string{codec.KeyID(keyB), codec.KeyID(keyA)}; !slices.Equal(got, want) {
		t.Fatalf("key ids %v, want %v", got, want)
	}
	readBack(t, rotated, old, oldBody)
	fresh := publishWith(t, rotated, "site/new.js", newBody)
	if fresh.Encryption.KeyID != codec.KeyID(keyB) {
		t.Fatalf("new object under key id %q, want the new primary %q", fresh.Encryption.KeyID, codec.KeyID(keyB))
	}
	readBack(t, rotated, fresh, newBody)

	onlyB := service(keyB)
	readBack(t, onlyB, fresh, newBody)
	for name, read := range map[string]func() error{
		"read":   func() error { _, err := onlyB.Read(ctx, old, 0, old.Size); return err },
		"range":  func() error { _, err := onlyB.Read(ctx, old, 10, 100); return err },
		"stream": func() error { return onlyB.Stream(ctx, old, &strings.Builder{}) },
	} {
		err := read()
		if !errors.Is(err, content.ErrUnknownKey) || errors.Is(err, content.ErrCorrupt) {
			t.Fatalf("%s of the old object with only key B: %v, want ErrUnknownKey", name, err)
		}
		if !strings.Contains(err.Error(), codec.KeyID(keyA)) {
			t.Fatalf("%s: error %q does not name the missing key id", name, err)
		}
	}
	// The old gateway, with only A, cannot read what B encrypted.
	if _, err := service(keyA).Read(ctx, fresh, 0, fresh.Size); !errors.Is(err, content.ErrUnknownKey) {
		t.Fatalf("read of the new object with only key A: %v, want ErrUnknownKey", err)
	}
}

func TestMasterKeysValidate(t *testing.T) {
	a := bytes.Repeat([]byte{1}, 32)
	tests := []struct {
		name string
		keys [][]byte
		want string
	}{
		{"none", nil, "no master key"},
		{"short", [][]byte{a, make([]byte, 31)}, "master key 2 must be at least 32 bytes"},
		{"repeated", [][]byte{a, bytes.Clone(a)}, "master key 2 repeats key 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(func(c *content.Config) { c.MasterKeys = tc.keys })
			if err := cfg.Validate(); !errors.Is(err, content.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
}
