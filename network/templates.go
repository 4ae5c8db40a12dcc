package network

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Option("missingkey=error").ParseFS(templateFS, "templates/*.tmpl"))

// Template names understood by Render.
const (
	CryptoConfig   = "crypto-config.yaml.tmpl"
	ConfigTx       = "configtx.yaml.tmpl"
	PeerOverlay    = "core-overlay.yaml.tmpl"
	OrdererOverlay = "orderer-overlay.yaml.tmpl"
)

// Render executes the named template with data and returns the YAML text.
func Render(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
