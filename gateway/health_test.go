package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/probe"
)

// TestCheckHealth: dct-gateway health GETs /healthz of the gateway of its
// --listen address (an unspecified host as loopback) and wants 200.
func TestCheckHealth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":"down"}`, http.StatusServiceUnavailable)
	}))
	defer down.Close()
	tests := []struct {
		name, listen string
		want         error // nil: healthy
	}{
		{"healthy on every interface", "0.0.0.0:" + port, nil},
		{"healthy on loopback", "127.0.0.1:" + port, nil},
		{"unhealthy", down.Listener.Addr().String(), probe.ErrUnhealthy},
		{"malformed listen", "nope", ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err := CheckHealth(ctx, tt.listen)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckHealth(%q) = %v, want %v", tt.listen, err, tt.want)
			}
		})
	}
}
