package probe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTarget(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.Error(w, "no", http.StatusServiceUnavailable)
		}
	}))
	defer ok.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	tests := []struct {
		name, target string
		want         error // nil: healthy; errAny: any error
	}{
		{"http 200", ok.URL + "/healthz", nil},
		{"http 503", ok.URL + "/other", ErrUnhealthy},
		{"tcp open", "tcp://" + strings.TrimPrefix(ok.URL, "http://"), nil},
		{"tcp closed", "tcp://" + closed, errAny},
		{"http closed", "http://" + closed + "/healthz", errAny},
		{"bad scheme", "ftp://x:1", ErrTarget},
		{"tcp without port", "tcp://host", ErrTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err := Target(ctx, tt.target)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Target(%q) = %v, want healthy", tt.target, err)
			case tt.want == errAny && err == nil:
				t.Fatalf("Target(%q) healthy, want an error", tt.target)
			case tt.want != nil && tt.want != errAny && !errors.Is(err, tt.want):
				t.Fatalf("Target(%q) = %v, want %v", tt.target, err, tt.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestLocalAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0.0.0.0:8080", "127.0.0.1:8080"},
		{":9500", "127.0.0.1:9500"},
		{"[::]:9500", "127.0.0.1:9500"},
		{"10.1.2.3:80", "10.1.2.3:80"},
		{"gw.example:80", "gw.example:80"},
	}
	for _, tt := range tests {
		got, err := LocalAddr(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("LocalAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := LocalAddr("nope"); !errors.Is(err, ErrTarget) {
		t.Errorf("LocalAddr(nope) = %v, want ErrTarget", err)
	}
}
