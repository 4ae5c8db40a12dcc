package mesh

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		return Config{Name: "agent0-org1", Role: RoleAgent, NodeID: "agent0-org1", Bind: "127.0.0.1:0",
			Join: []string{"127.0.0.1:7946", "gw.example.org:7946"}, Tags: map[string]string{"grpc": "127.0.0.1:9500"}}
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // part of the error; "" = valid
	}{
		{"valid agent", func(c *Config) {}, ""},
		{"valid gateway", func(c *Config) { c.Role, c.NodeID, c.Name = RoleGateway, "", "gw-1" }, ""},
		{"valid all interfaces", func(c *Config) { c.Bind, c.Advertise = ":7946", "agent0.example.org:7946" }, ""},
		{"valid advertise port 0", func(c *Config) { c.Advertise = "127.0.0.2:0" }, ""},
		{"valid IPv6", func(c *Config) { c.Bind = "[::1]:7946" }, ""},
		{"valid timing override", func(c *Config) { c.Timing = Timing{ProbeInterval: time.Second, ProbeTimeout: 500 * time.Millisecond} }, ""},
		{"no name", func(c *Config) { c.Name = "" }, "name"},
		{"name with space", func(c *Config) { c.Name = "agent 0" }, "name"},
		{"name too long", func(c *Config) { c.Name = strings.Repeat("a", 129) }, "name"},
		{"no role", func(c *Config) { c.Role = "" }, "role"},
		{"unknown role", func(c *Config) { c.Role = "peer" }, "role"},
		{"agent without node id", func(c *Config) { c.NodeID = "" }, "node id"},
		{"node id with newline", func(c *Config) { c.NodeID = "a\nb" }, "node id"},
		{"no bind", func(c *Config) { c.Bind = "" }, "bind"},
		{"bind without port", func(c *Config) { c.Bind = "127.0.0.1" }, "bind"},
		{"bind host name", func(c *Config) { c.Bind = "localhost:7946" }, "IP address"},
		{"bind port out of range", func(c *Config) { c.Bind = "127.0.0.1:70000" }, "port"},
		{"advertise without host", func(c *Config) { c.Advertise = ":7946" }, "advertise"},
		{"advertise without port", func(c *Config) { c.Advertise = "127.0.0.1" }, "advertise"},
		{"seed without port", func(c *Config) { c.Join = []string{"127.0.0.1"} }, "join address"},
		{"empty seed", func(c *Config) { c.Join = []string{""} }, "join address"},
		{"reserved tag", func(c *Config) { c.Tags = map[string]string{TagRole: "x"} }, "reserved"},
		{"empty tag key", func(c *Config) { c.Tags = map[string]string{"": "x"} }, "tag key"},
		{"tags too large", func(c *Config) { c.Tags = map[string]string{"big": strings.Repeat("x", 500)} }, "bytes"},
		{"probe timeout not below interval", func(c *Config) { c.Timing.ProbeTimeout = time.Second }, "probe timeout"},
		{"negative reap", func(c *Config) { c.Timing.ReapAfter = -time.Second }, "reap after"},
		{"negative suspicion", func(c *Config) { c.Timing.SuspicionMult = -1 }, "suspicion"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

func TestDefaultTimingValid(t *testing.T) {
	if err := DefaultTiming().Validate(); err != nil {
		t.Fatal(err)
	}
	if got := (Timing{ReapAfter: time.Minute}).withDefaults(); got.ReapAfter != time.Minute || got.ProbeInterval != DefaultTiming().ProbeInterval {
		t.Fatalf("withDefaults: %+v", got)
	}
}

func TestRoleAndStatus(t *testing.T) {
	for _, tc := range []struct {
		r  Role
		ok bool
	}{{RoleAgent, true}, {RoleGateway, true}, {"", false}, {"Agent", false}} {
		if err := tc.r.Validate(); (err == nil) != tc.ok {
			t.Errorf("Role(%q).Validate() = %v", tc.r, err)
		}
	}
	if RoleAgent.String() != "agent" || StatusSuspect.String() != "suspect" {
		t.Fatal("String")
	}
	for _, tc := range []struct {
		s  Status
		up bool
	}{{StatusAlive, true}, {StatusSuspect, true}, {StatusFailed, false}, {StatusLeft, false}} {
		if tc.s.Up() != tc.up {
			t.Errorf("%s.Up() = %v", tc.s, !tc.up)
		}
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line, lib, msg string
		lvl            slog.Level
	}{
		{"[DEBUG] memberlist: Stream connection from=127.0.0.1:1\n", "memberlist", "Stream connection from=127.0.0.1:1", slog.LevelDebug},
		{"[INFO] serf: EventMemberJoin: a 127.0.0.1", "serf", "EventMemberJoin: a 127.0.0.1", slog.LevelDebug},
		{"[WARN] memberlist: Refuting a suspect message (from: b)", "memberlist", "Refuting a suspect message (from: b)", slog.LevelWarn},
		{"[ERR] memberlist: Failed fallback TCP ping: dial refused", "memberlist", "Failed fallback TCP ping: dial refused", slog.LevelWarn},
		{"[TRACE] serf: Rejected coordinate", "serf", "Rejected coordinate", slog.LevelDebug},
		{"no level here", "", "no level here", slog.LevelDebug},
	}
	for _, tc := range tests {
		lvl, lib, msg := parseLine(tc.line)
		if lvl != tc.lvl || lib != tc.lib || msg != tc.msg {
			t.Errorf("parseLine(%q) = %v %q %q", tc.line, lvl, lib, msg)
		}
	}
}

func TestCoordinateDistance(t *testing.T) {
	a := Coordinate{Vec: []float64{0, 0}, Height: 0.001}
	b := Coordinate{Vec: []float64{0.003, 0.004}, Height: 0.002}
	if d, ok := a.DistanceTo(b); !ok || d != 8*time.Millisecond {
		t.Fatalf("DistanceTo = %v %v, want 8ms", d, ok)
	}
	if _, ok := a.DistanceTo(Coordinate{Vec: []float64{1}}); ok {
		t.Fatal("incompatible dimensions gave a distance")
	}
}
