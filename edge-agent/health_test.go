package edgeagent

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/dct-network/dct/edge-agent/internal/testpki"
)

// TestCheckHealth: dct-agent health reports SERVING for the agent of its
// settings, over mutual TLS with the agent's ledger identity, and fails
// when the agent is not there, when another certificate answers, or when
// the identity is not a member's.
func TestCheckHealth(t *testing.T) {
	cfg, files, _ := agentConfig(t)
	r := startAgent(t, cfg, nil)
	_, port, _ := net.SplitHostPort(r.addr)
	healthy := cfg
	healthy.Listen = "0.0.0.0:" + port // as in a container: probed on 127.0.0.1
	healthy.CertFile, healthy.KeyPath = files.ClientCert, files.ClientKey

	other, _, _, err := testpki.WriteAgent(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr error // nil: healthy
	}{
		{"serving", func(*Config) {}, nil},
		{"nothing listening", func(c *Config) { c.Listen = closed }, ErrUnhealthy},
		{"another certificate answers", func(c *Config) { c.TLSCert, c.TLSKey = other.ServerCert, other.ServerKey }, ErrUnhealthy},
		{"identity of no member", func(c *Config) { c.CertFile, c.KeyPath = other.ClientCert, other.ClientKey }, ErrUnhealthy},
		{"no TLS certificate", func(c *Config) { c.TLSCert = filepath.Join(t.TempDir(), "none.crt") }, ErrConfig},
		{"malformed listen", func(c *Config) { c.Listen = "nope" }, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := healthy
			tt.mutate(&c)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := CheckHealth(ctx, c)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("CheckHealth: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckHealth: %v, want %v", err, tt.wantErr)
			}
		})
	}
}
