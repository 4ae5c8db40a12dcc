package gateway

import (
	"slices"
	"testing"
)

func TestGatewayURL(t *testing.T) {
	tests := []struct {
		in, want string // want "" = rejected
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"HTTPS://GW1.Bank.Example:8443/", "https://gw1.bank.example:8443"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://gw.example", "https://gw.example"},
		{"127.0.0.1:8080", ""},
		{"ftp://gw.example", ""},
		{"http://", ""},
		{"http://:8080", ""},
		{"http://gw.example/cdn", ""},
		{"http://gw.example?x=1", ""},
		{"http://gw.example#top", ""},
		{"http://user@gw.example", ""},
		{"javascript:alert(1)", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := GatewayURL(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("GatewayURL(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("GatewayURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestPublicURL(t *testing.T) {
	tests := []struct {
		listen, public, want string
	}{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"gw1.example:80", "", "http://gw1.example:80"},
		{":8080", "", ""},
		{"0.0.0.0:8080", "", ""},
		{"[::]:8080", "", ""},
		{"127.0.0.1:0", "", ""},
		{"0.0.0.0:8080", "https://cdn1.bank.example", "https://cdn1.bank.example"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		c.Listen, c.PublicURL = tt.listen, tt.public
		if got := publicURL(c); got != tt.want {
			t.Errorf("publicURL(listen %q, public %q) = %q, want %q", tt.listen, tt.public, got, tt.want)
		}
	}
}

func TestGatewayDirectoryWithoutMesh(t *testing.T) {
	c := DefaultConfig()
	c.Listen = "127.0.0.1:8080"
	c.PeerGateways = []string{"http://127.0.0.1:8081/", "http://127.0.0.1:8080", "HTTP://127.0.0.1:8081", "http://127.0.0.1:8082"}
	self, all := gatewayDirectory(c, nil)()
	want := []string{"http://127.0.0.1:8080", "http://127.0.0.1:8081", "http://127.0.0.1:8082"}
	if self != "http://127.0.0.1:8080" || !slices.Equal(all, want) {
		t.Fatalf("directory: self %q, %v; want %v", self, all, want)
	}
	c.Listen, c.PeerGateways = "0.0.0.0:8080", nil
	if self, all := gatewayDirectory(c, nil)(); self != "" || all == nil || len(all) != 0 {
		t.Fatalf("directory without a public URL or peers: %q %v, want an empty list", self, all)
	}
}
