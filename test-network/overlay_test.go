package testnetwork

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestOverlayYAML(t *testing.T) {
	base := "peer:\n  id: jdoe\n  TLS:\n    enabled: false\n    cert: {file: a}\n  keep: 1\nvm:\n  endpoint: unix:///x\n"
	path := filepath.Join(t.TempDir(), "core.yaml")
	if err := os.WriteFile(path, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := overlayYAML(path, []byte("peer:\n  id: p0\n  tls:\n    enabled: true\nvm:\n  endpoint: \"\"\nextra: [1, 2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	peer := got["peer"].(map[string]any)
	tls := peer["TLS"].(map[string]any)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"scalar replaced", peer["id"], "p0"},
		{"case-insensitive key keeps base spelling", tls["enabled"], true},
		{"sibling kept", tls["cert"].(map[string]any)["file"], "a"},
		{"untouched key kept", peer["keep"], 1},
		{"emptied", got["vm"].(map[string]any)["endpoint"], ""},
		{"new key added", len(got["extra"].([]any)), 2},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if _, dup := peer["tls"]; dup {
		t.Error("overlay key with other case was added beside the base key")
	}
}
