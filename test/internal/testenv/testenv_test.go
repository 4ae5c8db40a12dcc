package testenv

import (
	"errors"
	"testing"
)

func TestBasePort(t *testing.T) {
	tests := []struct {
		name, env, value string
		def, want        int
	}{
		{"no variable", "", "", 29050, 29050},
		{"unset", "DCT_TESTENV_PORT", "", 29050, 29050},
		{"set", "DCT_TESTENV_PORT", "41050", 29050, 41050},
		{"not a number", "DCT_TESTENV_PORT", "x", 29050, 29050},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DCT_TESTENV_PORT", tt.value)
			if got := BasePort(tt.env, tt.def); got != tt.want {
				t.Fatalf("BasePort(%q, %d) = %d, want %d", tt.env, tt.def, got, tt.want)
			}
		})
	}
}

func TestSuiteValidate(t *testing.T) {
	tests := []struct {
		name  string
		suite Suite
		ok    bool
	}{
		{"valid", Suite{Name: "e2e", BasePort: 29050}, true},
		{"no name", Suite{BasePort: 29050}, false},
		{"name with a slash", Suite{Name: "a/b", BasePort: 29050}, false},
		{"no port", Suite{Name: "e2e"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.suite.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrSuite)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestServicesPorts(t *testing.T) {
	n := &Network{Config: Config(t.TempDir(), 29050)}
	s := n.Services()
	if s.AgentPort <= 29050 || s.GatewayPort <= s.AgentPort || s.MeshPort <= s.GatewayPort || s.BinDir == "" || s.Logger == nil {
		t.Fatalf("services %+v", s)
	}
}
